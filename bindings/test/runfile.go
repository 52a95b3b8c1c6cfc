package test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// FileResult is the outcome of one file: its tests (or doc examples) and,
// when the file itself failed (it did not load, raised at top level, timed
// out, called os.exit), Err, which counts as one failed test.
type FileResult struct {
	Path     string
	Doc      bool // doc examples rather than a test file
	Tests    []TestResult
	Err      *Failure
	NotRun   int // tests registered but never run because the file stopped
	Duration time.Duration
	Output   string // printed outside any test
}

// Counts is the file's passed, failed and skipped tests.
func (f *FileResult) Counts() (pass, fail, skip int) {
	for _, t := range f.Tests {
		switch t.Status {
		case Pass:
			pass++
		case Fail:
			fail++
		case Skip:
			skip++
		}
	}
	if f.Err != nil {
		fail++
	}
	return
}

// Failed reports whether anything in the file failed.
func (f *FileResult) Failed() bool {
	_, fail, _ := f.Counts()
	return fail > 0
}

// FileOptions configure the run of one file.
type FileOptions struct {
	Context context.Context        // cancelled on Ctrl-C; nil for none
	Match   func(name string) bool // --run; nil runs every test
	Timeout time.Duration          // 0 for none
	Root    string                 // the project root, second on package.path
}

// grace is how long a cancelled file may take to stop before the runner
// gives up on it (its goroutine is abandoned, not its report).
var grace = 5 * time.Second

var errFileDone = errors.New("the test file finished (a task it started was still running)")

// newTestHost is a fresh Host for one file: output captured into w, an
// empty stdin, the file's directory and the project root first on
// package.path, and a Lua context so that even `while true do end` can be
// stopped: stopVM cancels it (runBounded does, on a timeout or Ctrl-C). It
// is not the Host's context, so that tasks a test left running are ended
// by the Host at the end of the file the usual way (quietly, as
// "cancelled"), not by the VM raising "context canceled" in them.
func newTestHost(path string, o FileOptions, w io.Writer) (h *host.Host, stopVM context.CancelFunc) {
	h = host.New(host.Options{Script: path, Context: o.Context})
	dirs := []string{filepath.Dir(path)}
	if o.Root != "" {
		dirs = append(dirs, o.Root)
	}
	h.PrependPath(dirs...)
	installOutput(h, w)
	// Every task's coroutine is made by NewThread from h.L and inherits
	// this context; the VM checks it between instructions.
	vm, stopVM := context.WithCancel(context.Background())
	h.L.SetContext(vm)
	return h, stopVM
}

const stdioSrc = `local io, i, o = ...
io.read = function(...) return i:read(...) end
io.write = function(...) return o:write(...) end
io.lines = (function(orig) return function(name, ...) if name == nil then return i:lines() end return orig(name, ...) end end)(io.lines)`

func installOutput(h *host.Host, w io.Writer) {
	L := h.L
	ioT := L.GetGlobal("io").(*lua.LTable)
	stdin := host.NewStream(L, "stdin", strings.NewReader(""), nil, nil)
	stdout := host.NewStream(L, "stdout", nil, w, nil)
	ioT.RawSetString("stdin", stdin)
	ioT.RawSetString("stdout", stdout)
	ioT.RawSetString("stderr", host.NewStream(L, "stderr", nil, w, nil))
	L.Push(compiled(L, stdioSrc))
	L.Push(ioT)
	L.Push(stdin)
	L.Push(stdout)
	L.Call(3, 0)
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		parts := make([]string, n)
		for i := 1; i <= n; i++ {
			parts[i-1] = L.ToStringMeta(L.Get(i)).String()
		}
		io.WriteString(w, strings.Join(parts, "\t")+"\n")
		return 0
	}))
}

func loadSource(h *host.Host, path string) (*lua.LFunction, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return h.Compile(string(src), path)
}

// The main task of a test file: load it (which registers its tests), then
// run each test, waiting for it to end. wait() may be woken early (the
// host's deadlock detector wakes every parked task), hence the loop.
const mainSrc = `local chunk, start, wait = ...
chunk()
local i = 1
while start(i) do
  while wait() ~= true do end
  i = i + 1
end`

