package smtp

import (
	"strings"
	"testing"
)

func TestComposeCannotForgeHeaders(t *testing.T) {
	m := string(Compose("a@b", []string{"c@d"}, "hi\r\nBcc: evil@x", "body\n",
		map[string]string{"X-Ok": "1\nBcc: evil@y", "Bad Name": "v", "Bad:Name": "v"}))
	head := m[:strings.Index(m, "\r\n\r\n")]
	for _, line := range strings.Split(head, "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") || strings.HasPrefix(line, "Bad") {
			t.Errorf("forged header line %q in:\n%s", line, head)
		}
	}
	if !strings.Contains(head, "Subject: hi\r\n Bcc: evil@x") {
		t.Errorf("subject not folded:\n%s", head)
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:25": true, "[::1]:587": true, "localhost:25": true, "192.0.2.1:25": false, "mx.example:25": false} {
		if got := loopbackAddr(addr); got != want {
			t.Errorf("loopbackAddr(%q) = %v", addr, got)
		}
	}
}

// close() from one task must not wait for another task's command to time out.
func TestCloseDoesNotWaitForAHangingCommand(t *testing.T) {
	runLua(t, `
local time = require("time")
local s = smtp.server{replies = {rcpt = "hang"}}
local c = smtp.connect(s.host, {port = s.port, tls = "none", timeout = 20})
c:mail("a@example.org")
local t0 = time.now()
local h = task.spawn(function() return pcall(c.rcpt, c, "x@example.org") end)
task.sleep(0.2)
c:close()
local ok = h:wait()
eq(ok, false)
if time.now() - t0 > 5 then error("close waited for the hanging rcpt") end
s:close()
`)
}
