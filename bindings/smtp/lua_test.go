package smtp

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host/hosttest"
	"github.com/gos3lua/gos3lua/stdlib"
)

// helpers for Lua-side assertions
const luaPrelude = `
local smtp = require("smtp")
local task = require("task")
local function eq(a, b, what)
  if a ~= b then error((what or "value") .. ": got " .. tostring(a) .. ", want " .. tostring(b), 2) end
end
local function has(s, sub, what)
  if not tostring(s):find(sub, 1, true) then error((what or "string") .. ": " .. tostring(s) .. " lacks " .. sub, 2) end
end
`

func runLua(t *testing.T, code string) {
	t.Helper()
	if err := hosttest.Run(t, luaPrelude+code, stdlib.Register, Register); err != nil {
		t.Fatal(err)
	}
}

func TestLuaConversation(t *testing.T) {
	runLua(t, `
local s = smtp.server{tls = true, users = {alice = "pw-123"},
  replies = {rcpt = {["@relay.example"] = {554, "5.7.1", "Relay access denied"}},
             etrn = {["nope.example"] = {459, "4.3.0", "<nope.example>: service unavailable"}}}}
has(s.addr, "127.0.0.1:")
eq(type(s.port), "number")
local lines = {}
-- The transcript function runs in the calling task: it may suspend.
local c = smtp.connect(s.host, {port = s.port, verify = false, helo = "me.test",
  transcript = function(dir, line) task.sleep(0); lines[#lines + 1] = dir .. line end})
eq(c.tls.version, "TLS 1.3", "tls.version")
has(c.tls.subject, "CN=localhost")
eq(c.tls.verified, false)
eq(c.extensions.AUTH, "PLAIN LOGIN")
eq(c.extensions.STARTTLS, nil)
has(c.banner, "220 localhost")
eq(c:auth("alice", "pw-123"), true)
local code, text, enh = c:mail("a@example.org")
eq(code, 250); eq(enh, "2.0.0")
local ok, err = pcall(c.rcpt, c, "x@relay.example")
eq(ok, false)
eq(err.kind, "smtp"); eq(err.code, 554); eq(err.enhanced, "5.7.1"); eq(err.stage, "rcpt")
eq(err.text, "Relay access denied")
eq(tostring(err), "smtp: rcpt <x@relay.example> at " .. s.addr .. ": 554 5.7.1 Relay access denied")
c:rcpt("y@ok.example")
code, text = c:data("Subject: hello\n\nbody\n")
eq(code, 250); has(text, "queued")
eq(c:quit(), 221)
local t = table.concat(lines, "\n")
has(t, " -> EHLO me.test"); has(t, " ~> AUTH PLAIN [hidden]"); has(t, "<~  554 5.7.1 Relay access denied")
has(t, "*** rcpt rejected"); has(t, "=== Connection closed")
assert(not t:find("pw-123", 1, true), "password in transcript")
local m = s:messages()
eq(#m, 1); eq(m[1].from, "a@example.org"); eq(m[1].to[1], "y@ok.example"); eq(m[1].subject, "hello")
eq(m[1].tls, true); eq(m[1].user, "alice"); eq(m[1].helo, "me.test")

-- ETRN through cmd: never raises on a reply code.
local p = smtp.connect(s.addr, {tls = "none"})
eq(p.tls, nil)
code, text, enh = p:cmd("ETRN", "example.com")
eq(code, 250); eq(text, "Queuing for node example.com started")
code, text, enh = p:cmd("ETRN", "nope.example")
eq(code, 459); eq(enh, "4.3.0"); eq(text, "<nope.example>: service unavailable")
p:close()
eq(s:etrns()[2], "nope.example")
s:close()
`)
}

func TestLuaFailures(t *testing.T) {
	runLua(t, `
local s = smtp.server{replies = {mail = "hang", data = "drop"}}
-- connection refused
local dead = smtp.server{}
local addr = dead.addr
dead:close()
local ok, err = pcall(smtp.connect, addr, {timeout = 1})
eq(ok, false); eq(err.kind, "network"); eq(err.stage, "connect"); eq(err.text, "connection refused")
-- never answers at MAIL: timeout, not a hang
local c = smtp.connect(s.addr, {timeout = 0.3})
ok, err = pcall(c.mail, c, "a@b.example")
eq(err.kind, "timeout"); eq(err.stage, "mail"); eq(err.text, "timeout after 300ms")
c:close()
-- bad arguments name the function
ok, err = pcall(smtp.connect)
has(err, "bad argument #1 to 'connect'")
ok, err = pcall(smtp.connect, "x", {tls = "maybe"})
has(err, "option tls")
ok, err = pcall(smtp.server, {replies = {rcpt = "sometimes"}})
has(err, "replies.rcpt")
ok, err = pcall(smtp.server, {replies = {bogus = {250, "x"}}})
has(err, "unknown stage")
ok, err = pcall(smtp.server, {addr = "0.0.0.0:0"})
has(err, "only loopback")
`)
}