// RunFile runs one test file in its own Host and reports its results. It
// never panics on bad input and returns within Timeout (+ a grace period).
func RunFile(path string, o FileOptions) *FileResult {
	res := &FileResult{Path: path}
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()

	var s *suite
	h, stopVM := newTestHost(path, o, writerFunc(func(p []byte) (int, error) { return s.Write(p) }))
	defer stopVM()
	s = newSuite(h)
	s.wrapExit()
	if o.Match != nil {
		s.match = o.Match
	}
	chunk, err := loadSource(h, path)
	if err != nil {
		h.Close()
		res.Err = &Failure{Where: path, Message: err.Error()}
		return res
	}
	main := compiled(h.L, mainSrc)
	hooked := false
	startFn := h.L.NewFunction(func(L *lua.LState) int {
		if !hooked {
			hooked = true
			// Tasks a test left running must not keep the file alive.
			h.Current().OnDone(func(*host.Task) { h.Cancel(errFileDone) })
		}
		i := L.CheckInt(1)
		if i > len(s.tests) {
			L.Push(lua.LFalse)
			return 1
		}
		if tc := s.tests[i-1]; s.match(tc.name) {
			s.start(tc, func(*run) {
				if w := s.waiter; w != nil {
					s.waiter = nil
					h.Wake(w, lua.LTrue)
				}
			})
		}
		L.Push(lua.LTrue)
		return 1
	})
	waitFn := h.L.NewFunction(func(L *lua.LState) int {
		if s.running == nil {
			L.Push(lua.LTrue)
			return 1
		}
		s.waiter = h.Current()
		return host.Park(L)
	})

	err, why, abandoned := runBounded(h, stopVM, o, func() error {
		_, err := h.Run(main, chunk, startFn, waitFn)
		return err
	})

	s.mu.Lock()
	res.Tests = append(res.Tests, s.results...)
	res.Output = s.fileOut.String()
	cur := s.running
	var curOut string
	if cur != nil {
		curOut = cur.out.String()
	}
	s.mu.Unlock()

	// Why the run stopped early, if it did.
	var stop *Failure
	var ee *host.ExitError
	var le *host.LuaError
	switch {
	case !abandoned && s.stopped && cur == nil:
		// Already reported as the failure of the test it ended.
		stop = &Failure{}
	case !abandoned && s.exited:
		stop = s.stopReason()
	case why != "":
		stop = &Failure{Message: why}
	case errors.As(err, &ee):
		stop = &Failure{Message: fmt.Sprintf("os.exit(%d) was called: it ends the file's run (use t:skip or t:need to skip)", ee.Code)}
	case errors.As(err, &le):
		stop, _, _ = classify(le)
		if le.Kind() == "cancelled" && o.Context != nil && o.Context.Err() != nil {
			stop = &Failure{Message: "interrupted"}
		}
	case err != nil:
		stop = &Failure{Message: err.Error()}
	}
	if cur != nil {
		if stop == nil {
			stop = &Failure{Message: "the test did not finish"}
		}
		if stop.Where == "" {
			stop.Where = cur.tc.where
		}
		r := cur.res
		if r.Status == Fail {
			r.Failure.Extra = append(r.Failure.Extra, stop.Head())
		} else {
			r.Status = Fail
			r.Failure = stop
		}
		r.Duration = time.Since(cur.start)
		r.Output = curOut
		res.Tests = append(res.Tests, r)
		if !abandoned {
			for _, d := range cur.tmpdirs {
				os.RemoveAll(d)
			}
		}
	} else if stop != nil && stop.Message != "" {
		if stop.Where == "" {
			stop.Where = path
		}
		res.Err = stop
	}
	if stop != nil {
		n := 0
		for _, tc := range s.tests {
			if s.match(tc.name) {
				n++
			}
		}
		res.NotRun = max(0, n-len(res.Tests))
	}
	if !abandoned {
		h.Close()
	}
	return res
}

// runBounded runs fn (which drives h) on its own goroutine and waits for
// it, cancelling h on timeout or when the parent context ends. why says
// which; abandoned is true when fn did not return even after the grace
// period (h must then be left alone).
func runBounded(h *host.Host, stopVM context.CancelFunc, o FileOptions, fn func() error) (err error, why string, abandoned bool) {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	var timeout <-chan time.Time
	if o.Timeout > 0 {
		t := time.NewTimer(o.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var parent <-chan struct{}
	if o.Context != nil {
		parent = o.Context.Done()
	}
	select {
	case err = <-done:
		return err, "", false
	case <-timeout:
		why = fmt.Sprintf("timed out after %s (--timeout)", o.Timeout)
		h.Cancel(errors.New(why))
	case <-parent:
		why = "interrupted"
	}
	stopVM()
	select {
	case err = <-done:
		return err, why, false
	case <-time.After(grace):
		return nil, why + "; it did not stop when cancelled", true
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
