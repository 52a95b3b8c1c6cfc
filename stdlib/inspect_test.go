package stdlib

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestInspectValues(t *testing.T) {
	run(t, `
local inspect = require("inspect")
eq(inspect(nil), "nil")
eq(inspect(true), "true")
eq(inspect(42), "42")
eq(inspect(-1.5), "-1.5")
eq(inspect(1/0), "math.huge")
eq(inspect("a\"b\\c\n\0\1é"), [["a\"b\\c\n\000\001é"]])
eq(inspect("\255"), [["\255"]])
eq(inspect({}), "{}")
eq(inspect({1, 2, 3}), "{ 1, 2, 3 }")
eq(inspect({b = 1, a = 2, [10] = "x", ["not id"] = true, ["end"] = 1}),
   '{ [10] = "x", a = 2, b = 1, ["end"] = 1, ["not id"] = true }')
eq(inspect({1, 2, x = {y = {}}}), "{ 1, 2, x = { y = {} } }")
eq(inspect.inspect({1}), "{ 1 }")
eq(inspect({a = {b = {c = 1}}}, {depth = 1}), "{ a = {...} }")
local t = {name = "loop"}; t.self = t
eq(inspect(t), '{ name = "loop", self = <cycle> }')
-- a shared (non-cyclic) table prints in full each time
local s = {1}
eq(inspect({s, s}), "{ { 1 }, { 1 } }")
eq(inspect(print):match("^<function"), "<function")
`)
}

func TestInspectLong(t *testing.T) {
	run(t, `
local inspect = require("inspect")
local t = {}
for i = 1, 30 do t[i] = i * 1000 end
local s = inspect({list = t, name = "x"})
local lines = 0
for _ in s:gmatch("\n") do lines = lines + 1 end
assert(lines > 30, s)
assert(s:find('\n  name = "x"\n}$'), s)
assert(s:find('^{\n  list = {\n    1000,\n'), s)
`)
}

// Quote must read back as the same bytes in Lua.
func TestQuoteRoundTrip(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var all []byte
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	for _, s := range []string{"", "plain", "tab\there", string(all), "日本語", "\x001", "a\x7fb"} {
		q := Quote(s)
		if strings.ContainsAny(q, "\n\r") {
			t.Errorf("Quote(%q) spans lines: %s", s, q)
		}
		if err := L.DoString("return " + q); err != nil {
			t.Fatalf("Quote(%q) = %s: %v", s, q, err)
		}
		if got := L.Get(-1).String(); got != s {
			t.Errorf("Quote(%q) reads back as %q", s, got)
		}
		L.Pop(1)
	}
}

func TestInspectGo(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`return {1, "two", {three = 3}}`); err != nil {
		t.Fatal(err)
	}
	if got, want := Inspect(L.Get(-1)), `{ 1, "two", { three = 3 } }`; got != want {
		t.Errorf("Inspect = %s, want %s", got, want)
	}
}
