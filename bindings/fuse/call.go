package fuse

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// conv turns a callback's return values into a Go value. It runs on the
// scheduler goroutine (it may read tables) and must copy what it keeps.
type conv func(L *lua.LState, rets []lua.LValue) (any, syscall.Errno)

// request is one kernel request on its way through Lua: what a debug line
// and an error report say about it.
type request struct {
	op     string
	path   string
	detail string // e.g. "4096@0" for read
}

func (r request) String() string {
	if r.detail != "" {
		return r.op + " " + r.path + " " + r.detail
	}
	return r.op + " " + r.path
}

type result struct {
	v     any
	errno syscall.Errno
	note  string // for the debug line, e.g. "4096 bytes"
}

// call runs callback fn with args as a task and waits for its result,
// converted by cv. It is called on a go-fuse goroutine. args must be
// values that need no Lua state to build (strings, numbers, values kept
// from earlier calls). A nil fn answers ENOSYS.
func (m *mount) call(ctx context.Context, rq request, fn *lua.LFunction, args []lua.LValue, cv conv) (any, syscall.Errno) {
	start := time.Now()
	r := m.run(ctx, rq, fn, args, cv)
	if m.opts.debug {
		line := fmt.Sprintf("fuse: %s -> %s", rq, errnoName(r.errno))
		if r.note != "" {
			line += " " + r.note
		}
		m.logf("%s (%s)", line, fmtDuration(time.Since(start)))
	}
	return r.v, r.errno
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func (m *mount) run(_ context.Context, rq request, fn *lua.LFunction, args []lua.LValue, cv conv) result {
	if fn == nil {
		return result{errno: syscall.ENOSYS}
	}
	done := make(chan result, 1)
	ok := m.h.Submit(func(L *lua.LState) {
		t := m.h.Spawn(fn, args...)
		t.OnDone(func(t *host.Task) { done <- m.finish(L, rq, t, cv) })
	})
	if !ok {
		// The run has ended (or is ending): nobody will answer.
		return result{errno: syscall.EIO, note: "(the script has ended)"}
	}
	// The kernel's INTERRUPT (ctx.Done) is not honoured: it comes for any
	// signal the caller gets, Go programs get SIGURG all the time (async
	// preemption) and retry a syscall that failed with EINTR, so a slow
	// callback answered EINTR would start over and over. A caller killed
	// by a signal does not wait for the answer anyway.
	select {
	case r := <-done:
		return r
	case <-m.h.Context().Done():
		// Ctrl-C or the end of the run: the scheduler may never get to
		// the task; do not hold the kernel up.
		return result{errno: syscall.EIO, note: "(cancelled)"}
	}
}

// finish converts a finished task's outcome; on the scheduler goroutine.
func (m *mount) finish(L *lua.LState, rq request, t *host.Task, cv conv) result {
	if t.Err != nil {
		if e, ok := errnoOf(t.Err.Value); ok {
			return result{errno: e}
		}
		if t.Err.Kind() == "cancelled" && m.h.Context().Err() != nil {
			return result{errno: syscall.EINTR, note: "(cancelled)"}
		}
		m.report(rq, t.Err)
		return result{errno: syscall.EIO}
	}
	rets := t.Rets
	// `return nil, fuse.ENOENT` is the Lua way of failing without error().
	if len(rets) >= 2 && rets[0] == lua.LNil {
		if e, ok := errnoOf(rets[1]); ok {
			return result{errno: e}
		}
	}
	if cv == nil {
		return result{}
	}
	var (
		v     any
		errno syscall.Errno
	)
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		v, errno = cv(L, rets)
		return nil
	}()
	if err != nil {
		// A conversion that raised (a bad return value): the user's bug,
		// reported like an error in the callback.
		m.report(rq, &host.LuaError{Value: lua.LString(err.Error())})
		return result{errno: syscall.EIO}
	}
	if bad, ok := v.(badReturn); ok {
		m.report(rq, &host.LuaError{Value: lua.LString(string(bad))})
		return result{errno: syscall.EIO}
	}
	r := result{v: v, errno: errno}
	if b, ok := v.([]byte); ok {
		r.note = fmt.Sprintf("%d bytes", len(b))
	}
	return r
}

// badReturn is what a conv returns for a callback result it cannot use;
// the request fails with EIO and the message is reported.
type badReturn string

// errnoOf recognises an errno raised or returned by a callback: a number
// (fuse.ENOENT), an error table with an errno field, or one whose kind is
// an errno name (fs and other modules raise kind = "ENOENT").
func errnoOf(v lua.LValue) (syscall.Errno, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		if e := syscall.Errno(x); float64(e) == float64(x) && e > 0 {
			return e, true
		}
	case *lua.LTable:
		if n, ok := x.RawGetString("errno").(lua.LNumber); ok && n > 0 {
			return syscall.Errno(n), true
		}
		if k, ok := x.RawGetString("kind").(lua.LString); ok {
			if e, ok := errnos[string(k)]; ok {
				return e, true
			}
		}
	}
	return 0, false
}

// report logs a callback's failure with its traceback: to stderr and to
// opts.log. The filesystem goes on serving.
func (m *mount) report(rq request, err *host.LuaError) {
	var b strings.Builder
	fmt.Fprintf(&b, "fuse: %s: error in callback (EIO): %s", rq, err.Error())
	if err.Traceback != "" {
		b.WriteString("\n")
		b.WriteString(err.Traceback)
	}
	m.logf("%s", b.String())
}

// logf writes one entry to stderr and to the log file.
func (m *mount) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	m.logMu.Lock()
	defer m.logMu.Unlock()
	m.stderr.Write([]byte(msg))
	if m.logFile != nil {
		m.logFile.Write([]byte(time.Now().Format("2006-01-02 15:04:05.000 ") + msg))
	}
}
