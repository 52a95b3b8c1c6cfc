package dns

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host"
	mdns "github.com/miekg/dns"
)

// testZone has one record of every type the module types, plus oddities.
var testZone = `
$ORIGIN example.com.
$TTL 300
@        IN SOA  ns1 hostmaster 2026010101 3600 600 86400 60
@        IN NS   ns1
@        IN MX   20 mx2
@        IN MX   10 mx1
@        IN MX   10 mx0
@        IN TXT  "v=spf1 -all"
@        IN CAA  0 issue "letsencrypt.org"
ns1      IN A    192.0.2.53
mx0      IN A    192.0.2.9
mx1      IN A    192.0.2.10
mx1      IN AAAA 2001:db8::10
mx2      IN A    192.0.2.20
www      IN CNAME mx1
_smtp._tcp IN SRV 10 5 25 mx1
split    IN TXT  "hello " "world"
nomx     IN A    192.0.2.30
nullmx   IN MX   0 .
v6only   IN AAAA 2001:db8::6
a.b.deep IN A    192.0.2.40
odd      IN TYPE65534 \# 3 010203
10.2.0.192.in-addr.arpa. IN PTR mx1
`

func startServer(t *testing.T, opts ServerOptions, extra ...string) *Server {
	t.Helper()
	rrs, err := ParseZone(testZone+strings.Join(extra, "\n"), ".")
	if err != nil {
		t.Fatal(err)
	}
	// the reverse zone is in no SOA's zone: give it one
	soa, _ := mdns.NewRR("2.0.192.in-addr.arpa. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 60")
	s, err := NewServer("127.0.0.1:0", append(rrs, soa), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func query(t *testing.T, s *Server, name, typ string) *Result {
	t.Helper()
	qt, ok := ParseType(typ)
	if !ok {
		t.Fatalf("type %s", typ)
	}
	res, err := Query(context.Background(), name, qt, Options{Servers: []string{s.Addr}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("query %s %s: %v", name, typ, err)
	}
	return res
}

func TestRecordTypes(t *testing.T) {
	s := startServer(t, ServerOptions{})
	cases := []struct {
		name, typ string
		want      map[string]any // fields of the first answer
		n         int            // number of answers
	}{
		{"mx1.example.com", "A", map[string]any{"address": "192.0.2.10", "data": "192.0.2.10"}, 1},
		{"mx1.example.com", "AAAA", map[string]any{"address": "2001:db8::10"}, 1},
		{"example.com", "MX", map[string]any{"preference": 20, "exchange": "mx2.example.com."}, 3},
		{"example.com", "TXT", map[string]any{"text": "v=spf1 -all"}, 1},
		{"split.example.com", "TXT", map[string]any{"text": "hello world", "data": `"hello " "world"`}, 1},
		{"www.example.com", "CNAME", map[string]any{"target": "mx1.example.com."}, 1},
		{"example.com", "NS", map[string]any{"host": "ns1.example.com."}, 1},
		{"example.com", "SOA", map[string]any{"mname": "ns1.example.com.", "rname": "hostmaster.example.com.",
			"serial": int64(2026010101), "refresh": int64(3600), "retry": int64(600), "expire": int64(86400), "minimum": int64(60)}, 1},
		{"_smtp._tcp.example.com", "SRV", map[string]any{"priority": 10, "weight": 5, "port": 25, "target": "mx1.example.com."}, 1},
		{"192.0.2.10", "PTR", map[string]any{"target": "mx1.example.com."}, 1},
		{"10.2.0.192.in-addr.arpa", "PTR", map[string]any{"target": "mx1.example.com."}, 1},
		{"example.com", "CAA", map[string]any{"flag": 0, "tag": "issue", "value": "letsencrypt.org"}, 1},
		{"odd.example.com", "TYPE65534", map[string]any{"data": `\# 3 010203`}, 1},
	}
	for _, c := range cases {
		res := query(t, s, c.name, c.typ)
		if res.Rcode != "NOERROR" || !res.Authoritative || len(res.Answers) != c.n {
			t.Errorf("%s %s: rcode %s aa %v answers %d, want NOERROR aa %d", c.name, c.typ, res.Rcode, res.Authoritative, len(res.Answers), c.n)
			continue
		}
		a := res.Answers[0]
		if a.Type != c.typ || a.TTL != 300 || a.Class != "IN" {
			t.Errorf("%s %s: got type %s ttl %d class %s", c.name, c.typ, a.Type, a.TTL, a.Class)
		}
		for k, v := range c.want {
			if a.Fields[k] != v {
				t.Errorf("%s %s: %s = %#v, want %#v", c.name, c.typ, k, a.Fields[k], v)
			}
		}
	}
	// The CNAME is followed for other types, and MX targets come with addresses.
	res := query(t, s, "www.example.com", "A")
	if len(res.Answers) != 2 || res.Answers[0].Type != "CNAME" || res.Answers[1].Fields["address"] != "192.0.2.10" {
		t.Errorf("CNAME chase: %+v", res.Answers)
	}
	res = query(t, s, "example.com", "MX")
	if len(res.Additional) != 4 {
		t.Errorf("MX additional: %d records, want 4 (A of mx0/1/2, AAAA of mx1)", len(res.Additional))
	}
	if res.Protocol != "udp" || res.Server != s.Addr || res.RTT <= 0 {
		t.Errorf("protocol %s server %s rtt %v", res.Protocol, res.Server, res.RTT)
	}
}

func TestNegativeAnswers(t *testing.T) {
	s := startServer(t, ServerOptions{})
	for _, c := range []struct{ name, typ, rcode string }{
		{"nothere.example.com", "A", "NXDOMAIN"},
		{"mx1.example.com", "MX", "NOERROR"},   // NODATA
		{"b.deep.example.com", "A", "NOERROR"}, // empty non-terminal
		{"example.org", "A", "NXDOMAIN"},       // outside every zone
		{"x@y.example.com", "A", "NXDOMAIN"},   // comes back escaped (x\@y): still the name asked
	} {
		res := query(t, s, c.name, c.typ)
		if res.Rcode != c.rcode || len(res.Answers) != 0 {
			t.Errorf("%s %s: %s with %d answers, want %s and none", c.name, c.typ, res.Rcode, len(res.Answers), c.rcode)
		}
		if c.name != "example.org" && (len(res.Authority) != 1 || res.Authority[0].Type != "SOA") {
			t.Errorf("%s %s: authority %+v, want the SOA", c.name, c.typ, res.Authority)
		}
	}
}

func TestMX(t *testing.T) {
	s := startServer(t, ServerOptions{})
	o := Options{Servers: []string{s.Addr}, Timeout: 2 * time.Second}
	ctx := context.Background()
	mxs, reason, err := LookupMX(ctx, "example.com", o)
	want := []MX{{"mx0.example.com", 10, false}, {"mx1.example.com", 10, false}, {"mx2.example.com", 20, false}}
	if err != nil || reason != "" || len(mxs) != 3 || mxs[0] != want[0] || mxs[1] != want[1] || mxs[2] != want[2] {
		t.Errorf("mx example.com: %v %q %v", mxs, reason, err)
	}
	mxs, reason, err = LookupMX(ctx, "nomx.example.com.", o)
	if err != nil || reason != "" || len(mxs) != 1 || mxs[0] != (MX{"nomx.example.com", 0, true}) {
		t.Errorf("implicit MX: %v %q %v", mxs, reason, err)
	}
	for name, wantReason := range map[string]string{"nothere.example.com": ReasonNXDOMAIN, "nullmx.example.com": ReasonNullMX} {
		mxs, reason, err = LookupMX(ctx, name, o)
		if err != nil || reason != wantReason || len(mxs) != 0 {
			t.Errorf("mx %s: %v %q %v, want none and %q", name, mxs, reason, err, wantReason)
		}
	}
	failing := startServer(t, ServerOptions{Rcode: mdns.RcodeServerFailure})
	_, _, err = LookupMX(ctx, "example.com", Options{Servers: []string{failing.Addr}})
	var he *host.Error
	if !errors.As(err, &he) || he.Kind != "dns" || he.Fields["rcode"] != "SERVFAIL" {
		t.Errorf("mx from a failing server: %v, want a dns error with rcode SERVFAIL", err)
	}
}

func TestLookupAndReverse(t *testing.T) {
	s := startServer(t, ServerOptions{})
	o := Options{Servers: []string{s.Addr}, Timeout: 2 * time.Second}
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		family int
		want   string
		reason string
	}{
		{"mx1.example.com", 0, "192.0.2.10 2001:db8::10", ""},
		{"mx1.example.com", 4, "192.0.2.10", ""},
		{"mx1.example.com", 6, "2001:db8::10", ""},
		{"www.example.com", 0, "192.0.2.10 2001:db8::10", ""},
		{"v6only.example.com", 0, "2001:db8::6", ""},
		{"example.com", 0, "", ReasonNoData},
		{"nothere.example.com", 0, "", ReasonNXDOMAIN},
		{"192.0.2.1", 0, "192.0.2.1", ""},
		{"[::1]", 0, "::1", ""},
	} {
		addrs, reason, err := LookupHost(ctx, c.name, c.family, o)
		if err != nil || strings.Join(addrs, " ") != c.want || reason != c.reason {
			t.Errorf("lookup %s/%d: %v %q %v, want %q %q", c.name, c.family, addrs, reason, err, c.want, c.reason)
		}
	}
	names, reason, err := LookupAddr(ctx, "192.0.2.10", o)
	if err != nil || reason != "" || strings.Join(names, " ") != "mx1.example.com" {
		t.Errorf("reverse: %v %q %v", names, reason, err)
	}
	names, reason, err = LookupAddr(ctx, "192.0.2.99", o)
	if err != nil || reason != ReasonNXDOMAIN || len(names) != 0 {
		t.Errorf("reverse of an unknown address: %v %q %v", names, reason, err)
	}
	if _, _, err := LookupAddr(ctx, "not-an-ip", o); err == nil {
		t.Error("reverse of a name: no error")
	}
}

func wantKind(t *testing.T, err error, kind string) *host.Error {
	t.Helper()
	var he *host.Error
	if !errors.As(err, &he) || he.Kind != kind {
		t.Fatalf("error %v, want kind %s", err, kind)
	}
	return he
}

func TestTimeout(t *testing.T) {
	s := startServer(t, ServerOptions{Drop: true})
	for _, tcp := range []bool{false, true} {
		start := time.Now()
		_, err := Query(context.Background(), "example.com", mdns.TypeA, Options{Servers: []string{s.Addr}, Timeout: 300 * time.Millisecond, TCP: tcp})
		el := time.Since(start)
		he := wantKind(t, err, "timeout")
		if el < 250*time.Millisecond || el > 1500*time.Millisecond {
			t.Errorf("tcp=%v: gave up after %v, want about 300ms", tcp, el)
		}
		if !strings.Contains(he.Message, "dns: query example.com A: "+s.Addr+": no answer within") {
			t.Errorf("message %q", he.Message)
		}
	}
}

// A long timeout is used whole (miekg/dns cuts each read at 2 s unless told
// otherwise), and the error says how long the server was waited for.
func TestLongTimeoutUsedWhole(t *testing.T) {
	s := startServer(t, ServerOptions{Drop: true})
	start := time.Now()
	_, err := Query(context.Background(), "example.com", mdns.TypeA, Options{Servers: []string{s.Addr}, Timeout: 5 * time.Second})
	el := time.Since(start)
	he := wantKind(t, err, "timeout")
	if el < 4800*time.Millisecond || el > 6*time.Second {
		t.Errorf("gave up after %v, want about 5s", el)
	}
	if !strings.HasSuffix(he.Message, s.Addr+": no answer within 5s") {
		t.Errorf("message %q", he.Message)
	}
	if q := s.Queries(); q != 2 {
		t.Errorf("%d queries, want 2 (one retry)", q)
	}
}

// A lost UDP answer is asked again when the timeout leaves room for two
// attempts.
func TestRetryLost(t *testing.T) {
	s := startServer(t, ServerOptions{DropFirst: 1})
	start := time.Now()
	res, err := Query(context.Background(), "mx1.example.com", mdns.TypeA, Options{Servers: []string{s.Addr}, Timeout: 2 * time.Second})
	if err != nil || len(res.Answers) != 1 || s.Queries() != 2 {
		t.Fatalf("%+v %v after %d queries", res, err, s.Queries())
	}
	if el := time.Since(start); el < 900*time.Millisecond || el > 1500*time.Millisecond {
		t.Errorf("answered after %v, want about 1s (half the timeout)", el)
	}
}

func TestCancel(t *testing.T) {
	s := startServer(t, ServerOptions{Drop: true})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := Query(ctx, "example.com", mdns.TypeA, Options{Servers: []string{s.Addr}, Timeout: 10 * time.Second})
	wantKind(t, err, "cancelled")
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("cancel took %v", el)
	}
}

func TestMalformed(t *testing.T) {
	s := startServer(t, ServerOptions{Malformed: true})
	for _, tcp := range []bool{false, true} {
		_, err := Query(context.Background(), "example.com", mdns.TypeMX, Options{Servers: []string{s.Addr}, Timeout: time.Second, TCP: tcp})
		he := wantKind(t, err, "malformed")
		if !strings.Contains(he.Message, s.Addr+": malformed answer: ") {
			t.Errorf("message %q", he.Message)
		}
	}
}

func TestTruncation(t *testing.T) {
	big := strings.Repeat("0123456789", 400)
	medium := strings.Repeat("m", 800)
	s := startServer(t, ServerOptions{},
		`big.example.com. 300 IN TXT "`+big+`"`, // a long quoted string is split by the parser
		`medium.example.com. 300 IN TXT "`+medium+`"`)
	// 4,000 bytes: truncated over UDP, again with EDNS0 at 1232, then TCP.
	res := query(t, s, "big.example.com", "TXT")
	if res.Protocol != "tcp" || res.Truncated || len(res.Answers) != 1 || res.Answers[0].Fields["text"] != big {
		t.Errorf("big TXT: protocol %s truncated %v answers %d", res.Protocol, res.Truncated, len(res.Answers))
	}
	if n := len(res.Answers[0].Fields["strings"].([]string)); n != 16 {
		t.Errorf("big TXT: %d strings, want 16", n)
	}
	// 800 bytes: the EDNS0 retry is enough.
	res = query(t, s, "medium.example.com", "TXT")
	if res.Protocol != "udp" || res.EDNS == nil || res.Answers[0].Fields["text"] != medium {
		t.Errorf("medium TXT: protocol %s edns %v", res.Protocol, res.EDNS)
	}
	// The server counts: big took 3 exchanges, medium 2.
	if q := s.Queries(); q != 5 {
		t.Errorf("server saw %d queries, want 5", q)
	}
}

// closedPort is a loopback UDP port nobody listens on.
func closedPort(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func TestServersInTurn(t *testing.T) {
	good := startServer(t, ServerOptions{})
	dead := startServer(t, ServerOptions{Drop: true})
	bad := startServer(t, ServerOptions{Malformed: true})
	refusing := startServer(t, ServerOptions{Rcode: mdns.RcodeRefused})
	closed := closedPort(t)

	for _, servers := range [][]string{
		{dead.Addr, good.Addr},
		{closed, good.Addr},
		{bad.Addr, good.Addr},
		{refusing.Addr, good.Addr},
		{closed, dead.Addr, bad.Addr, good.Addr},
	} {
		start := time.Now()
		res, err := Query(context.Background(), "mx1.example.com", mdns.TypeA, Options{Servers: servers, Timeout: 2 * time.Second})
		if err != nil || res.Server != good.Addr || res.Rcode != "NOERROR" || len(res.Answers) != 1 {
			t.Errorf("%v: %+v %v", servers, res, err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%v: took %v", servers, el)
		}
	}
	// All of them failing: one error naming each.
	_, err := Query(context.Background(), "mx1.example.com", mdns.TypeA, Options{Servers: []string{closed, bad.Addr, dead.Addr}, Timeout: time.Second})
	he := wantKind(t, err, "timeout")
	for _, part := range []string{closed + ": connection refused", bad.Addr + ": malformed answer", dead.Addr + ": no answer within"} {
		if !strings.Contains(he.Message, part) {
			t.Errorf("message %q lacks %q", he.Message, part)
		}
	}
	// Only a refusing server: its answer is the answer.
	res, err := Query(context.Background(), "mx1.example.com", mdns.TypeA, Options{Servers: []string{refusing.Addr}, Timeout: time.Second})
	if err != nil || res.Rcode != "REFUSED" {
		t.Errorf("refusing alone: %+v %v", res, err)
	}
}

func TestRecordSpec(t *testing.T) {
	for _, c := range []struct {
		spec RecordSpec
		want string // zone-file form, or "error: ..."
	}{
		{RecordSpec{"name": "a.test", "type": "A", "address": "192.0.2.1"}, "a.test.\t300\tIN\tA\t192.0.2.1"},
		{RecordSpec{"name": "a.test", "type": "aaaa", "ttl": float64(60), "address": "2001:db8::1"}, "a.test.\t60\tIN\tAAAA\t2001:db8::1"},
		{RecordSpec{"name": "a.test", "type": "MX", "preference": float64(5), "exchange": "mx.a.test"}, "a.test.\t300\tIN\tMX\t5 mx.a.test."},
		{RecordSpec{"name": "a.test", "type": "TXT", "strings": []string{"a", "b"}}, "a.test.\t300\tIN\tTXT\t\"a\" \"b\""},
		{RecordSpec{"name": "a.test", "type": "TXT", "text": "say \"hi\""}, "a.test.\t300\tIN\tTXT\t\"say \\\"hi\\\"\""},
		{RecordSpec{"name": "a.test", "type": "CNAME", "target": "b.test"}, "a.test.\t300\tIN\tCNAME\tb.test."},
		{RecordSpec{"name": "a.test", "type": "NS", "host": "ns.test"}, "a.test.\t300\tIN\tNS\tns.test."},
		{RecordSpec{"name": "a.test", "type": "SOA", "mname": "ns.test", "rname": "h.test", "serial": float64(7)}, "a.test.\t300\tIN\tSOA\tns.test. h.test. 7 3600 600 86400 300"},
		{RecordSpec{"name": "_x._tcp.a.test", "type": "SRV", "port": float64(25), "target": "mx.a.test"}, "_x._tcp.a.test.\t300\tIN\tSRV\t0 0 25 mx.a.test."},
		{RecordSpec{"name": "1.2.0.192.in-addr.arpa", "type": "PTR", "target": "a.test"}, "1.2.0.192.in-addr.arpa.\t300\tIN\tPTR\ta.test."},
		{RecordSpec{"name": "a.test", "type": "CAA", "tag": "issue", "value": "ca.test"}, "a.test.\t300\tIN\tCAA\t0 issue \"ca.test\""},
		{RecordSpec{"name": "a.test", "type": "HINFO", "data": `"cpu" "os"`}, "a.test.\t300\tIN\tHINFO\t\"cpu\" \"os\""},
		{RecordSpec{"name": "a.test", "type": "A"}, `error: record a.test. A: missing field "address" (or data)`},
		{RecordSpec{"name": "a.test", "type": "A", "address": "nope"}, "error: "},
		{RecordSpec{"name": "a.test", "type": "BOGUS", "data": "x"}, `error: record a.test: unknown type "BOGUS"`},
		{RecordSpec{"type": "A", "address": "192.0.2.1"}, "error: record without name"},
		{RecordSpec{"name": "a.test", "type": "HINFO"}, "error: record a.test. HINFO: give its rdata as data="},
	} {
		rr, err := c.spec.RR()
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			got = rr.String()
		}
		if strings.HasPrefix(c.want, "error: ") && strings.HasPrefix(got, c.want) || got == c.want {
			continue
		}
		t.Errorf("%v: got %q, want %q", c.spec, got, c.want)
	}
}

func TestQueryNameAndType(t *testing.T) {
	for _, c := range []struct{ in, want string }{ // want: the name, or the error
		{"example.com", "example.com."},
		{" example.com. ", "example.com."},
		{"_dmarc.example.com", "_dmarc.example.com."},
		{"x@y.example", "x@y.example."},
		{"xn--bcher-kva.example", "xn--bcher-kva.example."},
		{"", "empty name"},
		{"a..b", "invalid name: empty label"},
		{".a", "invalid name: empty label"},
		{"exa mple.com", "invalid name: contains a space or control character"},
		{"a\tb.com", "invalid name: contains a space or control character"},
		{"a\x00b.com", "invalid name: contains a space or control character"},
		{"bücher.example", "xn--bcher-kva.example."},
		{"_dmarc.Bücher.example", "_dmarc.xn--bcher-kva.example."},
		{"straße.de", "xn--strae-oqa.de."},
		{"\u0301a.example", "invalid name: label \"\u0301a\": not a valid internationalized (IDNA) label"},
		{"a\u202eb.example", "invalid name: label \"a\\u202eb\": disallowed rune U+202E"},
		{strings.Repeat("a", 64) + ".com", "invalid name: label \"aaaaaaaaaaaaaaaaaaaa\"... longer than 63 characters"},
		{strings.Repeat("abcdefgh.", 30) + "com", "invalid name: longer than 253 characters"},
	} {
		in := c.in
		got, err := QueryName(in, mdns.TypeA)
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("QueryName(%q) = %q, want %q", in, got, c.want)
		}
	}
	if got, _ := QueryName("2001:db8::1", mdns.TypePTR); !strings.HasSuffix(got, ".8.b.d.0.1.0.0.2.ip6.arpa.") {
		t.Errorf("PTR name of 2001:db8::1: %q", got)
	}
	for in, want := range map[string]uint16{"mx": mdns.TypeMX, "TYPE65534": 65534, "99": 99, "caa": mdns.TypeCAA} {
		if got, ok := ParseType(in); !ok || got != want {
			t.Errorf("ParseType(%q) = %d %v", in, got, ok)
		}
	}
	if _, ok := ParseType("nope"); ok {
		t.Error("ParseType(nope) ok")
	}
	for in, want := range map[string]string{"192.0.2.1": "192.0.2.1:53", "192.0.2.1:5353": "192.0.2.1:5353", "::1": "[::1]:53", "[::1]:54": "[::1]:54", "[::1]": "[::1]:53"} {
		if got := NormalizeServer(in); got != want {
			t.Errorf("NormalizeServer(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultServersFromEnv(t *testing.T) {
	t.Setenv("GOS3LUA_DNS", "127.0.0.1:5353, ::1")
	got := strings.Join(DefaultServers(), " ")
	if got != "127.0.0.1:5353 [::1]:53" {
		t.Errorf("DefaultServers with GOS3LUA_DNS: %q", got)
	}
	// A query without a server goes to GOS3LUA_DNS.
	s := startServer(t, ServerOptions{})
	t.Setenv("GOS3LUA_DNS", s.Addr)
	res, err := Query(context.Background(), "mx1.example.com", mdns.TypeA, Options{Timeout: 2 * time.Second})
	if err != nil || res.Server != s.Addr || len(res.Answers) != 1 {
		t.Errorf("query via GOS3LUA_DNS=%s: %+v %v", s.Addr, res, err)
	}
	// Without it, the nameservers of resolv.conf, in order, port 53.
	t.Setenv("GOS3LUA_DNS", "")
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(conf, []byte("# generated\nsearch example.com\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions edns0\n"), 0o644)
	saved := resolvConf
	resolvConf = conf
	t.Cleanup(func() { resolvConf = saved })
	if got := strings.Join(DefaultServers(), " "); got != "192.0.2.53:53 [2001:db8::53]:53" {
		t.Errorf("DefaultServers from %s: %q", conf, got)
	}
	resolvConf = filepath.Join(t.TempDir(), "missing")
	if got := strings.Join(DefaultServers(), " "); got != "127.0.0.1:53" {
		t.Errorf("DefaultServers without resolv.conf: %q", got)
	}
}

// A lone server that refuses the connection (nothing on the port) is a
// network error naming it, right away rather than after the timeout.
func TestRefusedServer(t *testing.T) {
	closed := closedPort(t)
	start := time.Now()
	_, err := Query(context.Background(), "example.com", mdns.TypeMX, Options{Servers: []string{closed}, Timeout: 3 * time.Second})
	he := wantKind(t, err, "network")
	if he.Message != "dns: query example.com MX: "+closed+": connection refused" {
		t.Errorf("message %q", he.Message)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %v", el)
	}
}

func TestRoundSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		4990 * time.Millisecond: "5", 5001 * time.Millisecond: "5", 300 * time.Millisecond: "0.3",
		499 * time.Millisecond: "0.5", 50 * time.Millisecond: "0.05", 1250 * time.Millisecond: "1.3", 125 * time.Second: "125",
	} {
		if got := roundSeconds(d); got != want {
			t.Errorf("roundSeconds(%v) = %q, want %q", d, got, want)
		}
	}
}
