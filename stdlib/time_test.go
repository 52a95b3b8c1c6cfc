package stdlib

import (
	"testing"
	"time"
)

func TestTime(t *testing.T) {
	t.Setenv("TZ", "UTC")
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC
	run(t, `
local time = require("time")
local t0 = time.now()
assert(math.abs(t0 - os.time()) < 2, t0)
time.sleep(0.05)
local dt = time.now() - t0
assert(dt >= 0.05 and dt < 1, dt)
local t = 1700000000.25  -- 2023-11-14 22:13:20.25 UTC, a Tuesday
eq(time.format(t, "%Y%m%d-%H%M%S"), "20231114-221320")
eq(time.format(t, "%F %T.%L %j %a %A %b %B %y %e %I%p %z %Z %s %u %w %% %q"),
   "2023-11-14 22:13:20.250 318 Tue Tuesday Nov November 23 14 10PM +0000 UTC 1700000000 2 2 % %q")
eq(time.format(t, "!%H"), "22")
assert(time.format("%Y"):match("^20%d%d$"))
eq(#time.format(), 19)
eq(time.parse("2023-11-14T22:13:20.25Z"), t)
eq(time.parse("2023-11-14T23:13:20+01:00"), 1700000000)
eq(time.parse("14/Nov/2023 22:13", "%d/%b/%Y %H:%M"), 1700000000 - 20)
eq(time.parse("20231114", "!%Y%m%d"), 1699920000)
-- time.sleep suspends only its task
local task = require("task")
local order = {}
local a = task.spawn(function() time.sleep(0.05) order[#order + 1] = "slow" end)
local b = task.spawn(function() order[#order + 1] = "fast" end)
a:wait() b:wait()
eq(table.concat(order, ","), "fast,slow")
`)
	wantErr(t, map[string]string{
		`require("time").parse("yesterday")`:     `time.parse: cannot read "yesterday" as RFC 3339`,
		`require("time").parse("x", "%Y-%Q")`:    "bad argument #2 to 'parse' (%Q cannot be parsed)",
		`require("time").parse("2020", "%Y-%m")`: `cannot read "2020" as %Y-%m`,
		`require("time").sleep("x")`:             "bad argument #1 to 'sleep' (number expected, got string)",
		`require("time").sleep(-1)`:              "bad argument #1 to 'sleep' (negative duration)",
		`require("time").format({})`:             "bad argument #1 to 'format' (number or string expected, got table)",
		`require("time").format(1, {})`:          "bad argument #2 to 'format' (string expected, got table)",
	})
}
