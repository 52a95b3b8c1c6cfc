package smtp

// Interop with tools nobody here wrote (swaks, Postfix), and the bundled
// scripts mxtest.lua and etrn.lua run by the real binary against them and
// against the module's own servers.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host/hosttest"
)

func TestSwaksDeliversToServer(t *testing.T) {
	hosttest.Need(t, "swaks")
	s := startServer(t, ServerOptions{TLS: true, Users: map[string]string{"alice": "pw-xyz"},
		Replies: map[string]*Rule{"rcpt": {Match: []Match{{Key: "@relay.example", Action: Action{Kind: "reply", Code: 554, Enhanced: "5.7.1", Text: "Relay access denied"}}}}}})
	h, p, _ := net.SplitHostPort(s.Addr())
	out, err := exec.Command("swaks", "--server", h, "--port", p, "--from", "swaks@example.org", "--to", "rcpt@example.net",
		"--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "pw-xyz",
		"--header", "Subject: from swaks", "--body", "Hello from swaks.\n.leading dot").CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("want 1 message, got %d\n%s", len(msgs), out)
	}
	m := msgs[0]
	if m.From != "swaks@example.org" || m.To[0] != "rcpt@example.net" || !m.TLS || m.User != "alice" {
		t.Errorf("recorded %+v", m)
	}
	data := string(m.Data)
	if !strings.Contains(data, "Subject: from swaks") || !strings.Contains(data, "\n.leading dot") {
		t.Errorf("data:\n%s", data)
	}
	// A refused recipient: swaks exits 24 ("error in RCPT") and nothing is recorded.
	cmd := exec.Command("swaks", "--server", h, "--port", p, "--from", "a@example.org", "--to", "x@relay.example")
	out, err = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 24 || !strings.Contains(string(out), "554 5.7.1 Relay access denied") {
		t.Errorf("refused rcpt: exit %d %v\n%s", cmd.ProcessState.ExitCode(), err, out)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages after a refused recipient", n)
	}
	// ETRN through the interception under go-smtp; swaks has no ETRN, so
	// check swaks still works on a server answering ETRN first.
	c, err := Dial(context.Background(), s.Addr(), Options{TLS: "none", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Cmd("ETRN", "example.net")
	c.Quit()
	if err != nil || rep.Code != 250 {
		t.Errorf("etrn: %v %v", rep, err)
	}
}

// ---- the binary and a DNS fixture ----

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds gos3lua once per test run.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gos3lua-smtp-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "gos3lua")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/gos3lua/gos3lua/cmd/gos3lua").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// dnsFixture runs a gos3lua process serving zone with dns.server and
// returns its address; it stops with the test.
func dnsFixture(t *testing.T, zone string) string {
	t.Helper()
	dir := t.TempDir()
	zf := filepath.Join(dir, "zone")
	os.WriteFile(zf, []byte(zone), 0o644)
	addrFile := filepath.Join(dir, "addr")
	cmd := exec.Command(binary(t), filepath.Join(repoRoot(t), "bindings", "smtp", "testdata", "dnsfixture.lua"), zf, addrFile)
	stdin, _ := cmd.StdinPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("DNS fixture did not start: %s", stderr.String())
	return ""
}

type runResult struct {
	out, err string
	code     int
}

