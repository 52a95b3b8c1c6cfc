package test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// An example written in a comment:
//
//	-- >>> double(21)
//	-- 42
//
// "-- ... more" continues the expression on the next line; the expected
// output runs to a blank comment line, the next ">>>" or the end of the
// comment. "error: TEXT" expects an error whose message contains TEXT.
type example struct {
	line int
	src  string
	want []string
}

// commentText is the text of a line comment ("-- x" → "x"), ok=false for
// code, blank lines and block comments.
func commentText(line string) (string, bool) {
	t := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(t, "--") || strings.HasPrefix(t, "--[[") || strings.HasPrefix(t, "--[=") {
		return "", false
	}
	t = strings.TrimLeft(t, "-")
	t = strings.TrimPrefix(t, " ")
	return strings.TrimRight(t, " \t\r"), true
}

func parseExamples(src string) []example {
	if !strings.Contains(src, ">>>") {
		return nil
	}
	var out []example
	var cur *example
	inWant := false
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
		}
		cur, inWant = nil, false
	}
	for i, line := range strings.Split(src, "\n") {
		text, ok := commentText(line)
		switch {
		case !ok:
			flush()
		case strings.HasPrefix(strings.TrimLeft(text, " \t"), ">>>"):
			flush()
			cur = &example{line: i + 1, src: strings.TrimSpace(strings.TrimLeft(text, " \t")[3:])}
		case cur == nil:
		case !inWant && (text == "..." || strings.HasPrefix(text, "... ")):
			cur.src += "\n" + strings.TrimPrefix(strings.TrimPrefix(text, "..."), " ")
		case strings.TrimSpace(text) == "":
			flush()
		default:
			inWant = true
			cur.want = append(cur.want, text)
		}
	}
	flush()
	return out
}

// hasExamples reports whether the file at path has any example, cheaply.
func hasExamples(path string) bool {
	src, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(src, []byte(">>>")) {
		return false
	}
	return len(parseExamples(string(src))) > 0
}

const docMainSrc = `local chunk, modname, examples, begin, report = ...
local M = chunk(modname)
local G = _G
local env = setmetatable({}, {__index = function(_, k)
  local v
  if type(M) == "table" then
    v = M[k]
    if v ~= nil then return v end
  end
  v = G[k]
  if v == nil and (k == "M" or k == modname) then return M end
  return v
end})
for i, ex in ipairs(examples) do
  begin(i)
  local f, err = loadstring("return " .. ex.src, ex.name)
  if not f then f, err = loadstring(ex.src, ex.name) end
  if not f then
    report(i, false, err)
  else
    setfenv(f, env)
    report(i, pcall(f))
  end
end`

