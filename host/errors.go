package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"syscall"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// Error is the error a binding returns from Go work (or raises with Raise).
// In Lua it becomes a table {kind=, message=, <Fields>...} whose tostring is
// Message: one readable line saying what failed, on what, and why.
type Error struct {
	Kind    string         // e.g. "NoSuchBucket", "timeout", "network", "smtp", "cancelled"
	Message string         // one line, e.g. `s3: put a/b: NoSuchBucket: the bucket "x" does not exist`
	Fields  map[string]any // protocol fields: status, code, key, stage, ... (string, number, bool)
	Err     error          // the cause, for errors.Is/As in Go
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error of kind with a formatted message.
func Errorf(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// With returns e with a protocol field set (chainable).
func (e *Error) With(field string, v any) *Error {
	if e.Fields == nil {
		e.Fields = map[string]any{}
	}
	e.Fields[field] = v
	return e
}

// Wrap turns any Go error into an *Error: context cancellation becomes
// kind "cancelled", deadlines and net timeouts "timeout", other net errors
// "network", missing files "ENOENT"-style kinds; prefix (e.g. "s3: get k")
// is put before the message once.
func Wrap(prefix string, err error) *Error {
	if err == nil {
		return nil
	}
	var he *Error
	if errors.As(err, &he) {
		if prefix == "" || strings.HasPrefix(he.Message, prefix) {
			return he
		}
		c := *he
		c.Message = prefix + ": " + he.Message
		return &c
	}
	kind := "error"
	var ne net.Error
	var oe *net.OpError
	var pe *os.PathError
	var errno syscall.Errno
	switch {
	case errors.Is(err, context.Canceled):
		kind = "cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		kind = "timeout"
	case errors.Is(err, os.ErrNotExist):
		kind = "ENOENT"
	case errors.Is(err, os.ErrPermission):
		kind = "EACCES"
	case errors.Is(err, os.ErrExist):
		kind = "EEXIST"
	case errors.As(err, &oe):
		kind = "network"
	case errors.As(err, &errno) && errno != 0:
		// A bare errno (syscall.Errno is a net.Error too, so it must be
		// told apart here): its name, such as ENOTDIR or ENOSPC, which
		// fuse answers the kernel with; "network" for a socket's.
		kind = errnoKind(errno)
	case errors.As(err, &pe):
		kind = "io"
	case errors.As(err, &ne):
		kind = "network"
	}
	msg := err.Error()
	if prefix != "" {
		msg = prefix + ": " + msg
	}
	return &Error{Kind: kind, Message: msg, Err: err}
}

func errnoKind(errno syscall.Errno) string {
	switch errno {
	case syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EHOSTUNREACH,
		syscall.ENETUNREACH, syscall.ENETDOWN, syscall.EADDRNOTAVAIL, syscall.ENOTCONN:
		return "network"
	}
	if name := unix.ErrnoName(errno); name != "" {
		return name
	}
	return "io"
}

// ErrorValue converts err to the Lua value raised for it.
func ErrorValue(L *lua.LState, err error) lua.LValue {
	var le *LuaError
	if errors.As(err, &le) {
		return le.Value
	}
	e := Wrap("", err)
	t := L.NewTable()
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.RawSetString(k, ToLua(L, e.Fields[k]))
	}
	t.RawSetString("kind", lua.LString(e.Kind))
	t.RawSetString("message", lua.LString(e.Message))
	L.SetMetatable(t, errorMeta(L))
	return t
}

// ToLua converts simple Go values (string, []byte, numbers, bool, nil,
// []string, map[string]any, []any) to Lua values.
func ToLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case lua.LValue:
		return x
	case string:
		return lua.LString(x)
	case []byte:
		return lua.LString(x)
	case bool:
		return lua.LBool(x)
	case int:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case uint16:
		return lua.LNumber(x)
	case uint32:
		return lua.LNumber(x)
	case uint64:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case []string:
		t := L.CreateTable(len(x), 0)
		for i, s := range x {
			t.RawSetInt(i+1, lua.LString(s))
		}
		return t
	case []any:
		t := L.CreateTable(len(x), 0)
		for i, s := range x {
			t.RawSetInt(i+1, ToLua(L, s))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		for k, s := range x {
			t.RawSetString(k, ToLua(L, s))
		}
		return t
	case error:
		return lua.LString(x.Error())
	default:
		return lua.LString(fmt.Sprint(x))
	}
}

