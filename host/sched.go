package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Push pushes the results of Go work onto L and returns how many it pushed.
// It runs on the scheduler goroutine, so it may build tables.
type Push func(L *lua.LState) int

// Work is what a binding hands to Go: it runs on its own goroutine with the
// run's context and must not touch any Lua state.
type Work func(ctx context.Context) (Push, error)

// Task is one coroutine under the scheduler: the main chunk, a task.spawn,
// a test body, a FUSE request.
type Task struct {
	co       *lua.LState
	start    []lua.LValue
	started  bool
	done     bool
	parked   bool
	observed bool
	call     *call // its Go work in flight, if any
	Rets     []lua.LValue
	Err      *LuaError
	onDone   []func(*Task)
}

// Done reports whether the task has finished.
func (t *Task) Done() bool { return t.done }

// Observe marks t's failure, if it fails, as reported elsewhere (a test
// runner that recorded it on a test): it is neither printed as lost nor
// fails the run.
func (t *Task) Observe() { t.observed = true }

// OnDone runs fn on the scheduler goroutine when t finishes (at once if it
// has). A task with an error and an OnDone callback counts as observed.
func (t *Task) OnDone(fn func(*Task)) {
	t.observed = true
	t.Watch(fn)
}

// Watch runs fn on the scheduler goroutine when t finishes, as OnDone
// does, but leaves t's failure unobserved: for a caller that reports it
// only sometimes (a pool, whose wait may never be called) and calls
// Observe when it does.
func (t *Task) Watch(fn func(*Task)) {
	if t.done {
		fn(t)
		return
	}
	t.onDone = append(t.onDone, fn)
}

// call is one Go work in flight for a task. abandoned: the run was
// cancelled and the work did not return within abandonAfter, so the task
// has been resumed with a "cancelled" error and the late result is dropped.
type call struct{ abandoned bool }

// abandonAfter is how long work that ignores a cancelled context (a read
// of stdin or a terminal, a foreign library) may keep a cancelled run
// waiting: Ctrl-C must stop the script, not only the well-behaved calls.
const abandonAfter = time.Second

type wake struct {
	t    *Task
	args []lua.LValue
}

type sched struct {
	h          *Host
	tasks      map[*lua.LState]*Task
	live       int
	ready      []wake
	events     chan func()
	inflight   int
	pending    Work
	parking    bool
	current    *Task
	hostMarker lua.LValue
	errMarker  lua.LValue
	exitMarker lua.LValue
	exitCode   int
	exited     bool
	trampoline *lua.LFunction
	stubs      map[string]*lua.LFunction
	handlers   map[*lua.LState]*lua.LFunction
	traces     map[*lua.LState][2]string
	failed     []*Task
	ctxSeen    bool
	running    bool
}

//go:generate go run ./internal/genproto

// The host's own Lua (prelude.lua, stdio.lua, stub.lua) is compiled by go
// generate into Go literals (protos_gen.go): compiling it at every start
// was half of the time `gos3lua -e ""` spent in Main.
var finishProtos sync.Once

// hostProto returns one of the generated prototypes, ready to run.
func hostProto(p *lua.FunctionProto) *lua.FunctionProto {
	finishProtos.Do(func() {
		lua.FinishProto(protoPrelude)
		lua.FinishProto(protoStdio)
		lua.FinishProto(protoStub)
	})
	return p
}

func (s *sched) init(h *Host) {
	s.h = h
	s.tasks = map[*lua.LState]*Task{}
	s.events = make(chan func(), 1024)
	s.stubs = map[string]*lua.LFunction{}
	s.handlers = map[*lua.LState]*lua.LFunction{}
	s.traces = map[*lua.LState][2]string{}
	L := h.L
	mk := func(name string) lua.LValue {
		ud := L.NewUserData()
		ud.Value = name
		return ud
	}
	s.hostMarker, s.errMarker, s.exitMarker = mk("host yield"), mk("host error"), mk("exit")
}

func (h *Host) installPrelude() {
	L := h.L
	s := &h.sched
	L.Push(L.NewFunctionFromProto(hostProto(protoPrelude)))
	L.Push(s.hostMarker)
	L.Push(L.NewFunction(s.arm))
	L.Push(L.NewFunction(s.fatal))
	L.Call(3, 1)
	s.trampoline = L.Get(-1).(*lua.LFunction)
	L.Pop(1)

	osT := L.GetGlobal("os").(*lua.LTable)
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
		s.exitCode = code
		L.Error(s.exitMarker, 0)
		return 0
	}))
}

