package stdlib

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// Tests that need the real command: stdio through pipes, another user.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// gos3lua builds cmd/gos3lua once into a world-readable directory (so that
// an unprivileged user can run it too) and returns its path.
func gos3lua(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "gos3lua-bin-")
		if binErr != nil {
			return
		}
		os.Chmod(binDir, 0o755)
		binPath = filepath.Join(binDir, "gos3lua")
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/gos3lua")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..")
		var out []byte
		out, binErr = cmd.CombinedOutput()
		if binErr != nil {
			binErr = &buildError{binErr, string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("go build ./cmd/gos3lua: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// io.stdin:read(n) / io.stdout:write(s) move binary data unchanged.
func TestStdioBinary(t *testing.T) {
	bin := gos3lua(t)
	data := make([]byte, 100<<20)
	r := rand.NewChaCha8([32]byte{1, 2, 3})
	r.Read(data)
	cmd := exec.Command(bin, "-e", `local d = io.stdin:read(1048576) while d do io.stdout:write(d) d = io.stdin:read(1048576) end`)
	cmd.Stdin = bytes.NewReader(data)
	h := sha256.New()
	var n int64
	cmd.Stdout = writerFunc(func(p []byte) (int, error) { n += int64(len(p)); return h.Write(p) })
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	want := sha256.Sum256(data)
	if n != int64(len(data)) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("copied %d bytes of %d, sha256 equal: %v", n, len(data), bytes.Equal(h.Sum(nil), want[:]))
	}
	// Also odd sizes and read("a") of all that is left.
	small := data[:1<<20+7]
	cmd = exec.Command(bin, "-e", `local a = io.stdin:read(3) local b = io.stdin:read("a") io.stdout:write(a, b)`)
	cmd.Stdin = bytes.NewReader(small)
	out, err := cmd.Output()
	if err != nil || !bytes.Equal(out, small) {
		t.Fatalf("read(3)+read(\"a\"): err %v, %d bytes, equal %v", err, len(out), bytes.Equal(out, small))
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// A directory the walker cannot read is reported as an entry with an
// error and the walk goes on; the other fs calls on what cannot be read
// raise EACCES. As root everything is readable (permission bits do not
// apply), so there the script runs as nobody (a subprocess with dropped
// credentials), and the test checks that it really was refused.
func TestFSWalkUnreadable(t *testing.T) {
	bin := gos3lua(t)
	dir, err := os.MkdirTemp("", "walk-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, d := range []string{"a", "locked/inner", "z"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	for _, f := range []string{"a/1", "locked/2", "z/3", "secret"} {
		os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644)
	}
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Join(dir, "locked"), 0o700)
	os.Chmod(filepath.Join(dir, "secret"), 0o600)
	cmd := exec.Command(bin, "-e", `
local fs = require("fs")
local dir = ...
local out = {}
fs.walk(dir, function(e)
  if e.error then
    out[#out + 1] = "ERR " .. e.rel .. " " .. e.kind .. " " .. e.error
  else
    out[#out + 1] = e.rel
  end
end)
for e in fs.walk(dir) do
  if e.error then out[#out + 1] = "iter ERR " .. e.rel .. " " .. e.kind end
end
local function try(what, f, ...)
  local ok, err = pcall(f, ...)
  out[#out + 1] = what .. ": " .. tostring(ok) .. " " .. (ok and tostring(err) or err.kind .. " " .. tostring(err))
end
try("read", fs.read, dir .. "/secret")
try("open", fs.open, dir .. "/secret")
try("hash", require("hash").file, "md5", dir .. "/secret")
try("readdir", fs.readdir, dir .. "/locked")
try("stat", fs.stat, dir .. "/locked/2")
try("write", fs.write, dir .. "/locked/new", "x")
try("glob", function(p) return #fs.glob(p) end, dir .. "/locked/*")
print(table.concat(out, "\n"))
`, dir)
	if os.Geteuid() == 0 {
		os.Chown(dir, 0, 0)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	} else {
		os.Chmod(filepath.Join(dir, "locked"), 0)
		defer os.Chmod(filepath.Join(dir, "locked"), 0o700)
		os.Chmod(filepath.Join(dir, "secret"), 0)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := strings.Join([]string{
		"a",
		"a/1",
		"locked",
		"ERR locked EACCES fs: readdir " + dir + "/locked: permission denied",
		"secret",
		"z",
		"z/3",
		"iter ERR locked EACCES",
		"read: false EACCES fs: read " + dir + "/secret: permission denied",
		"open: false EACCES fs: open " + dir + "/secret: permission denied",
		"hash: false EACCES fs: hash " + dir + "/secret: permission denied",
		"readdir: false EACCES fs: readdir " + dir + "/locked: permission denied",
		"stat: false EACCES fs: stat " + dir + "/locked/2: permission denied",
		"write: false EACCES fs: write " + dir + "/locked/new: permission denied",
		"glob: true 0",
	}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// progress draws on a terminal only: the real command with stderr on a
// pipe writes nothing there; with stderr on a pseudo-terminal it draws.
func TestProgressTerminalOrNot(t *testing.T) {
	bin := gos3lua(t)
	const script = `local progress = require("progress")
print(progress.enabled())
local p = progress.new{total = 1000, label = "copying"}
for i = 1, 10 do p:add(100) end
p:done()`
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOS3LUA_PROGRESS=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(bin, "-e", script)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if stdout.String() != "false\n" || stderr.Len() != 0 {
		t.Errorf("stderr a pipe: enabled() printed %q, stderr %q (want false and nothing)", stdout.String(), stderr.String())
	}

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd = exec.Command(bin, "-e", script)
	cmd.Env = env
	stdout.Reset()
	cmd.Stdout, cmd.Stderr = &stdout, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var drawn bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&drawn, ptmx); close(done) }()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	<-done // the pty reports EIO once the child has closed its side
	if stdout.String() != "true\n" || !strings.Contains(drawn.String(), "copying") {
		t.Errorf("stderr a terminal: enabled() printed %q, terminal shows %q", stdout.String(), drawn.String())
	}
}