func errorMeta(L *lua.LState) *lua.LTable {
	if mt, ok := L.G.Registry.RawGetString("gos3lua.error").(*lua.LTable); ok {
		return mt
	}
	mt := L.NewTable()
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		msg := lua.LVAsString(t.RawGetString("message"))
		if msg == "" {
			msg = lua.LVAsString(t.RawGetString("kind"))
		}
		L.Push(lua.LString(msg))
		return 1
	}))
	mt.RawSetString("__name", lua.LString("error"))
	L.G.Registry.RawSetString("gos3lua.error", mt)
	return mt
}

// Raise raises err in the calling Lua code as an error table. It does not
// return (it panics the way lua.LState.Error does).
func Raise(L *lua.LState, err error) int {
	L.Error(ErrorValue(L, err), 0)
	return 0
}

// ArgError raises the standard `bad argument #n to 'fn' (msg)` error.
func ArgError(L *lua.LState, n int, msg string) int {
	L.ArgError(n, msg)
	return 0
}

// LuaError is a Lua error that escaped a task: its value, where it was
// raised (FILE:LINE) and the Lua traceback.
type LuaError struct {
	Value     lua.LValue
	Where     string
	Traceback string
	// Text is the value's __tostring result when it has one (computed
	// where the error is caught, on the scheduler goroutine).
	Text string
}

func (e *LuaError) Error() string {
	msg := e.Message()
	if e.Where != "" && !strings.HasPrefix(msg, e.Where) && !hasPosition(msg) {
		msg = e.Where + ": " + msg
	}
	return msg
}

// Message is tostring of the error value.
func (e *LuaError) Message() string {
	if e.Text != "" {
		return e.Text
	}
	if t, ok := e.Value.(*lua.LTable); ok {
		if m := t.RawGetString("message"); m != lua.LNil {
			return lua.LVAsString(m)
		}
		if k := t.RawGetString("kind"); k != lua.LNil {
			return lua.LVAsString(k)
		}
	}
	if e.Value == nil || e.Value == lua.LNil {
		return "nil"
	}
	return e.Value.String()
}

// Kind is the error table's kind, "" for a plain string error.
func (e *LuaError) Kind() string {
	if t, ok := e.Value.(*lua.LTable); ok {
		return lua.LVAsString(t.RawGetString("kind"))
	}
	return ""
}

// hasPosition reports whether msg starts with "something.lua:123:".
func hasPosition(msg string) bool {
	i := strings.Index(msg, ":")
	if i <= 0 {
		return false
	}
	j := strings.Index(msg[i+1:], ":")
	if j <= 0 {
		return false
	}
	for _, c := range msg[i+1 : i+1+j] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ExitError is returned by Run when the script called os.exit(code).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// metaText is tostring(v) through v's __tostring metamethod, "" when it has
// none or the metamethod fails. It calls Lua: scheduler goroutine only.
func metaText(L *lua.LState, v lua.LValue) string {
	if _, ok := v.(*lua.LTable); !ok {
		if _, ok := v.(*lua.LUserData); !ok {
			return ""
		}
	}
	fn, ok := L.GetMetaField(v, "__tostring").(*lua.LFunction)
	if !ok {
		return ""
	}
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, v); err != nil {
		return ""
	}
	r := L.Get(-1)
	L.Pop(1)
	if s, ok := r.(lua.LString); ok {
		return string(s)
	}
	return ""
}
