package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// Status is a test's outcome.
type Status int

const (
	Pass Status = iota
	Fail
	Skip
)

func (s Status) String() string { return [...]string{"ok", "not ok", "skip"}[s] }

// TestResult is one test's outcome (or one doc example's).
type TestResult struct {
	Name     string
	Where    string // FILE:LINE of its definition
	Status   Status
	Skip     string   // the reason, when skipped
	Failure  *Failure // when failed
	Duration time.Duration
	Output   string // what it printed, and its t:log lines
}

// Failure says why a test failed: where, what, and the values involved.
type Failure struct {
	Where     string // FILE:LINE of the failing assertion, or of the error
	Message   string
	Values    []Value // e.g. expected, actual
	Diff      string  // a line diff of expected and actual, when multi-line
	Traceback string  // for errors outside assertions
	Extra     []string
}

// Value is a labelled value shown with a failure.
type Value struct{ Name, Text string }

// Head is the failure's first line: FILE:LINE: message.
func (f *Failure) Head() string {
	if f.Where == "" || strings.HasPrefix(f.Message, f.Where) || hasPosition(f.Message) {
		return f.Message
	}
	return f.Where + ": " + f.Message
}

// String is the whole failure as text (also tostring of a failure in Lua).
func (f *Failure) String() string {
	var b strings.Builder
	b.WriteString(f.Head())
	f.writeDetails(&b, "  ")
	return b.String()
}

func (f *Failure) writeDetails(b *strings.Builder, indent string) {
	width := 0
	for _, v := range f.Values {
		width = max(width, len(v.Name))
	}
	for _, v := range f.Values {
		pad := strings.Repeat(" ", width-len(v.Name))
		b.WriteString("\n" + indent + v.Name + ": " + pad + indentLines(v.Text, indent+strings.Repeat(" ", width+2)))
	}
	if f.Diff != "" {
		b.WriteString("\n" + indent + "diff (- expected, + actual):")
		for _, l := range strings.Split(f.Diff, "\n") {
			b.WriteString("\n" + indent + "  " + l)
		}
	}
	if f.Traceback != "" {
		for _, l := range strings.Split(f.Traceback, "\n") {
			b.WriteString("\n" + indent + l)
		}
	}
	for _, e := range f.Extra {
		b.WriteString("\n" + indent + "also: " + indentLines(e, indent+"  "))
	}
}

func indentLines(s, indent string) string {
	return strings.ReplaceAll(s, "\n", "\n"+indent)
}

// hasPosition reports whether msg starts with "something:123:".
func hasPosition(msg string) bool {
	i := strings.Index(msg, ":")
	if i <= 0 {
		return false
	}
	rest := msg[i+1:]
	j := strings.Index(rest, ":")
	if j <= 0 {
		return false
	}
	for _, c := range rest[:j] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

type skipSignal struct{ reason string }

func (s *skipSignal) String() string { return "skip: " + s.reason }

// suite is the state of the test module in one Host: the registered tests
// and, while they run, the current one.
type suite struct {
	h          *host.Host
	standalone bool // require("test") outside the runner: tests run at once
	match      func(name string) bool
	root       *group
	group      *group // the describe being registered
	tests      []*testCase
	waiter     *host.Task // the runner's main task, parked until a test ends
	exited     bool       // os.exit was called (the file's run ends)
	exitCode   int
	exitWhere  string
	stopped    bool // the end of the run (exit, timeout) was reported as a test's failure

	mu      sync.Mutex // guards what the runner reads: results, running, output
	running *run
	results []TestResult
	fileOut bytes.Buffer
}

type group struct {
	name          string
	parent        *group
	before, after []*lua.LFunction
}

type testCase struct {
	name  string
	fn    *lua.LFunction
	group *group
	where string
	skip  string // registered with test.skip
}

// run is one execution of a test: the `t` its body receives.
type run struct {
	s        *suite
	tc       *testCase
	t        lua.LValue
	res      TestResult
	cleanups []*lua.LFunction
	tmpdirs  []string
	out      bytes.Buffer // guarded by s.mu
	start    time.Time
	done     bool
	onEnd    func(*run)
	step     *host.Task        // the task of the hook or body running now
	noted    map[*Failure]bool // failures recorded by noteStray, not to count twice
	index    int               // of its result in s.results, once done
}

func (r *run) String() string { return "test: " + r.tc.name }

const suiteKey = "gos3lua.test.suite"

func newSuite(h *host.Host) *suite {
	root := &group{}
	s := &suite{h: h, root: root, group: root, match: func(string) bool { return true }}
	ud := h.L.NewUserData()
	ud.Value = s
	h.L.G.Registry.RawSetString(suiteKey, ud)
	return s
}

// suiteOf is the Host's suite; outside the runner one is made on first use,
// in standalone mode.
func suiteOf(L *lua.LState) *suite {
	if ud, ok := L.G.Registry.RawGetString(suiteKey).(*lua.LUserData); ok {
		if s, ok := ud.Value.(*suite); ok {
			return s
		}
	}
	s := newSuite(host.From(L))
	s.standalone = true
	return s
}

// Write captures print/io.write output: into the running test's output,
// or the file's when no test runs.
func (s *suite) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running != nil {
		s.running.out.Write(p)
	} else {
		s.fileOut.Write(p)
	}
	return len(p), nil
}