// arm is called first thing in a task (with true) or an xpcall coroutine
// (with the handler): it replaces the thread's panic hook so that the
// traceback is taken, or the handler called, where the error is raised,
// before the stack unwinds.
func (s *sched) arm(L *lua.LState) int {
	switch v := L.Get(1).(type) {
	case *lua.LFunction:
		s.handlers[L] = v
		L.Panic = s.panicXpcall
	case lua.LBool:
		if v {
			L.Panic = s.panicTask
		} else {
			L.Panic = s.panicPcall
		}
	}
	return 0
}

func (s *sched) fatal(L *lua.LState) int {
	v := L.Get(1)
	if v == s.exitMarker {
		L.Push(lua.LTrue)
		return 1
	}
	if s.h.ctx.Err() != nil {
		if t, ok := v.(*lua.LTable); ok && lua.LVAsString(t.RawGetString("kind")) == "cancelled" {
			L.Push(lua.LTrue)
			return 1
		}
	}
	L.Push(lua.LFalse)
	return 1
}

// fixPosition rewrites gopher-lua's messages for errors raised by exported
// Go functions: the position it adds is the stub's, and the stub calls the
// Go function as a plain function, so a `bad argument` number counts self
// even when the user wrote obj:name(...). The stack is still intact here,
// so the caller's position and call are known.
func fixPosition(L *lua.LState, v lua.LValue) lua.LValue {
	str, ok := v.(lua.LString)
	if !ok || !strings.HasPrefix(string(str), "stub:") {
		return v
	}
	msg := string(str)
	if i := strings.Index(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	msg = fixBadArg(msg, stubCalledAsMethod(L))
	if w := where(L); w != "" {
		msg = w + ": " + msg
	}
	return lua.LString(msg)
}

// stubCalledAsMethod reports whether the innermost stub on L's stack was
// called as obj:name(...).
func stubCalledAsMethod(L *lua.LState) bool {
	for i := 0; i < 10; i++ {
		dbg, ok := L.GetStack(i)
		if !ok {
			return false
		}
		if _, err := L.GetInfo("Sn", dbg, lua.LNil); err != nil {
			continue
		}
		if dbg.Source == "stub" {
			return dbg.NameWhat == "method"
		}
	}
	return false
}

// fixBadArg renders "bad argument #N to NAME (...)" as Lua 5.1 does: the
// name quoted, and for a method call self not counted (#1 is the first
// argument after self; self itself is `calling 'NAME' on bad self`). (A
// package-level regexp for this was a twentieth of start-up.)
func fixBadArg(msg string, method bool) string {
	rest, ok := strings.CutPrefix(msg, "bad argument #")
	if !ok {
		return msg
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || !strings.HasPrefix(rest[i:], " to ") {
		return msg
	}
	n, err := strconv.Atoi(rest[:i])
	if err != nil {
		return msg
	}
	rest = rest[i+len(" to "):]
	name := ""
	if strings.HasPrefix(rest, "'") {
		if j := strings.IndexByte(rest[1:], '\''); j >= 0 {
			name, rest = rest[1:1+j], rest[2+j:]
		}
	} else {
		end := 0
		for end < len(rest) {
			c := rest[end]
			if c == '_' || c == '.' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
				end++
				continue
			}
			break
		}
		name, rest = rest[:end], rest[end:]
	}
	if name == "" {
		return msg
	}
	if method {
		n--
		if n == 0 {
			return "calling '" + name + "' on bad self" + rest
		}
	}
	return "bad argument #" + strconv.Itoa(n) + " to '" + name + "'" + rest
}

func (s *sched) panicPcall(L *lua.LState) {
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: fixPosition(L, L.Get(-1))})
}

func (s *sched) panicTask(L *lua.LState) {
	v := fixPosition(L, L.Get(-1))
	if v != s.exitMarker {
		s.traces[L] = [2]string{where(L), Traceback(L, 0)}
	}
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: v})
}

