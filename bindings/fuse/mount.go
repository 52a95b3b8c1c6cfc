package fuse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gos3lua/gos3lua/host"
	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	lua "github.com/yuin/gopher-lua"
)

// callbacks the ops table may hold.
var opNames = []string{
	"getattr", "readdir", "read", "open", "release", "flush", "fsync",
	"write", "create", "truncate", "unlink", "mkdir", "rmdir", "rename",
	"readlink", "symlink", "statfs", "chmod", "chown", "utimens",
}

// writeOps are the callbacks that make a filesystem writable; without any
// of them every change is EROFS.
var writeOps = []string{"write", "create", "truncate", "unlink", "mkdir", "rmdir", "rename", "symlink", "chmod", "chown", "utimens"}

type options struct {
	readOnly   bool
	allowOther bool
	fsname     string
	attrTTL    time.Duration
	entryTTL   time.Duration
	negTTL     time.Duration
	keepCache  bool
	directIO   bool
	debug      bool
	logPath    string
}

// mount is one mounted filesystem: the handle Lua holds.
type mount struct {
	h       *host.Host
	dir     string
	ops     map[string]*lua.LFunction
	opts    options
	server  *fuse.Server
	started float64 // unix seconds: the default times

	logMu   sync.Mutex
	stderr  io.Writer
	logFile *os.File

	mu        sync.Mutex
	unmounted bool
	served    chan struct{} // closed when the server loop has ended
}

func (m *mount) String() string { return "fuse.mount(" + m.dir + ")" }

func (m *mount) writable() bool {
	if m.opts.readOnly {
		return false
	}
	for _, op := range writeOps {
		if m.ops[op] != nil {
			return true
		}
	}
	return false
}

// op returns callback name, or nil when the table has none (or the mount
// is read-only and it is a write-side callback).
func (m *mount) op(name string) *lua.LFunction {
	return m.ops[name]
}

func readOptions(L *lua.LState, t *lua.LTable) options {
	o := options{fsname: "gos3lua"}
	boolOpt := func(name string) bool {
		switch v := t.RawGetString(name).(type) {
		case *lua.LNilType:
			return false
		case lua.LBool:
			return bool(v)
		default:
			L.ArgError(3, fmt.Sprintf("%s: boolean expected, got %s", name, host.TypeName(v)))
			return false
		}
	}
	o.readOnly = boolOpt("read_only")
	o.allowOther = boolOpt("allow_other")
	o.directIO = boolOpt("direct_io")
	o.debug = boolOpt("debug")
	if v := t.RawGetString("fsname"); v != lua.LNil {
		s, ok := v.(lua.LString)
		if !ok || s == "" || strings.ContainsAny(string(s), ", \t\n") {
			L.ArgError(3, "fsname: a string without spaces or commas expected")
		}
		o.fsname = string(s)
	}
	if v := t.RawGetString("log"); v != lua.LNil {
		s, ok := v.(lua.LString)
		if !ok || s == "" {
			L.ArgError(3, "log: a file path expected")
		}
		o.logPath = string(s)
	}
	secs := func(v lua.LValue, what string) time.Duration {
		switch x := v.(type) {
		case *lua.LNilType:
			return 0
		case lua.LNumber:
			if x < 0 {
				L.ArgError(3, what+": must not be negative")
			}
			return time.Duration(float64(x) * float64(time.Second))
		}
		L.ArgError(3, what+": seconds expected, got "+host.TypeName(v))
		return 0
	}
	switch c := t.RawGetString("cache").(type) {
	case *lua.LNilType:
	case lua.LNumber:
		o.attrTTL = secs(c, "cache")
		o.entryTTL = o.attrTTL
	case *lua.LTable:
		o.attrTTL = secs(c.RawGetString("attr"), "cache.attr")
		o.entryTTL = secs(c.RawGetString("entry"), "cache.entry")
		o.negTTL = secs(c.RawGetString("negative"), "cache.negative")
		o.keepCache = lua.LVAsBool(c.RawGetString("keep_cache"))
	case lua.LBool:
		if c {
			o.attrTTL, o.entryTTL, o.keepCache = time.Second, time.Second, true
		}
	default:
		L.ArgError(3, "cache: seconds or a table {attr=, entry=, negative=, keep_cache=} expected")
	}
	return o
}

// luaMount is fuse.mount(mountpoint, ops, opts).
func luaMount(L *lua.LState) int {
	dir := L.CheckString(1)
	opsT := L.CheckTable(2)
	opts := readOptions(L, host.OptTable(L, 3))
	h := host.From(L)
	m := &mount{h: h, opts: opts, ops: map[string]*lua.LFunction{}, stderr: os.Stderr,
		started: float64(time.Now().UnixNano()) / 1e9, served: make(chan struct{})}
	known := map[string]bool{}
	for _, n := range opNames {
		known[n] = true
	}
	var unknown []string
	opsT.ForEach(func(k, v lua.LValue) {
		name, ok := k.(lua.LString)
		if !ok || !known[string(name)] {
			unknown = append(unknown, k.String())
			return
		}
		fn, ok := v.(*lua.LFunction)
		if !ok {
			L.ArgError(2, fmt.Sprintf("ops.%s: function expected, got %s", name, host.TypeName(v)))
		}
		m.ops[string(name)] = fn
	})
	if len(unknown) > 0 {
		sort.Strings(unknown)
		L.ArgError(2, fmt.Sprintf("unknown callback %s (known: %s)", strings.Join(unknown, ", "), strings.Join(opNames, ", ")))
	}
	if m.ops["getattr"] == nil {
		L.ArgError(2, "ops.getattr is required")
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		if err := m.start(dir); err != nil {
			return nil, err
		}
		return func(L *lua.LState) int {
			L.Push(host.NewObject(L, "fuse.mount", m))
			return 1
		}, nil
	})
}

