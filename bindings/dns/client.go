package dns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"golang.org/x/net/idna"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gos3lua/gos3lua/host"
	mdns "github.com/miekg/dns"
)

// DefaultTimeout bounds a whole query (every server, every retry) when the
// caller gives none.
const DefaultTimeout = 5 * time.Second

// RetryBufSize is the EDNS0 buffer advertised when a plain UDP answer came
// back truncated: the DNS Flag Day 2020 size, which avoids IP fragmentation.
// An answer bigger than that goes on to TCP.
const RetryBufSize = 1232

// Options of one query.
type Options struct {
	Servers []string      // host:port, tried in turn; empty: DefaultServers()
	Timeout time.Duration // for the whole query; 0: DefaultTimeout
	TCP     bool          // TCP from the start
	EDNS    uint16        // EDNS0 buffer size to advertise from the start; 0: none
	DNSSEC  bool          // set the DO bit (implies EDNS0)
}

// Result is one answer, NXDOMAIN included.
type Result struct {
	Rcode              string // "NOERROR", "NXDOMAIN", "SERVFAIL", ...
	Truncated          bool
	Authoritative      bool
	RecursionAvailable bool
	AuthenticatedData  bool
	RTT                time.Duration // of the exchange that gave this answer
	Server             string        // host:port that answered
	Protocol           string        // "udp" or "tcp"
	Answers            []Record
	Authority          []Record
	Additional         []Record // without the OPT pseudo-record (see EDNS)
	EDNS               *EDNS    // the server's OPT record, nil when none
	Msg                *mdns.Msg
}

// EDNS is what the server's OPT record said.
type EDNS struct {
	BufSize uint16
	DO      bool
	Version uint8
}

// resolvConf is where the system's resolvers are listed (a variable for tests).
var resolvConf = "/etc/resolv.conf"

// DefaultServers are the servers in GOS3LUA_DNS (comma or space
// separated), else the nameservers of /etc/resolv.conf, else 127.0.0.1:53.
func DefaultServers() []string {
	if env := strings.TrimSpace(os.Getenv("GOS3LUA_DNS")); env != "" {
		var out []string
		for _, s := range strings.FieldsFunc(env, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			out = append(out, NormalizeServer(s))
		}
		return out
	}
	if cc, err := mdns.ClientConfigFromFile(resolvConf); err == nil && len(cc.Servers) > 0 {
		port := cc.Port
		if port == "" {
			port = "53"
		}
		out := make([]string, len(cc.Servers))
		for i, s := range cc.Servers {
			out[i] = net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), port)
		}
		return out
	}
	return []string{"127.0.0.1:53"}
}

