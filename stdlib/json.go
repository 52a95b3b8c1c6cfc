package stdlib

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// json: encode Lua values as JSON and back. A table whose keys are all
// positive integers is an array (holes, as in {1, nil, 3}, are null; a
// mostly-holes one is an error), any other table an object (an empty
// table is {} unless marked with json.array). null decodes to json.null inside arrays (to keep
// positions) and to an absent key inside objects.
var jsonFuncs = map[string]lua.LGFunction{
	"encode": jsonEncode, // encode(v [, {pretty=, indent=}]) → string
	"decode": jsonDecode, // decode(s) → value
	"array":  jsonArray,  // array([t]) → t, marked to encode as an array even when empty
}

// JSONLoader is require("json").
func JSONLoader(L *lua.LState) int {
	m := host.Module(L, jsonFuncs)
	m.RawSetString("null", jsonNull(L))
	L.Push(m)
	return 1
}

// jsonNull is the json.null sentinel (one per state).
func jsonNull(L *lua.LState) lua.LValue {
	if v := L.G.Registry.RawGetString("json.null"); v != lua.LNil {
		return v
	}
	ud := L.NewUserData()
	ud.Value = jsonNullT{}
	mt := L.NewTable()
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int { return pushStr(L, "null") }))
	mt.RawSetString("__name", lua.LString("json.null"))
	ud.Metatable = mt
	L.G.Registry.RawSetString("json.null", ud)
	return ud
}

type jsonNullT struct{}

func (jsonNullT) String() string { return "json.null" }

func arrayMeta(L *lua.LState) *lua.LTable {
	if mt, ok := L.G.Registry.RawGetString("json.array").(*lua.LTable); ok {
		return mt
	}
	mt := L.NewTable()
	mt.RawSetString("__jsontype", lua.LString("array"))
	L.G.Registry.RawSetString("json.array", mt)
	return mt
}

func jsonArray(L *lua.LState) int {
	var t *lua.LTable
	switch v := L.Get(1).(type) {
	case *lua.LTable:
		t = v
	case *lua.LNilType:
		t = L.NewTable()
	default:
		L.ArgError(1, "table expected, got "+host.TypeName(v))
	}
	mt := arrayMeta(L)
	if cur, ok := L.GetMetatable(t).(*lua.LTable); ok && cur != mt {
		L.ArgError(1, "table already has a metatable")
	}
	L.SetMetatable(t, mt)
	L.Push(t)
	return 1
}

// maxSparseLen: an array with holes up to this length always encodes (its
// holes as null), a longer one only while at least half of it is values.
const maxSparseLen = 10

type jsonEncoder struct {
	L      *lua.LState
	b      bytes.Buffer
	indent string
	seen   map[*lua.LTable]bool
	arrMT  *lua.LTable
}

func jsonEncode(L *lua.LState) int {
	v := L.CheckAny(1)
	o := host.OptTable(L, 2)
	e := &jsonEncoder{L: L, seen: map[*lua.LTable]bool{}, arrMT: arrayMeta(L)}
	if lua.LVAsBool(o.RawGetString("pretty")) {
		e.indent = "  "
	}
	if s, ok := o.RawGetString("indent").(lua.LString); ok {
		e.indent = string(s)
	}
	if err := e.value(v, "", "$"); err != nil {
		return host.Raise(L, host.Errorf("json", "json.encode: %v", err))
	}
	return pushStr(L, e.b.String())
}

func (e *jsonEncoder) value(v lua.LValue, pad, where string) error {
	switch x := v.(type) {
	case *lua.LNilType:
		e.b.WriteString("null")
	case lua.LBool:
		e.b.WriteString(strconv.FormatBool(bool(x)))
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%s: %v cannot be represented in JSON", where, f)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			e.b.WriteString(strconv.FormatInt(int64(f), 10))
		} else {
			e.b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case lua.LString:
		jsonQuote(&e.b, string(x))
	case *lua.LUserData:
		if _, ok := x.Value.(jsonNullT); ok {
			e.b.WriteString("null")
			return nil
		}
		return fmt.Errorf("%s: cannot encode a %s", where, host.TypeName(v))
	case *lua.LTable:
		return e.table(x, pad, where)
	default:
		return fmt.Errorf("%s: cannot encode a %s", where, v.Type().String())
	}
	return nil
}

