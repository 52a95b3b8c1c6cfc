package dns

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
)

// ServerOptions are the test modes of a Server.
type ServerOptions struct {
	Delay     time.Duration // before every answer
	Drop      bool          // never answer
	DropFirst int64         // do not answer the first DropFirst queries
	Malformed bool          // answer with a message that cannot be parsed
	Rcode     int           // when not 0, answer every query with it (e.g. SERVFAIL)
}

// Server is an authoritative DNS server over UDP and TCP on one port,
// serving a fixed set of records: for tests and local experiments.
//
// It answers for every name: a name with no records gets NXDOMAIN, a name
// with records but none of the type asked (or an empty non-terminal) gets
// NODATA, both with the SOA of the closest enclosing zone, when one was
// given, in the authority section. CNAMEs are followed within the data,
// MX/SRV/NS targets get their addresses in the additional section, and a
// UDP answer larger than the client's buffer (512 bytes, or its EDNS0
// size) is truncated so that the client retries over TCP.
type Server struct {
	Addr string // "127.0.0.1:port", the same port for UDP and TCP
	opts ServerOptions

	mu     sync.RWMutex
	all    []mdns.RR
	names  map[string][]mdns.RR // canonical owner name → records
	exists map[string]bool      // owners and their ancestors (empty non-terminals)
	zones  map[string]*mdns.SOA // zone apex → its SOA

	queries atomic.Int64
	udp     *mdns.Server
	tcp     *mdns.Server
	done    chan struct{}
	once    sync.Once
}

// NewServer listens on addr ("127.0.0.1:0" when empty; port 0 picks one
// free for both UDP and TCP) and serves rrs until Close.
func NewServer(addr string, rrs []mdns.RR, opts ServerOptions) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s := &Server{opts: opts, done: make(chan struct{})}
	s.Set(rrs)
	pc, ln, err := listenBoth(addr)
	if err != nil {
		return nil, fmt.Errorf("dns: server on %s: %w", addr, err)
	}
	s.Addr = pc.LocalAddr().String()
	// A burst of queries from many tasks must not overflow the default
	// socket buffer (~200 KB): a lost query costs the client a retry.
	if u, ok := pc.(*net.UDPConn); ok {
		u.SetReadBuffer(4 << 20)
	}
	s.udp = &mdns.Server{PacketConn: pc, Handler: s}
	s.tcp = &mdns.Server{Listener: ln, Handler: s}
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go s.udp.ActivateAndServe()
	go s.tcp.ActivateAndServe()
	<-started
	<-started
	return s, nil
}

// listenBoth binds UDP and TCP on the same port; with port 0 it retries
// when the port UDP got is taken for TCP.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	for try := 0; ; try++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(port)))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if p != "0" || try > 20 {
			return nil, nil, err
		}
	}
}

// Set replaces the records served.
func (s *Server) Set(rrs []mdns.RR) {
	names := map[string][]mdns.RR{}
	exists := map[string]bool{}
	zones := map[string]*mdns.SOA{}
	for _, rr := range rrs {
		owner := mdns.CanonicalName(rr.Header().Name)
		names[owner] = append(names[owner], rr)
		if soa, ok := rr.(*mdns.SOA); ok {
			zones[owner] = soa
		}
	}
	for owner := range names {
		for off, end := 0, false; !end; off, end = mdns.NextLabel(owner, off) {
			exists[owner[off:]] = true
		}
	}
	s.mu.Lock()
	s.all, s.names, s.exists, s.zones = append([]mdns.RR(nil), rrs...), names, exists, zones
	s.mu.Unlock()
}

// Add serves rrs as well as the records already there.
func (s *Server) Add(rrs []mdns.RR) {
	s.mu.RLock()
	all := append(append([]mdns.RR(nil), s.all...), rrs...)
	s.mu.RUnlock()
	s.Set(all)
}

// Queries is how many queries the server has received.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Close stops both listeners; queries in flight are abandoned.
func (s *Server) Close() error {
	s.once.Do(func() {
		close(s.done)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.udp.ShutdownContext(ctx)
		s.tcp.ShutdownContext(ctx)
	})
	return nil
}

