package test

import (
	"fmt"
	"math"
	"strings"

	"github.com/gos3lua/gos3lua/stdlib"
	lua "github.com/yuin/gopher-lua"
)

// inspect renders a value for failure messages (the inspect module's
// rendering: Lua syntax, sorted keys, one line when short).
var inspect = stdlib.Inspect

// quote renders s as a Lua string literal.
var quote = stdlib.Quote

func formatNumber(f float64) string { return stdlib.Inspect(lua.LNumber(f)) }

// deepEqual compares tables by content (keys by identity, values
// recursively), everything else as Lua's == without metamethods, except
// that NaN equals NaN (a test expecting 0/0 should be able to say so).
func deepEqual(a, b lua.LValue) bool {
	return deepEq(a, b, map[[2]*lua.LTable]bool{})
}

func deepEq(a, b lua.LValue, seen map[[2]*lua.LTable]bool) bool {
	if na, ok := a.(lua.LNumber); ok {
		nb, ok := b.(lua.LNumber)
		if !ok {
			return false
		}
		return na == nb || math.IsNaN(float64(na)) && math.IsNaN(float64(nb))
	}
	ta, ok1 := a.(*lua.LTable)
	tb, ok2 := b.(*lua.LTable)
	if !ok1 || !ok2 {
		return a == b
	}
	if ta == tb {
		return true
	}
	pair := [2]*lua.LTable{ta, tb}
	if seen[pair] {
		return true
	}
	seen[pair] = true
	equal := true
	n := 0
	ta.ForEach(func(k, v lua.LValue) {
		if !equal {
			return
		}
		n++
		if !deepEq(v, tb.RawGet(k), seen) {
			equal = false
		}
	})
	if !equal {
		return false
	}
	m := 0
	tb.ForEach(func(_, _ lua.LValue) { m++ })
	return n == m
}

// lineDiff is a unified-style diff of two texts ("-" expected, "+"
// actual, " " both), or "" when neither has several lines.
func lineDiff(expected, actual string) string {
	if !strings.Contains(expected, "\n") && !strings.Contains(actual, "\n") {
		return ""
	}
	a := strings.Split(expected, "\n")
	b := strings.Split(actual, "\n")
	if len(a)*len(b) > 4_000_000 {
		return ""
	}
	// LCS table, from the end.
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else if lcs[i+1][j] >= lcs[i][j+1] {
				lcs[i][j] = lcs[i+1][j]
			} else {
				lcs[i][j] = lcs[i][j+1]
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, "  "+a[i])
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] > lcs[i+1][j]):
			out = append(out, "+ "+b[j])
			j++
		default:
			out = append(out, "- "+a[i])
			i++
		}
	}
	return strings.Join(out, "\n")
}

// display is how a compared value is shown: strings with several lines
// raw (they are diffed line by line), everything else inspected.
func display(v lua.LValue) (shown string, raw string) {
	if s, ok := v.(lua.LString); ok && strings.Contains(string(s), "\n") {
		return quote(string(s)), string(s)
	}
	s := inspect(v)
	return s, s
}

// errorText is what an error value says: the message of an error table,
// tostring of anything else (a failure's own text for nested failures).
func errorText(L *lua.LState, v lua.LValue) string {
	switch x := v.(type) {
	case *lua.LTable:
		if m := x.RawGetString("message"); m != lua.LNil {
			return lua.LVAsString(m)
		}
	case *lua.LUserData:
		if s, ok := x.Value.(fmt.Stringer); ok {
			return s.String()
		}
	case lua.LString:
		return string(x)
	case *lua.LNilType:
		return "nil"
	}
	if L != nil {
		return L.ToStringMeta(v).String()
	}
	return v.String()
}
