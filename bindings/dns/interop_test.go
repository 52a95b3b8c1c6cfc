package dns

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host/hosttest"
	mdns "github.com/miekg/dns"
)

// Interop: dig and kdig (tools nobody here wrote) query our server and must
// see what dns.query sees; dns.query asks dnsmasq and must see what it serves.

var interopQueries = []struct{ name, typ string }{
	{"mx1.example.com", "A"},
	{"mx1.example.com", "AAAA"},
	{"example.com", "MX"},
	{"example.com", "TXT"},
	{"split.example.com", "TXT"},
	{"big.example.com", "TXT"}, // 4,000 bytes: truncated over UDP, the tools retry over TCP
	{"www.example.com", "CNAME"},
	{"www.example.com", "A"},
	{"example.com", "NS"},
	{"example.com", "SOA"},
	{"_smtp._tcp.example.com", "SRV"},
	{"10.2.0.192.in-addr.arpa", "PTR"},
	{"example.com", "CAA"},
	{"odd.example.com", "TYPE65534"},
	{"nothere.example.com", "A"}, // NXDOMAIN
	{"mx1.example.com", "MX"},    // NODATA
}

var statusRe = regexp.MustCompile(`status: ([A-Z]+)`)

// toolView runs a dig-like tool and returns its rcode and the answer and
// authority records, one normalized line each.
func toolView(t *testing.T, tool string, args ...string) (string, []string) {
	t.Helper()
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	m := statusRe.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("%s %s: no status in\n%s", tool, strings.Join(args, " "), out)
	}
	var recs []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		recs = append(recs, strings.Join(strings.Fields(line), " "))
	}
	sort.Strings(recs)
	return m[1], recs
}

func ourView(t *testing.T, srv, name, typ string, tcp bool) (string, []string) {
	t.Helper()
	qt, _ := ParseType(typ)
	res, err := Query(context.Background(), name, qt, Options{Servers: []string{srv}, Timeout: 3 * time.Second, TCP: tcp})
	if err != nil {
		t.Fatalf("query %s %s: %v", name, typ, err)
	}
	var recs []string
	for _, r := range append(append([]Record{}, res.Answers...), res.Authority...) {
		line := fmt.Sprintf("%s %d %s %s %s", r.Name, r.TTL, r.Class, r.Type, r.Fields["data"])
		recs = append(recs, strings.Join(strings.Fields(line), " "))
	}
	sort.Strings(recs)
	return res.Rcode, recs
}

func testToolAgrees(t *testing.T, tool string, flags ...string) {
	hosttest.Need(t, tool)
	s := startServer(t, ServerOptions{}, `big.example.com. 300 IN TXT "`+strings.Repeat("z", 4000)+`"`)
	host, port, _ := net.SplitHostPort(s.Addr)
	for _, tcp := range []bool{false, true} {
		for _, q := range interopQueries {
			args := []string{"@" + host, "-p", port, q.name, q.typ, "+noall", "+answer", "+authority", "+norecurse"}
			args = append(args, flags...)
			if tcp {
				args = append(args, "+tcp")
			}
			rc, recs := toolView(t, tool, args...)
			ourRC, ourRecs := ourView(t, s.Addr, q.name, q.typ, tcp)
			if rc != ourRC || strings.Join(recs, "\n") != strings.Join(ourRecs, "\n") {
				t.Errorf("%s %s %s (tcp=%v):\n%s says %s\n  %s\ndns.query says %s\n  %s", tool, q.name, q.typ, tcp,
					tool, rc, strings.Join(recs, "\n  "), ourRC, strings.Join(ourRecs, "\n  "))
			}
			if len(recs) == 0 && q.name != "nothere.example.com" && q.typ != "MX" {
				t.Errorf("%s %s %s: no records at all", tool, q.name, q.typ)
			}
		}
	}
}

func TestDigAgrees(t *testing.T) { testToolAgrees(t, "dig", "+comments", "+time=3", "+tries=1") }
func TestKdigAgrees(t *testing.T) {
	testToolAgrees(t, "kdig", "+header", "+timeout=3", "+retry=0")
}

