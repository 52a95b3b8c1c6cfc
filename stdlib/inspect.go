package stdlib

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// inspect: readable, cycle-safe rendering of any Lua value. The module is
// callable: require("inspect")(v) is inspect.inspect(v).
var inspectFuncs = map[string]lua.LGFunction{
	"inspect": inspectInspect,
}

// InspectLoader is require("inspect").
func InspectLoader(L *lua.LState) int {
	m := host.Module(L, inspectFuncs)
	mt := L.NewTable()
	call := host.From(L).Func("inspect", func(L *lua.LState) int {
		L.Remove(1) // the module table itself
		return inspectInspect(L)
	})
	mt.RawSetString("__call", call)
	L.SetMetatable(m, mt)
	L.Push(m)
	return 1
}

// inspect(v [, {depth=n, width=n}]) → string
func inspectInspect(L *lua.LState) int {
	v := L.Get(1)
	o := host.OptTable(L, 2)
	opts := InspectOptions{Width: 80}
	for _, f := range []struct {
		name string
		to   *int
	}{{"depth", &opts.Depth}, {"width", &opts.Width}} {
		switch v := o.RawGetString(f.name).(type) {
		case lua.LNumber:
			*f.to = int(v)
		case *lua.LNilType:
		default:
			L.ArgError(2, f.name+": number expected, got "+host.TypeName(v))
		}
	}
	L.Push(lua.LString(InspectWith(v, opts)))
	return 1
}

// InspectOptions tune InspectWith.
type InspectOptions struct {
	Depth int // tables nested deeper than this print as {...}; 0 = no limit
	Width int // a table fitting in this many columns prints on one line
}

// Inspect renders v for people: strings quoted as Lua would read them,
// table keys sorted, a table on one line when it fits in 80 columns and
// indented otherwise, cycles shown as <cycle>.
func Inspect(v lua.LValue) string { return InspectWith(v, InspectOptions{Width: 80}) }

// InspectWith is Inspect with options.
func InspectWith(v lua.LValue, o InspectOptions) string {
	if o.Width <= 0 {
		o.Width = 80
	}
	p := &printer{opts: o, path: map[*lua.LTable]bool{}}
	var b strings.Builder
	p.value(&b, v, 0, 0)
	return b.String()
}

type printer struct {
	opts InspectOptions
	path map[*lua.LTable]bool // tables being printed (ancestors): revisiting one is a cycle
}

// value writes v at indentation indent (columns already used on the line).
func (p *printer) value(b *strings.Builder, v lua.LValue, indent, depth int) {
	t, ok := v.(*lua.LTable)
	if !ok {
		b.WriteString(scalar(v))
		return
	}
	if p.path[t] {
		b.WriteString("<cycle>")
		return
	}
	if p.opts.Depth > 0 && depth >= p.opts.Depth {
		if isEmpty(t) {
			b.WriteString("{}")
		} else {
			b.WriteString("{...}")
		}
		return
	}
	p.path[t] = true
	defer delete(p.path, t)

	items := tableItems(t)
	if len(items) == 0 {
		b.WriteString("{}")
		return
	}
	// One line if it fits: render compactly with a budget and give up
	// early, so that huge tables cost no more than their indented form.
	budget := p.opts.Width - indent
	if s, ok := p.compact(t, items, budget, depth); ok {
		b.WriteString(s)
		return
	}
	pad := strings.Repeat("  ", indent/2+1)
	b.WriteString("{\n")
	for i, it := range items {
		b.WriteString(pad)
		if it.key != nil {
			b.WriteString(keyString(it.key))
			b.WriteString(" = ")
		}
		p.value(b, it.val, len(pad), depth+1)
		if i < len(items)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(pad[:len(pad)-2])
	b.WriteByte('}')
}

// compact renders t on one line within budget columns, or reports false.
func (p *printer) compact(t *lua.LTable, items []item, budget, depth int) (string, bool) {
	var b strings.Builder
	b.WriteString("{ ")
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		if it.key != nil {
			b.WriteString(keyString(it.key))
			b.WriteString(" = ")
		}
		if sub, ok := it.val.(*lua.LTable); ok {
			if p.path[sub] {
				b.WriteString("<cycle>")
			} else if p.opts.Depth > 0 && depth+1 >= p.opts.Depth || isEmpty(sub) {
				p.value(&b, sub, 0, depth+1)
			} else {
				p.path[sub] = true
				s, ok := p.compact(sub, tableItems(sub), budget-b.Len(), depth+1)
				delete(p.path, sub)
				if !ok {
					return "", false
				}
				b.WriteString(s)
			}
		} else {
			b.WriteString(scalar(it.val))
		}
		if b.Len() > budget {
			return "", false
		}
	}
	b.WriteString(" }")
	return b.String(), b.Len() <= budget
}