type step struct {
	fn    *lua.LFunction
	label string
}

// start runs tc: before_each hooks and the body (stopping at the first
// error), then after_each hooks and cleanups (all of them), each as its own
// task; then removes its temporary directories and calls onEnd. Scheduler
// goroutine only.
func (s *suite) start(tc *testCase, onEnd func(*run)) *run {
	r := &run{s: s, tc: tc, start: time.Now(), onEnd: onEnd}
	r.res = TestResult{Name: tc.name, Where: tc.where}
	s.mu.Lock()
	s.running = r
	s.mu.Unlock()
	if tc.skip != "" || tc.fn == nil {
		r.res.Status = Skip
		r.res.Skip = tc.skip
		r.end()
		return r
	}
	r.t = host.NewObject(s.h.L, classT, r)
	var chain []*group
	for g := tc.group; g != nil; g = g.parent {
		chain = append(chain, g)
	}
	var first, after []step
	for i := len(chain) - 1; i >= 0; i-- {
		for _, f := range chain[i].before {
			first = append(first, step{f, "before_each"})
		}
	}
	first = append(first, step{tc.fn, ""})
	for _, g := range chain {
		for _, f := range g.after {
			after = append(after, step{f, "after_each"})
		}
	}
	r.seq(first, true, func() {
		r.seq(after, false, func() {
			var cl []step
			for i := len(r.cleanups) - 1; i >= 0; i-- {
				cl = append(cl, step{r.cleanups[i], "cleanup"})
			}
			r.cleanups = nil
			r.seq(cl, false, r.end)
		})
	})
	return r
}

func (r *run) seq(steps []step, stopOnErr bool, then func()) {
	h := r.s.h
	if len(steps) == 0 || h.Context().Err() != nil {
		then()
		return
	}
	st := steps[0]
	r.step = h.Spawn(st.fn, r.t)
	r.step.OnDone(func(t *host.Task) {
		r.step = nil
		if t.Err != nil {
			r.record(t.Err, st.label)
			if stopOnErr {
				then()
				return
			}
		}
		r.seq(steps[1:], stopOnErr, then)
	})
}

// record notes a task's error: a failed assertion, a skip, or any other
// error (with its traceback). The first failure is the test's; later ones
// (an after_each that fails too) are added to it.
func (r *run) record(le *host.LuaError, label string) {
	if ud, ok := le.Value.(*lua.LUserData); ok {
		if f, ok := ud.Value.(*Failure); ok && r.noted[f] {
			return // already recorded when it was raised
		}
	}
	f, reason, skip := classify(le)
	if f != nil && f.Where == "" {
		// No position in the error (e.g. a Lua stack overflow): at least
		// the test's.
		f.Where = r.tc.where
	}
	if stop := r.s.stopReason(); stop != nil {
		// The error is the run ending under the test: say why.
		if stop.Where == "" {
			stop.Where = le.Where
		}
		f, skip, label = stop, false, ""
		r.s.stopped = true
	}
	if skip {
		if r.res.Status == Pass {
			r.res.Status = Skip
			r.res.Skip = reason
		}
		return
	}
	if label != "" {
		f.Message = label + ": " + f.Message
	}
	if r.res.Status == Fail {
		r.res.Failure.Extra = append(r.res.Failure.Extra, f.String())
		return
	}
	r.res.Status = Fail
	r.res.Failure = f
}

