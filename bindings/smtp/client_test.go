package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host"
)

func startServer(t *testing.T, o ServerOptions) *Server {
	t.Helper()
	s, err := StartServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// recorder is a transcript kept for assertions.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) log(mark, line string) {
	r.mu.Lock()
	r.lines = append(r.lines, mark+line)
	r.mu.Unlock()
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

func hostErr(t *testing.T, err error) *host.Error {
	t.Helper()
	var he *host.Error
	if !errors.As(err, &he) {
		t.Fatalf("want a *host.Error, got %T %v", err, err)
	}
	return he
}

func TestSendThroughServer(t *testing.T) {
	s := startServer(t, ServerOptions{TLS: true, Users: map[string]string{"alice": "s3cret-PW"}})
	var rec recorder
	ctx := context.Background()
	c, err := Dial(ctx, s.Addr(), Options{Timeout: 5 * time.Second, Helo: "client.test", Verify: false, Log: rec.log})
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS() == nil {
		t.Fatal("STARTTLS was offered but TLS is not up (tls defaults to auto)")
	}
	if err := c.Auth("alice", "s3cret-PW"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mail("a@example.org"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"b@example.net", "c@example.net"} {
		if _, err := c.Rcpt(to); err != nil {
			t.Fatal(err)
		}
	}
	body := "Subject: dots\n\n.leading dot\nline two\n..two dots\n"
	rep, err := c.Data([]byte(body))
	if err != nil || rep.Code != 250 {
		t.Fatalf("data: %v %v", rep, err)
	}
	if rep, err := c.Quit(); err != nil || rep.Code != 221 {
		t.Fatalf("quit: %v %v", rep, err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("want 1 message, got %d", len(msgs))
	}
	m := msgs[0]
	if m.From != "a@example.org" || strings.Join(m.To, ",") != "b@example.net,c@example.net" || !m.TLS || m.User != "alice" || m.Helo != "client.test" {
		t.Errorf("recorded %+v", m)
	}
	if got := strings.ReplaceAll(string(m.Data), "\r\n", "\n"); got != body {
		t.Errorf("data: got %q want %q (dot-stuffing must round-trip)", got, body)
	}
	tr := rec.String()
	for _, want := range []string{
		"=== Trying " + s.Addr() + "...",
		"<-  220 ",
		" -> EHLO client.test",
		" -> STARTTLS",
		"=== TLS started with cipher TLS 1.3",
		" ~> EHLO client.test",
		" ~> AUTH PLAIN [hidden]",
		"<~  235 2.0.0 Authentication succeeded",
		" ~> MAIL FROM:<a@example.org>",
		" ~> DATA",
		" ~> .",
		"<~  221 2.0.0 Bye",
		"=== Connection closed with remote host.",
	} {
		if !strings.Contains(tr, want) {
			t.Errorf("transcript lacks %q:\n%s", want, tr)
		}
	}
	if strings.Contains(tr, "s3cret") || strings.Contains(tr, "AGFsaWNl") {
		t.Errorf("the password (or its base64) is in the transcript:\n%s", tr)
	}
}

func TestAuthLoginHidesPassword(t *testing.T) {
	s := startServer(t, ServerOptions{Users: map[string]string{"bob": "hunter2"}})
	var rec recorder
	c, err := Dial(context.Background(), s.Addr(), Options{Timeout: 5 * time.Second, TLS: "none", Log: rec.log})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.ext["AUTH"] = "LOGIN" // make the client choose LOGIN
	if err := c.Auth("bob", "hunter2"); err != nil {
		t.Fatalf("auth login: %v\n%s", err, rec.String())
	}
	tr := rec.String()
	if !strings.Contains(tr, " -> AUTH LOGIN") || !strings.Contains(tr, " -> [hidden]") {
		t.Errorf("transcript:\n%s", tr)
	}
	if strings.Contains(tr, "hunter2") || strings.Contains(tr, "aHVudGVyMg") {
		t.Errorf("password in transcript:\n%s", tr)
	}
	// A wrong password is an smtp error at stage auth.
	c2, err := Dial(context.Background(), s.Addr(), Options{Timeout: 5 * time.Second, TLS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	he := hostErr(t, c2.Auth("bob", "wrong"))
	if he.Kind != "smtp" || he.Fields["code"] != 535 || he.Fields["stage"] != "auth" {
		t.Errorf("got %v %v", he.Kind, he.Fields)
	}
}

func TestReplyFailures(t *testing.T) {
	s := startServer(t, ServerOptions{Replies: map[string]*Rule{
		"rcpt": {Match: []Match{{Key: "@relay.example", Action: Action{Kind: "reply", Code: 554, Enhanced: "5.7.1", Text: "Relay access denied"}}}},
		"mail": {Match: []Match{{Key: "spammer", Action: Action{Kind: "reply", Code: 550, Text: "Go away"}}}},
		"data": {Default: &Action{Kind: "reply", Code: 452, Enhanced: "4.3.1", Text: "Insufficient system storage\nTry later"}},
	}})
	ctx := context.Background()
	c, err := Dial(ctx, s.Addr(), Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	he := hostErr(t, func() error { _, err := c.Mail("spammer@x.example"); return err }())
	if he.Kind != "smtp" || he.Fields["code"] != 550 || he.Fields["stage"] != "mail" || he.Fields["enhanced"] != "5.0.0" {
		t.Errorf("mail: %s %v", he.Kind, he.Fields)
	}
	if _, err := c.Mail("ok@x.example"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Rcpt("a@relay.example")
	he = hostErr(t, err)
	want := "smtp: rcpt <a@relay.example> at " + s.Addr() + ": 554 5.7.1 Relay access denied"
	if he.Kind != "smtp" || he.Message != want || he.Fields["enhanced"] != "5.7.1" || he.Fields["text"] != "Relay access denied" {
		t.Errorf("rcpt: %q %v\nwant %q", he.Message, he.Fields, want)
	}
	if _, err := c.Rcpt("b@fine.example"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Data([]byte("Subject: x\n\nbody\n"))
	he = hostErr(t, err)
	if he.Fields["code"] != 452 || he.Fields["stage"] != "data" || he.Fields["text"] != "Insufficient system storage\nTry later" {
		t.Errorf("data: %q %v", he.Message, he.Fields)
	}
	if strings.Contains(he.Message, "\n") {
		t.Errorf("message must be one line: %q", he.Message)
	}
	// cmd never raises on a reply code.
	rep, err := c.Cmd("ETRN", "example.com")
	if err != nil || rep.Code != 250 || rep.Text() != "Queuing for node example.com started" {
		t.Errorf("etrn: %v %v", rep, err)
	}
	rep, err = c.Cmd("BOGUS", "")
	if err != nil || rep.Code < 500 {
		t.Errorf("bogus: %v %v", rep, err)
	}
	if got := s.ETRNs(); len(got) != 1 || got[0] != "example.com" {
		t.Errorf("etrns %v", got)
	}
}

func TestBannerRejected(t *testing.T) {
	s := startServer(t, ServerOptions{Replies: map[string]*Rule{"connect": {Default: &Action{Kind: "reply", Code: 554, Enhanced: "5.3.2", Text: "No SMTP service here"}}}})
	_, err := Dial(context.Background(), s.Addr(), Options{Timeout: 5 * time.Second})
	he := hostErr(t, err)
	if he.Kind != "smtp" || he.Fields["stage"] != "connect" || he.Fields["code"] != 554 {
		t.Errorf("got %s %v", he.Message, he.Fields)
	}
}

// A server that accepts the connection and never says anything must time
// out, not hang.
func TestSilentServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err = Dial(context.Background(), ln.Addr().String(), Options{Timeout: 300 * time.Millisecond})
	he := hostErr(t, err)
	if he.Kind != "timeout" || he.Fields["stage"] != "connect" || he.Fields["text"] != "timeout after 300ms" {
		t.Errorf("got %s %q %v", he.Kind, he.Message, he.Fields)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

// Every stage honours the timeout: a server that hangs at RCPT, or after
// the message, times out there.
func TestHangingStagesTimeOut(t *testing.T) {
	for _, stage := range []string{"helo", "mail", "rcpt", "data", "etrn"} {
		t.Run(stage, func(t *testing.T) {
			s := startServer(t, ServerOptions{Replies: map[string]*Rule{stage: {Default: &Action{Kind: "hang"}}}})
			opts := Options{Timeout: 300 * time.Millisecond, NoEHLO: true}
			c, err := Dial(context.Background(), s.Addr(), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			err = func() error {
				if _, err := c.Ehlo("x"); err != nil {
					return err
				}
				if stage == "etrn" {
					_, err := c.Cmd("ETRN", "example.com")
					return err
				}
				if _, err := c.Mail("a@b.example"); err != nil {
					return err
				}
				if _, err := c.Rcpt("c@d.example"); err != nil {
					return err
				}
				_, err := c.Data([]byte("Subject: x\n\nhello\n"))
				return err
			}()
			he := hostErr(t, err)
			want := stage
			if stage == "helo" {
				want = "ehlo"
			}
			if he.Kind != "timeout" || he.Fields["stage"] != want {
				t.Errorf("got %s %q %v", he.Kind, he.Message, he.Fields)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// A server that drops the connection in the middle of DATA gives a clear
// network error at stage data.
func TestDropMidData(t *testing.T) {
	s := startServer(t, ServerOptions{Replies: map[string]*Rule{"data": {Default: &Action{Kind: "drop"}}}})
	c, err := Dial(context.Background(), s.Addr(), Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Mail("a@b.example")
	c.Rcpt("c@d.example")
	// Big enough that the drop lands while we are still writing.
	big := strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", 64<<10)
	_, err = c.Data([]byte("Subject: big\n\n" + big))
	he := hostErr(t, err)
	if he.Kind != "network" || he.Fields["stage"] != "data" {
		t.Fatalf("got %s %q %v", he.Kind, he.Message, he.Fields)
	}
	if txt := he.Fields["text"]; txt != "connection reset by server" && txt != "connection closed by server" {
		t.Errorf("text %q", txt)
	}
	if !strings.Contains(he.Message, "smtp: data (sending the message) at ") && !strings.Contains(he.Message, "smtp: data (waiting for the final reply) at ") {
		t.Errorf("message %q", he.Message)
	}
	// And a small message (all of it in the socket buffer before the drop):
	c2, err := Dial(context.Background(), s.Addr(), Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Mail("a@b.example")
	c2.Rcpt("c@d.example")
	_, err = c2.Data([]byte("Subject: small\n\nhi\n"))
	if he := hostErr(t, err); he.Kind != "network" || he.Fields["stage"] != "data" {
		t.Errorf("small: %s %q", he.Kind, he.Message)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err := Dial(context.Background(), addr, Options{Timeout: time.Second})
	he := hostErr(t, err)
	if he.Kind != "network" || he.Fields["text"] != "connection refused" || he.Fields["stage"] != "connect" {
		t.Errorf("got %s %q %v", he.Kind, he.Message, he.Fields)
	}
}

func TestVerifyAndTLSModes(t *testing.T) {
	s := startServer(t, ServerOptions{TLS: true})
	// verify=true against a self-signed certificate: kind tls.
	_, err := Dial(context.Background(), s.Addr(), Options{Timeout: 5 * time.Second, Verify: true})
	if he := hostErr(t, err); he.Kind != "tls" || he.Fields["stage"] != "starttls" {
		t.Errorf("verify: %s %q", he.Kind, he.Message)
	}
	// tls=none: no STARTTLS even though offered.
	c, err := Dial(context.Background(), s.Addr(), Options{Timeout: 5 * time.Second, TLS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS() != nil {
		t.Error("tls=none started TLS")
	}
	if _, ok := c.Extensions()["STARTTLS"]; !ok {
		t.Error("STARTTLS not in the extensions")
	}
	c.Close()
	// tls=starttls against a server without it: smtp error 502 at starttls.
	plain := startServer(t, ServerOptions{})
	_, err = Dial(context.Background(), plain.Addr(), Options{Timeout: 5 * time.Second, TLS: "starttls"})
	if he := hostErr(t, err); he.Kind != "smtp" || he.Fields["stage"] != "starttls" || he.Fields["code"] != 502 {
		t.Errorf("starttls: %s %q %v", he.Kind, he.Message, he.Fields)
	}
}

// A fake server speaking raw lines, for replies go-smtp would never send.
func rawServer(t *testing.T, script func(r *bufio.Reader, w net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		script(bufio.NewReader(c), c)
	}()
	return ln.Addr().String()
}

func TestMultilineAndMalformedReplies(t *testing.T) {
	addr := rawServer(t, func(r *bufio.Reader, w net.Conn) {
		w.Write([]byte("220-mx.example ESMTP\r\n220-second line\r\n220 ready\r\n"))
		r.ReadString('\n')
		w.Write([]byte("250-mx.example\r\n250-SIZE 1000\r\n250-AUTH=LOGIN\r\n250 8BITMIME\r\n"))
		r.ReadString('\n')
		w.Write([]byte("550-5.1.1 first\r\n550-5.1.1 second\r\n550 5.1.1 third\r\n"))
		r.ReadString('\n')
		w.Write([]byte("hello there\r\n"))
	})
	c, err := Dial(context.Background(), addr, Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if b := c.Banner(); b.Code != 220 || len(b.Lines) != 3 {
		t.Errorf("banner %+v", b)
	}
	ext := c.Extensions()
	if ext["SIZE"] != "1000" || ext["AUTH"] != "LOGIN" {
		t.Errorf("extensions %v", ext)
	}
	_, err = c.Mail("x@y.example")
	he := hostErr(t, err)
	if he.Fields["text"] != "first\nsecond\nthird" || he.Fields["enhanced"] != "5.1.1" {
		t.Errorf("multi-line: %v", he.Fields)
	}
	_, err = c.Cmd("NOOP", "")
	if he := hostErr(t, err); he.Kind != "protocol" {
		t.Errorf("malformed: %s %q", he.Kind, he.Message)
	}
}

func TestCancelStopsAWait(t *testing.T) {
	s := startServer(t, ServerOptions{Replies: map[string]*Rule{"mail": {Default: &Action{Kind: "hang"}}}})
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Dial(ctx, s.Addr(), Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.Mail("a@b.example")
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("cancel did not stop the wait: %v after %v", err, time.Since(start))
	}
}

func TestDelayPerReply(t *testing.T) {
	s := startServer(t, ServerOptions{Delay: 50 * time.Millisecond})
	start := time.Now()
	c, err := Dial(context.Background(), s.Addr(), Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.Mail("a@b.example")
	c.Rcpt("c@d.example")
	c.Data([]byte("Subject: x\n\nhi\n"))
	c.Quit()
	// banner, EHLO, MAIL, RCPT, DATA 354, final 250, QUIT: 7 replies.
	if d := time.Since(start); d < 350*time.Millisecond || d > 2*time.Second {
		t.Errorf("7 replies with 50 ms each took %v", d)
	}
}

func TestServerOnlyLoopback(t *testing.T) {
	if _, err := StartServer(ServerOptions{Addr: "0.0.0.0:0"}); err == nil {
		t.Error("0.0.0.0 accepted")
	}
	if _, err := StartServer(ServerOptions{Replies: map[string]*Rule{"bogus": {}}}); err == nil {
		t.Error("unknown stage accepted")
	}
}

func TestImplicitTLS(t *testing.T) {
	s := startServer(t, ServerOptions{Implicit: true})
	var rec recorder
	c, err := Dial(context.Background(), s.Addr(), Options{Timeout: 5 * time.Second, TLS: "tls", Log: rec.log})
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS() == nil {
		t.Fatal("no TLS")
	}
	if rep, err := c.Cmd("ETRN", "example.com"); err != nil || rep.Code != 250 {
		t.Errorf("etrn over TLS: %v %v", rep, err)
	}
	c.Mail("a@b.example")
	c.Rcpt("c@d.example")
	if _, err := c.Data([]byte("Subject: x\n\nhi\n")); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	if m := s.Messages(); len(m) != 1 || !m[0].TLS {
		t.Errorf("messages %+v", m)
	}
	if tr := rec.String(); !strings.Contains(tr, "=== TLS started with cipher") || !strings.Contains(tr, "<~  220 ") {
		t.Errorf("transcript:\n%s", tr)
	}
	// Plain SMTP against an implicit-TLS port fails (no banner), within the timeout.
	_, err = Dial(context.Background(), s.Addr(), Options{Timeout: 500 * time.Millisecond, TLS: "none"})
	if err == nil {
		t.Error("plaintext against implicit TLS succeeded")
	}
}

// TLS failures are kind "tls" at the stage they happen, with one readable
// line saying what went wrong (not "tls: tls handshake: tls: ...").
func TestTLSFailures(t *testing.T) {
	garbage := func(closeOnly bool) string {
		return rawServer(t, func(r *bufio.Reader, w net.Conn) {
			w.Write([]byte("220 raw ESMTP\r\n"))
			r.ReadString('\n')
			w.Write([]byte("250-raw\r\n250 STARTTLS\r\n"))
			r.ReadString('\n')
			w.Write([]byte("220 go ahead\r\n"))
			if closeOnly {
				return
			}
			r.Read(make([]byte, 5))
			w.Write([]byte("this is not TLS at all\r\n"))
		})
	}
	alerting, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return nil, errors.New("no certificate today")
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alerting.Close() })
	go func() {
		for {
			c, err := alerting.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	selfSigned := startServer(t, ServerOptions{TLS: true})
	for _, c := range []struct {
		what, addr string
		opts       Options
		kind       string
		stage      string
		text       string
	}{
		{"not TLS after 220", garbage(false), Options{}, "tls", "starttls", "TLS handshake failed: first record does not look like a TLS handshake"},
		{"closed after 220", garbage(true), Options{}, "network", "starttls", "connection closed by server"},
		{"self-signed, verify", selfSigned.Addr(), Options{Verify: true}, "tls", "starttls", "certificate not trusted: certificate signed by unknown authority"},
		{"server alert", alerting.Addr().String(), Options{TLS: "tls"}, "tls", "connect", "TLS handshake failed: the server sent alert internal error"},
	} {
		c.opts.Timeout = 2 * time.Second
		_, err := Dial(context.Background(), c.addr, c.opts)
		he := hostErr(t, err)
		if he.Kind != c.kind || he.Fields["stage"] != c.stage || he.Fields["text"] != c.text {
			t.Errorf("%s: got %s %v %q, want %s %s %q", c.what, he.Kind, he.Fields["stage"], he.Fields["text"], c.kind, c.stage, c.text)
		}
		if !strings.HasSuffix(he.Message, ": "+c.text) {
			t.Errorf("%s: message %q", c.what, he.Message)
		}
	}
	// A name mismatch (not reachable without a trusted CA here): its text.
	_, text := classify(x509.HostnameError{Certificate: selfSigned.Certificate(), Host: "mx.example"}, time.Second)
	if !strings.HasPrefix(text, "certificate not trusted: certificate is valid for localhost") || !strings.HasSuffix(text, ", not mx.example") {
		t.Errorf("hostname mismatch: %q", text)
	}
}

func TestBadPort(t *testing.T) {
	for _, c := range []struct {
		target string
		port   int
		text   string
	}{
		{"127.0.0.1:99999", 0, `invalid port "99999"`},
		{"127.0.0.1:smtp", 0, `invalid port "smtp"`},
		{"[::1]:0", 0, `invalid port "0"`},
		{"127.0.0.1", 70000, "port 70000 out of range 1-65535"},
		{"127.0.0.1", -1, "port -1 out of range 1-65535"},
	} {
		_, err := Dial(context.Background(), c.target, Options{Port: c.port, Timeout: time.Second})
		he := hostErr(t, err)
		if he.Kind != "usage" || he.Fields["stage"] != "connect" || he.Fields["text"] != c.text {
			t.Errorf("%s port %d: %s %q %v", c.target, c.port, he.Kind, he.Message, he.Fields)
		}
	}
}

// AUTH driven by hand through cmd: the command and every answer to a 334
// challenge are hidden from the transcript.
func TestCmdAuthHidden(t *testing.T) {
	s := startServer(t, ServerOptions{Users: map[string]string{"erin": "p4ss-w0rd"}})
	var rec recorder
	c, err := Dial(context.Background(), s.Addr(), Options{Timeout: 5 * time.Second, TLS: "none", Log: rec.log})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, step := range []struct{ verb, args string }{{"AUTH", "LOGIN"}, {b64("erin"), ""}, {b64("p4ss-w0rd"), ""}} {
		if _, err := c.Cmd(step.verb, step.args); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := c.Cmd("NOOP", ""); err != nil || rep.Code != 250 {
		t.Fatalf("noop: %v %v", rep, err)
	}
	tr := rec.String()
	if strings.Contains(tr, b64("p4ss-w0rd")) || strings.Contains(tr, "p4ss-w0rd") {
		t.Errorf("password in transcript:\n%s", tr)
	}
	for _, want := range []string{" -> AUTH LOGIN [hidden]", " -> [hidden]", "<-  235 ", " -> NOOP"} {
		if !strings.Contains(tr, want) {
			t.Errorf("transcript lacks %q:\n%s", want, tr)
		}
	}
}

// An address's internationalized domain goes out in its xn-- form; one
// that is no valid IDNA name is refused before anything is sent.
func TestInternationalizedDomains(t *testing.T) {
	for in, want := range map[string]string{
		"postmaster@bücher.example": "postmaster@xn--bcher-kva.example",
		"me@Straße.de":              "me@xn--strae-oqa.de",
		"plain@example.com":         "plain@example.com",
		"":                          "",
		"bad@a\u202eb.example":      `smtp: address "bad@a\u202eb.example": the domain is not a valid internationalized name (disallowed rune U+202E)`,
	} {
		got, err := asciiDomain(in)
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("asciiDomain(%q) = %q, want %q", in, got, want)
		}
	}
}
