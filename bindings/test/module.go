package test

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// The Lua surface: `test(name, fn)` (the module table is callable) and these.
var moduleFuncs = map[string]lua.LGFunction{
	"describe":    modDescribe,   // describe(name, fn): group tests; fn runs at once and registers
	"before_each": modBeforeEach, // before_each(fn(t)): runs before each test of the group
	"after_each":  modAfterEach,  // after_each(fn(t)): runs after each, even a failed one
	"skip":        modSkip,       // skip(name, fn [, reason]): registered, reported as skipped
	"it":          modTest,       // it(name, fn): the same as test(name, fn), for busted habits
}

// The methods of the `t` a test body receives (see assert.go).
var tMethods = map[string]lua.LGFunction{
	"eq":      tEq,      // eq(actual, expected [, msg]): deep equality
	"neq":     tNeq,     // neq(actual, other [, msg])
	"ok":      tOk,      // ok(v [, msg]): truthy
	"near":    tNear,    // near(actual, expected [, eps=1e-9] [, msg])
	"match":   tMatch,   // match(str, pattern [, msg]): Lua pattern (or plain substring)
	"fail":    tFail,    // fail([msg])
	"skip":    tSkipNow, // skip([reason]): ends the test as skipped
	"need":    tNeed,    // need(tool, ...): skip (fail under GOS3LUA_REQUIRE_TOOLS=1) unless on PATH
	"tmpdir":  tTmpdir,  // tmpdir() → a fresh directory, removed after the test
	"cleanup": tCleanup, // cleanup(fn): runs after the test (last registered first)
	"log":     tLog,     // log(...): a line shown with the test's result on failure or -v
	"name":    tName,    // name() → the test's full name
	// err(fn [, pattern] [, msg]) → the error: fn must raise, its message
	// matching the Lua pattern (or containing it); see errMethodSrc.
}

// t:err is Lua so that it is exactly pcall (and yields through it).
const errMethodSrc = `local check = ...
return function(t, fn, pattern, msg)
  return check(t, fn, pattern, msg, pcall(fn))
end`

// describe runs its body in Lua, not from Go, so that a body may suspend
// (in standalone mode its tests run at once, and they may).
const describeSrc = `local push, pop = ...
return function(name, fn)
  local g = push(name, fn)
  fn()
  pop(g)
end`

// run_script(path, ...) runs a script in this task as `gos3lua path ...`
// would, with its output captured: → stdout, stderr, exit status. Also
// run_script{path, args..., stdin = data}. A relative path is taken from the
// calling test file's directory. The script gets its own arg and varargs;
// its io.stdin, io.stdout and io.stderr are real file streams (so Go
// functions can read and write them: bucket:cat(io.stdout)), print and
// io.write go to its stdout, os.exit(code) ends it with that status. An
// error it does not catch is raised in the caller, traceback and all. It
// runs in this process, so whatever the test set up (s3.use, servers) is
// what the script sees.
const runScriptSrc = `return function(path, ...)
  local args, input
  if type(path) == "table" then
    local spec = path
    path, input = spec[1], spec.stdin
    args = {n = math.max(#spec - 1, 0)}
    for i = 2, #spec do args[i - 1] = spec[i] end
  else
    args = {n = select("#", ...), ...}
  end
  if type(path) ~= "string" then
    error("bad argument #1 to 'run_script' (string or {path, args..., stdin=} expected, got " .. type(path) .. ")", 2)
  end
  if input ~= nil and type(input) ~= "string" then
    error("bad argument #1 to 'run_script' (stdin must be a string, got " .. type(input) .. ")", 2)
  end
  if path:sub(1, 1) ~= "/" then
    -- The nearest calling Lua file (a tail call may hide the direct caller).
    for level = 2, 10 do
      local info = debug.getinfo(level, "S")
      if not info then break end
      local src = (info.source or ""):gsub("^@", "")
      if src:match("%.lua$") then
        local dir = src:match("^(.*)/[^/]*$")
        if dir then path = dir .. "/" .. path end
        break
      end
    end
  end
  local chunk = assert(loadfile(path))
  local fs = require("fs")
  local base = os.tmpname()
  fs.write(base .. ".in", input or "")
  local stdin, stdout, stderr = fs.open(base .. ".in", "r"), fs.open(base .. ".out", "a"), fs.open(base .. ".err", "a")
  -- print does not yield in gos3lua (scripts may rely on it, e.g. to print
  -- in order from several tasks), so it writes through a plain Lua file
  -- appending to the same file as the io.stdout stream.
  local printer = assert(io.open(base .. ".out", "a"))
  printer:setvbuf("no")
  local EXIT = {}
  local env = setmetatable({
    print = function(...)
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      printer:write(table.concat(parts, "\t"), "\n")
    end,
    io = setmetatable({stdin = stdin, stdout = stdout, stderr = stderr,
      write = function(...) return stdout:write(...) end,
      read = function(...) return stdin:read(...) end}, {__index = io}),
    os = setmetatable({exit = function(code)
      if code == true or code == nil then code = 0 elseif code == false then code = 1 end
      EXIT.code = code
      error(EXIT, 0)
    end}, {__index = os}),
  }, {__index = _G})
  setfenv(chunk, env)
  local saved = _G.arg
  _G.arg = {[0] = path, unpack(args, 1, args.n)} -- args.parse reads the global arg
  local ok, e = pcall(chunk, unpack(args, 1, args.n))
  _G.arg = saved
  stdin:close(); stdout:close(); stderr:close(); printer:close()
  local out, err = fs.read(base .. ".out"), fs.read(base .. ".err")
  for _, suffix in ipairs({"", ".in", ".out", ".err"}) do os.remove(base .. suffix) end
  if not ok and e ~= EXIT then error(e, 0) end
  return out, err, ok and 0 or EXIT.code
end`

