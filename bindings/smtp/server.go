package smtp

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// Action is what the test server does at a stage: send a reply, drop the
// connection, or hang (never answer, until the server is closed).
type Action struct {
	Kind     string // "reply", "drop", "hang"
	Code     int
	Enhanced string // "5.7.1" or ""
	Text     string
}

// Rule chooses the action at one stage: the first Match whose key is a
// substring of the stage's argument (the sender for mail, a recipient for
// rcpt and data, the domain for etrn, the EHLO name for helo), else Default.
type Rule struct {
	Default *Action
	Match   []Match
}

// Match is one keyed action of a Rule.
type Match struct {
	Key    string
	Action Action
}

func (r *Rule) pick(args ...string) *Action {
	if r == nil {
		return nil
	}
	for i := range r.Match {
		for _, a := range args {
			if strings.Contains(strings.ToLower(a), strings.ToLower(r.Match[i].Key)) {
				return &r.Match[i].Action
			}
		}
	}
	return r.Default
}

// ServerOptions configure a test server.
type ServerOptions struct {
	Addr     string            // loopback host:port, default 127.0.0.1:0
	Domain   string            // the name in the banner and EHLO reply, default "localhost"
	Delay    time.Duration     // added before every reply
	TLS      bool              // offer STARTTLS with a generated self-signed certificate
	Implicit bool              // TLS from the first byte instead (smtps, port 465 style)
	Users    map[string]string // AUTH PLAIN/LOGIN accounts; none: no AUTH offered
	Replies  map[string]*Rule  // stage ("connect", "helo", "auth", "mail", "rcpt", "data", "etrn") → rule
}

// Message is one message the server accepted.
type Message struct {
	From   string
	To     []string
	Data   []byte
	Helo   string
	TLS    bool
	User   string
	Remote string
}

// Server is a real SMTP server on loopback (go-smtp) that records what it
// accepts and answers as the test tells it. ETRN, which go-smtp does not
// know, and the per-reply delay are handled on the connection underneath
// go-smtp (see srvConn).
type Server struct {
	opts  ServerOptions
	srv   *gosmtp.Server
	ln    net.Listener
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	msgs  []Message
	etrns []string
	conns int
	cond  chan struct{} // closed and replaced whenever something is recorded
	cert  *x509.Certificate
}

// StartServer listens on opts.Addr (loopback only) and serves until Close.
func StartServer(opts ServerOptions) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	h, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp.server: addr %q: %w", opts.Addr, err)
	}
	if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("smtp.server: addr %q: only loopback addresses (127.0.0.1, ::1) are allowed", opts.Addr)
	}
	for stage := range opts.Replies {
		switch stage {
		case "connect", "helo", "auth", "mail", "rcpt", "data", "etrn":
		default:
			return nil, fmt.Errorf("smtp.server: replies: unknown stage %q (connect, helo, auth, mail, rcpt, data, etrn)", stage)
		}
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp.server: %w", err)
	}
	s := &Server{opts: opts, ln: ln, done: make(chan struct{}), cond: make(chan struct{})}
	g := gosmtp.NewServer(&backend{s})
	g.Domain = opts.Domain
	g.AllowInsecureAuth = true
	g.ReadTimeout = 5 * time.Minute
	g.WriteTimeout = time.Minute
	g.MaxMessageBytes = 64 << 20
	g.ErrorLog = log.New(io.Discard, "", 0)
	var under net.Listener = ln
	if opts.TLS || opts.Implicit {
		cfg, cert, err := selfSigned(opts.Domain)
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.cert = cert
		if opts.Implicit {
			// Our srvConn sits above TLS here, so go-smtp sees plaintext
			// (and does not know about TLS: Message.TLS is set by us).
			under = tls.NewListener(ln, cfg)
		} else {
			g.TLSConfig = cfg
		}
	}
	s.srv = g
	go g.Serve(&listener{Listener: under, s: s})
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Certificate is the self-signed certificate (nil without TLS).
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// Close stops the server and drops every connection.
func (s *Server) Close() error {
	s.once.Do(func() {
		close(s.done)
		s.ln.Close() // go-smtp may not have its listener yet
		s.srv.Close()
	})
	return nil
}

// Messages returns a copy of the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// ETRNs returns the arguments of the ETRN commands received so far.
func (s *Server) ETRNs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.etrns...)
}

// Wait waits until at least n messages were accepted, the server closes
// or the deadline passes; it returns the messages.
func (s *Server) Wait(n int, timeout time.Duration, cancel <-chan struct{}) []Message {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		got, ch := len(s.msgs), s.cond
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-ch:
		case <-t.C:
			return s.Messages()
		case <-s.done:
			return s.Messages()
		case <-cancel:
			return s.Messages()
		}
	}
}