func (s *sched) panicXpcall(L *lua.LState) {
	v := fixPosition(L, L.Get(-1))
	if hd := s.handlers[L]; hd != nil && v != s.exitMarker {
		delete(s.handlers, L)
		L.Panic = func(L *lua.LState) { panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: L.Get(-1)}) }
		if err := L.CallByParam(lua.P{Fn: hd, NRet: 1, Protect: true}, v); err != nil {
			v = lua.LString("error in error handling")
		} else {
			v = L.Get(-1)
			L.Pop(1)
		}
	}
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: v})
}

// where is FILE:LINE of the innermost Lua frame that is user code.
func where(L *lua.LState) string {
	for i := 0; i < 50; i++ {
		dbg, ok := L.GetStack(i)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			continue
		}
		if dbg.CurrentLine > 0 && !hiddenSource(dbg.Source) {
			return fmt.Sprintf("%s:%d", dbg.Source, dbg.CurrentLine)
		}
	}
	return ""
}

func hiddenSource(src string) bool {
	return src == "prelude" || src == "stub" || src == "[G]" || strings.HasPrefix(src, "host:")
}

// Traceback renders L's Lua stack from level, without the host's own frames.
func Traceback(L *lua.LState, level int) string {
	var frames []*lua.Debug
	for i := level; i < 200; i++ {
		dbg, ok := L.GetStack(i)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil {
			continue
		}
		frames = append(frames, dbg)
	}
	var b strings.Builder
	b.WriteString("stack traceback:")
	for i, dbg := range frames {
		var caller *lua.Debug
		if i+1 < len(frames) {
			caller = frames[i+1]
		}
		if hiddenSource(dbg.Source) {
			continue
		}
		if dbg.What == "G" && caller != nil && hiddenSource(caller.Source) {
			continue // the stub's error() re-raising a Go error
		}
		b.WriteString("\n\t")
		if dbg.What == "G" {
			fmt.Fprintf(&b, "[G]: in function '%s'", dbg.Name)
			continue
		}
		if dbg.CurrentLine > 0 {
			fmt.Fprintf(&b, "%s:%d:", dbg.Source, dbg.CurrentLine)
		} else {
			fmt.Fprintf(&b, "%s:", dbg.Source)
		}
		switch {
		case dbg.What == "main" || dbg.LineDefined == 0:
			b.WriteString(" in main chunk")
		case dbg.Name != "" && dbg.Name != "?" && (caller == nil || !hiddenSource(caller.Source)):
			fmt.Fprintf(&b, " in function '%s'", dbg.Name)
		default:
			fmt.Fprintf(&b, " in function <%s:%d>", dbg.Source, dbg.LineDefined)
		}
	}
	return b.String()
}

// ---- the API bindings use ----

// Go runs work off the Lua thread and suspends the calling task until it
// returns; the task then continues with what push pushes, or with work's
// error raised (as an error table, see Error). Use it as the return
// statement of an exported function: `return host.Go(L, func(ctx) ...)`.
// The function must be exported through SetFuncs/NewClass so that errors
// are raised in the caller.
func Go(L *lua.LState, work Work) int {
	h := From(L)
	s := &h.sched
	if s.current == nil {
		L.RaiseError("this function suspends its task and can only be called from a task (the main chunk, task.spawn, a test)")
	}
	if h.ctx.Err() != nil {
		return Raise(L, h.cancelledError(h.ctx.Err()))
	}
	if !s.canYield(L) {
		// Inside a generic-for iterator, a metamethod or a sort/gsub
		// callback the task cannot be suspended: run the work in place
		// (other tasks wait) rather than fail.
		push, err := runWork(h.ctx, work)
		if err != nil {
			return Raise(L, s.normalize(err))
		}
		if push == nil {
			return 0
		}
		return push(L)
	}
	s.pending = work
	return L.Yield(s.hostMarker)
}

// canYield reports whether L, and every coroutine between it and the
// running task, can be suspended (none is inside a nested Go→Lua call).
func (s *sched) canYield(L *lua.LState) bool {
	top := s.current.co
	for th := L; th != nil; th = th.Parent {
		if th.NestedCalls > 0 {
			return false
		}
		if th == top {
			return true
		}
	}
	return false
}

func (h *Host) cancelledError(err error) *Error {
	return &Error{Kind: "cancelled", Message: "cancelled: " + context.Cause(h.ctx).Error(), Err: err}
}