var protos sync.Map // source → *lua.FunctionProto

// compiled is this package's own Lua source as a function of L, compiled
// once per process (a state per test file would otherwise recompile it).
func compiled(L *lua.LState, src string) *lua.LFunction {
	if p, ok := protos.Load(src); ok {
		return L.NewFunctionFromProto(p.(*lua.FunctionProto))
	}
	chunk, err := parse.Parse(strings.NewReader(src), hiddenChunk)
	if err != nil {
		panic(err)
	}
	proto, err := lua.Compile(chunk, hiddenChunk)
	if err != nil {
		panic(err)
	}
	protos.Store(src, proto)
	return L.NewFunctionFromProto(proto)
}

func luaWrap(L *lua.LState, src string, args ...lua.LValue) lua.LValue {
	L.Push(compiled(L, src))
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), 1)
	v := L.Get(-1)
	L.Pop(1)
	return v
}

// Register makes require("test") available in every Host.
func Register() { host.Register("test", Loader) }

// Loader is require("test").
func Loader(L *lua.LState) int {
	h := host.From(L)
	suiteOf(L)
	methods := host.NewClass(L, classT, tMethods).RawGetString("__index").(*lua.LTable)
	if methods.RawGetString("err") == lua.LNil {
		methods.RawSetString("err", luaWrap(L, errMethodSrc, h.Func("err", tErrCheck)))
	}
	host.NewClass(L, classFailure, nil)
	host.NewClass(L, classSkip, nil)
	m := host.Module(L, moduleFuncs)
	m.RawSetString("describe", luaWrap(L, describeSrc, m.RawGetString("describe"), L.NewFunction(describePop)))
	m.RawSetString("run_script", luaWrap(L, runScriptSrc))
	mt := L.NewTable()
	mt.RawSetString("__call", h.Func("test", func(L *lua.LState) int {
		L.Remove(1) // the module table itself
		return modTest(L)
	}))
	L.SetMetatable(m, mt)
	L.Push(m)
	return 1
}

const (
	classT       = "test.t"
	classFailure = "test.failure"
	classSkip    = "test.skip"
	// hiddenChunk names this package's own Lua, left out of FILE:LINE and
	// tracebacks.
	hiddenChunk = "[test]"
)

func modTest(L *lua.LState) int {
	name := L.CheckString(1)
	fn := L.CheckFunction(2)
	return register(L, name, fn, "")
}

func modSkip(L *lua.LState) int {
	name := L.CheckString(1)
	fn, _ := L.Get(2).(*lua.LFunction)
	reason := L.OptString(3, "skipped")
	if fn == nil && L.Get(2) != lua.LNil {
		if s, ok := L.Get(2).(lua.LString); ok {
			reason = string(s)
		}
	}
	return register(L, name, fn, reason)
}

func register(L *lua.LState, name string, fn *lua.LFunction, skip string) int {
	s := suiteOf(L)
	if s.running != nil && !s.standalone {
		L.RaiseError("test(%q): tests must be registered at the top level of the file or in test.describe, not inside a running test", name)
	}
	full := name
	for g := s.group; g != nil && g != s.root; g = g.parent {
		full = g.name + " / " + full
	}
	tc := &testCase{name: full, fn: fn, group: s.group, where: callerWhere(L), skip: skip}
	s.tests = append(s.tests, tc)
	if !s.standalone {
		return 0
	}
	return s.runStandalone(L, tc)
}

// modDescribe opens a group (describeSrc then runs the body and closes it).
func modDescribe(L *lua.LState) int {
	name := L.CheckString(1)
	L.CheckFunction(2)
	s := suiteOf(L)
	g := &group{name: name, parent: s.group}
	s.group = g
	L.Push(L.NewUserData())
	L.Get(-1).(*lua.LUserData).Value = g
	return 1
}

func describePop(L *lua.LState) int {
	if g, ok := L.CheckUserData(1).Value.(*group); ok {
		suiteOf(L).group = g.parent
	}
	return 0
}

func modBeforeEach(L *lua.LState) int {
	fn := L.CheckFunction(1)
	s := suiteOf(L)
	s.group.before = append(s.group.before, fn)
	return 0
}

func modAfterEach(L *lua.LState) int {
	fn := L.CheckFunction(1)
	s := suiteOf(L)
	s.group.after = append(s.group.after, fn)
	return 0
}

// callerWhere is FILE:LINE of the innermost Lua frame that is user code:
// the line of the assertion, or of the test() call.
func callerWhere(L *lua.LState) string {
	for i := 0; i < 64; i++ {
		dbg, ok := L.GetStack(i)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			continue
		}
		if dbg.CurrentLine > 0 && !hiddenSource(dbg.Source) {
			return fmt.Sprintf("%s:%d", dbg.Source, dbg.CurrentLine)
		}
	}
	return ""
}

func hiddenSource(src string) bool {
	switch src {
	case "prelude", "stub", "[G]", hiddenChunk:
		return true
	}
	return false
}

// cleanTraceback drops this package's own frames from a host traceback.
func cleanTraceback(tb string) string {
	lines := strings.Split(tb, "\n")
	out := lines[:0]
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), hiddenChunk+":") {
			continue
		}
		out = append(out, strings.Replace(l, "\t", "  ", 1))
	}
	return strings.Join(out, "\n")
}
