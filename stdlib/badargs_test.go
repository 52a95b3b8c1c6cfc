package stdlib

import "testing"

// Wrong argument types to task, time, inspect and progress raise
// `bad argument #N to 'fn'`; methods count their arguments after self
// when called with ':' (as Lua 5.1 does), from self when called with '.'.
func TestBadArguments(t *testing.T) {
	const mods = `local task, time, inspect, progress = require("task"), require("time"), require("inspect"), require("progress") `
	cases := map[string]string{
		// task
		`task.spawn(5)`:                          "bad argument #1 to 'spawn' (function expected, got number)",
		`task.spawn()`:                           "bad argument #1 to 'spawn' (function expected, got nil)",
		`task.pool("x")`:                         "bad argument #1 to 'pool' (number expected, got string)",
		`task.pool(0)`:                           "bad argument #1 to 'pool' (pool size must be at least 1)",
		`task.sleep({})`:                         "bad argument #1 to 'sleep' (number expected, got table)",
		`task.channel("x")`:                      "bad argument #1 to 'channel' (number expected, got string)",
		`task.channel(-1)`:                       "bad argument #1 to 'channel' (capacity must not be negative)",
		`task.pool(1):spawn("x")`:                "bad argument #1 to 'spawn' (function expected, got string)",
		`local p = task.pool(1) p.spawn(p, "x")`: "bad argument #2 to 'spawn' (function expected, got string)",
		`task.pool(1).spawn(5)`:                  "bad argument #1 to 'spawn' (pool expected, got number)",
		`task.pool(1).wait({})`:                  "bad argument #1 to 'wait' (pool expected, got table)",
		`local c = {send = task.channel().send} c:send(1)`: "calling 'send' on bad self (channel expected, got table)",
		`task.channel().recv(1)`:                           "bad argument #1 to 'recv' (channel expected, got number)",
		`task.channel().close("x")`:                        "bad argument #1 to 'close' (channel expected, got string)",
		`task.spawn(print).wait(1)`:                        "bad argument #1 to 'wait' (task expected, got number)",
		`task.spawn(print).done({})`:                       "bad argument #1 to 'done' (task expected, got table)",
		// time
		`time.sleep("x")`:       "bad argument #1 to 'sleep' (number expected, got string)",
		`time.sleep()`:          "bad argument #1 to 'sleep' (number expected, got nil)",
		`time.format({})`:       "bad argument #1 to 'format' (number or string expected, got table)",
		`time.format(1, 2)`:     "bad argument #2 to 'format' (string expected, got number)",
		`time.parse()`:          "bad argument #1 to 'parse' (string expected, got nil)",
		`time.parse({})`:        "bad argument #1 to 'parse' (string expected, got table)",
		`time.parse("2020", 5)`: "bad argument #2 to 'parse' (string expected, got number)",
		// inspect
		`inspect(1, 5)`:              "bad argument #2 to 'inspect' (table expected, got number)",
		`inspect.inspect(1, "x")`:    "bad argument #2 to 'inspect' (table expected, got string)",
		`inspect({}, {depth = "x"})`: "bad argument #2 to 'inspect' (depth: number expected, got string)",
		`inspect({}, {width = {}})`:  "bad argument #2 to 'inspect' (width: number expected, got table)",
		// progress
		`progress.new(5)`:           "bad argument #1 to 'new' (table expected, got number)",
		`progress.new{label = 5}`:   "bad argument #1 to 'new' (label: string expected, got number)",
		`progress.new{unit = 5}`:    "bad argument #1 to 'new' (unit: string expected, got number)",
		`progress.new{}:set("x")`:   "bad argument #1 to 'set' (number expected, got string)",
		`progress.new{}:total({})`:  "bad argument #1 to 'total' (number expected, got table)",
		`progress.new{}.done(5)`:    "bad argument #1 to 'done' (progress expected, got number)",
		`progress.new{}.value("x")`: "bad argument #1 to 'value' (progress expected, got string)",
	}
	withMods := map[string]string{}
	for code, want := range cases {
		withMods[mods+code] = want
	}
	wantErr(t, withMods)
}