// runWork runs work on its own goroutine and waits for it, turning a Go
// panic into an error (one line; the stack goes to stderr).
// Cancelled, it waits abandonAfter at most (see abandonAfter).
func runWork(ctx context.Context, work Work) (Push, error) {
	type result struct {
		push Push
		err  error
	}
	done := make(chan result, 1)
	go func() {
		push, err := runWorkHere(ctx, work)
		done <- result{push, err}
	}()
	r, ok := waitOrAbandon(ctx, done)
	if !ok {
		return nil, context.Canceled
	}
	return r.push, r.err
}

// waitOrAbandon receives from done, or gives up abandonAfter after ctx is
// cancelled (ok false).
func waitOrAbandon[T any](ctx context.Context, done <-chan T) (v T, ok bool) {
	select {
	case v = <-done:
		return v, true
	case <-ctx.Done():
	}
	t := time.NewTimer(abandonAfter)
	defer t.Stop()
	select {
	case v = <-done:
		return v, true
	case <-t.C:
		return v, false
	}
}

// Sleep suspends the calling task for d (cancellable).
func Sleep(L *lua.LState, d time.Duration) int {
	return Go(L, func(ctx context.Context) (Push, error) {
		if d <= 0 {
			return nil, nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
}

// Park suspends the calling task until Wake or WakeError is called for it
// (on the scheduler goroutine). Use it as a return statement, like Go.
func Park(L *lua.LState) int {
	s := &From(L).sched
	if s.current == nil {
		L.RaiseError("this function suspends its task and can only be called from a task")
	}
	if s.h.ctx.Err() != nil {
		return Raise(L, s.h.cancelledError(s.h.ctx.Err()))
	}
	if !s.canYield(L) {
		L.RaiseError("cannot wait here: a task cannot be suspended inside a generic-for iterator, a metamethod or a sort/gsub callback")
	}
	s.parking = true
	return L.Yield(s.hostMarker)
}

// Current is the task running now (nil outside a resume).
func (h *Host) Current() *Task { return h.sched.current }

// Wake resumes a parked task with vals. Scheduler goroutine only.
func (h *Host) Wake(t *Task, vals ...lua.LValue) {
	if !t.parked {
		return
	}
	t.parked = false
	h.sched.ready = append(h.sched.ready, wake{t, vals})
}

// WakeError resumes a parked task by raising err in it.
func (h *Host) WakeError(t *Task, err error) {
	h.Wake(t, h.sched.errMarker, ErrorValue(h.L, err))
}

// Submit runs fn on the scheduler goroutine as soon as it is free. It is
// safe from any goroutine; it reports false when the run has ended, in which
// case fn will never run.
func (h *Host) Submit(fn func(L *lua.LState)) bool {
	select {
	case <-h.ctx.Done():
		return false
	default:
	}
	select {
	case h.sched.events <- func() { fn(h.L) }:
		return true
	case <-h.ctx.Done():
		return false
	}
}

// Spawn starts fn(args...) as a new task. Scheduler goroutine only.
func (h *Host) Spawn(fn *lua.LFunction, args ...lua.LValue) *Task {
	s := &h.sched
	co, _ := h.L.NewThread()
	start := make([]lua.LValue, 0, len(args)+2)
	start = append(start, lua.LTrue, fn)
	start = append(start, args...)
	t := &Task{co: co, start: start}
	s.tasks[co] = t
	s.live++
	s.ready = append(s.ready, wake{t: t})
	return t
}

// Run runs fn as the main task and drives the scheduler until every task
// has finished (or the main task failed, or os.exit was called). It returns
// the main task's results, a *LuaError, or an *ExitError.
func (h *Host) Run(fn *lua.LFunction, args ...lua.LValue) ([]lua.LValue, error) {
	s := &h.sched
	if s.running {
		return nil, errors.New("host: Run called while running")
	}
	s.running = true
	defer func() { s.running = false }()
	main := h.Spawn(fn, args...)
	main.observed = true
	err := s.loop(main)
	if err == nil && main.Err != nil {
		err = main.Err
	}
	if n := s.reportUnobserved(); n > 0 && err == nil {
		// A background task's failure must not end in exit status 0: a
		// script's caller tests that, not stderr.
		err = &LuaError{Value: lua.LString(fmt.Sprintf("%d task(s) failed and nobody waited for them (errors above)", n))}
	}
	return main.Rets, err
}

// RunString compiles code (named name in messages) and runs it as main.
func (h *Host) RunString(code, name string, args ...lua.LValue) ([]lua.LValue, error) {
	fn, err := h.L.Load(strings.NewReader(code), name)
	if err != nil {
		return nil, err
	}
	return h.Run(fn, args...)
}

// RunFile runs the script at path with the host's Args as its varargs.
func (h *Host) RunFile(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	code := string(src)
	if strings.HasPrefix(code, "#!") {
		code = "--" + code
	}
	fn, err := h.L.Load(strings.NewReader(code), path)
	if err != nil {
		return err
	}
	args := make([]lua.LValue, len(h.opts.Args))
	for i, a := range h.opts.Args {
		args[i] = lua.LString(a)
	}
	_, err = h.Run(fn, args...)
	return err
}

// reportUnobserved prints the errors of failed tasks nobody waited for
// (except cancellations of a cancelled run) and returns how many.
func (s *sched) reportUnobserved() int {
	n := 0
	for _, t := range s.failed {
		if !t.observed && !(t.Err.Kind() == "cancelled" && s.h.ctx.Err() != nil) {
			fmt.Fprintf(os.Stderr, "gos3lua: a task failed and nobody waited for it: %s\n%s\n", t.Err.Error(), t.Err.Traceback)
			n++
		}
	}
	s.failed = nil
	return n
}

// ended reports whether the run is over early: a task called os.exit, or
// main failed. It cancels the run (stopping the other tasks' Go work) and
// returns the run's error.
func (s *sched) ended(main *Task) (bool, error) {
	if s.exited {
		s.h.Cancel(&ExitError{Code: s.exitCode})
		return true, &ExitError{Code: s.exitCode}
	}
	if main.done && main.Err != nil {
		s.h.Cancel(errors.New("main task failed"))
		return true, main.Err
	}
	return false, nil
}

func (s *sched) loop(main *Task) error {
	h := s.h
	var grace <-chan time.Time
	if s.ctxSeen && s.inflight > 0 {
		grace = time.After(abandonAfter)
	}
	for {
		for len(s.ready) > 0 {
			w := s.ready[0]
			s.ready[0] = wake{}
			s.ready = s.ready[1:]
			s.step(w.t, w.args)
			if end, err := s.ended(main); end {
				return err
			}
		}
		if s.live == 0 {
			return nil
		}
		if s.inflight == 0 && len(s.events) == 0 {
			// Every live task is parked and nothing can wake them.
			for _, t := range s.tasks {
				if t.parked {
					h.WakeError(t, &Error{Kind: "deadlock", Message: "deadlock: every task is waiting (on a channel or another task) and nothing can wake them"})
				}
			}
			if len(s.ready) == 0 {
				return fmt.Errorf("host: %d tasks stuck", s.live)
			}
			continue
		}
		var done <-chan struct{}
		if !s.ctxSeen {
			done = h.ctx.Done()
		}
		select {
		case f := <-s.events:
			f()
		case <-done:
			s.ctxSeen = true
			cause := context.Cause(h.ctx)
			for _, t := range s.tasks {
				if t.parked {
					h.WakeError(t, &Error{Kind: "cancelled", Message: "cancelled: " + cause.Error(), Err: cause})
				}
			}
			if s.inflight > 0 {
				grace = time.After(abandonAfter)
			}
			continue
		case <-grace:
			grace = nil
			s.abandon()
		}
		// f or abandon may have resumed a task that called os.exit or
		// ended main with an error: same checks as above.
		if end, err := s.ended(main); end {
			return err
		}
	}
}

// abandon resumes every task whose Go work is still in flight, after the
// run was cancelled, with a "cancelled" error; the work's result, should
// it ever come, is dropped.
func (s *sched) abandon() {
	var stuck []*Task
	for _, t := range s.tasks {
		if t.call != nil {
			stuck = append(stuck, t)
		}
	}
	for _, t := range stuck {
		if t.call == nil || t.done {
			continue
		}
		t.call.abandoned = true
		t.call = nil
		s.inflight--
		s.complete(t, nil, s.h.cancelledError(context.Canceled))
	}
}

func (s *sched) wakeup() {
	select {
	case s.events <- func() {}:
	default:
	}
}

func (s *sched) step(t *Task, args []lua.LValue) {
	h := s.h
	s.current = t
	var (
		st   lua.ResumeState
		err  error
		vals []lua.LValue
	)
	if !t.started {
		t.started = true
		st, err, vals = h.L.Resume(t.co, s.trampoline, t.start...)
		t.start = nil
	} else {
		st, err, vals = h.L.Resume(t.co, nil, args...)
	}
	s.current = nil
	switch st {
	case lua.ResumeOK:
		s.finish(t, vals, nil)
	case lua.ResumeError:
		var v lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok {
			v = ae.Object
		}
		if v == s.exitMarker {
			s.exited = true
			s.finish(t, nil, &LuaError{Value: lua.LString(fmt.Sprintf("exit %d", s.exitCode))})
			return
		}
		tr := s.traces[t.co]
		delete(s.traces, t.co)
		s.finish(t, nil, &LuaError{Value: v, Where: tr[0], Traceback: tr[1], Text: metaText(s.h.L, v)})
	case lua.ResumeYield:
		if w := s.pending; w != nil {
			s.pending = nil
			s.start(t, w)
		} else if s.parking {
			s.parking = false
			t.parked = true
		} else {
			// A plain coroutine.yield at a task's top level: let others run.
			s.ready = append(s.ready, wake{t: t})
		}
	}
}

func (s *sched) start(t *Task, w Work) {
	s.inflight++
	h := s.h
	c := &call{}
	t.call = c
	ctx := h.ctx
	go func() {
		push, err := runWorkHere(ctx, w)
		s.events <- func() {
			if c.abandoned {
				return
			}
			t.call = nil
			s.inflight--
			s.complete(t, push, err)
		}
	}()
}

// runWorkHere runs work on the calling goroutine, turning a Go panic into
// a one-line error (the stack goes to stderr).
func runWorkHere(ctx context.Context, work Work) (push Push, err error) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "gos3lua: internal error (Go panic): %v\n%s", r, debug.Stack())
			err = fmt.Errorf("internal error (Go panic): %v", r)
		}
	}()
	return work(ctx)
}

