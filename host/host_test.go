package host_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host"
	"github.com/gos3lua/gos3lua/stdlib"
	lua "github.com/yuin/gopher-lua"
)

func init() {
	stdlib.Register()
	// probe: a module whose functions exercise the host API directly.
	host.Register("probe", func(L *lua.LState) int {
		L.Push(host.Module(L, map[string]lua.LGFunction{
			// echo(v) → v, after a trip through a goroutine
			"echo": func(L *lua.LState) int {
				v := L.Get(1)
				return host.Go(L, func(ctx context.Context) (host.Push, error) {
					return func(L *lua.LState) int { L.Push(v); return 1 }, nil
				})
			},
			// fail(kind, msg) raises {kind=, message=} after a trip
			"fail": func(L *lua.LState) int {
				kind, msg := L.CheckString(1), L.CheckString(2)
				return host.Go(L, func(ctx context.Context) (host.Push, error) {
					return nil, (&host.Error{Kind: kind, Message: msg}).With("status", 503)
				})
			},
			// block() waits until the run is cancelled
			"block": func(L *lua.LState) int {
				return host.Go(L, func(ctx context.Context) (host.Push, error) {
					<-ctx.Done()
					return nil, ctx.Err()
				})
			},
			// stuck() ignores the run's context (like a read of a
			// terminal) until unstick is closed
			"stuck": func(L *lua.LState) int {
				return host.Go(L, func(ctx context.Context) (host.Push, error) {
					<-unstick
					return nil, nil
				})
			},
			// stream(n) → a stream of n bytes
			"stream": func(L *lua.LState) int {
				n := L.CheckInt(1)
				L.Push(host.NewStream(L, "probe", strings.NewReader(strings.Repeat("x", n)), nil, nil))
				return 1
			},
			// stuckreader() → a stream whose reads ignore the context
			"stuckreader": func(L *lua.LState) int {
				L.Push(host.NewStream(L, "stuck", stuckReader{}, nil, nil))
				return 1
			},
			"count": func(L *lua.LState) int {
				L.CheckTable(1)
				L.Push(lua.LNumber(42))
				return 1
			},
			// end(t): a Lua keyword as a function's name
			"end": func(L *lua.LState) int {
				L.CheckTable(1)
				return 0
			},
		}))
		return 1
	})
}

var unstick = make(chan struct{})

func run(t *testing.T, code string) error {
	t.Helper()
	h := host.New(host.Options{})
	defer h.Close()
	_, err := h.RunString(code, "t.lua")
	return err
}