// freePort is a loopback port free (at the moment) for UDP and TCP.
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		pc.Close()
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// TestAgainstDnsmasq asks a DNS server from Debian, started on loopback
// with records given on its command line.
func TestAgainstDnsmasq(t *testing.T) {
	hosttest.Need(t, "dnsmasq")
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
		"--port=" + strconv.Itoa(port), "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=",
		"--log-facility=-", "--local=/test.lan/",
		"--host-record=mail.test.lan,192.0.2.25,2001:db8::25",
		"--host-record=backup.test.lan,192.0.2.26",
		"--mx-host=test.lan,mail.test.lan,10",
		"--mx-host=test.lan,backup.test.lan,20",
		"--txt-record=test.lan,v=spf1 mx -all",
		"--txt-record=big.test.lan," + strings.Repeat("q", 2000),
		"--srv-host=_smtp._tcp.test.lan,mail.test.lan,25,10,5",
		"--cname=www.test.lan,mail.test.lan",
		"--caa-record=test.lan,0,issue,ca.test",
		"--host-record=nomx.test.lan,192.0.2.27",
	}
	if u, err := exec.Command("id", "-un").Output(); err == nil {
		args = append(args, "--user="+strings.TrimSpace(string(u))) // stay who we are
	}
	cmd := exec.Command("dnsmasq", args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	ctx := context.Background()
	o := Options{Servers: []string{addr}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := Query(ctx, "test.lan", mdns.TypeMX, Options{Servers: []string{addr}, Timeout: 200 * time.Millisecond}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq did not answer on %s:\n%s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	mxs, reason, err := LookupMX(ctx, "test.lan", o)
	if err != nil || reason != "" || len(mxs) != 2 || mxs[0].Exchange != "mail.test.lan" || mxs[1] != (MX{"backup.test.lan", 20, false}) {
		t.Errorf("mx test.lan: %v %q %v", mxs, reason, err)
	}
	mxs, _, err = LookupMX(ctx, "nomx.test.lan", o)
	if err != nil || len(mxs) != 1 || !mxs[0].Implicit {
		t.Errorf("implicit mx: %v %v", mxs, err)
	}
	addrs, _, err := LookupHost(ctx, "www.test.lan", 0, o)
	if err != nil || strings.Join(addrs, " ") != "192.0.2.25 2001:db8::25" {
		t.Errorf("lookup via CNAME: %v %v", addrs, err)
	}
	names, _, err := LookupAddr(ctx, "192.0.2.25", o)
	if err != nil || len(names) != 1 || names[0] != "mail.test.lan" {
		t.Errorf("reverse: %v %v", names, err)
	}
	res, err := Query(ctx, "test.lan", mdns.TypeTXT, o)
	if err != nil || len(res.Answers) != 1 || res.Answers[0].Fields["text"] != "v=spf1 mx -all" {
		t.Errorf("TXT: %+v %v", res, err)
	}
	res, err = Query(ctx, "big.test.lan", mdns.TypeTXT, o)
	if err != nil || len(res.Answers) != 1 || res.Answers[0].Fields["text"] != strings.Repeat("q", 2000) || res.Protocol != "tcp" {
		t.Errorf("2,000-byte TXT: %v (protocol %v)", err, res.Protocol)
	}
	res, err = Query(ctx, "_smtp._tcp.test.lan", mdns.TypeSRV, o)
	if err != nil || len(res.Answers) != 1 || res.Answers[0].Fields["port"] != 25 || res.Answers[0].Fields["target"] != "mail.test.lan." {
		t.Errorf("SRV: %+v %v", res, err)
	}
	res, err = Query(ctx, "test.lan", mdns.TypeCAA, o)
	if err != nil || len(res.Answers) != 1 || res.Answers[0].Fields["value"] != "ca.test" {
		t.Errorf("CAA: %+v %v", res, err)
	}
	res, err = Query(ctx, "nothere.test.lan", mdns.TypeA, o)
	if err != nil || res.Rcode != "NXDOMAIN" {
		t.Errorf("NXDOMAIN: %+v %v", res, err)
	}
}
