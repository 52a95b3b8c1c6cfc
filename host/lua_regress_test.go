package host_test

import (
	"testing"
	"time"
)

// Miscompiles of gopher-lua v1.1.2 fixed in our copy (host/gopher-lua,
// see its PATCHES.md). Each script asserts its own results; an infinite
// loop fails the test after 10 s instead of hanging it.
func TestLuaCompilerRegressions(t *testing.T) {
	cases := []struct{ name, code string }{
		// 1. back jump to a loop body starting with a jump (upstream #540)
		{"break first in generic for after a loop", `
			local t = {a=1, b=2}
			for i = 1, 3 do local x = i end
			for k in pairs(t) do
			  if k then break end
			end
			local n = 0
			for k in pairs(t) do break end
			for k in pairs(t) do do break end end
			for k in pairs(t) do while false do end n = n + 1 end
			assert(n == 2, n)`},
		{"if false then local inside generic for", `
			local function f(t)
			  for i = 1, 2 do end
			  local n = 0
			  for k in pairs(t) do
			    if false then local x end
			    n = n + 1
			  end
			  return n
			end
			assert(f({a=1, b=2, c=3}) == 3)`},
		{"break first in nested loops", `
			local n = 0
			for i = 1, 3 do
			  for k in pairs({x=1}) do break end
			  for _, v in ipairs({1, 2}) do if false then local y end if v == 2 then break end n = n + 1 end
			end
			local m = 0
			repeat if false then local z end m = m + 1 until m > 4
			assert(n == 3 and m == 5, n .. " " .. m)`},
		// 2. generic for explist
		{"for in f().g(args)", `
			local M = {}
			function M.f() return {g = function(t) return ipairs(t) end} end
			local s = 0
			for i, x in M.f().g({4, 5}) do s = s + i * x end
			local function f() return {g = function(t)
			  local i = 0
			  return function() i = i + 1 return t[i] end
			end} end
			for x in f().g({1, 2, 3}) do s = s + x end
			local obj = {items = {7}, iter = function(self) return ipairs(self.items) end}
			local function get() return obj end
			for _, x in get():iter() do s = s + x end
			assert(s == 4 + 10 + 6 + 7, s)`},
		{"for in with fewer than three values (upstream #514)", `
			for i = 1, 1 do local a, b, c = 1, 2, 3 end
			local got = {}
			for k, v in next, {10, 20} do got[#got + 1] = v end
			assert(#got == 2 and got[1] == 10, #got)
			for i = 1, 1 do local a, b, c = 1, 2, 3 end
			local args
			for k in function(s, c) args = {s, c} end do end
			assert(args[1] == nil and args[2] == nil)`},
		// 3. multiple assignment (upstream #440)
		{"swap locals", `
			local a, b = 1, 2
			a, b = b, a
			assert(a == 2 and b == 1, a .. " " .. b)
			local c = 3
			a, b, c = c, a, b
			assert(a == 3 and b == 2 and c == 1)
			local p, q = 0, 0
			p, q = p + 1, p + q
			assert(p == 1 and q == 0)`},
		{"swap table slots and fields", `
			local t = {1, 2, 3}
			local i, j = 1, 3
			t[i], t[j] = t[j], t[i]
			assert(t[1] == 3 and t[2] == 2 and t[3] == 1)
			local b, a = {c = 5}, 7
			a, b.c = b.c, a
			assert(a == 5 and b.c == 7, a .. " " .. b.c)
			b.c, a = a, b.c
			assert(a == 7 and b.c == 5, a .. " " .. b.c)
			local p = {v = 1}
			local q = p
			p.v, p = 3, 10
			assert(p == 10 and q.v == 3)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- run(t, c.code) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("script did not finish in 10 s (miscompiled loop?)")
			}
		})
	}
}