func TestLuaDropMidData(t *testing.T) {
	runLua(t, `
local s = smtp.server{replies = {data = {["@drop.example"] = "drop"}}}
local c = smtp.connect(s.addr)
c:mail("a@b.example"); c:rcpt("x@drop.example")
local ok, err = pcall(c.data, c, "Subject: x\n\n" .. string.rep("line of text\n", 50000))
eq(ok, false); eq(err.kind, "network"); eq(err.stage, "data")
has(err.message, "smtp: data (")
c:close()
-- the same server still accepts other mail
local r = smtp.send{server = s.addr, from = "a@b.example", to = {"y@keep.example", "z@keep.example"},
                    subject = "kept", body = "héllo\n", headers = {["X-Test"] = "1"}}
eq(r.code, 250)
local m = s:wait(1, 5)
eq(#m, 1); eq(m[1].subject, "kept"); eq(#m[1].to, 2)
has(m[1].data, "X-Test: 1"); has(m[1].data, "Content-Transfer-Encoding: 8bit"); has(m[1].data, "héllo")
`)
}

// Connections run concurrently: 40 conversations against a server that
// delays each reply by 50 ms take about one conversation's time.
func TestLuaConcurrent(t *testing.T) {
	start := time.Now()
	runLua(t, `
local s = smtp.server{delay = 0.05}
local pool = task.pool(40)
local n = 0
for i = 1, 40 do
  pool:spawn(function()
    local r = smtp.send{server = s.addr, from = "a@b.example", to = "n" .. i .. "@c.example", body = "x"}
    eq(r.code, 250)
    n = n + 1
  end)
end
pool:wait()
eq(n, 40)
eq(#s:messages(), 40)
eq(s:connections(), 40)
`)
	// 7 replies × 50 ms = 350 ms for one; 40 in sequence would be 14 s.
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("40 concurrent conversations took %v", d)
	}
}

func TestCompose(t *testing.T) {
	m := string(Compose("a@b", []string{"c@d", "e@f"}, "Hi", "line\n", map[string]string{"Subject": "Override", "X-A": "1"}))
	for _, want := range []string{"From: a@b\r\n", "To: c@d, e@f\r\n", "Subject: Override\r\n", "X-A: 1\r\n", "\r\n\r\nline\n"} {
		if !strings.Contains(m, want) {
			t.Errorf("message lacks %q:\n%s", want, m)
		}
	}
	if strings.Contains(m, "Subject: Hi") {
		t.Errorf("headers must override subject:\n%s", m)
	}
}

// transcript=true prints the conversation to stderr as it passes; smtp.send
// with a user authenticates; the password shows in neither, plain or base64.
func TestLuaTranscriptToStderrHidesPassword(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	got := make(chan string)
	go func() { b, _ := io.ReadAll(r); got <- string(b) }()
	func() {
		defer func() { os.Stderr = saved; w.Close() }()
		runLua(t, `
local s = smtp.server{tls = true, users = {carol = "Tr0ub4dor&3"}}
local r = smtp.send{server = s.addr, from = "carol@example.org", to = "dave@example.net", subject = "hi",
                    body = "hello\n", user = "carol", password = "Tr0ub4dor&3", verify = false, transcript = true}
eq(r.code, 250)
eq(s:messages()[1].user, "carol")
-- a wrong password: the error names the user, not the password
local ok, err = pcall(smtp.send, {server = s.addr, from = "carol@example.org", to = "dave@example.net",
                      body = "x", user = "carol", password = "wrong-Tr0ub4dor", verify = false, transcript = true})
eq(ok, false); eq(err.kind, "smtp"); eq(err.code, 535); eq(err.stage, "auth")
assert(not tostring(err):find("Tr0ub4dor", 1, true), tostring(err))
s:close()
`)
	}()
	out := <-got
	for _, want := range []string{" ~> AUTH PLAIN [hidden]", "<~  235 ", " ~> Subject: hi", "<~  535 ", "*** auth rejected"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	// PLAIN's base64 of "\x00carol\x00Tr0ub4dor&3", and of the password alone
	for _, secret := range []string{"Tr0ub4dor", "AGNhcm9sAFRyMHViNGRvciYz", "VHIwdWI0ZG9y"} {
		if strings.Contains(out, secret) {
			t.Errorf("stderr shows %q:\n%s", secret, out)
		}
	}
}
