package test

import (
	"math"
	"os"
	"os/exec"
	"strings"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// RequireToolsEnv set to 1 turns t:need's skips into failures (CI sets it),
// the same switch as hosttest.Need for Go tests.
const RequireToolsEnv = "GOS3LUA_REQUIRE_TOOLS"

func checkT(L *lua.LState) *run { return host.Check[*run](L, 1, classT) }

// failNow raises f as the test's failure, at the caller's FILE:LINE. An
// assertion that fails in a task other than the test's own (one the body
// spawned and may never wait for) is recorded on the test at once, so
// that it cannot vanish with that task.
func failNow(L *lua.LState, f *Failure) int {
	if f.Where == "" {
		f.Where = callerWhere(L)
	}
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if r, ok := ud.Value.(*run); ok {
			r.s.noteStray(r, f)
		}
	}
	L.Error(host.NewObject(L, classFailure, f), 0)
	return 0
}

func message(what, msg string) string {
	if msg != "" {
		return what + ": " + msg
	}
	return what
}

func tEq(L *lua.LState) int {
	checkT(L)
	actual, expected := L.Get(2), L.Get(3)
	msg := L.OptString(4, "")
	if deepEqual(actual, expected) {
		return 0
	}
	eShown, eRaw := display(expected)
	aShown, aRaw := display(actual)
	what := "t:eq: values differ"
	if eShown == aShown {
		what += " (they print the same but are different objects)"
	}
	return failNow(L, &Failure{
		Message: message(what, msg),
		Values:  []Value{{"expected", eShown}, {"actual", aShown}},
		Diff:    lineDiff(eRaw, aRaw),
	})
}

func tNeq(L *lua.LState) int {
	checkT(L)
	actual, other := L.Get(2), L.Get(3)
	msg := L.OptString(4, "")
	if !deepEqual(actual, other) {
		return 0
	}
	return failNow(L, &Failure{
		Message: message("t:neq: values are equal", msg),
		Values:  []Value{{"both", inspect(actual)}},
	})
}

func tOk(L *lua.LState) int {
	checkT(L)
	v := L.Get(2)
	msg := L.OptString(3, "")
	if lua.LVAsBool(v) {
		return 0
	}
	return failNow(L, &Failure{
		Message: message("t:ok: value is not truthy", msg),
		Values:  []Value{{"actual", inspect(v)}},
	})
}

func tNear(L *lua.LState) int {
	checkT(L)
	actual := float64(L.CheckNumber(2))
	expected := float64(L.CheckNumber(3))
	eps := 1e-9
	msg := ""
	switch v := L.Get(4).(type) {
	case lua.LNumber:
		eps = float64(v)
		msg = L.OptString(5, "")
	case lua.LString:
		msg = string(v)
	}
	if math.Abs(actual-expected) <= eps {
		return 0
	}
	return failNow(L, &Failure{
		Message: message("t:near: values are not within epsilon", msg),
		Values: []Value{{"expected", formatNumber(expected)}, {"actual", formatNumber(actual)},
			{"epsilon", formatNumber(eps)}, {"difference", formatNumber(math.Abs(actual - expected))}},
	})
}

// matchText reports whether s contains pattern as a plain substring or
// matches it as a Lua pattern (so "a-b" and "a%-b" both find "a-b").
func matchText(s, pattern string) bool {
	if strings.Contains(s, pattern) {
		return true
	}
	ms, err := pm.Find(pattern, []byte(s), 0, 1)
	return err == nil && len(ms) > 0
}

func tMatch(L *lua.LState) int {
	checkT(L)
	v := L.Get(2)
	pattern := L.CheckString(3)
	msg := L.OptString(4, "")
	str, ok := v.(lua.LString)
	if ok && matchText(string(str), pattern) {
		return 0
	}
	what := "t:match: no match"
	if !ok {
		what = "t:match: not a string"
	}
	return failNow(L, &Failure{
		Message: message(what, msg),
		Values:  []Value{{"pattern", quote(pattern)}, {"actual", inspect(v)}},
	})
}