func TestScheduler(t *testing.T) {
	cases := []struct {
		name, code, wantErr string
	}{
		{"thousand tasks", `
			local task, probe = require("task"), require("probe")
			local hs, sum = {}, 0
			for i = 1, 1000 do hs[i] = task.spawn(function() task.sleep(0.01) return probe.echo(i) end) end
			for i = 1, 1000 do sum = sum + hs[i]:wait() end
			assert(sum == 500500, sum)`, ""},
		{"pcall catches an error raised after a yield", `
			local probe = require("probe")
			local ok, e = pcall(function() probe.echo(1) error("late") end)
			assert(not ok and e:match("t.lua:3: late"), e)`, ""},
		{"pcall resumes correctly and returns all values", `
			local probe = require("probe")
			local ok, a, b = pcall(function() return probe.echo(1), probe.echo(2) end)
			assert(ok and a == 1 and b == 2)`, ""},
		{"nested pcall across yields", `
			local probe = require("probe")
			local ok, r = pcall(function()
				local ok2, e2 = pcall(function() probe.echo(1); probe.fail("x", "inner") end)
				assert(not ok2 and e2.kind == "x" and e2.status == 503)
				local ok3, v = pcall(probe.echo, "v")
				return v .. tostring(ok3)
			end)
			assert(ok and r == "vtrue", tostring(r))`, ""},
		{"xpcall handler sees the stack", `
			local probe = require("probe")
			local ok, tb = xpcall(function() probe.echo(1) error("boom") end, debug.traceback)
			assert(not ok and tb:match("boom") and tb:match("traceback"), tb)`, ""},
		{"error tables from Go", `
			local ok, e = pcall(require("probe").fail, "NoSuchKey", "s3: get k: NoSuchKey: gone")
			assert(type(e) == "table" and e.kind == "NoSuchKey" and tostring(e) == "s3: get k: NoSuchKey: gone")`, ""},
		{"user coroutines keep host yields", `
			local probe = require("probe")
			local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(probe.echo(i) * 10) end end)
			assert(gen() == 10 and gen() == 20 and gen() == 30)
			local co = coroutine.create(function(a) local b = coroutine.yield(probe.echo(a) + 1) return b * 2 end)
			local ok1, v1 = coroutine.resume(co, 1)
			local ok2, v2 = coroutine.resume(co, 5)
			assert(ok1 and v1 == 2 and ok2 and v2 == 10 and coroutine.status(co) == "dead")`, ""},
		{"error in a task surfaces at wait", `
			local task = require("task")
			local t = task.spawn(function() task.sleep(0.001) error({kind = "mine", message = "task broke"}) end)
			local ok, e = pcall(t.wait, t)
			assert(not ok and e.kind == "mine")`, ""},
		{"pool waits and re-raises the first error after all finish", `
			local task = require("task")
			local p, done = task.pool(3), 0
			for i = 1, 10 do p:spawn(function() task.sleep(0.001 * i) if i == 2 then error("two") end done = done + 1 end) end
			local ok, e = pcall(p.wait, p)
			assert(not ok and e:match("two") and done == 9, tostring(e) .. done)`, ""},
		{"pool bounds concurrency", `
			local task = require("task")
			local p, now, peak = task.pool(4), 0, 0
			for i = 1, 40 do p:spawn(function() now = now + 1 peak = math.max(peak, now) task.sleep(0.001) now = now - 1 end) end
			p:wait()
			assert(peak == 4, peak)`, ""},
		{"channel close semantics", `
			local task = require("task")
			local ch = task.channel()
			local got = {}
			local r = task.spawn(function() while true do local v, ok = ch:recv() if not ok then return end got[#got+1] = v end end)
			for i = 1, 3 do ch:send(i) end
			ch:close()
			r:wait()
			assert(#got == 3)
			local v, ok = ch:recv()
			assert(v == nil and ok == false)
			local sok, e = pcall(ch.send, ch, 1)
			assert(not sok and e.kind == "closed")`, ""},
		{"registry grows", `
			local s = {} for i = 1, 200000 do s[i] = "x" end
			assert(#table.concat(s) == 200000)
			assert(select("#", unpack(s)) == 200000)`, ""},
		{"bad argument names the function", `
			local ok, e = pcall(require("probe").count, 5)
			assert(e:match("bad argument #1 to 'count' %(table expected, got number%)"), e)`, ""},
		{"host calls where a task cannot be suspended run in place", `
			local task, echo = require("task"), require("probe").echo
			local a = {3, 1, 2}
			table.sort(a, function(x, y) task.sleep(0) return echo(x) < echo(y) end)
			assert(a[1] == 1 and a[3] == 3)
			assert(("ab"):gsub(".", function(c) return echo(c):upper() end) == "AB")
			local m = setmetatable({}, {__index = function(_, k) return echo(k) .. "!" end})
			assert(m.x == "x!")
			local n = 0
			for v in function(_, last) last = (last or 0) + 1 if last <= 3 then local ok, r = pcall(echo, last) return r end end do n = n + v end
			assert(n == 6, n)
			local ch = task.channel()
			local ok, e = pcall(function() for x in function() return ch:recv() end do end end)
			assert(not ok and e:match("cannot wait here"), e)`, ""},
		{"tasks reading one stream get whole reads", `
			local task, s = require("task"), require("probe").stream(1000000)
			local p, total = task.pool(4), 0
			for i = 1, 4 do p:spawn(function() while true do local d = s:read(997) if not d then return end total = total + #d end end) end
			p:wait()
			assert(total == 1000000, total)`, ""},
		{"uncaught error", `local x = nil
			return x.field`, "t.lua:2:"},
		{"deadlock is detected", `local ch = require("task").channel() ch:recv()`, "deadlock"},
		{"os.exit ends the run even inside pcall", `pcall(os.exit, 3) error("not reached")`, "exit status 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := run(t, c.code)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}

func TestUncaughtErrorHasTraceback(t *testing.T) {
	err := run(t, "local function inner() error('deep') end\nlocal function outer() inner() end\nouter()")
	var le *host.LuaError
	if !errors.As(err, &le) {
		t.Fatalf("got %T %v", err, err)
	}
	if le.Error() != "t.lua:1: deep" {
		t.Errorf("message %q", le.Error())
	}
	for _, want := range []string{"t.lua:1: in function 'inner'", "t.lua:2: in function 'outer'", "t.lua:3: in main chunk"} {
		if !strings.Contains(le.Traceback, want) {
			t.Errorf("traceback lacks %q:\n%s", want, le.Traceback)
		}
	}
}

// An error value with __tostring reads as its __tostring, as Lua prints it,
// not "table: 0x...".
func TestUncaughtErrorUsesTostring(t *testing.T) {
	err := run(t, `error(setmetatable({}, {__tostring = function() return "custom text" end}))`)
	var le *host.LuaError
	if !errors.As(err, &le) {
		t.Fatalf("got %T %v", err, err)
	}
	if le.Error() != "t.lua:1: custom text" {
		t.Errorf("message %q", le.Error())
	}
	// A __tostring that itself fails falls back to the plain rendering.
	err = run(t, `error(setmetatable({}, {__tostring = function() error("no") end}))`)
	if !errors.As(err, &le) || !strings.Contains(le.Error(), "table: ") {
		t.Errorf("failing __tostring: %v", err)
	}
}

// A task that fails with nobody waiting makes the run fail (exit status 1),
// after the main chunk finished normally; one whose error was observed does not.
func TestUnobservedTaskFailureFailsRun(t *testing.T) {
	err := run(t, `local task = require("task"); task.spawn(function() error("lost") end)`)
	if err == nil || !strings.Contains(err.Error(), "1 task(s) failed and nobody waited") {
		t.Errorf("unwaited failure: %v", err)
	}
	err = run(t, `local task = require("task")
		local h = task.spawn(function() error("seen") end)
		assert(not pcall(h.wait, h))`)
	if err != nil {
		t.Errorf("observed failure: %v", err)
	}
}

// A pool task's failure counts as seen only once pool:wait raises it: a
// pool nobody waits for fails the run like a lone task.
func TestUnobservedPoolFailureFailsRun(t *testing.T) {
	err := run(t, `local task = require("task")
		local p = task.pool(2)
		p:spawn(function() error("lost") end)
		task.sleep(0.01)`)
	if err == nil || !strings.Contains(err.Error(), "1 task(s) failed and nobody waited") {
		t.Errorf("unwaited pool failure: %v", err)
	}
	err = run(t, `local task = require("task")
		local p = task.pool(2)
		for i = 1, 3 do p:spawn(function() task.sleep(0.001 * i) error("seen " .. i) end) end
		assert(not pcall(p.wait, p))
		p:spawn(function() error("seen again") end)
		task.sleep(0.01)
		assert(not pcall(p.wait, p))`)
	if err != nil {
		t.Errorf("waited pool failures: %v", err)
	}
}

func TestCancelMidCall(t *testing.T) {
	h := host.New(host.Options{})
	defer h.Close()
	go func() {
		time.Sleep(50 * time.Millisecond)
		h.Cancel(errors.New("interrupt"))
	}()
	start := time.Now()
	_, err := h.RunString(`
		local task, probe = require("task"), require("probe")
		local ch = task.channel()
		task.spawn(function() ch:recv() end)       -- parked: must be woken too
		task.spawn(function() task.sleep(60) end)  -- in a Go call: must return
		probe.block()`, "t.lua")
	var le *host.LuaError
	if !errors.As(err, &le) || le.Kind() != "cancelled" {
		t.Fatalf("got %v, want a cancelled error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancellation took %v", d)
	}
}

// Work that ignores the cancelled context must not keep the run alive:
// its task is resumed with "cancelled" after a grace period, in a task, in
// place (where a task cannot yield) and in Block (generic-for iterators).
func TestCancelAbandonsStuckCall(t *testing.T) {
	for _, code := range []string{
		`require("probe").stuck()`,
		`local t = require("task").spawn(function() require("probe").stuck() end) t:wait()`,
		`table.sort({2, 1}, function(a, b) require("probe").stuck() return a < b end)`,
		`for l in require("probe").stuckreader():lines() do end`,
	} {
		h := host.New(host.Options{})
		go func() {
			time.Sleep(50 * time.Millisecond)
			h.Cancel(errors.New("interrupt"))
		}()
		start := time.Now()
		_, err := h.RunString(code, "t.lua")
		h.Close()
		var le *host.LuaError
		if !errors.As(err, &le) || le.Kind() != "cancelled" {
			t.Errorf("%s: got %v, want a cancelled error", code, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: cancellation took %v", code, d)
		}
	}
}

func TestCancelStopsCPUBoundLua(t *testing.T) {
	// Each loop or recursion form: the VM checks the interrupt flag on calls
	// and backward jumps only, so every way Lua can run forever is here.
	for name, code := range map[string]string{
		"while with pcall":  `local n = 0 while true do pcall(function() n = n + 1 end) end`,
		"empty while":       `while true do end`,
		"repeat":            `local n = 0 repeat n = n + 1 until false`,
		"numeric for":       `for i = 1, math.huge do end`,
		"generic for":       `local function it(s, c) return c + 1 end for i in it, nil, 0 do end`,
		"recursion":         `local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end fib(60)`,
		"tail recursion":    `local function f(n) return f(n + 1) end f(0)`,
		"goto-free backjmp": `local i = 0 while i >= 0 do i = i + 1 end`,
	} {
		t.Run(name, func(t *testing.T) {
			h := host.New(host.Options{})
			defer h.Close()
			go func() {
				time.Sleep(100 * time.Millisecond)
				h.Cancel(errors.New("interrupt"))
			}()
			done := make(chan error, 1)
			go func() {
				_, err := h.RunString(code, "t.lua")
				done <- err
			}()
			select {
			case err := <-done:
				var le *host.LuaError
				if !errors.As(err, &le) || le.Kind() != "cancelled" {
					t.Fatalf("got %v, want a cancelled error", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a CPU-bound loop was not stopped by Cancel")
			}
		})
	}
}

func TestRequireFindsLocalModulesFirst(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "mod.lua"), []byte(`return {where = "local"}`), 0o644)
	os.WriteFile(filepath.Join(other, "mod.lua"), []byte(`return {where = "path"}`), 0o644)
	os.WriteFile(filepath.Join(other, "only.lua"), []byte(`return {where = "path"}`), 0o644)
	script := filepath.Join(dir, "main.lua")
	os.WriteFile(script, []byte(`assert(require("mod").where == "local") assert(require("only").where == "path")`), 0o644)
	t.Setenv("GOS3LUA_PATH", other)
	h := host.New(host.Options{Script: script})
	defer h.Close()
	if err := h.RunFile(script); err != nil {
		t.Fatal(err)
	}
}

func TestSyntaxError(t *testing.T) {
	h := host.New(host.Options{})
	defer h.Close()
	_, err := h.Compile("local x = 1\nx = = 2\n", "bad.lua")
	var se *host.SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || !strings.HasPrefix(err.Error(), "bad.lua:2:") {
		t.Fatalf("got %v", err)
	}
	_, err = h.Compile("function f()\n", "more.lua")
	if !errors.As(err, &se) || !se.AtEOF {
		t.Fatalf("got %v, want an unexpected end of file", err)
	}
}

func TestGoOutsideTaskIsAnError(t *testing.T) {
	h := host.New(host.Options{})
	defer h.Close()
	err := h.L.DoString(`require("probe").echo(1)`)
	if err == nil || !strings.Contains(err.Error(), "can only be called from a task") {
		t.Fatalf("got %v", err)
	}
}

// Lua 5.1 numbers the arguments of a method call without self: a host
// method called as obj:m(bad) says #1, as obj.m(obj, bad) #2, and a bad
// self says so. gopher-lua's own functions follow the same rule.
func TestBadArgumentNumbering(t *testing.T) {
	cases := []struct{ code, want string }{
		{`io.stdout:write({})`, "t.lua:1: bad argument #1 to 'write' (string expected, got table)"},
		{`io.stdout:write("a", {})`, "t.lua:1: bad argument #2 to 'write' (string expected, got table)"},
		{`io.stdout.write(io.stdout, {})`, "t.lua:1: bad argument #2 to 'write' (string expected, got table)"},
		{`io.stdout.write(1)`, "t.lua:1: bad argument #1 to 'write' (stream expected, got number)"},
		{`local x = {write = io.stdout.write} x:write("a")`, "t.lua:1: calling 'write' on bad self (stream expected, got table)"},
		{`io.write({})`, "t.lua:1: bad argument #1 to 'write' (string expected, got table)"},
		{`io.read({})`, "t.lua:1: bad argument #1 to 'read' (number or string expected, got table)"},
		{`require("probe").stream(3):read(true)`, "t.lua:1: bad argument #1 to 'read' (number or string expected, got boolean)"},
		{`local p = require("task").pool(2) p:spawn(5)`, "t.lua:1: bad argument #1 to 'spawn'"},
		{`require("probe").count(5)`, "t.lua:1: bad argument #1 to 'count' (table expected, got number)"},
		{`require("probe")["end"](5)`, "t.lua:1: bad argument #1 to 'end' (table expected, got number)"},
		{`local s = "x" s:rep({})`, "bad argument #1 to 'rep' (number expected, got table)"},
		{`string.rep("x", {})`, "bad argument #2 to 'rep' (number expected, got table)"},
	}
	for _, c := range cases {
		h := host.New(host.Options{})
		h.InstallStdio()
		_, err := h.RunString(c.code, "t.lua")
		h.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n  error %v\n  want  %s", c.code, err, c.want)
		}
	}
}

type stuckReader struct{}

func (stuckReader) Read(p []byte) (int, error) { <-unstick; return 0, io.EOF }

// Wrap gives Go errors the kinds scripts test for: errno names for file
// system errors (fuse answers the kernel with them), "network" for
// sockets.
func TestWrapKinds(t *testing.T) {
	cases := []struct {
		err  error
		kind string
	}{
		{context.Canceled, "cancelled"},
		{context.DeadlineExceeded, "timeout"},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.ENOENT}, "ENOENT"},
		{syscall.ENOENT, "ENOENT"},
		{syscall.EACCES, "EACCES"},
		{syscall.EEXIST, "EEXIST"},
		{syscall.ENOTDIR, "ENOTDIR"},
		{&os.PathError{Op: "read", Path: "x", Err: syscall.EISDIR}, "EISDIR"},
		{syscall.ENOSPC, "ENOSPC"},
		{syscall.ECONNREFUSED, "network"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, "network"},
		{&net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}, "network"},
		{errors.New("plain"), "error"},
	}
	for _, c := range cases {
		if got := host.Wrap("", c.err).Kind; got != c.kind {
			t.Errorf("Wrap(%v).Kind = %q, want %q", c.err, got, c.kind)
		}
	}
}