// RunDoc runs the examples in the comments of the .lua file at path: the
// file is loaded as a module (with the file's directory first on
// package.path) and each example is evaluated with the fields of the table
// it returns and the globals in scope, and the table itself as M and as
// the file's base name (unless those are globals). Each example is one
// test.
func RunDoc(path string, o FileOptions) *FileResult {
	res := &FileResult{Path: path, Doc: true}
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	src, err := os.ReadFile(path)
	if err != nil {
		res.Err = &Failure{Where: path, Message: err.Error()}
		return res
	}
	exs := parseExamples(string(src))

	var mu sync.Mutex
	var out bytes.Buffer
	cur := -1
	var curStart time.Time
	h, stopVM := newTestHost(path, o, writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	}))
	defer stopVM()
	chunk, err := loadSource(h, path)
	if err != nil {
		h.Close()
		res.Err = &Failure{Where: path, Message: err.Error()}
		return res
	}
	main := compiled(h.L, docMainSrc)
	L := h.L
	list := L.NewTable()
	for _, ex := range exs {
		t := L.NewTable()
		t.RawSetString("src", lua.LString(ex.src))
		t.RawSetString("name", lua.LString(fmt.Sprintf("%s:%d", path, ex.line)))
		list.Append(t)
	}
	var results []TestResult
	name := func(ex example) string {
		return fmt.Sprintf("line %d: >>> %s", ex.line, strings.ReplaceAll(ex.src, "\n", " "))
	}
	begin := L.NewFunction(func(L *lua.LState) int {
		mu.Lock()
		cur = L.CheckInt(1) - 1
		curStart = time.Now()
		out.Reset()
		mu.Unlock()
		return 0
	})
	report := L.NewFunction(func(L *lua.LState) int {
		i := L.CheckInt(1) - 1
		ex := exs[i]
		ok := lua.LVAsBool(L.Get(2))
		mu.Lock()
		printed := out.String()
		out.Reset()
		cur = -1
		mu.Unlock()
		r := TestResult{Name: name(ex), Where: fmt.Sprintf("%s:%d", path, ex.line), Duration: time.Since(curStart)}
		want := strings.Join(ex.want, "\n")
		var got string
		var errText string
		if ok {
			var vals []string
			for j := 3; j <= L.GetTop(); j++ {
				vals = append(vals, inspect(L.Get(j)))
			}
			got = printed
			if len(vals) > 0 {
				got += strings.Join(vals, ", ")
			}
		} else {
			errText = examplePosition(errorText(L, L.Get(3)), path, ex.line)
			got = printed + "error: " + errText
		}
		pass := false
		if wantErr, isErr := strings.CutPrefix(want, "error:"); isErr && len(ex.want) == 1 {
			pass = !ok && strings.Contains(errText, strings.TrimSpace(wantErr))
		} else {
			pass = normalize(got) == normalize(want)
		}
		if !pass {
			r.Status = Fail
			r.Failure = &Failure{
				Where:   r.Where,
				Message: "example output differs",
				Values:  []Value{{"expected", want}, {"actual", normalize(got)}},
				Diff:    lineDiff(want, normalize(got)),
			}
		}
		results = append(results, r)
		return 0
	})

	modname := strings.TrimSuffix(filepath.Base(path), ".lua")
	err, why, abandoned := runBounded(h, stopVM, o, func() error {
		_, err := h.Run(main, chunk, lua.LString(modname), list, begin, report)
		return err
	})
	if !abandoned { // else written by a goroutine still running: not safe to read
		res.Tests = results
	}
	mu.Lock()
	running := cur
	mu.Unlock()
	var stop *Failure
	var le *host.LuaError
	var ee *host.ExitError
	switch {
	case why != "":
		stop = &Failure{Message: why}
	case err == nil:
	case errors.As(err, &ee):
		stop = &Failure{Message: fmt.Sprintf("os.exit(%d) was called", ee.Code)}
	case errors.As(err, &le):
		stop, _, _ = classify(le)
	default:
		stop = &Failure{Message: err.Error()}
	}
	if stop != nil {
		if running >= 0 && !abandoned {
			ex := exs[running]
			stop.Where = fmt.Sprintf("%s:%d", path, ex.line)
			res.Tests = append(res.Tests, TestResult{Name: name(ex), Where: stop.Where, Status: Fail, Failure: stop})
		} else {
			if stop.Where == "" {
				stop.Where = path
			}
			res.Err = stop
		}
		res.NotRun = max(0, len(exs)-len(res.Tests))
	}
	if !abandoned {
		h.Close()
	}
	return res
}

func normalize(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.Join(lines, "\n")
}

// examplePosition turns "path:12:2: msg" (line 2 of the example at line 12)
// into "path:13: msg", the line in the file.
func examplePosition(msg, path string, line int) string {
	prefix := fmt.Sprintf("%s:%d:", path, line)
	rest, ok := strings.CutPrefix(msg, prefix)
	if !ok {
		return msg
	}
	i := strings.Index(rest, ":")
	if i <= 0 {
		return msg
	}
	var k int
	if _, err := fmt.Sscanf(rest[:i], "%d", &k); err != nil || k < 1 {
		return msg
	}
	return fmt.Sprintf("%s:%d:%s", path, line+k-1, rest[i+1:])
}