// tErrCheck is the Go half of t:err(fn, pattern, msg): its arguments are
// those plus pcall(fn)'s results.
func tErrCheck(L *lua.LState) int {
	checkT(L)
	L.CheckFunction(2)
	pattern := ""
	if v, ok := L.Get(3).(lua.LString); ok {
		pattern = string(v)
	} else if L.Get(3) != lua.LNil {
		L.ArgError(3, "pattern expected (a string or nil), got "+host.TypeName(L.Get(3)))
	}
	msg := L.OptString(4, "")
	if lua.LVAsBool(L.Get(5)) {
		var rets []string
		for i := 6; i <= L.GetTop(); i++ {
			rets = append(rets, inspect(L.Get(i)))
		}
		vals := []Value{}
		if pattern != "" {
			vals = append(vals, Value{"pattern", quote(pattern)})
		}
		if len(rets) > 0 {
			vals = append(vals, Value{"returned", strings.Join(rets, ", ")})
		}
		return failNow(L, &Failure{Message: message("t:err: the function did not raise an error", msg), Values: vals})
	}
	e := L.Get(6)
	text := errorText(L, e)
	if pattern != "" && !matchText(text, pattern) {
		return failNow(L, &Failure{
			Message: message("t:err: the error does not match", msg),
			Values:  []Value{{"pattern", quote(pattern)}, {"error", text}},
		})
	}
	L.Push(e)
	return 1
}

func tFail(L *lua.LState) int {
	checkT(L)
	return failNow(L, &Failure{Message: L.OptString(2, "t:fail")})
}

func raiseSkip(L *lua.LState, reason string) int {
	L.Error(host.NewObject(L, classSkip, &skipSignal{reason: reason}), 0)
	return 0
}

func tSkipNow(L *lua.LState) int {
	checkT(L)
	return raiseSkip(L, L.OptString(2, "skipped"))
}

// toolPresent: a name on PATH, or an absolute path that exists (/dev/fuse).
func toolPresent(tool string) bool {
	if strings.HasPrefix(tool, "/") {
		_, err := os.Stat(tool)
		return err == nil
	}
	_, err := exec.LookPath(tool)
	return err == nil
}

func tNeed(L *lua.LState) int {
	checkT(L)
	for i := 2; i <= L.GetTop(); i++ {
		tool := L.CheckString(i)
		if toolPresent(tool) {
			continue
		}
		if os.Getenv(RequireToolsEnv) == "1" {
			return failNow(L, &Failure{Message: "t:need: " + tool + " is required (" + RequireToolsEnv + "=1) but missing"})
		}
		return raiseSkip(L, "needs "+tool)
	}
	return 0
}

func tTmpdir(L *lua.LState) int {
	r := checkT(L)
	dir, err := os.MkdirTemp("", "gos3lua-test-")
	if err != nil {
		return host.Raise(L, host.Wrap("t:tmpdir", err))
	}
	r.tmpdirs = append(r.tmpdirs, dir)
	L.Push(lua.LString(dir))
	return 1
}

func tCleanup(L *lua.LState) int {
	r := checkT(L)
	r.cleanups = append(r.cleanups, L.CheckFunction(2))
	return 0
}

func tLog(L *lua.LState) int {
	r := checkT(L)
	parts := make([]string, 0, L.GetTop()-1)
	for i := 2; i <= L.GetTop(); i++ {
		parts = append(parts, L.ToStringMeta(L.Get(i)).String())
	}
	r.s.mu.Lock()
	r.out.WriteString(strings.Join(parts, "\t") + "\n")
	r.s.mu.Unlock()
	return 0
}

func tName(L *lua.LState) int {
	r := checkT(L)
	L.Push(lua.LString(r.tc.name))
	return 1
}
