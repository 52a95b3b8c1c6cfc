package stdlib

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// log: leveled, timestamped lines on stderr (and optionally a file).
// Writes are synchronous and short, so log works anywhere, even where a
// task cannot suspend (iterators, metamethods).
var logFuncs = map[string]lua.LGFunction{
	"debug": logAt(levelDebug), // debug(fmt, ...) or debug(v, ...)
	"info":  logAt(levelInfo),
	"warn":  logAt(levelWarn),
	"error": logAt(levelError),
	"level": logLevel, // level([name]) → previous level; GOS3LUA_LOG sets the start level
	"file":  logFile,  // file(path | nil [, {stderr=false}]): also append lines to path
}

// LogLoader is require("log").
func LogLoader(L *lua.LState) int {
	L.Push(host.Module(L, logFuncs))
	return 1
}

const (
	levelDebug = iota
	levelInfo
	levelWarn
	levelError
	levelOff
)

var levelNames = []string{"debug", "info", "warn", "error", "off"}

// logStderr is where log lines go; tests swap it.
var logStderr io.Writer = os.Stderr

// logger is the per-run state, kept in the Lua registry.
type logger struct {
	mu     sync.Mutex
	level  int
	file   *os.File
	stderr bool
}

func getLogger(L *lua.LState) *logger {
	if ud, ok := L.G.Registry.RawGetString("log.state").(*lua.LUserData); ok {
		return ud.Value.(*logger)
	}
	lg := &logger{level: levelInfo, stderr: true}
	if env := strings.ToLower(os.Getenv("GOS3LUA_LOG")); env != "" {
		for i, n := range levelNames {
			if n == env || env == "warning" && n == "warn" {
				lg.level = i
			}
		}
	}
	ud := L.NewUserData()
	ud.Value = lg
	L.G.Registry.RawSetString("log.state", ud)
	return lg
}

func logAt(level int) lua.LGFunction {
	return func(L *lua.LState) int {
		lg := getLogger(L)
		if level < lg.level || L.GetTop() == 0 {
			return 0
		}
		msg := logMessage(L)
		line := fmt.Sprintf("%s %-5s %s\n", Strftime(time.Now(), "%Y-%m-%d %H:%M:%S"), strings.ToUpper(levelNames[level]), msg)
		lg.write(line)
		return 0
	}
}

// logMessage is string.format(...) when the first argument is a string
// with a % and more arguments follow, else the arguments' tostring (tables
// inspected) joined by spaces.
func logMessage(L *lua.LState) string {
	n := L.GetTop()
	if s, ok := L.Get(1).(lua.LString); ok && n > 1 && strings.Contains(string(s), "%") {
		format := L.GetField(L.GetGlobal("string"), "format")
		L.Insert(format, 1)
		L.Call(n, 1)
		return lua.LVAsString(L.Get(-1))
	}
	parts := make([]string, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			parts[i-1] = string(v)
		case *lua.LTable:
			if mt, ok := L.GetMetatable(v).(*lua.LTable); ok && mt.RawGetString("__tostring") != lua.LNil {
				parts[i-1] = L.ToStringMeta(v).String()
			} else {
				parts[i-1] = Inspect(v)
			}
		default:
			parts[i-1] = L.ToStringMeta(v).String()
		}
	}
	return strings.Join(parts, " ")
}

func (lg *logger) write(line string) {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	if lg.stderr {
		withBarCleared(func() { io.WriteString(logStderr, line) })
	}
	if lg.file != nil {
		lg.file.WriteString(line)
	}
}

func logLevel(L *lua.LState) int {
	lg := getLogger(L)
	prev := levelNames[lg.level]
	if L.GetTop() >= 1 {
		name := strings.ToLower(L.CheckString(1))
		found := false
		for i, n := range levelNames {
			if n == name || name == "warning" && n == "warn" {
				lg.mu.Lock()
				lg.level = i
				lg.mu.Unlock()
				found = true
			}
		}
		if !found {
			L.ArgError(1, fmt.Sprintf("unknown level %q (debug, info, warn, error, off)", name))
		}
	}
	return pushStr(L, prev)
}

// file(path [, {stderr=false}]) appends every line to path as well (or
// instead of stderr); file(nil) stops.
func logFile(L *lua.LState) int {
	lg := getLogger(L)
	var p string
	switch v := L.Get(1).(type) {
	case lua.LString:
		p = string(v)
	case *lua.LNilType:
	default:
		L.ArgError(1, "string or nil expected, got "+host.TypeName(v))
	}
	o := host.OptTable(L, 2)
	toStderr := o.RawGetString("stderr") != lua.LFalse
	var f *os.File
	if p != "" {
		var err error
		// Opening a log file is a one-off at start-up; done inline so that
		// the next log line is sure to land in it.
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return host.Raise(L, fsErr("log.file", p, err))
		}
	}
	lg.mu.Lock()
	if lg.file != nil {
		lg.file.Close()
	}
	lg.file = f
	lg.stderr = toStderr || f == nil
	lg.mu.Unlock()
	return 0
}