// zone returns the SOA of the closest enclosing zone (nil for names under
// no SOA: they are in the implicit root zone).
func (s *Server) zone(name string) *mdns.SOA {
	for off, end := 0, false; !end; off, end = mdns.NextLabel(name, off) {
		if soa, ok := s.zones[name[off:]]; ok {
			return soa
		}
	}
	return s.zones["."]
}

// ServeDNS answers one query (miekg/dns calls it on its own goroutine).
func (s *Server) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) {
	if n := s.queries.Add(1); s.opts.Drop || n <= s.opts.DropFirst {
		return
	}
	if s.opts.Delay > 0 {
		select {
		case <-time.After(s.opts.Delay):
		case <-s.done:
			return
		}
	}
	m := s.answer(r)
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	if udp {
		size := mdns.MinMsgSize
		if opt := r.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	if s.opts.Malformed {
		w.Write(malform(m))
		return
	}
	w.WriteMsg(m)
}

// malform packs m and claims one answer more than it carries, then adds
// half a record header: any parser runs off the end.
func malform(m *mdns.Msg) []byte {
	m.Ns, m.Extra = nil, nil
	b, err := m.Pack()
	if err != nil || len(b) < 12 {
		return []byte{0}
	}
	an := int(b[6])<<8 | int(b[7]) + 1
	b[6], b[7] = byte(an>>8), byte(an)
	return append(b, 0xC0, 0x0C, 0x00)
}

func (s *Server) answer(r *mdns.Msg) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	m.RecursionAvailable = false
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(4096, opt.Do())
	}
	if r.Opcode != mdns.OpcodeQuery || len(r.Question) != 1 {
		m.Authoritative = false
		m.Rcode = mdns.RcodeNotImplemented
		return m
	}
	q := r.Question[0]
	s.mu.RLock()
	defer s.mu.RUnlock()
	name := mdns.CanonicalName(q.Name)
	if s.opts.Rcode != 0 {
		m.Authoritative = false
		m.Rcode = s.opts.Rcode
		return m
	}
	soa := s.zone(name)
	seen := map[string]bool{}
	for hops := 0; hops < 8 && !seen[name]; hops++ {
		seen[name] = true
		rrs := s.names[name]
		var match []mdns.RR
		var cname *mdns.CNAME
		for _, rr := range rrs {
			t := rr.Header().Rrtype
			if t == q.Qtype || q.Qtype == mdns.TypeANY {
				match = append(match, rr)
			} else if c, ok := rr.(*mdns.CNAME); ok {
				cname = c
			}
		}
		if len(match) > 0 {
			m.Answer = append(m.Answer, match...)
			break
		}
		if cname != nil {
			m.Answer = append(m.Answer, cname)
			name = mdns.CanonicalName(cname.Target)
			soa = s.zone(name)
			continue
		}
		if !s.exists[name] {
			m.Rcode = mdns.RcodeNameError
		}
		if soa != nil {
			m.Ns = append(m.Ns, soa)
		}
		break
	}
	// Addresses of the hosts the answer names, as real servers add them.
	added := map[string]bool{}
	for _, rr := range m.Answer {
		var target string
		switch x := rr.(type) {
		case *mdns.MX:
			target = x.Mx
		case *mdns.SRV:
			target = x.Target
		case *mdns.NS:
			target = x.Ns
		default:
			continue
		}
		target = mdns.CanonicalName(target)
		if added[target] {
			continue
		}
		added[target] = true
		for _, rr := range s.names[target] {
			if t := rr.Header().Rrtype; t == mdns.TypeA || t == mdns.TypeAAAA {
				m.Extra = append(m.Extra, rr)
			}
		}
	}
	if opt := m.IsEdns0(); opt != nil {
		// keep OPT last, where Truncate expects it
		for i, rr := range m.Extra {
			if rr == mdns.RR(opt) {
				m.Extra = append(append(m.Extra[:i:i], m.Extra[i+1:]...), opt)
				break
			}
		}
	}
	return m
}

// ParseZone reads records in zone-file form: a whole zone text ($ORIGIN,
// $TTL, comments) or one record per line.
func ParseZone(text, origin string) ([]mdns.RR, error) {
	zp := mdns.NewZoneParser(strings.NewReader(text), mdns.Fqdn(origin), "")
	zp.SetDefaultTTL(DefaultTTL)
	var out []mdns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