// normalize turns a context cancellation of the run into a "cancelled"
// error naming its cause.
func (s *sched) normalize(err error) error {
	if errors.Is(err, context.Canceled) && s.h.ctx.Err() != nil {
		if _, ok := err.(*Error); !ok {
			return s.h.cancelledError(err)
		}
	}
	return err
}

func (s *sched) complete(t *Task, push Push, err error) {
	L := s.h.L
	var args []lua.LValue
	if err != nil {
		args = []lua.LValue{s.errMarker, ErrorValue(L, s.normalize(err))}
	} else if push != nil {
		top := L.GetTop()
		n := push(L)
		args = make([]lua.LValue, n)
		for i := 0; i < n; i++ {
			args[i] = L.Get(top + 1 + i)
		}
		L.SetTop(top)
	}
	s.step(t, args)
}

func (s *sched) finish(t *Task, rets []lua.LValue, err *LuaError) {
	t.done = true
	t.Rets = rets
	t.Err = err
	s.live--
	delete(s.tasks, t.co)
	delete(s.handlers, t.co)
	if err != nil && !t.observed {
		s.failed = append(s.failed, t)
	}
	cbs := t.onDone
	t.onDone = nil
	for _, fn := range cbs {
		fn(t)
	}
}

// Block runs work on its own goroutine while the scheduler waits for it:
// no other task runs meanwhile. It is for the few places that cannot
// suspend (iterators of a generic for, metamethods), which gopher-lua calls
// in a nested VM loop; everything else uses Go. Keep such work short or
// read ahead so that it is usually ready.
func Block(L *lua.LState, work func(ctx context.Context) error) error {
	h := From(L)
	if err := h.ctx.Err(); err != nil {
		return &Error{Kind: "cancelled", Message: "cancelled: " + context.Cause(h.ctx).Error(), Err: err}
	}
	done := make(chan error, 1)
	ctx := h.ctx
	go func() { done <- work(ctx) }()
	err, ok := waitOrAbandon(ctx, done)
	if !ok {
		return h.cancelledError(context.Canceled)
	}
	return err
}
