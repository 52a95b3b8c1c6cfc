package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/gos3lua/gos3lua/bindings/dns"
	"github.com/gos3lua/gos3lua/host"
)

// Transcript marks, as swaks prints them.
const (
	MarkSend    = " -> "
	MarkRecv    = "<-  "
	MarkSendTLS = " ~> "
	MarkRecvTLS = "<~  "
	MarkInfo    = "=== "
	MarkError   = "*** "
)

// Options configure a client connection.
type Options struct {
	Port       int           // default 25 (465 with TLS "tls")
	Timeout    time.Duration // every step: dial, each reply, TLS handshake, the message body
	Helo       string        // EHLO name; default the host name
	TLS        string        // "auto" (STARTTLS when offered, the default), "starttls" (required), "tls" (implicit), "none"
	Verify     bool          // verify the server's certificate
	ServerName string        // name to verify the certificate against; default the host dialled
	NoEHLO     bool          // stop after the banner (the caller sends EHLO itself)
	Log        func(mark, line string)
}

// Reply is one SMTP reply.
type Reply struct {
	Code     int
	Enhanced string   // "5.7.1", "" when the server sent none
	Lines    []string // text of each line, without code and enhanced code
}

// Text is the reply's text, lines joined by "\n".
func (r Reply) Text() string { return strings.Join(r.Lines, "\n") }

// String is the reply as one line: "554 5.7.1 Relay access denied".
func (r Reply) String() string {
	s := strconv.Itoa(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if t := strings.Join(r.Lines, " "); t != "" {
		s += " " + t
	}
	return s
}

// Client is one connection to an SMTP server. It is written on
// net/textproto rather than go-smtp's Client, which keeps its connection
// private: that leaves no way to send an arbitrary command (ETRN), to tell
// sent from received lines after STARTTLS, or to hide an AUTH secret from a
// transcript. Every method is safe to call from several goroutines (calls
// are serialised).
type Client struct {
	mu      sync.Mutex // one operation at a time
	smu     sync.Mutex // the fields read from Lua (ext, tls, helo, banner) while an operation runs
	raw     net.Conn   // the TCP connection; deadlines are set on it
	conn    net.Conn   // raw, or TLS over raw
	r       *bufio.Reader
	w       *bufio.Writer
	addr    string // host:port dialled
	name    string // name for TLS verification
	opts    Options
	tls     *tls.ConnectionState
	ext     map[string]string
	helo    string
	banner  Reply
	closed  bool
	stopCtx func() bool
	// challenged: the last reply was 334, so the next line sent is a SASL
	// response (a password, perhaps) and the transcript must not show it.
	challenged bool
}

// DefaultTimeout is used when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Dial connects to target ("host", "host:port", "[v6]:port" or an address),
// reads the banner, and unless opts.NoEHLO sends EHLO and does STARTTLS as
// opts.TLS asks. Failures are *host.Error with kind "network", "timeout",
// "tls" or "smtp" and fields stage, text (and code, enhanced for "smtp").
func Dial(ctx context.Context, target string, opts Options) (*Client, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	switch opts.TLS {
	case "":
		opts.TLS = "auto"
	case "auto", "starttls", "tls", "none":
	default:
		return nil, host.Errorf("usage", "smtp: tls must be \"starttls\", \"tls\", \"none\" or \"auto\", not %q", opts.TLS)
	}
	if opts.Helo == "" {
		opts.Helo = defaultHelo()
	}
	if err := validLine(opts.Helo); err != nil {
		return nil, err
	}
	port := opts.Port
	if port == 0 {
		port = 25
		if opts.TLS == "tls" {
			port = 465
		}
	}
	if port < 1 || port > 65535 {
		return nil, host.Errorf("usage", "smtp: connect %s: port %d out of range 1-65535", target, port).With("stage", "connect").With("text", fmt.Sprintf("port %d out of range 1-65535", port))
	}
	hostname, addr := splitTarget(target, port)
	if _, p, err := net.SplitHostPort(addr); err == nil {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, host.Errorf("usage", "smtp: connect %s: invalid port %q", target, p).With("stage", "connect").With("text", "invalid port "+strconv.Quote(p))
		}
	}
	c := &Client{addr: addr, opts: opts, name: opts.ServerName}
	if c.name == "" {
		c.name = hostname
	}
	c.info("Trying " + addr + "...")
	d := net.Dialer{Timeout: opts.Timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, c.fail("connect", "", err)
	}
	c.raw = conn
	c.conn = conn
	c.stopCtx = context.AfterFunc(ctx, func() { conn.Close() })
	c.setIO(conn)
	c.info("Connected to " + hostname + ".")
	if opts.TLS == "tls" {
		if err := c.handshake(ctx, "connect"); err != nil {
			c.shut()
			return nil, err
		}
	}
	c.deadline()
	rep, err := c.readReply()
	if err != nil {
		c.shut()
		return nil, c.fail("connect", "", err)
	}
	c.smu.Lock()
	c.banner = rep
	c.smu.Unlock()
	if rep.Code != 220 {
		c.shut()
		return nil, c.replyError("connect", "", rep)
	}
	if opts.NoEHLO {
		return c, nil
	}
	if _, err := c.ehlo(opts.Helo); err != nil {
		c.shut()
		return nil, err
	}
	_, offered := c.ext["STARTTLS"]
	if c.tls == nil && (opts.TLS == "starttls" || opts.TLS == "auto" && offered) {
		if err := c.startTLS(ctx); err != nil {
			c.shut()
			return nil, err
		}
	}
	return c, nil
}