// start mounts; off the Lua thread. Requests may arrive (and be served by
// the scheduler) before it returns.
func (m *mount) start(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return host.Wrap("fuse: mount "+dir, err)
	}
	m.dir = abs
	st, err := statWithin(abs, 3*time.Second)
	if errors.Is(err, syscall.ENOTCONN) || err == errStatHung && abortConnection(abs) {
		// A FUSE mount left behind by a run that was killed (ENOTCONN),
		// or one whose daemon is stuck dying (no answer; its connection
		// is aborted): undo it. Anything else that does not answer (a
		// hung NFS mount) is left alone and reported.
		if err != errStatHung {
			abortConnection(abs)
		}
		syscall.Unmount(abs, syscall.MNT_DETACH)
		st, err = os.Stat(abs)
	}
	if err != nil {
		return host.Wrap("fuse: mount "+dir, err)
	}
	if !st.IsDir() {
		return host.Errorf("ENOTDIR", "fuse: mount %s: not a directory", dir)
	}
	if m.opts.logPath != "" {
		f, err := os.OpenFile(m.opts.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0644)
		if err != nil {
			return host.Wrap("fuse: mount "+dir+": log", err)
		}
		m.logFile = f
	}
	root := &node{m: m}
	fo := &fs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther:   m.opts.allowOther,
			FsName:       m.opts.fsname,
			Name:         "gos3lua",
			DirectMount:  true,
			MaxWrite:     1 << 20,
			MaxReadAhead: 1 << 20,
			// go-fuse's own request tracing, for debugging the binding.
			Debug: os.Getenv("GOS3LUA_FUSE_TRACE") == "1",
		},
		UID: ownUID, GID: ownGID,
	}
	if m.opts.readOnly {
		fo.MountOptions.Options = append(fo.MountOptions.Options, "ro")
	}
	if m.opts.attrTTL > 0 {
		fo.AttrTimeout = &m.opts.attrTTL
	}
	if m.opts.entryTTL > 0 {
		fo.EntryTimeout = &m.opts.entryTTL
	}
	if m.opts.negTTL > 0 {
		fo.NegativeTimeout = &m.opts.negTTL
	}
	// go-fuse opens /dev/fuse without O_CLOEXEC and sets it just after
	// the mount: a subprocess started meanwhile by another task would
	// inherit the descriptor and keep the connection alive after this
	// process dies (an unkillable, stale mount). As root the mount is
	// direct (no fusermount to run), so forks can wait those few ms.
	asRoot := os.Geteuid() == 0
	if asRoot {
		fo.MountOptions.DirectMountStrict = true
		syscall.ForkLock.Lock()
	}
	srv, err := fuse.NewServer(fs.NewNodeFS(root, fo), abs, &fo.MountOptions)
	if asRoot {
		syscall.ForkLock.Unlock()
	}
	if err != nil {
		m.closeLog()
		return host.Wrap("fuse: mount "+dir, err)
	}
	m.server = srv
	go func() {
		srv.Serve()
		close(m.served)
	}()
	if err := srv.WaitMount(); err != nil {
		m.unmount()
		return host.Wrap("fuse: mount "+dir, err)
	}
	// Whatever happens to the script, the mount goes with the run.
	m.h.OnClose(func() { m.unmount() })
	ready.Store(abs, true)
	return nil
}

// ready holds the mountpoints whose mount has returned: the kernel shows a
// mount before go-fuse's WaitMount has taught it that this filesystem does
// not poll, and until then a Go open(2) of a file there from this process
// can deadlock it (the runtime's epoll_ctl waits for a FUSE_POLL answer
// without yielding, while a GC waits for it to stop). In-process tests wait
// for this, not for /proc/mounts.
var ready sync.Map // absolute mountpoint → true

// unmount undoes the mount, once; a busy mount is detached lazily so that
// nothing stays in the way of the next mount. Safe from any goroutine.
func (m *mount) unmount() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unmounted || m.server == nil {
		return nil
	}
	m.unmounted = true
	ready.Delete(m.dir)
	defer m.closeLog()
	select {
	case <-m.served:
		return nil // unmounted from outside (umount, fusermount -u)
	default:
	}
	done := make(chan error, 1)
	go func() { done <- m.server.Unmount() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(3 * time.Second):
		err = errors.New("timed out")
	}
	if err != nil {
		abortConnection(m.dir) // requests still waiting would keep it alive
		if derr := syscall.Unmount(m.dir, syscall.MNT_DETACH); derr != nil && !errors.Is(derr, syscall.EINVAL) {
			return host.Wrap("fuse: unmount "+m.dir, derr)
		}
	}
	return nil
}

func (m *mount) closeLog() {
	m.logMu.Lock()
	defer m.logMu.Unlock()
	if m.logFile != nil {
		m.logFile.Close()
		m.logFile = nil
	}
}

// luaServe waits until the filesystem is unmounted: by unmount(), by
// umount/fusermount -u, or by the run's cancellation (Ctrl-C, SIGTERM),
// which unmounts it and raises "cancelled".
func luaServe(L *lua.LState) int {
	m := host.Check[*mount](L, 1, "fuse.mount")
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		select {
		case <-m.served:
			m.unmount()
			return nil, nil
		case <-ctx.Done():
			m.unmount()
			return nil, ctx.Err()
		}
	})
}

func luaUnmount(L *lua.LState) int {
	m := host.Check[*mount](L, 1, "fuse.mount")
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		return nil, m.unmount()
	})
}

func luaMountpoint(L *lua.LState) int {
	m := host.Check[*mount](L, 1, "fuse.mount")
	L.Push(lua.LString(m.dir))
	return 1
}
