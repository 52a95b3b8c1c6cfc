package stdlib

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestProgressSilent(t *testing.T) {
	var buf bytes.Buffer
	barOut = &buf
	defer func() { barOut = os.Stderr }()
	t.Setenv("GOS3LUA_PROGRESS", "0")
	run(t, `
local progress = require("progress")
eq(progress.enabled(), false)
local p = progress.new{total = 100, label = "x"}
p:add(10) p:set(50) p:total(200) p:add(1)
eq(p:value(), 51)
p:done()
`)
	if buf.Len() != 0 {
		t.Errorf("drew on a non-terminal: %q", buf.String())
	}
}

func TestProgressDraw(t *testing.T) {
	var buf bytes.Buffer
	barOut = &buf
	defer func() { barOut = os.Stderr }()
	t.Setenv("GOS3LUA_PROGRESS", "1")
	logBuf := captureLog(t)
	old, oldWidth := barInterval, barWidth
	barInterval, barWidth = 0, func() int { return 120 }
	defer func() { barInterval, barWidth = old, oldWidth }()
	run(t, `
local progress, log = require("progress"), require("log")
eq(progress.enabled(), true)
local p = progress.new{total = 10 * 1048576, label = "upload"}
p:add(5 * 1048576)
log.info("a line")
p:add(5 * 1048576)
p:done()
local q = progress.new{unit = "items"}
q:add(3)
q:done()
`)
	out := buf.String()
	for _, want := range []string{
		"\r\033[Kupload [###############...............]   50%     5.0 MiB /   10.0 MiB  ",
		"/s  ETA ",
		"\r\033[Kupload [##############################]  100%    10.0 MiB /   10.0 MiB  ",
		"  in 0:00\n",
		"\r\033[K3  ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output lacks %q:\n%q", want, out)
		}
	}
	// the log line was written with the bar cleared, then the bar redrawn
	if !strings.Contains(logBuf.String(), "INFO  a line") {
		t.Errorf("log: %q", logBuf.String())
	}
	if strings.Count(out, "\r\033[K") < 5 {
		t.Errorf("expected the bar erased around the log line: %q", out)
	}
	wantErr(t, map[string]string{
		`require("progress").new{total = "lots"}`:           "bad argument #1 to 'new' (total: number expected, got string)",
		`require("progress").new{unit = "km"}`:              `bad argument #1 to 'new' (unit: "km" is neither "bytes" nor "items")`,
		`require("progress").new(5)`:                        "bad argument #1 to 'new' (table expected, got number)",
		`require("progress").new{}:add("x")`:                "bad argument #1 to 'add' (number expected, got string)",
		`local b = require("progress").new{} b.add(b, "x")`: "bad argument #2 to 'add' (number expected, got string)",
		`require("progress").new{}.add(1)`:                  "bad argument #1 to 'add' (progress expected, got number)",
	})
}

func TestHumanBytes(t *testing.T) {
	for v, want := range map[float64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 10 << 20: "10.0 MiB", 3 << 40: "3.0 TiB"} {
		if got := HumanBytes(v); got != want {
			t.Errorf("HumanBytes(%v) = %q, want %q", v, got, want)
		}
	}
}
