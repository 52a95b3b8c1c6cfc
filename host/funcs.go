package host

import (
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// Func wraps a Go function for export to Lua under name: errors from Go
// work it starts (Go, Park/WakeError) are raised in the caller, and
// `bad argument #n to 'name'` names it. Every exported function goes
// through here (SetFuncs and NewClass do it for you).
func (h *Host) Func(name string, fn lua.LGFunction) *lua.LFunction {
	L := h.L
	s := &h.sched
	// The name lives only in debug info (see stubProto), so a keyword
	// such as "end" is a name like any other; it must be an identifier
	// for fixBadArg to find it in messages.
	ident := name
	if !isIdent(ident) {
		ident = "fn"
	}
	factory, ok := s.stubs[ident]
	if !ok {
		factory = L.NewFunctionFromProto(stubProto(ident))
		s.stubs[ident] = factory
	}
	L.Push(factory)
	L.Push(s.errMarker)
	L.Push(L.NewFunction(fn))
	L.Call(2, 1)
	f := L.Get(-1).(*lua.LFunction)
	L.Pop(1)
	return f
}

var stubProtos sync.Map // ident → *lua.FunctionProto

// stubProto returns the stub for ident, once per process. The stub
// (stub.lua) is compiled once, with the placeholder name NAME, and renamed
// by copying its prototypes: a function's name in `bad argument` messages
// and tracebacks comes only from debug info (call sites, locals,
// upvalues), never from the code. Compiling a stub per exported name cost
// a quarter of start-up.
func stubProto(ident string) *lua.FunctionProto {
	if p, ok := stubProtos.Load(ident); ok {
		return p.(*lua.FunctionProto)
	}
	p := renameProto(hostProto(protoStub), "NAME", ident)
	stubProtos.Store(ident, p)
	return p
}

// renameProto copies p and its nested prototypes with every debug name
// from replaced by to. Code and constants are shared (never written).
func renameProto(p *lua.FunctionProto, from, to string) *lua.FunctionProto {
	q := *p
	q.FunctionPrototypes = make([]*lua.FunctionProto, len(p.FunctionPrototypes))
	for i, c := range p.FunctionPrototypes {
		q.FunctionPrototypes[i] = renameProto(c, from, to)
	}
	q.DbgLocals = make([]*lua.DbgLocalInfo, len(p.DbgLocals))
	for i, l := range p.DbgLocals {
		c := *l
		if c.Name == from {
			c.Name = to
		}
		q.DbgLocals[i] = &c
	}
	q.DbgCalls = append([]lua.DbgCall(nil), p.DbgCalls...)
	for i := range q.DbgCalls {
		if q.DbgCalls[i].Name == from {
			q.DbgCalls[i].Name = to
		}
	}
	q.DbgUpvalues = append([]string(nil), p.DbgUpvalues...)
	for i := range q.DbgUpvalues {
		if q.DbgUpvalues[i] == from {
			q.DbgUpvalues[i] = to
		}
	}
	return &q
}

func isIdent(s string) bool {
	if s == "" {
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

// SetFuncs sets each of funcs on t, wrapped by Func.
func SetFuncs(L *lua.LState, t *lua.LTable, funcs map[string]lua.LGFunction) *lua.LTable {
	h := From(L)
	for name, fn := range funcs {
		t.RawSetString(name, h.Func(name, fn))
	}
	return t
}

// Module builds a module table from funcs; the usual body of a Loader:
//
//	func Loader(L *lua.LState) int { L.Push(host.Module(L, funcs)); return 1 }
func Module(L *lua.LState, funcs map[string]lua.LGFunction) *lua.LTable {
	return SetFuncs(L, L.NewTable(), funcs)
}

// NewClass returns the metatable named class (creating it once per state):
// methods are reached through __index, tostring shows the class name.
// Objects are made with NewObject and checked with Check.
func NewClass(L *lua.LState, class string, methods map[string]lua.LGFunction) *lua.LTable {
	if mt, ok := L.G.Registry.RawGetString("class:" + class).(*lua.LTable); ok {
		return mt
	}
	mt := L.NewTable()
	idx := SetFuncs(L, L.NewTable(), methods)
	mt.RawSetString("__index", idx)
	mt.RawSetString("__name", lua.LString(class))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		ud := L.CheckUserData(1)
		if s, ok := ud.Value.(interface{ String() string }); ok {
			L.Push(lua.LString(s.String()))
		} else {
			L.Push(lua.LString(class))
		}
		return 1
	}))
	L.G.Registry.RawSetString("class:"+class, mt)
	return mt
}

// NewObject wraps v as a userdata of class (NewClass must have been called).
func NewObject(L *lua.LState, class string, v any) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	if mt, ok := L.G.Registry.RawGetString("class:" + class).(*lua.LTable); ok {
		ud.Metatable = mt
	}
	return ud
}

// Check returns argument n as a T (the Value of a userdata made by
// NewObject), raising `bad argument #n to 'fn' (class expected, got ...)`.
func Check[T any](L *lua.LState, n int, class string) T {
	ud, ok := L.Get(n).(*lua.LUserData)
	if ok {
		if v, ok := ud.Value.(T); ok {
			return v
		}
	}
	L.ArgError(n, class+" expected, got "+TypeName(L.Get(n)))
	var zero T
	return zero
}

// TypeName is the Lua type name of v, or its class for objects.
func TypeName(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		if mt, ok := ud.Metatable.(*lua.LTable); ok {
			if n, ok := mt.RawGetString("__name").(lua.LString); ok {
				return string(n)
			}
		}
	}
	return v.Type().String()
}

// OptTable returns argument n as a table, or an empty one when absent.
func OptTable(L *lua.LState, n int) *lua.LTable {
	switch v := L.Get(n).(type) {
	case *lua.LTable:
		return v
	case *lua.LNilType:
		return L.NewTable()
	default:
		L.ArgError(n, "table expected, got "+TypeName(v))
		return nil
	}
}