func defaultHelo() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.ContainsAny(h, " \r\n") {
		return "localhost"
	}
	return h
}

// splitTarget returns the host name and the host:port to dial.
func splitTarget(target string, port int) (string, string) {
	if h, p, err := net.SplitHostPort(target); err == nil {
		return h, net.JoinHostPort(h, p)
	}
	h := strings.TrimSuffix(strings.TrimPrefix(target, "["), "]")
	return h, net.JoinHostPort(h, strconv.Itoa(port))
}

func (c *Client) setIO(conn net.Conn) {
	c.conn = conn
	c.r = bufio.NewReaderSize(conn, 4096)
	c.w = bufio.NewWriter(conn)
}

// deadline gives the next step (a command and its reply) the timeout.
func (c *Client) deadline() { c.raw.SetDeadline(time.Now().Add(c.opts.Timeout)) }

func (c *Client) log(mark, line string) {
	if c.opts.Log != nil {
		c.opts.Log(mark, line)
	}
}

func (c *Client) info(line string) { c.log(MarkInfo, line) }

func (c *Client) sendMark() string {
	if c.tls != nil {
		return MarkSendTLS
	}
	return MarkSend
}

func (c *Client) recvMark() string {
	if c.tls != nil {
		return MarkRecvTLS
	}
	return MarkRecv
}

// Addr is the host:port dialled.
func (c *Client) Addr() string { return c.addr }

// Banner is the server's greeting.
func (c *Client) Banner() Reply {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.banner
}

// Helo is the name last sent with EHLO/HELO.
func (c *Client) Helo() string {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.helo
}

// TLS is the TLS state, nil before TLS is up.
func (c *Client) TLS() *tls.ConnectionState {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.tls
}

// Extensions are the EHLO keywords (upper case) and their parameters.
func (c *Client) Extensions() map[string]string {
	c.smu.Lock()
	defer c.smu.Unlock()
	out := make(map[string]string, len(c.ext))
	for k, v := range c.ext {
		out[k] = v
	}
	return out
}

// ---- the wire ----

// send writes one command line; shown is what the transcript shows.
func (c *Client) send(line, shown string) error {
	if c.closed {
		return errClosed
	}
	c.log(c.sendMark(), shown)
	c.w.WriteString(line)
	c.w.WriteString("\r\n")
	return c.w.Flush()
}

const maxLine = 8192