func runScript(t *testing.T, script string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), append([]string{filepath.Join(repoRoot(t), "scripts", script)}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Run()
	return runResult{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ---- the scripts against the module's own servers ----

const scriptZone = `
good.test.          60 IN MX 10 mx1.good.test.
good.test.          60 IN MX 20 mx2.good.test.
mx1.good.test.      60 IN A 127.0.0.1
mx2.good.test.      60 IN A 127.0.0.1
mx2.good.test.      60 IN AAAA ::1
relay.test.         60 IN MX 5 mx.relay.test.
mx.relay.test.      60 IN A 127.0.0.1
slow.test.          60 IN MX 5 mx.slow.test.
mx.slow.test.       60 IN A 127.0.0.1
drop.test.          60 IN MX 5 mx.drop.test.
mx.drop.test.       60 IN A 127.0.0.1
implicit.test.      60 IN A 127.0.0.1
null.test.          60 IN MX 0 .
noaddr.test.        60 IN MX 10 gone.noaddr.test.
`

func TestMxtestAgainstOwnServers(t *testing.T) {
	dnsAddr := dnsFixture(t, scriptZone)
	s := startServer(t, ServerOptions{TLS: true, Replies: map[string]*Rule{
		"rcpt": {Match: []Match{
			{Key: "@relay.test", Action: Action{Kind: "reply", Code: 554, Enhanced: "5.7.1", Text: "Relay access denied"}},
			{Key: "@slow.test", Action: Action{Kind: "hang"}},
		}},
		"data": {Match: []Match{{Key: "@drop.test", Action: Action{Kind: "drop"}}}},
	}})
	port := strconv.Itoa(s.ln.Addr().(*net.TCPAddr).Port)
	start := time.Now()
	r := runScript(t, "mxtest.lua", "--dns", dnsAddr, "--port", port, "--timeout", "1s",
		"good.test", "relay.test", "slow.test", "drop.test", "implicit.test", "null.test", "missing.test", "noaddr.test")
	elapsed := time.Since(start)
	want := strings.Join([]string{
		"good.test mx1.good.test 127.0.0.1 OK",
		"good.test mx2.good.test 127.0.0.1 OK",
		"good.test mx2.good.test ::1 FAIL connect connection refused",
		"relay.test mx.relay.test 127.0.0.1 FAIL rcpt 554 5.7.1 Relay access denied",
		"slow.test mx.slow.test 127.0.0.1 FAIL rcpt timeout after 1s",
		"drop.test mx.drop.test 127.0.0.1 FAIL data connection closed by server",
		"implicit.test implicit.test 127.0.0.1 OK",
		"null.test - - FAIL dns null MX",
		"missing.test - - FAIL dns NXDOMAIN",
		"noaddr.test gone.noaddr.test - FAIL dns NXDOMAIN",
	}, "\n") + "\n"
	got := regexp.MustCompile(`connection reset by server`).ReplaceAllString(r.out, "connection closed by server")
	// Without IPv6 on loopback (some containers) ::1 fails otherwise.
	got = regexp.MustCompile(`(?m)^(good.test mx2.good.test ::1 FAIL connect ).*$`).ReplaceAllString(got, "${1}connection refused")
	if got != want || r.code != 1 {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s\nstderr: %s", r.code, r.out, want, r.err)
	}
	// Everything at once: the one hanging exchange bounds the run.
	if elapsed > 10*time.Second {
		t.Errorf("took %v", elapsed)
	}
	var subjects []string
	for _, m := range s.Messages() {
		if !m.TLS {
			t.Errorf("message without STARTTLS: %+v", m)
		}
		for _, l := range strings.Split(string(m.Data), "\n") {
			if strings.HasPrefix(l, "Subject: ") {
				subjects = append(subjects, strings.TrimSpace(l))
			}
		}
	}
	for _, want := range []string{"Subject: Test via mx1.good.test for good.test", "Subject: Test via mx2.good.test for good.test", "Subject: Test via implicit.test for implicit.test"} {
		if !strings.Contains(strings.Join(subjects, "\n"), want) {
			t.Errorf("no %q among %q", want, subjects)
		}
	}

	// Exit 0 when all accept; --json; --quit-after; --no-tls; --transcript.
	before := len(s.Messages())
	r = runScript(t, "mxtest.lua", "--dns", dnsAddr, "--port", port, "--json", "--quit-after", "rcpt", "--no-tls", "--from", "me@here.test", "--to", "you@good.test", "good.test")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.out), &rows); err != nil || r.code != 1 || len(rows) != 3 {
		t.Fatalf("json: exit %d %v\n%s\n%s", r.code, err, r.out, r.err)
	}
	if rows[0]["ok"] != true || rows[0]["preference"] != float64(10) || rows[2]["stage"] != "connect" {
		t.Errorf("rows %v", rows)
	}
	if len(s.Messages()) != before {
		t.Error("--quit-after rcpt sent a message")
	}
	r = runScript(t, "mxtest.lua", "--dns", dnsAddr, "--port", port, "--transcript", "implicit.test")
	if r.code != 0 || !strings.HasPrefix(r.out, "implicit.test implicit.test 127.0.0.1 OK\n    === Trying 127.0.0.1:"+port) ||
		!strings.Contains(r.out, "     ~> Subject: Test via implicit.test for implicit.test") || !strings.Contains(r.out, "    <~  221 2.0.0 Bye") {
		t.Errorf("transcript: exit %d\n%s", r.code, r.out)
	}
}