// noteStray records f, an assertion failing now outside the test's own
// task (in a task the test spawned, whose error nobody may ever see), on
// r's test once that task fails with it. After the test has ended it
// amends the test's result. Scheduler goroutine only.
func (s *suite) noteStray(r *run, f *Failure) {
	cur := s.h.Current()
	if cur == nil || (!r.done && cur == r.step) {
		return
	}
	// Recorded once the task fails with it: an assertion caught by pcall
	// there fails nothing, as in the test's own task.
	cur.Watch(func(t *host.Task) {
		if t.Err == nil {
			return
		}
		if ud, ok := t.Err.Value.(*lua.LUserData); ok && ud.Value == any(f) {
			t.Observe() // its failure is this test's, not a lost task's
			s.recordStray(r, f)
		}
	})
}

func (s *suite) recordStray(r *run, f *Failure) {
	if r.noted == nil {
		r.noted = map[*Failure]bool{}
	}
	r.noted[f] = true
	c := *f
	c.Message += " (in a task the test spawned)"
	res := &r.res
	if r.done {
		// Its result is out already: amend it.
		c.Message += ", after the test had ended"
		s.mu.Lock()
		defer s.mu.Unlock()
		res = &s.results[r.index]
	}
	if res.Status == Fail {
		res.Failure.Extra = append(res.Failure.Extra, c.String())
		return
	}
	res.Status = Fail
	res.Failure = &c
}

// stopReason is why the run is ending (os.exit, a timeout, Ctrl-C), nil
// while it is not.
func (s *suite) stopReason() *Failure {
	if s.exited {
		return &Failure{Where: s.exitWhere, Message: fmt.Sprintf("os.exit(%d) was called: it ends the file's run (use t:skip or t:need to skip a test)", s.exitCode)}
	}
	ctx := s.h.Context()
	if ctx.Err() == nil {
		return nil
	}
	cause := context.Cause(ctx)
	if errors.Is(cause, context.Canceled) {
		return &Failure{Message: "interrupted"}
	}
	return &Failure{Message: cause.Error()}
}

// wrapExit makes os.exit note where and with what code it was called
// before it ends the run (the host turns it into an ExitError).
func (s *suite) wrapExit() {
	L := s.h.L
	osT := L.GetGlobal("os").(*lua.LTable)
	orig, ok := osT.RawGetString("exit").(*lua.LFunction)
	if !ok || orig.GFunction == nil {
		return
	}
	osT.RawSetString("exit", L.NewFunction(func(L *lua.LState) int {
		code := 0
		switch v := L.Get(1).(type) {
		case lua.LBool:
			if !bool(v) {
				code = 1
			}
		case lua.LNumber:
			code = int(v)
		}
		s.exited, s.exitCode, s.exitWhere = true, code, callerWhere(L)
		return orig.GFunction(L)
	}))
}

func classify(le *host.LuaError) (f *Failure, reason string, skip bool) {
	if ud, ok := le.Value.(*lua.LUserData); ok {
		switch v := ud.Value.(type) {
		case *Failure:
			c := *v
			return &c, "", false
		case *skipSignal:
			return nil, v.reason, true
		}
	}
	return &Failure{Where: le.Where, Message: le.Error(), Traceback: cleanTraceback(le.Traceback)}, "", false
}

func (r *run) end() {
	for _, d := range r.tmpdirs {
		os.RemoveAll(d)
	}
	r.tmpdirs = nil
	r.res.Duration = time.Since(r.start)
	s := r.s
	s.mu.Lock()
	r.res.Output = r.out.String()
	r.index = len(s.results)
	s.results = append(s.results, r.res)
	s.running = nil
	s.mu.Unlock()
	r.done = true
	if r.onEnd != nil {
		r.onEnd(r)
	}
}

// runStandalone runs tc at once in the calling task (require("test")
// outside the runner, e.g. from hosttest.Run): a failure is raised in the
// caller as an error naming the test.
func (s *suite) runStandalone(L *lua.LState, tc *testCase) int {
	h := s.h
	if s.running != nil {
		L.RaiseError("test(%q): a test cannot start inside another test", tc.name)
	}
	me := h.Current()
	if me == nil {
		L.RaiseError("test(%q): must be called from a task", tc.name)
	}
	parked := false
	var failed error
	r := s.start(tc, func(r *run) {
		if r.res.Status == Fail {
			failed = &host.LuaError{Value: lua.LString(fmt.Sprintf("test %q failed: %s", r.tc.name, r.res.Failure.String()))}
		}
		if !parked {
			return
		}
		if failed != nil {
			h.WakeError(me, failed)
		} else {
			h.Wake(me)
		}
	})
	if r.done {
		if failed != nil {
			return host.Raise(L, failed)
		}
		return 0
	}
	parked = true
	return host.Park(L)
}