func (s *Server) record(fn func()) {
	s.mu.Lock()
	fn()
	close(s.cond)
	s.cond = make(chan struct{})
	s.mu.Unlock()
}

func (s *Server) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

func (s *Server) rule(stage string) *Rule { return s.opts.Replies[stage] }

// smtpErr turns a reply action into the error go-smtp answers with.
func smtpErr(a *Action) error {
	e := &gosmtp.SMTPError{Code: a.Code, Message: a.Text, EnhancedCode: gosmtp.EnhancedCodeNotSet}
	if a.Enhanced != "" {
		var ec gosmtp.EnhancedCode
		parts := strings.Split(a.Enhanced, ".")
		if len(parts) == 3 {
			for i, p := range parts {
				ec[i], _ = strconv.Atoi(p)
			}
			e.EnhancedCode = ec
		}
	}
	return e
}

// ---- the listener and connection underneath go-smtp ----

type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s := l.s
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		sc := &srvConn{Conn: c, s: s, replyStart: true}
		if a := s.rule("connect").pick(); a != nil {
			switch {
			case a.Kind == "drop":
				c.Close()
				continue
			case a.Kind == "hang":
				go func() { <-s.done; c.Close() }()
				continue
			case a.Code != 220:
				go func() {
					sc.Write([]byte(formatReply(a)))
					c.Close()
				}()
				continue
			default:
				sc.banner = a
			}
		}
		return sc, nil
	}
}

func formatReply(a *Action) string {
	var b strings.Builder
	lines := strings.Split(a.Text, "\n")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		b.WriteString(strconv.Itoa(a.Code) + sep)
		if a.Enhanced != "" {
			b.WriteString(a.Enhanced + " ")
		}
		b.WriteString(l + "\r\n")
	}
	return b.String()
}

// srvConn sits between the TCP connection and go-smtp. It delays each reply
// by the server's Delay, replaces the banner when asked, and answers ETRN
// itself (go-smtp has no hook for unknown commands): command lines from the
// client are read a line at a time and an ETRN line never reaches go-smtp.
// After a message's 354 it passes lines through until the final dot, after
// BDAT it passes the chunk, and after STARTTLS (ciphertext) everything.
type srvConn struct {
	net.Conn
	s          *Server
	banner     *Action
	pending    []byte // read from the client, not yet split into lines
	out        []byte // lines ready for go-smtp
	inData     bool
	skip       int64 // BDAT bytes to pass through
	sawTLS     bool  // STARTTLS forwarded, waiting for the 220
	passAll    bool  // TLS is up: no more parsing
	replyStart bool
	wmu        sync.Mutex
}

