package fuse

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host"
	"github.com/gos3lua/gos3lua/host/hosttest"
	"github.com/gos3lua/gos3lua/stdlib"
	lua "github.com/yuin/gopher-lua"
)

// mounted reports whether dir is a mount point (per /proc/mounts).
func mounted(dir string) bool {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[1] == dir {
			return true
		}
	}
	return false
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// forceUnmount is the last resort of a test's cleanup: nothing stays
// mounted, whatever failed. A connection whose server is gone but which
// still has requests waiting is aborted first (through fusectl, when it is
// mounted), so that nothing stays blocked on it.
func forceUnmount(dir string) {
	if !mounted(dir) {
		return
	}
	abortConnection(dir)
	syscall.Unmount(dir, syscall.MNT_DETACH)
}

// luaFS is a Lua filesystem served in process: code runs as the main
// chunk of a fresh Host with the mountpoint as its first vararg.
type luaFS struct {
	dir  string
	log  string
	h    *host.Host
	done chan error
	once sync.Once
	err  error
}

func serveLua(t *testing.T, code string) *luaFS {
	t.Helper()
	hosttest.Need(t, "/dev/fuse")
	stdlib.Register()
	Register()
	tmp := t.TempDir()
	f := &luaFS{dir: filepath.Join(tmp, "mnt"), log: filepath.Join(tmp, "fuse.log"), done: make(chan error, 1)}
	if err := os.Mkdir(f.dir, 0755); err != nil {
		t.Fatal(err)
	}
	f.h = host.New(host.Options{})
	go func() {
		_, err := f.h.RunString(code, "fs.lua", lua.LString(f.dir), lua.LString(f.log))
		f.done <- err
	}()
	t.Cleanup(func() {
		f.stop(t)
		forceUnmount(f.dir)
	})
	waitFor(t, "the mount", func() bool {
		select {
		case err := <-f.done:
			f.done <- err
			return true
		default:
		}
		// Not just mounted: fuse.mount must have returned (see ready).
		_, ok := ready.Load(f.dir)
		return ok
	})
	if !mounted(f.dir) {
		t.Fatalf("not mounted: %v", f.wait(t))
	}
	return f
}

// wait returns the script's error once it has ended.
func (f *luaFS) wait(t testing.TB) error {
	f.once.Do(func() {
		select {
		case f.err = <-f.done:
		case <-time.After(10 * time.Second):
			f.err = errors.New("the script did not end")
		}
		f.h.Close()
	})
	return f.err
}

// stop cancels the run (as Ctrl-C does) and waits for it.
func (f *luaFS) stop(t testing.TB) error {
	f.h.Cancel(errors.New("test over"))
	return f.wait(t)
}

func (f *luaFS) path(p string) string { return filepath.Join(f.dir, p) }

func (f *luaFS) logText(t testing.TB) string {
	b, _ := os.ReadFile(f.log)
	return string(b)
}

func errnoOfErr(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

func wantErrno(t testing.TB, err error, want syscall.Errno) {
	t.Helper()
	if got := errnoOfErr(err); got != want {
		t.Fatalf("want %v, got %v", want, err)
	}
}

// ---- the gos3lua binary, for the bundled scripts ----

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func gos3lua(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gos3lua-fuse-test")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "gos3lua")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/gos3lua")
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// script is a bundled script running as its own process.
type script struct {
	cmd    *exec.Cmd
	dir    string
	stderr *bytes.Buffer
	exited chan struct{}
}

// runScript starts `gos3lua scripts/NAME args... MOUNTPOINT` (NAME may
// also be an absolute path) and waits until it has mounted.
func runScript(t *testing.T, env []string, name string, args ...string) *script {
	t.Helper()
	hosttest.Need(t, "/dev/fuse")
	bin := gos3lua(t)
	s := &script{dir: filepath.Join(t.TempDir(), "mnt"), stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	if err := os.Mkdir(s.dir, 0755); err != nil {
		t.Fatal(err)
	}
	file := name
	if !filepath.IsAbs(file) {
		file = filepath.Join(repoRoot(), "scripts", name)
	}
	argv := append([]string{file}, args...)
	argv = append(argv, s.dir)
	s.cmd = exec.Command(bin, argv...)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = s.stderr
	s.cmd.Stdout = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
		}
		forceUnmount(s.dir)
	})
	waitFor(t, name+" to mount", func() bool {
		select {
		case <-s.exited:
			t.Fatalf("%s exited: %v\n%s", name, s.cmd.ProcessState, s.stderr)
		default:
		}
		return mounted(s.dir)
	})
	return s
}

func (s *script) path(p string) string { return filepath.Join(s.dir, p) }

// sh runs a shell command line in dir, failing the test on error. The
// shell changes into dir itself: a child that did it between fork and
// exec (exec.Cmd.Dir) would wait on this very process's FUSE server while
// Go's runtime waits on it, and the test would hang.
func sh(t testing.TB, dir, line string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", "cd '"+dir+"' && {\n"+line+"\n}")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return string(out)
}