// readReply reads one (possibly multi-line) reply.
func (c *Client) readReply() (Reply, error) {
	var rep Reply
	for n := 0; ; n++ {
		line, err := c.readLine()
		if err != nil {
			return rep, err
		}
		c.log(c.recvMark(), line)
		if len(line) < 3 || n > 1000 {
			return rep, fmt.Errorf("malformed reply %q", line)
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil || code < 100 || code > 599 || len(line) > 3 && line[3] != ' ' && line[3] != '-' {
			return rep, fmt.Errorf("malformed reply %q", line)
		}
		if n > 0 && code != rep.Code {
			return rep, fmt.Errorf("malformed reply: code %d in a reply that began with %d", code, rep.Code)
		}
		rep.Code = code
		text := ""
		if len(line) > 4 {
			text = line[4:]
		}
		rep.Lines = append(rep.Lines, text)
		if len(line) == 3 || line[3] == ' ' {
			rep.stripEnhanced()
			return rep, nil
		}
	}
}

// stripEnhanced takes the RFC 3463 code off the lines: RFC 2034 puts it on
// every line, some servers (go-smtp) only on the last.
func (r *Reply) stripEnhanced() {
	for _, i := range []int{0, len(r.Lines) - 1} {
		if enh, _, ok := splitEnhanced(r.Lines[i], r.Code); ok {
			r.Enhanced = enh
			break
		}
	}
	if r.Enhanced == "" {
		return
	}
	for i, l := range r.Lines {
		if enh, rest, ok := splitEnhanced(l, r.Code); ok && enh == r.Enhanced {
			r.Lines[i] = rest
		}
	}
}

// splitEnhanced splits "5.7.1 text" into the RFC 3463 code and the text.
func splitEnhanced(text string, code int) (string, string, bool) {
	enh, rest, _ := strings.Cut(text, " ")
	parts := strings.Split(enh, ".")
	if len(parts) != 3 || parts[0] != strconv.Itoa(code/100) {
		return "", "", false
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 {
			return "", "", false
		}
		for _, ch := range p {
			if ch < '0' || ch > '9' {
				return "", "", false
			}
		}
	}
	return enh, rest, true
}

func (c *Client) readLine() (string, error) {
	var buf []byte
	for {
		part, more, err := c.r.ReadLine()
		if err != nil {
			return "", err
		}
		if len(buf)+len(part) <= maxLine {
			buf = append(buf, part...)
		}
		if !more {
			return string(buf), nil
		}
	}
}

// command sends line and reads the reply; shown replaces line in the
// transcript (for secrets).
func (c *Client) command(line, shown string) (Reply, error) {
	if c.closed {
		return Reply{}, errClosed
	}
	c.deadline()
	if err := c.send(line, shown); err != nil {
		return Reply{}, err
	}
	rep, err := c.readReply()
	c.challenged = err == nil && rep.Code == 334
	return rep, err
}

var errClosed = errors.New("connection closed")

// ---- errors ----

// replyError is the error for an unexpected reply at stage.
func (c *Client) replyError(stage, what string, rep Reply) error {
	msg := "smtp: " + stage
	if what != "" {
		msg += " " + what
	}
	msg += " at " + c.addr + ": " + rep.String()
	c.log(MarkError, fmt.Sprintf("%s rejected: %s", stage, rep.String()))
	e := &host.Error{Kind: "smtp", Message: msg}
	e.With("code", rep.Code).With("stage", stage).With("text", rep.Text()).With("enhanced", rep.Enhanced).With("addr", c.addr)
	return e
}

// fail classifies a connection error at stage: kind "timeout", "network",
// "tls" or "cancelled", with a short text (e.g. "connection refused").
func (c *Client) fail(stage, what string, err error) error {
	var he *host.Error
	if errors.As(err, &he) {
		return err
	}
	kind, text := classify(err, c.opts.Timeout)
	msg := "smtp: " + stage
	if what != "" {
		msg += " " + what
	}
	msg += " at " + c.addr + ": " + text
	c.log(MarkError, text)
	e := &host.Error{Kind: kind, Message: msg, Err: err}
	e.With("stage", stage).With("text", text).With("addr", c.addr)
	return e
}

func classify(err error, timeout time.Duration) (kind, text string) {
	var ne net.Error
	var ve *tls.CertificateVerificationError
	var he x509.HostnameError
	var ue x509.UnknownAuthorityError
	var ie x509.CertificateInvalidError
	var ae tls.AlertError
	var re tls.RecordHeaderError
	var oe *net.OpError
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled", "cancelled"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout", "timeout after " + timeout.String()
	case errors.As(err, &ve):
		return "tls", "certificate not trusted: " + strings.TrimPrefix(ve.Err.Error(), "x509: ")
	case errors.As(err, &he):
		return "tls", "certificate not trusted: " + strings.TrimPrefix(he.Error(), "x509: ")
	case errors.As(err, &ue):
		return "tls", "certificate not trusted: " + strings.TrimPrefix(ue.Error(), "x509: ")
	case errors.As(err, &ie):
		return "tls", "certificate not trusted: " + strings.TrimPrefix(ie.Error(), "x509: ")
	case errors.As(err, &ae):
		return "tls", "TLS handshake failed: alert " + strings.TrimPrefix(ae.Error(), "tls: ")
	case errors.As(err, &oe) && oe.Op == "remote error": // an alert from the server
		return "tls", "TLS handshake failed: the server sent alert " + strings.TrimPrefix(oe.Err.Error(), "tls: ")
	case errors.As(err, &re):
		return "tls", "TLS handshake failed: " + strings.TrimPrefix(re.Error(), "tls: ")
	case errors.Is(err, syscall.ECONNREFUSED):
		return "network", "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "network", "connection reset by server"
	case errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, errClosed):
		return "network", "connection closed by server"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "network", "no route to host"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "network", "address not available"
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		if de.IsNotFound {
			return "network", "no such host " + de.Name
		}
		return "network", "cannot resolve " + de.Name + ": " + de.Err
	}
	if strings.HasPrefix(err.Error(), "malformed reply") {
		return "protocol", err.Error()
	}
	if errors.As(err, &ne) {
		return "network", err.Error()
	}
	return "network", err.Error()
}