func (e *jsonEncoder) table(t *lua.LTable, pad, where string) error {
	if e.seen[t] {
		return fmt.Errorf("%s: table contains itself (a cycle)", where)
	}
	e.seen[t] = true
	defer delete(e.seen, t)

	// A table whose keys are all positive integers is an array; holes
	// (nil in {1, nil, 3}) become null, as in cjson, while at most half of
	// it is holes (or it is shorter than 11). A sparser one is an error
	// rather than an object keyed "1", "3", which would not decode back to
	// the same table.
	n, count, allInts := 0, 0, true
	t.ForEach(func(k, _ lua.LValue) {
		count++
		f, ok := k.(lua.LNumber)
		if !ok || f < 1 || f != lua.LNumber(math.Trunc(float64(f))) || f > math.MaxInt32 {
			allInts = false
			return
		}
		if int(f) > n {
			n = int(f)
		}
	})
	isArray := count > 0 && allInts || count == 0 && e.L.GetMetatable(t) == e.arrMT
	if isArray && n > count && n > maxSparseLen && n > 2*count {
		return fmt.Errorf("%s: sparse array (highest index %d, only %d values): fill the holes with json.null, or use string keys for an object", where, n, count)
	}
	inner := pad + e.indent
	sep := func(first bool) {
		if !first {
			e.b.WriteByte(',')
		}
		if e.indent != "" {
			e.b.WriteByte('\n')
			e.b.WriteString(inner)
		}
	}
	if isArray {
		e.b.WriteByte('[')
		for i := 1; i <= n; i++ {
			sep(i == 1)
			if err := e.value(t.RawGetInt(i), inner, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
		if e.indent != "" && n > 0 {
			e.b.WriteByte('\n')
			e.b.WriteString(pad)
		}
		e.b.WriteByte(']')
		return nil
	}
	type kv struct {
		k string
		v lua.LValue
	}
	kvs := make([]kv, 0, count)
	var bad error
	t.ForEach(func(k, v lua.LValue) {
		switch x := k.(type) {
		case lua.LString:
			kvs = append(kvs, kv{string(x), v})
		case lua.LNumber:
			kvs = append(kvs, kv{x.String(), v})
		default:
			if bad == nil {
				bad = fmt.Errorf("%s: object keys must be strings or numbers, not %s", where, host.TypeName(k))
			}
		}
	})
	if bad != nil {
		return bad
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
	e.b.WriteByte('{')
	for i, p := range kvs {
		sep(i == 0)
		jsonQuote(&e.b, p.k)
		e.b.WriteByte(':')
		if e.indent != "" {
			e.b.WriteByte(' ')
		}
		w := where + "." + p.k
		if !isLuaIdent(p.k) {
			w = where + "[" + Quote(p.k) + "]"
		}
		if err := e.value(p.v, inner, w); err != nil {
			return err
		}
	}
	if e.indent != "" && len(kvs) > 0 {
		e.b.WriteByte('\n')
		e.b.WriteString(pad)
	}
	e.b.WriteByte('}')
	return nil
}

// jsonQuote writes s as a JSON string; bytes that are not UTF-8 become
// U+FFFD (JSON has no way to carry them).
func jsonQuote(b *bytes.Buffer, s string) {
	const hexd = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20 || c == 0x7f:
				b.WriteString(`\u00`)
				b.WriteByte(hexd[c>>4])
				b.WriteByte(hexd[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else if r == '\u2028' || r == '\u2029' {
			fmt.Fprintf(b, `\u%04x`, r)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

func jsonDecode(L *lua.LState) int {
	s := L.CheckString(1)
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	if err == nil {
		// Only whitespace may follow the value.
		if _, terr := d.Token(); terr == nil {
			err = fmt.Errorf("unexpected data after the value at %s", position(s, d.InputOffset()))
		}
	}
	if err != nil {
		return host.Raise(L, host.Errorf("json", "json.decode: %s", describeJSONError(s, err)))
	}
	L.Push(toLuaJSON(L, v, jsonNull(L)))
	return 1
}

func describeJSONError(s string, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at %s", strings.TrimPrefix(se.Error(), "json: "), position(s, se.Offset-1))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Sprintf("unexpected end of input at %s", position(s, int64(len(s))))
	}
	return err.Error()
}

// position renders a byte offset as "line L, column C (byte N)".
func position(s string, off int64) string {
	if off > int64(len(s)) {
		off = int64(len(s))
	}
	line, col := 1, 1
	for _, c := range s[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d (byte %d)", line, col, off)
}

func toLuaJSON(L *lua.LState, v any, null lua.LValue) lua.LValue {
	switch x := v.(type) {
	case nil:
		return null
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return lua.LNumber(f)
	case []any:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, toLuaJSON(L, e, null))
		}
		if len(x) == 0 {
			L.SetMetatable(t, arrayMeta(L))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		for k, e := range x {
			if e == nil {
				continue
			}
			t.RawSetString(k, toLuaJSON(L, e, null))
		}
		return t
	}
	return lua.LNil
}