// NormalizeServer turns "host", "host:port", "::1" or "[::1]:53" into host:port.
func NormalizeServer(s string) string {
	s = strings.TrimSpace(s)
	if h, p, err := net.SplitHostPort(s); err == nil {
		return net.JoinHostPort(h, p)
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	return net.JoinHostPort(s, "53")
}

// ParseType accepts "MX", "mx", "TYPE65" or a number.
func ParseType(s string) (uint16, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if t, ok := mdns.StringToType[u]; ok {
		return t, true
	}
	if strings.HasPrefix(u, "TYPE") {
		u = u[4:]
	}
	if n, err := strconv.ParseUint(u, 10, 16); err == nil {
		return uint16(n), true
	}
	return 0, false
}

// TypeName is the mnemonic of t ("MX"), or "TYPE123".
func TypeName(t uint16) string {
	if s, ok := mdns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// QueryName makes name fully qualified and checks it; for PTR queries an IP
// address becomes its in-addr.arpa / ip6.arpa name.
func QueryName(name string, qtype uint16) (string, error) {
	name = strings.TrimSpace(name)
	if qtype == mdns.TypePTR {
		if ip := net.ParseIP(name); ip != nil {
			return mdns.ReverseAddr(name)
		}
	}
	if name == "" {
		return "", fmt.Errorf("empty name")
	}
	for _, r := range name {
		if r <= ' ' || r == 0x7f {
			// miekg/dns would pack them raw and the answer would come back
			// escaped: a typo, not a name anyone means.
			return "", fmt.Errorf("invalid name: contains a space or control character")
		}
	}
	if !isASCII(name) {
		a, err := ASCII(name)
		if err != nil {
			return "", fmt.Errorf("invalid name: %w", err)
		}
		name = a
	}
	fq := mdns.Fqdn(name)
	if _, ok := mdns.IsDomainName(fq); !ok {
		switch {
		case strings.Contains(fq, ".."), strings.HasPrefix(fq, ".") && fq != ".":
			return "", fmt.Errorf("invalid name: empty label")
		case len(fq) > 254:
			return "", fmt.Errorf("invalid name: longer than 253 characters")
		}
		for _, l := range strings.Split(strings.TrimSuffix(fq, "."), ".") {
			if len(l) > 63 {
				return "", fmt.Errorf("invalid name: label %.20q... longer than 63 characters", l)
			}
		}
		return "", fmt.Errorf("invalid name")
	}
	return fq, nil
}

// ASCII is name as servers know it: each non-ASCII label in its IDNA
// (xn--) form. ASCII labels stay as given (_dmarc and the like are no IDNA
// labels). The one conversion of internationalized names, for DNS and for
// the domains of SMTP addresses.
func ASCII(name string) (string, error) {
	if isASCII(name) {
		return name, nil
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if isASCII(l) {
			continue
		}
		a, err := idna.Lookup.ToASCII(l)
		if err != nil {
			why := strings.TrimPrefix(err.Error(), "idna: ")
			if strings.HasPrefix(why, "invalid label") {
				why = "not a valid internationalized (IDNA) label"
			}
			return "", &LabelError{Label: l, Why: why}
		}
		labels[i] = a
	}
	return strings.Join(labels, "."), nil
}

// LabelError is a label that has no IDNA form.
type LabelError struct{ Label, Why string }

func (e *LabelError) Error() string { return fmt.Sprintf("label %q: %s", e.Label, e.Why) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// sameName compares two names as they are on the wire (case-insensitively),
// so that "x@y." and its escaped form "x\@y." are the same name.
func sameName(a, b string) bool {
	wire := func(s string) []byte {
		buf := make([]byte, 256)
		n, err := mdns.PackDomainName(s, buf, 0, nil, false)
		if err != nil {
			return []byte(strings.ToLower(s))
		}
		return bytes.ToLower(buf[:n])
	}
	return bytes.Equal(wire(a), wire(b))
}

// Query asks for name/qtype, trying each server in turn, within
// o.Timeout overall. A server that times out, is unreachable, answers
// garbage, or says SERVFAIL, REFUSED or NOTIMP passes the question to the
// next; the last of those answers is returned when no server did better. Errors are *host.Error of kind
// "timeout", "network", "malformed" or "cancelled".
func Query(ctx context.Context, name string, qtype uint16, o Options) (*Result, error) {
	fq, err := QueryName(name, qtype)
	if err != nil {
		return nil, host.Errorf("dns", "dns: query %q %s: %v", name, TypeName(qtype), err)
	}
	servers := o.Servers
	if len(servers) == 0 {
		servers = DefaultServers()
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	prefix := "dns: query " + strings.TrimSuffix(fq, ".") + " " + TypeName(qtype)
	deadline := time.Now().Add(timeout)
	m := new(mdns.Msg)
	m.SetQuestion(fq, qtype)
	m.RecursionDesired = true
	if o.EDNS > 0 || o.DNSSEC {
		size := o.EDNS
		if size == 0 {
			size = RetryBufSize
		}
		m.SetEdns0(size, o.DNSSEC)
	}

	// Two rounds over the servers when each attempt can still get a second
	// or more (a lost UDP packet is retried, as resolv.conf's attempts:2),
	// else one. Each attempt gets an equal share of the time left, so a dead
	// first server cannot eat the time of the ones after it.
	rounds := 1
	if timeout/time.Duration(2*len(servers)) >= time.Second {
		rounds = 2
	}
	var plan []string
	for r := 0; r < rounds; r++ {
		plan = append(plan, servers...)
	}
	done := map[string]bool{} // answered, refused the connection or sent garbage: not asked again
	left := func(k int) int {
		n := 0
		for _, srv := range plan[k:] {
			if !done[srv] {
				n++
			}
		}
		return n
	}
	var fallback *Result
	var last *host.Error
	errs := map[string]*host.Error{}
	var failed []string
	waited := map[string]time.Duration{}
	for k, srv := range plan {
		if done[srv] {
			continue
		}
		share := time.Until(deadline) / time.Duration(left(k))
		if share <= 0 {
			break
		}
		res, err := queryServer(ctx, srv, m, time.Now().Add(share), o.TCP)
		if ctx.Err() != nil {
			return nil, &host.Error{Kind: "cancelled", Message: prefix + ": cancelled", Err: ctx.Err()}
		}
		if err != nil {
			waited[srv] += share
			last = classify(srv, waited[srv], err)
			if errs[srv] == nil {
				failed = append(failed, srv)
			}
			errs[srv] = last
			if last.Kind != "timeout" {
				done[srv] = true
			}
			continue
		}
		done[srv] = true
		switch res.Msg.Rcode {
		case mdns.RcodeServerFailure, mdns.RcodeRefused, mdns.RcodeNotImplemented:
			fallback = res
			if left(k) > 0 {
				continue
			}
		}
		return res, nil
	}
	if fallback != nil {
		return fallback, nil
	}
	var msgs []string
	for _, srv := range failed {
		msgs = append(msgs, errs[srv].Message)
	}
	if last == nil {
		last = &host.Error{Kind: "timeout", Message: fmt.Sprintf("no answer within %v", timeout)}
		msgs = append(msgs, last.Message)
	}
	return nil, &host.Error{Kind: last.Kind, Message: prefix + ": " + strings.Join(msgs, "; "),
		Fields: map[string]any{"server": strings.Join(servers, " ")}, Err: last.Err}
}

// queryServer asks one server: UDP (or TCP when asked), and on a truncated
// UDP answer again with EDNS0 (unless it already had it), then over TCP.
func queryServer(ctx context.Context, srv string, m *mdns.Msg, deadline time.Time, tcp bool) (*Result, error) {
	if tcp {
		return exchange(ctx, "tcp", srv, m, deadline)
	}
	res, err := exchange(ctx, "udp", srv, m, deadline)
	if err != nil || !res.Truncated {
		return res, err
	}
	if m.IsEdns0() == nil {
		m2 := m.Copy()
		m2.SetEdns0(RetryBufSize, false)
		if r2, err := exchange(ctx, "udp", srv, m2, deadline); err == nil {
			if !r2.Truncated {
				return r2, nil
			}
			res = r2
		}
	}
	if r3, err := exchange(ctx, "tcp", srv, m, deadline); err == nil {
		return r3, nil
	} else if ctx.Err() != nil {
		return nil, err
	}
	// TCP failed: the truncated answer is still an answer (flagged so).
	return res, nil
}

// malformedError marks answers that could not be parsed or do not answer
// the question.
type malformedError struct{ err error }

func (e *malformedError) Error() string { return "malformed answer: " + e.err.Error() }
func (e *malformedError) Unwrap() error { return e.err }

func exchange(ctx context.Context, network, srv string, m *mdns.Msg, deadline time.Time) (*Result, error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, srv)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Cancellation (Ctrl-C) must interrupt a read that only has a deadline.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	q := m.Copy()
	q.Id = mdns.Id()
	// The deadline is the only limit: miekg/dns would otherwise cut every
	// read at its own 2 s, leaving the rest of the caller's time unused.
	c := &mdns.Client{Net: network, Timeout: time.Until(deadline)}
	r, rtt, err := c.ExchangeWithConnContext(ctx, q, &mdns.Conn{Conn: conn})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ne net.Error
		var me *mdns.Error
		switch {
		case errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED):
			return nil, err
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("%s %s: connection closed by server", network, srv)
		case errors.As(err, &me):
			return nil, &malformedError{err}
		default:
			return nil, err
		}
	}
	if !r.Response {
		return nil, &malformedError{errors.New("QR bit not set")}
	}
	if len(r.Question) > 0 && (!sameName(r.Question[0].Name, q.Question[0].Name) || r.Question[0].Qtype != q.Question[0].Qtype) {
		return nil, &malformedError{fmt.Errorf("answer for %s %s, asked %s %s", r.Question[0].Name,
			TypeName(r.Question[0].Qtype), q.Question[0].Name, TypeName(q.Question[0].Qtype))}
	}
	return newResult(r, rtt, srv, network), nil
}

// classify turns an exchange error into a *host.Error naming the server.
func classify(srv string, waited time.Duration, err error) *host.Error {
	var me *malformedError
	var ne net.Error
	switch {
	case errors.As(err, &me):
		return &host.Error{Kind: "malformed", Message: srv + ": " + me.Error(), Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &host.Error{Kind: "timeout", Message: fmt.Sprintf("%s: no answer within %ss", srv, roundSeconds(waited)), Err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &host.Error{Kind: "network", Message: srv + ": connection refused", Err: err}
	default:
		return &host.Error{Kind: "network", Message: srv + ": " + err.Error(), Err: err}
	}
}

// roundSeconds shows a wait the way it was asked for: the shares of a 5 s
// timeout add up to 4.99 s once the scheduler has had its say, which is "5".
func roundSeconds(d time.Duration) string {
	scale := 10.0
	if d < time.Second {
		scale = 100
	}
	return strconv.FormatFloat(math.Round(d.Seconds()*scale)/scale, 'f', -1, 64)
}

func newResult(r *mdns.Msg, rtt time.Duration, srv, network string) *Result {
	res := &Result{
		Rcode:              RcodeName(r.Rcode),
		Truncated:          r.Truncated,
		Authoritative:      r.Authoritative,
		RecursionAvailable: r.RecursionAvailable,
		AuthenticatedData:  r.AuthenticatedData,
		RTT:                rtt,
		Server:             srv,
		Protocol:           network,
		Answers:            records(r.Answer),
		Authority:          records(r.Ns),
		Msg:                r,
	}
	for _, rr := range r.Extra {
		if opt, ok := rr.(*mdns.OPT); ok {
			res.EDNS = &EDNS{BufSize: opt.UDPSize(), DO: opt.Do(), Version: opt.Version()}
			continue
		}
		res.Additional = append(res.Additional, newRecord(rr))
	}
	return res
}

// RcodeName is "NOERROR", "NXDOMAIN", ... or "RCODE23".
func RcodeName(rc int) string {
	if s, ok := mdns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

func records(rrs []mdns.RR) []Record {
	out := make([]Record, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, newRecord(rr))
	}
	return out
}