func (c *srvConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.banner != nil {
		b := c.banner
		c.banner = nil
		if c.replyStart && bytes.HasPrefix(p, []byte("220 ")) {
			if !c.s.sleep(c.s.opts.Delay) {
				return 0, net.ErrClosed
			}
			if _, err := c.Conn.Write([]byte(formatReply(b))); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	if c.passAll || c.replyStart {
		if !c.s.sleep(c.s.opts.Delay) {
			return 0, net.ErrClosed
		}
	}
	if !c.passAll {
		switch {
		case c.replyStart && bytes.HasPrefix(p, []byte("354")):
			c.inData = true
		case c.replyStart && c.sawTLS && bytes.HasPrefix(p, []byte("220")):
			c.passAll = true
		}
		c.sawTLS = false
		// go-smtp writes a reply a line at a time: the next write starts a
		// reply unless this line was "250-..." of a multi-line one.
		c.replyStart = !(len(p) > 3 && p[3] == '-')
	}
	return c.Conn.Write(p)
}

func (c *srvConn) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.passAll {
			if len(c.pending) > 0 {
				n := copy(p, c.pending)
				c.pending = c.pending[n:]
				return n, nil
			}
			return c.Conn.Read(p)
		}
		buf := make([]byte, 4096)
		n, err := c.Conn.Read(buf)
		c.pending = append(c.pending, buf[:n]...)
		c.process()
		if len(c.out) > 0 {
			break
		}
		if err != nil {
			if len(c.pending) > 0 { // a last line without CRLF
				c.out, c.pending = c.pending, nil
				break
			}
			return 0, err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// process moves complete lines from pending to out, answering ETRN.
func (c *srvConn) process() {
	for len(c.pending) > 0 && !c.passAll {
		if c.skip > 0 {
			n := min(int64(len(c.pending)), c.skip)
			c.out = append(c.out, c.pending[:n]...)
			c.pending = c.pending[n:]
			c.skip -= n
			continue
		}
		i := bytes.IndexByte(c.pending, '\n')
		if i < 0 {
			if len(c.pending) > 4096 { // no line end in sight: not ours to judge
				c.out = append(c.out, c.pending...)
				c.pending = nil
			}
			return
		}
		line := c.pending[:i+1]
		c.pending = c.pending[i+1:]
		text := strings.TrimRight(string(line), "\r\n")
		if c.inData {
			if text == "." {
				c.inData = false
			}
			c.out = append(c.out, line...)
			continue
		}
		verb, arg, _ := strings.Cut(text, " ")
		switch strings.ToUpper(verb) {
		case "ETRN":
			c.etrn(strings.TrimSpace(arg))
			continue
		case "STARTTLS":
			c.sawTLS = true
			c.out = append(c.out, line...)
			// The handshake follows the 220; anything after this line
			// is TLS and must reach go-smtp untouched.
			c.out = append(c.out, c.pending...)
			c.pending = nil
			return
		case "BDAT":
			if f := strings.Fields(arg); len(f) > 0 {
				c.skip, _ = strconv.ParseInt(f[0], 10, 64)
			}
		}
		c.out = append(c.out, line...)
	}
}

func (c *srvConn) etrn(arg string) {
	s := c.s
	s.record(func() { s.etrns = append(s.etrns, arg) })
	a := s.rule("etrn").pick(arg)
	if a == nil {
		a = &Action{Kind: "reply", Code: 250, Text: "Queuing for node " + arg + " started"}
		if arg == "" {
			a = &Action{Kind: "reply", Code: 501, Enhanced: "5.5.4", Text: "Syntax: ETRN domain"}
		}
	}
	switch a.Kind {
	case "drop":
		c.Conn.Close()
		return
	case "hang":
		<-s.done
		c.Conn.Close()
		return
	}
	c.Write([]byte(formatReply(a)))
}

// rawConn finds our srvConn under go-smtp's connection (TLS or not).
func rawConn(gc *gosmtp.Conn) net.Conn {
	nc := gc.Conn()
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if sc, ok := nc.(*srvConn); ok {
		return sc.Conn
	}
	return nc
}

// ---- the go-smtp backend ----

type backend struct{ s *Server }

func (b *backend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	sess := &session{s: b.s, c: c}
	if err := sess.act("helo", c.Hostname()); err != nil {
		return nil, err
	}
	return sess, nil
}

type session struct {
	s    *Server
	c    *gosmtp.Conn
	from string
	to   []string
	user string
}

// act performs the stage's action: nil to go on, or the error to answer.
func (s *session) act(stage string, args ...string) error {
	a := s.s.rule(stage).pick(args...)
	if a == nil {
		return nil
	}
	switch a.Kind {
	case "drop":
		rawConn(s.c).Close()
		return errors.New("dropped")
	case "hang":
		<-s.s.done
		rawConn(s.c).Close()
		return errors.New("closed")
	}
	if a.Code >= 200 && a.Code < 400 {
		return nil
	}
	return smtpErr(a)
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if err := s.act("mail", from); err != nil {
		return err
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if err := s.act("rcpt", to); err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	a := s.s.rule("data").pick(s.to...)
	if a != nil && a.Kind == "drop" {
		// Drop in the middle of the message: read a little of it first.
		io.ReadFull(r, make([]byte, 1))
		rawConn(s.c).Close()
		return errors.New("dropped")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := s.act("data", s.to...); err != nil {
		return err
	}
	_, isTLS := s.c.TLSConnectionState()
	isTLS = isTLS || s.s.opts.Implicit
	m := Message{From: s.from, To: append([]string(nil), s.to...), Data: data, Helo: s.c.Hostname(),
		TLS: isTLS, User: s.user, Remote: s.c.Conn().RemoteAddr().String()}
	s.s.record(func() { s.s.msgs = append(s.s.msgs, m) })
	if a != nil && a.Kind == "reply" && a.Code == 250 && a.Text != "" {
		return smtpErr(a) // a custom 250 text ("queued as ...")
	}
	return nil
}

func (s *session) AuthMechanisms() []string {
	if len(s.s.opts.Users) == 0 {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if err := s.act("auth", user); err != nil {
			return err
		}
		if want, ok := s.s.opts.Users[user]; !ok || want != pass {
			return gosmtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of AUTH LOGIN (go-sasl dropped it).
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if resp == nil {
			return []byte("Username:"), false, nil
		}
		l.user = string(resp)
		l.step = 2
		return []byte("Password:"), false, nil
	case 1:
		l.user = string(resp)
		l.step = 2
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// selfSigned makes a throwaway ECDSA certificate for name, localhost,
// 127.0.0.1 and ::1.
func selfSigned(name string) (*tls.Config, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"gos3lua test server"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{name, "localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, cert, nil
}