// ---- commands ----

// Ehlo sends EHLO name (HELO when the server refuses EHLO with 500/502)
// and returns the extensions.
func (c *Client) Ehlo(name string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if name == "" {
		name = c.opts.Helo
	}
	if err := validLine(name); err != nil {
		return nil, err
	}
	ext, err := c.ehlo(name)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ext))
	for k, v := range ext {
		out[k] = v
	}
	return out, nil
}

func (c *Client) ehlo(name string) (map[string]string, error) {
	rep, err := c.command("EHLO "+name, "EHLO "+name)
	if err != nil {
		return nil, c.fail("ehlo", "", err)
	}
	c.smu.Lock()
	c.helo = name
	c.smu.Unlock()
	if rep.Code == 500 || rep.Code == 502 {
		rep, err = c.command("HELO "+name, "HELO "+name)
		if err != nil {
			return nil, c.fail("ehlo", "", err)
		}
		if rep.Code != 250 {
			return nil, c.replyError("ehlo", "", rep)
		}
		c.smu.Lock()
		c.ext = map[string]string{}
		c.smu.Unlock()
		return map[string]string{}, nil
	}
	if rep.Code != 250 {
		return nil, c.replyError("ehlo", "", rep)
	}
	ext := map[string]string{}
	for _, l := range rep.Lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		k = strings.ToUpper(strings.TrimSpace(k))
		if k != "" {
			ext[k] = strings.TrimSpace(v)
		}
	}
	// "AUTH=LOGIN PLAIN", sent by old servers alongside AUTH.
	if v, ok := ext["AUTH=LOGIN"]; ok && ext["AUTH"] == "" {
		ext["AUTH"] = strings.TrimSpace("LOGIN " + v)
	}
	c.smu.Lock()
	c.ext = ext
	c.smu.Unlock()
	return ext, nil
}

// StartTLS sends STARTTLS, does the handshake and sends EHLO again.
func (c *Client) StartTLS(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.startTLS(ctx)
}

func (c *Client) startTLS(ctx context.Context) error {
	if c.tls != nil {
		return c.fail("starttls", "", errors.New("TLS is already up"))
	}
	rep, err := c.command("STARTTLS", "STARTTLS")
	if err != nil {
		return c.fail("starttls", "", err)
	}
	if rep.Code != 220 {
		return c.replyError("starttls", "", rep)
	}
	if err := c.handshake(ctx, "starttls"); err != nil {
		return err
	}
	if _, err := c.ehlo(c.helo); err != nil {
		return err
	}
	return nil
}

