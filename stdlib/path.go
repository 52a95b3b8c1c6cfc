package stdlib

import (
	"path/filepath"
	"strings"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// path: pure string operations on slash-separated paths (no disk access
// except abs, which asks for the working directory).
var pathFuncs = map[string]lua.LGFunction{
	"join":  pathJoin,    // join(a, b, ...) → cleaned path
	"base":  pathBase,    // base("a/b.txt") → "b.txt"
	"dir":   pathDirname, // dir("a/b.txt") → "a"
	"ext":   pathExt,     // ext("a/b.tar.gz") → ".gz"
	"stem":  pathStem,    // stem("a/b.txt") → "b"
	"split": pathSplit,   // split("a/b.txt") → "a/", "b.txt"
	"clean": pathClean,   // clean("a//b/../c") → "a/c"
	"rel":   pathRel,     // rel(base, target) → target relative to base
	"abs":   pathAbs,     // abs(p) → absolute path
	"isabs": pathIsAbs,   // isabs(p) → bool
}

// PathLoader is require("path").
func PathLoader(L *lua.LState) int {
	L.Push(host.Module(L, pathFuncs))
	return 1
}

func pushStr(L *lua.LState, s string) int {
	L.Push(lua.LString(s))
	return 1
}

func pathJoin(L *lua.LState) int {
	n := L.GetTop()
	parts := make([]string, n)
	for i := 1; i <= n; i++ {
		parts[i-1] = L.CheckString(i)
	}
	return pushStr(L, filepath.Join(parts...))
}

func pathBase(L *lua.LState) int    { return pushStr(L, filepath.Base(L.CheckString(1))) }
func pathDirname(L *lua.LState) int { return pushStr(L, filepath.Dir(L.CheckString(1))) }
func pathExt(L *lua.LState) int     { return pushStr(L, filepath.Ext(L.CheckString(1))) }
func pathClean(L *lua.LState) int   { return pushStr(L, filepath.Clean(L.CheckString(1))) }

func pathStem(L *lua.LState) int {
	b := filepath.Base(L.CheckString(1))
	return pushStr(L, strings.TrimSuffix(b, filepath.Ext(b)))
}

func pathSplit(L *lua.LState) int {
	d, f := filepath.Split(L.CheckString(1))
	L.Push(lua.LString(d))
	L.Push(lua.LString(f))
	return 2
}

func pathRel(L *lua.LState) int {
	base, target := L.CheckString(1), L.CheckString(2)
	r, err := filepath.Rel(base, target)
	if err != nil {
		return host.Raise(L, host.Errorf("EINVAL", "path.rel: %v", err))
	}
	return pushStr(L, r)
}

func pathAbs(L *lua.LState) int {
	p := L.CheckString(1)
	a, err := filepath.Abs(p)
	if err != nil {
		return host.Raise(L, host.Wrap("path.abs "+p, err))
	}
	return pushStr(L, a)
}

func pathIsAbs(L *lua.LState) int {
	L.Push(lua.LBool(filepath.IsAbs(L.CheckString(1))))
	return 1
}