func TestScriptsUsage(t *testing.T) {
	for _, c := range []struct {
		script string
		args   []string
		code   int
		want   string
	}{
		{"mxtest.lua", nil, 2, "missing argument DOMAIN"},
		{"mxtest.lua", []string{"--quit-after", "lunch", "x.test"}, 2, "--quit-after"},
		{"mxtest.lua", []string{"--bogus", "x.test"}, 2, "unknown option"},
		{"mxtest.lua", []string{"--help"}, 0, "usage: mxtest.lua"},
		{"mxtest.lua", []string{"--port", "0", "x.test"}, 2, "--port must be 1-65535"},
		{"mxtest.lua", []string{"--port", "smtp", "x.test"}, 2, "--port"},
		{"mxtest.lua", []string{"--timeout", "soon", "x.test"}, 2, "--timeout"},
		{"mxtest.lua", []string{"--timeout", "0s", "x.test"}, 2, "--timeout must be positive"},
		{"etrn.lua", []string{"--server", "127.0.0.1", "two words"}, 2, "bad domain"},
		{"etrn.lua", []string{"--port", "70000", "--server", "127.0.0.1", "x.test"}, 2, "--port must be 1-65535"},
		{"etrn.lua", []string{"x.test"}, 2, "give --server HOST or --config FILE"},
		{"etrn.lua", []string{"--server", "127.0.0.1"}, 2, "give at least one DOMAIN"},
		{"etrn.lua", []string{"--config", "/nonexistent/etrn.conf"}, 2, "--config"},
		{"etrn.lua", []string{"--help"}, 0, "usage: etrn.lua"},
	} {
		r := runScript(t, c.script, c.args...)
		if r.code != c.code || !strings.Contains(r.out+r.err, c.want) {
			t.Errorf("%s %q: exit %d, want %d and %q:\n%s%s", c.script, c.args, r.code, c.code, c.want, r.out, r.err)
		}
	}
	// --help goes to stdout and names every option of the issue.
	for script, opts := range map[string][]string{
		"mxtest.lua": {"--dns SERVER", "--from ADDR", "--to ADDR", "--port", "--timeout", "--quit-after STAGE", "--no-tls", "--transcript", "--json", "DOMAIN"},
		"etrn.lua":   {"--server HOST[:PORT]", "--config FILE", "DOMAIN"},
	} {
		r := runScript(t, script, "--help")
		for _, o := range opts {
			if !strings.Contains(r.out, o) {
				t.Errorf("%s --help lacks %q:\n%s", script, o, r.out)
			}
		}
		if r.err != "" {
			t.Errorf("%s --help wrote to stderr: %s", script, r.err)
		}
	}
}

// A STARTTLS that fails (the server answers 220 and then no TLS) is one
// FAIL starttls line saying why.
func TestMxtestTLSFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				c.Write([]byte("220 notls.test ESMTP\r\n"))
				r.ReadString('\n')
				c.Write([]byte("250-notls.test\r\n250 STARTTLS\r\n"))
				r.ReadString('\n')
				c.Write([]byte("220 2.0.0 go ahead\r\n"))
				r.Read(make([]byte, 5))
				c.Write([]byte("this is not TLS\r\n"))
			}()
		}
	}()
	dnsAddr := dnsFixture(t, "notls.test. 60 IN A 127.0.0.1\n")
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	r := runScript(t, "mxtest.lua", "--dns", dnsAddr, "--port", port, "--timeout", "2s", "notls.test")
	want := "notls.test notls.test 127.0.0.1 FAIL starttls TLS handshake failed: first record does not look like a TLS handshake\n"
	if r.code != 1 || r.out != want {
		t.Errorf("exit %d:\n%s\nwant:\n%s%s", r.code, r.out, want, r.err)
	}
}