func (c *Client) handshake(ctx context.Context, stage string) error {
	cfg := &tls.Config{ServerName: c.name, InsecureSkipVerify: !c.opts.Verify}
	tc := tls.Client(c.raw, cfg)
	c.deadline()
	if err := tc.HandshakeContext(ctx); err != nil {
		return c.fail(stage, "", fmt.Errorf("tls handshake: %w", err))
	}
	st := tc.ConnectionState()
	c.smu.Lock()
	c.tls = &st
	c.smu.Unlock()
	c.setIO(tc)
	c.info(fmt.Sprintf("TLS started with cipher %s:%s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite)))
	if len(st.PeerCertificates) > 0 {
		c.info("TLS peer subject DN=\"" + st.PeerCertificates[0].Subject.String() + "\"")
	}
	if !c.opts.Verify {
		c.info("TLS certificate not verified (verify=false)")
	}
	return nil
}

// Auth authenticates with PLAIN (preferred) or LOGIN, whichever the server
// offers. The transcript shows the AUTH command but never the secrets.
func (c *Client) Auth(user, password string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	mechs := strings.Fields(strings.ToUpper(c.ext["AUTH"]))
	has := func(m string) bool {
		for _, x := range mechs {
			if x == m {
				return true
			}
		}
		return false
	}
	if c.tls == nil && !loopbackAddr(c.addr) {
		return host.Errorf("tls", "smtp: auth: refusing to send the password for %s without TLS to %s (connect with tls=\"starttls\" or \"tls\")", user, c.addr).With("stage", "auth")
	}
	switch {
	case has("PLAIN") || len(mechs) == 0:
		_, ir, _ := sasl.NewPlainClient("", user, password).Start()
		rep, err := c.command("AUTH PLAIN "+base64.StdEncoding.EncodeToString(ir), "AUTH PLAIN [hidden]")
		if err != nil {
			return c.fail("auth", "", err)
		}
		if rep.Code == 334 { // the server ignored the initial response
			rep, err = c.command(base64.StdEncoding.EncodeToString(ir), "[hidden]")
			if err != nil {
				return c.fail("auth", "", err)
			}
		}
		if rep.Code != 235 {
			return c.replyError("auth", user, rep)
		}
		return nil
	case has("LOGIN"):
		rep, err := c.command("AUTH LOGIN", "AUTH LOGIN")
		if err != nil {
			return c.fail("auth", "", err)
		}
		for step := 0; rep.Code == 334 && step < 3; step++ {
			prompt, _ := base64.StdEncoding.DecodeString(rep.Text())
			secret := user
			shown := "[user " + user + "]"
			if strings.HasPrefix(strings.ToLower(string(prompt)), "pass") || step > 0 && !strings.HasPrefix(strings.ToLower(string(prompt)), "user") {
				secret, shown = password, "[hidden]"
			}
			rep, err = c.command(base64.StdEncoding.EncodeToString([]byte(secret)), shown)
			if err != nil {
				return c.fail("auth", "", err)
			}
		}
		if rep.Code != 235 {
			return c.replyError("auth", user, rep)
		}
		return nil
	default:
		return c.fail("auth", "", fmt.Errorf("the server offers neither PLAIN nor LOGIN (AUTH %s)", c.ext["AUTH"]))
	}
}

// Mail sends MAIL FROM:<from>.
func (c *Client) Mail(from string) (Reply, error) {
	from, err := asciiDomain(from)
	if err != nil {
		return Reply{}, err
	}
	return c.simple("mail", "MAIL FROM:<"+from+">", "<"+from+">", from, 250)
}

// Rcpt sends RCPT TO:<to>; 250 and 251 are accepted.
func (c *Client) Rcpt(to string) (Reply, error) {
	to, err := asciiDomain(to)
	if err != nil {
		return Reply{}, err
	}
	return c.simple("rcpt", "RCPT TO:<"+to+">", "<"+to+">", to, 250, 251)
}

// asciiDomain writes an address's internationalized domain in its IDNA
// (xn--) form, which every server takes without SMTPUTF8.
func asciiDomain(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || isASCII(addr[at+1:]) {
		return addr, nil
	}
	d, err := dns.ASCII(addr[at+1:])
	if err != nil {
		why := err.Error()
		var le *dns.LabelError
		if errors.As(err, &le) {
			why = le.Why
		}
		return "", host.Errorf("usage", "smtp: address %q: the domain is not a valid internationalized name (%s)", addr, why)
	}
	return addr[:at+1] + d, nil
}

func (c *Client) simple(stage, line, what, arg string, ok ...int) (Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := validLine(arg); err != nil {
		return Reply{}, err
	}
	rep, err := c.command(line, line)
	if err != nil {
		return rep, c.fail(stage, what, err)
	}
	for _, code := range ok {
		if rep.Code == code {
			return rep, nil
		}
	}
	return rep, c.replyError(stage, what, rep)
}

// Data sends DATA, then msg (line endings made CRLF, dot-stuffed), then the
// final dot, and returns the final reply (usually "250 ... queued as ...").
func (c *Client) Data(msg []byte) (Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rep, err := c.command("DATA", "DATA")
	if err != nil {
		return rep, c.fail("data", "", err)
	}
	if rep.Code != 354 {
		return rep, c.replyError("data", "", rep)
	}
	c.deadline()
	dw := textproto.NewWriter(c.w).DotWriter()
	lw := &lineLogger{c: c, mark: c.sendMark()}
	w := io.MultiWriter(dw, lw)
	for len(msg) > 0 {
		n := min(len(msg), 32<<10)
		if _, err := w.Write(msg[:n]); err != nil {
			return rep, c.fail("data", "(sending the message)", err)
		}
		msg = msg[n:]
		c.deadline() // a large message: the timeout is per chunk
	}
	lw.flush()
	c.log(c.sendMark(), ".")
	if err := dw.Close(); err != nil {
		return rep, c.fail("data", "(sending the message)", err)
	}
	c.deadline()
	rep, err = c.readReply()
	if err != nil {
		return rep, c.fail("data", "(waiting for the final reply)", err)
	}
	if rep.Code != 250 {
		return rep, c.replyError("data", "", rep)
	}
	return rep, nil
}

// lineLogger shows a message body in the transcript, line by line (at most
// maxLogged lines).
type lineLogger struct {
	c       *Client
	mark    string
	partial []byte
	lines   int
}

const maxLogged = 500

func (l *lineLogger) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	for {
		i := strings.IndexByte(string(l.partial), '\n')
		if i < 0 {
			break
		}
		l.emit(strings.TrimSuffix(string(l.partial[:i]), "\r"))
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) emit(line string) {
	l.lines++
	if l.lines <= maxLogged {
		l.c.log(l.mark, line)
	}
}

func (l *lineLogger) flush() {
	if len(l.partial) > 0 {
		l.emit(string(l.partial))
		l.partial = nil
	}
	if l.lines > maxLogged {
		l.c.info(fmt.Sprintf("[%d more lines of the message not shown]", l.lines-maxLogged))
	}
}

// Cmd sends any command and returns its reply, whatever the code.
func (c *Client) Cmd(verb, args string) (Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	line := verb
	if args != "" {
		line += " " + args
	}
	if err := validLine(line); err != nil {
		return Reply{}, err
	}
	shown := line
	switch {
	case c.challenged:
		shown = "[hidden]"
	case strings.EqualFold(verb, "AUTH"):
		mech, _, _ := strings.Cut(args, " ")
		shown = verb + " " + mech + " [hidden]"
	}
	rep, err := c.command(line, shown)
	if err != nil {
		return rep, c.fail(strings.ToLower(verb), "", err)
	}
	return rep, nil
}

// Quit sends QUIT, reads the reply and closes the connection.
func (c *Client) Quit() (Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return Reply{}, nil
	}
	rep, err := c.command("QUIT", "QUIT")
	c.shut()
	if err != nil {
		return rep, c.fail("quit", "", err)
	}
	return rep, nil
}

// Close closes the connection without QUIT.
func (c *Client) Close() error {
	// Closing the socket first unblocks an operation that holds mu (a
	// command waiting on a server that never answers), so close never
	// waits for its timeout. raw is set once, in Dial.
	if c.raw != nil {
		c.raw.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shut()
	return nil
}

func (c *Client) shut() {
	if c.closed || c.raw == nil {
		return
	}
	c.closed = true
	if c.stopCtx != nil {
		c.stopCtx()
	}
	c.raw.Close()
	c.info("Connection closed with remote host.")
}

// loopbackAddr reports whether host:port names a loopback address, where
// a password may travel without TLS.
func loopbackAddr(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		h = addr
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func validLine(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return host.Errorf("usage", "smtp: %q: a command argument must not contain CR or LF", s)
	}
	return nil
}

// SortedExtensions lists extension keywords in order (for display).
func SortedExtensions(ext map[string]string) []string {
	keys := make([]string, 0, len(ext))
	for k := range ext {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
