// Package host owns the Lua state of one run: the module registry, the task
// scheduler that lets blocking-looking Lua drive concurrent Go, errors and
// cancellation.
//
// The one rule: only the scheduler goroutine touches the Lua state. Bindings
// that do I/O hand a Go function to Go (see sched.go); it runs on its own
// goroutine with the run's context and the calling task is resumed with its
// results when it returns. Everything a binding needs from the host is in
// this package's exported API: Go, Park/Wake, Submit, Spawn, SetFuncs,
// NewClass, Raise and the Error type. host imports no binding.
package host

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
)

// Loader builds a module's table; it is called on first require, on the
// scheduler goroutine, and must push exactly one value.
type Loader = lua.LGFunction

var (
	regMu   sync.Mutex
	modules = map[string]Loader{}
)

// Register makes require(name) load the module built by loader, in every
// Host created afterwards. cmd wires bindings and stdlib with it.
func Register(name string, loader Loader) {
	regMu.Lock()
	defer regMu.Unlock()
	modules[name] = loader
}

// Modules lists the registered module names, sorted.
func Modules() []string {
	regMu.Lock()
	defer regMu.Unlock()
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Options configure a Host.
type Options struct {
	// Script is the path of the main script, "" for -e code or the REPL. Its
	// directory is searched first by require.
	Script string
	// Args become the global arg table (arg[0] is Script) and the main
	// chunk's varargs.
	Args []string
	// Context, when set, is the parent of the run's context.
	Context context.Context
}

// Host is one run: one Lua state and its scheduler.
type Host struct {
	L      *lua.LState
	opts   Options
	ctx    context.Context
	cancel context.CancelCauseFunc

	interruptErr *lua.LTable // raised by the VM in CPU-bound code after Cancel

	stdin *Stream // io.stdin, once InstallStdio made it

	closeMu sync.Mutex
	closers []func()
	closed  bool

	sched
}

var (
	hostsMu sync.Mutex
	hosts   = map[*lua.Global]*Host{}
)

// From returns the Host that owns L (or any of its coroutines).
func From(L *lua.LState) *Host {
	hostsMu.Lock()
	defer hostsMu.Unlock()
	return hosts[L.G]
}

// New creates a Host with a fresh Lua state, the standard libraries, the
// host's prelude (pcall/xpcall/coroutine that work across task yields, a
// cancellable os.exit) and require wired to the module registry.
func New(opts Options) *Host {
	L := lua.NewState(lua.Options{
		// gopher-lua's fixed registry overflows on large table.concat/unpack;
		// a small start that grows keeps coroutines (one per pcall) cheap.
		RegistrySize:        256,
		RegistryMaxSize:     1 << 26,
		RegistryGrowStep:    4096,
		CallStackSize:       4096,
		MinimizeStackMemory: true,
	})
	parent := opts.Context
	if parent == nil {
		parent = context.Background()
	}
	h := &Host{L: L, opts: opts}
	h.ctx, h.cancel = context.WithCancelCause(parent)
	h.sched.init(h)
	hostsMu.Lock()
	hosts[L.G] = h
	hostsMu.Unlock()
	h.interruptErr = ErrorValue(L, &Error{Kind: "cancelled", Message: "cancelled"}).(*lua.LTable)
	h.installPrelude()
	h.installRequire()
	h.installArgs()
	return h
}

// Context is the run's context; it is cancelled by Cancel (Ctrl-C, SIGTERM,
// a test timeout, os.exit).
func (h *Host) Context() context.Context { return h.ctx }

// Cancel cancels the run: every in-flight Go call sees its context done,
// parked tasks are woken with a "cancelled" error.
func (h *Host) Cancel(cause error) {
	if cause == nil {
		cause = context.Canceled
	}
	h.cancel(cause)
	// Stop CPU-bound Lua too: the patched VM raises InterruptValue at its
	// next instruction. The value is written before the flag (atomic).
	if atomic.LoadInt32(&h.L.G.Interrupt) == 0 {
		// The table was made on the scheduler goroutine (New) and nothing
		// reads it before the flag is set, so filling it in here is safe.
		h.interruptErr.RawSetString("message", lua.LString(h.cancelledError(context.Canceled).Message))
		h.L.G.InterruptValue = h.interruptErr
		atomic.StoreInt32(&h.L.G.Interrupt, 1)
	}
	h.wakeup()
}

// Close runs the closers (OnClose) and releases the Lua state. The Host
// must not be used afterwards.
func (h *Host) Close() {
	h.cancel(context.Canceled)
	h.RunClosers()
	hostsMu.Lock()
	delete(hosts, h.L.G)
	hostsMu.Unlock()
	h.L.Close()
}

// OnClose registers fn to run when the Host is closed, however the run
// ended (also by error or signal), newest first; if it is closed already,
// fn runs at once. For what must not outlive the run, such as a FUSE
// mount. Safe from any goroutine; fn must not touch the Lua state.
func (h *Host) OnClose(fn func()) {
	h.closeMu.Lock()
	if h.closed {
		h.closeMu.Unlock()
		fn()
		return
	}
	h.closers = append(h.closers, fn)
	h.closeMu.Unlock()
}

// RunClosers runs the closers (OnClose) now, newest first, once: what
// Close does first, for a process about to end some other way (a signal
// between runs). Safe from any goroutine.
func (h *Host) RunClosers() {
	h.closeMu.Lock()
	fns := h.closers
	h.closers, h.closed = nil, true
	h.closeMu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// Script is the path of the main script ("" when there is none).
func (h *Host) Script() string { return h.opts.Script }

func (h *Host) installArgs() {
	L := h.L
	t := L.NewTable()
	name := h.opts.Script
	if name == "" {
		name = "gos3lua"
	}
	t.RawSetInt(0, lua.LString(name))
	for i, a := range h.opts.Args {
		t.RawSetInt(i+1, lua.LString(a))
	}
	L.SetGlobal("arg", t)
}

// installRequire makes package.loaders consult the registry first, then
// Lua files next to the script, then GOS3LUA_PATH, then package.path.
func (h *Host) installRequire() {
	L := h.L
	pkg := L.GetGlobal("package").(*lua.LTable)
	var dirs []string
	if h.opts.Script != "" && h.opts.Script != "-" {
		dirs = append(dirs, filepath.Dir(h.opts.Script))
	} else {
		dirs = append(dirs, ".")
	}
	if p := os.Getenv("GOS3LUA_PATH"); p != "" {
		for _, d := range filepath.SplitList(p) {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	var parts []string
	for _, d := range dirs {
		parts = append(parts, filepath.Join(d, "?.lua"), filepath.Join(d, "?", "init.lua"))
	}
	old := lua.LVAsString(pkg.RawGetString("path"))
	if old != "" {
		parts = append(parts, old)
	}
	pkg.RawSetString("path", lua.LString(strings.Join(parts, ";")))

	preload := L.GetField(pkg, "preload").(*lua.LTable)
	regMu.Lock()
	for name, loader := range modules {
		preload.RawSetString(name, L.NewFunction(loader))
	}
	regMu.Unlock()
}

// PrependPath puts dirs first on package.path (the test runner uses it for
// the test file's directory and the project root).
func (h *Host) PrependPath(dirs ...string) {
	pkg := h.L.GetGlobal("package").(*lua.LTable)
	var parts []string
	for _, d := range dirs {
		parts = append(parts, filepath.Join(d, "?.lua"), filepath.Join(d, "?", "init.lua"))
	}
	parts = append(parts, lua.LVAsString(pkg.RawGetString("path")))
	pkg.RawSetString("path", lua.LString(strings.Join(parts, ";")))
}

// Preload requires every registered module and stores it in a global of
// its name (the REPL does this).
func (h *Host) Preload() error {
	for _, name := range Modules() {
		if err := h.L.CallByParam(lua.P{Fn: h.L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString(name)); err != nil {
			return fmt.Errorf("preload %s: %w", name, err)
		}
		v := h.L.Get(-1)
		h.L.Pop(1)
		if h.L.GetGlobal(name) == lua.LNil {
			h.L.SetGlobal(name, v)
		}
	}
	return nil
}

// Renew gives the host a fresh run context after a cancelled one (the
// REPL cancels a running line with Ctrl-C and then goes on).
func (h *Host) Renew() {
	if h.ctx.Err() == nil {
		return
	}
	parent := h.opts.Context
	if parent == nil {
		parent = context.Background()
	}
	h.ctx, h.cancel = context.WithCancelCause(parent)
	atomic.StoreInt32(&h.L.G.Interrupt, 0)
	h.interruptErr = ErrorValue(h.L, &Error{Kind: "cancelled", Message: "cancelled"}).(*lua.LTable)
	h.sched.ctxSeen = false
	h.sched.exited = false
}