func TestEtrnAgainstOwnServer(t *testing.T) {
	s := startServer(t, ServerOptions{Replies: map[string]*Rule{"etrn": {Match: []Match{
		{Key: "other.test", Action: Action{Kind: "reply", Code: 459, Enhanced: "4.3.0", Text: "<other.test>: service unavailable"}},
		{Key: "empty.test", Action: Action{Kind: "reply", Code: 251, Text: "OK no messages waiting"}},
	}}}})
	r := runScript(t, "etrn.lua", "--server", s.Addr(), "a.test", "empty.test")
	if r.code != 0 || r.out != s.Addr()+" a.test 250 Queuing for node a.test started\n"+s.Addr()+" empty.test 251 OK no messages waiting\n" {
		t.Errorf("exit %d:\n%s%s", r.code, r.out, r.err)
	}
	dead := freePort(t)
	conf := filepath.Join(t.TempDir(), "etrn.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`-- backup servers and the domains they keep mail for
return {
  [%q] = {"a.test", "other.test"},
  ["127.0.0.1:%d"] = {"a.test"},
}
`, s.Addr(), dead)), 0o644)
	r = runScript(t, "etrn.lua", "--config", conf)
	deadLines := fmt.Sprintf("127.0.0.1:%d a.test FAIL connect connection refused\n", dead)
	liveLines := fmt.Sprintf("%s a.test 250 Queuing for node a.test started\n%s other.test 459 4.3.0 <other.test>: service unavailable\n", s.Addr(), s.Addr())
	want := deadLines + liveLines // servers in name order
	if fmt.Sprintf("127.0.0.1:%d", dead) > s.Addr() {
		want = liveLines + deadLines
	}
	if r.code != 1 || r.out != want {
		t.Errorf("config: exit %d:\n%s\nwant:\n%s%s", r.code, r.out, want, r.err)
	}
	// Only some domains of the config.
	r = runScript(t, "etrn.lua", "--config", conf, "--server", s.Addr(), "a.test")
	if r.code != 0 || r.out != s.Addr()+" a.test 250 Queuing for node a.test started\n" {
		t.Errorf("filtered: exit %d:\n%s%s", r.code, r.out, r.err)
	}
	if got := strings.Join(s.ETRNs(), ","); got != "a.test,empty.test,a.test,other.test,a.test" {
		t.Errorf("etrns %s", got)
	}
}

// ---- Postfix ----

// postfix starts a private Postfix instance on 127.0.0.1:port that relays
// relayDomain to 127.0.0.1:sinkPort and refuses relaying anything else;
// it is stopped with the test.
func startPostfix(t *testing.T, port, sinkPort int, relayDomain string) {
	t.Helper()
	hosttest.Need(t, "postfix")
	if os.Geteuid() != 0 {
		if hosttest.Required() {
			t.Fatal("the Postfix test must run as root (postfix master)")
		}
		t.Skip("the Postfix test must run as root (postfix master)")
	}
	dir, err := os.MkdirTemp("", "gos3lua-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	// The queue as postfix-script would make it ("postfix start" runs a
	// permission check over the whole installation that takes 15-20 s
	// here; the master alone starts in a fraction of a second).
	pf, err1 := user.Lookup("postfix")
	pd, err2 := user.LookupGroup("postdrop")
	if err1 != nil || err2 != nil {
		t.Fatalf("postfix user or postdrop group missing: %v %v", err1, err2)
	}
	uid, _ := strconv.Atoi(pf.Uid)
	gid, _ := strconv.Atoi(pd.Gid)
	mkdir := func(name string, mode os.FileMode, owner, group int) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		os.Chown(p, owner, group)
	}
	mkdir("data", 0o700, uid, 0)
	mkdir("queue", 0o755, 0, 0)
	mkdir("queue/pid", 0o755, 0, 0)
	for _, q := range []string{"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace"} {
		mkdir("queue/"+q, 0o700, uid, 0)
	}
	mkdir("queue/maildrop", 0o730, uid, gid)
	mkdir("queue/public", 0o710, uid, gid)
	main := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/maillog
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.test
mydomain = test
myorigin = mta.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 192.0.2.0/24
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
relay_domains = %[2]s
transport_maps = inline:{ %[2]s=smtp:[127.0.0.1]:%[3]d }
smtpd_banner = $myhostname ESMTP Postfix (gos3lua test)
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
`, dir, relayDomain, sinkPort)
	masterCf := fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`, port)
	os.WriteFile(filepath.Join(dir, "main.cf"), []byte(main), 0o644)
	os.WriteFile(filepath.Join(dir, "master.cf"), []byte(masterCf), 0o644)
	master := "/usr/lib/postfix/sbin/master"
	if d, err := exec.Command("postconf", "-h", "daemon_directory").Output(); err == nil {
		master = filepath.Join(strings.TrimSpace(string(d)), "master")
	}
	logf := func() string { b, _ := os.ReadFile(filepath.Join(dir, "maillog")); return string(b) }
	// -w: return once the master daemon is up (or failed).
	out, err := exec.Command(master, "-c", dir, "-w").CombinedOutput()
	if err != nil {
		t.Fatalf("postfix master: %v\n%s\n%s", err, out, logf())
	}
	t.Cleanup(func() {
		b, _ := os.ReadFile(filepath.Join(dir, "queue", "pid", "master.pid"))
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			syscall.Kill(pid, syscall.SIGTERM)
			for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if t.Failed() {
			t.Logf("postfix maillog:\n%s", logf())
		}
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("postfix did not listen on %d\n%s", port, logf())
}

func TestScriptsAgainstPostfix(t *testing.T) {
	hosttest.Need(t, "postfix")
	sink := startServer(t, ServerOptions{})
	sinkPort := sink.ln.Addr().(*net.TCPAddr).Port
	port := freePort(t)
	t00 := time.Now()
	startPostfix(t, port, sinkPort, "accepted.test")
	t.Logf("postfix up after %v", time.Since(t00))
	dnsAddr := dnsFixture(t, `
accepted.test.      60 IN MX 10 mx.accepted.test.
mx.accepted.test.   60 IN A 127.0.0.1
other.test.         60 IN MX 10 mx.other.test.
mx.other.test.      60 IN A 127.0.0.1
`)
	p := strconv.Itoa(port)
	r := runScript(t, "mxtest.lua", "--dns", dnsAddr, "--port", p, "--timeout", "10s", "accepted.test", "other.test")
	want := "accepted.test mx.accepted.test 127.0.0.1 OK\n" +
		"other.test mx.other.test 127.0.0.1 FAIL rcpt 554 5.7.1 <postmaster@other.test>: Relay access denied\n"
	if r.code != 1 || r.out != want {
		t.Errorf("mxtest: exit %d:\n%s\nwant:\n%s%s", r.code, r.out, want, r.err)
	}
	// Postfix relays the accepted test message on to the sink.
	msgs := sink.Wait(1, 30*time.Second, nil)
	if len(msgs) != 1 || msgs[0].To[0] != "postmaster@accepted.test" || !strings.Contains(string(msgs[0].Data), "Subject: Test via mx.accepted.test for accepted.test") {
		t.Errorf("sink got %d messages: %+v", len(msgs), msgs)
	}
	// ETRN: a domain Postfix relays (fast_flush_domains defaults to
	// relay_domains) and one it does not serve.
	r = runScript(t, "etrn.lua", "--server", "127.0.0.1:"+p, "accepted.test", "other.test")
	want = "127.0.0.1:" + p + " accepted.test 250 Queuing started\n" +
		"127.0.0.1:" + p + " other.test 459 <other.test>: service unavailable\n"
	if r.code != 1 || r.out != want {
		t.Errorf("etrn: exit %d:\n%s\nwant:\n%s%s", r.code, r.out, want, r.err)
	}
	r = runScript(t, "etrn.lua", "--server", "127.0.0.1:"+p, "accepted.test")
	if r.code != 0 {
		t.Errorf("etrn accepted.test: exit %d\n%s%s", r.code, r.out, r.err)
	}
	// And swaks agrees with mxtest about the refused relay.
	t.Run("swaks agrees", func(t *testing.T) {
		hosttest.Need(t, "swaks")
		out, _ := exec.Command("swaks", "--server", "127.0.0.1", "--port", p, "--from", "a@b.test", "--to", "postmaster@other.test", "--quit-after", "RCPT").CombinedOutput()
		if !strings.Contains(string(out), "554 5.7.1 <postmaster@other.test>: Relay access denied") {
			t.Errorf("swaks:\n%s", out)
		}
	})
}