type item struct {
	key lua.LValue // nil for the array part
	val lua.LValue
}

func isEmpty(t *lua.LTable) bool {
	k, _ := t.Next(lua.LNil)
	return k == lua.LNil
}

// tableItems lists the array part 1..n first (unkeyed), then the other keys
// sorted: numbers, strings, booleans, then the rest by their rendering.
func tableItems(t *lua.LTable) []item {
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	items := make([]item, 0, n)
	for i := 1; i <= n; i++ {
		items = append(items, item{nil, t.RawGetInt(i)})
	}
	var rest []item
	t.ForEach(func(k, v lua.LValue) {
		if f, ok := k.(lua.LNumber); ok && f >= 1 && f <= lua.LNumber(n) && f == lua.LNumber(math.Floor(float64(f))) {
			return
		}
		rest = append(rest, item{k, v})
	})
	sort.Slice(rest, func(i, j int) bool { return keyLess(rest[i].key, rest[j].key) })
	return append(items, rest...)
}

func keyRank(v lua.LValue) int {
	switch v.(type) {
	case lua.LNumber:
		return 0
	case lua.LString:
		return 1
	case lua.LBool:
		return 2
	}
	return 3
}

func keyLess(a, b lua.LValue) bool {
	ra, rb := keyRank(a), keyRank(b)
	if ra != rb {
		return ra < rb
	}
	switch x := a.(type) {
	case lua.LNumber:
		return x < b.(lua.LNumber)
	case lua.LString:
		return x < b.(lua.LString)
	case lua.LBool:
		return !bool(x) && bool(b.(lua.LBool))
	}
	return a.String() < b.String()
}

var luaReserved = map[string]bool{"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "if": true, "in": true, "local": true, "nil": true, "not": true,
	"or": true, "repeat": true, "return": true, "then": true, "true": true, "until": true, "while": true}

func isLuaIdent(s string) bool {
	if s == "" || luaReserved[s] {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

func keyString(k lua.LValue) string {
	if s, ok := k.(lua.LString); ok && isLuaIdent(string(s)) {
		return string(s)
	}
	if t, ok := k.(*lua.LTable); ok {
		return "[<" + t.String() + ">]"
	}
	return "[" + scalar(k) + "]"
}

// scalar renders a non-table value (a table here is shown by identity).
func scalar(v lua.LValue) string {
	switch x := v.(type) {
	case *lua.LNilType:
		return "nil"
	case lua.LBool:
		return x.String()
	case lua.LNumber:
		return numberString(float64(x))
	case lua.LString:
		return Quote(string(x))
	case *lua.LTable:
		return "<" + x.String() + ">"
	case *lua.LUserData:
		if s, ok := x.Value.(fmt.Stringer); ok {
			return "<" + s.String() + ">"
		}
		name := host.TypeName(x)
		if name == "userdata" {
			return "<" + x.String() + ">"
		}
		return "<" + name + ">"
	default:
		return "<" + v.String() + ">"
	}
}

func numberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "0/0"
	case math.IsInf(f, 1):
		return "math.huge"
	case math.IsInf(f, -1):
		return "-math.huge"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

// Quote renders s as a double-quoted Lua string literal that reads back as
// the same bytes: escapes for quotes, backslashes and control characters,
// \ddd for bytes that are not valid UTF-8; printable UTF-8 stays as is.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\v':
			b.WriteString(`\v`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&b, `\%03d`, c)
				break
			}
			if c < utf8.RuneSelf {
				b.WriteByte(c)
				break
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 || !strconv.IsPrint(r) {
				for j := 0; j < size; j++ {
					fmt.Fprintf(&b, `\%03d`, s[i+j])
				}
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		i++
	}
	b.WriteByte('"')
	return b.String()
}
