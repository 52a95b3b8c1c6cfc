package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/gos3lua/gos3lua/host/hosttest"
	"github.com/gos3lua/gos3lua/scripts"
	"golang.org/x/sys/unix"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gos3lua-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "gos3lua")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		panic("build: " + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// gos3lua runs the binary and returns stdout, stderr and the exit status.
func gos3lua(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return runBin(t, "", stdin, nil, args...)
}

// runBin runs the binary in dir ("" for here) with stdin, a scratch HOME,
// no XDG directories and extra environment; → stdout, stderr, exit status.
func runBin(t *testing.T, dir, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(append(os.Environ(), "HOME="+t.TempDir(), "XDG_STATE_HOME=", "XDG_DATA_HOME="), env...)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(src), 0o644)
		return p
	}
	args := write("args.lua", `print(arg[0], #arg, ...)`)
	syntax := write("syntax.lua", "local x = 1\nif x then\n")
	runtime := write("runtime.lua", "local t = nil\nprint(t.x)\n")
	exit := write("exit.lua", "os.exit(5)")
	cases := []struct {
		name     string
		stdin    string
		args     []string
		out, err string
		code     int
	}{
		{"script with args", "", []string{args, "a", "b c"}, args + "\t2\ta\tb c\n", "", 0},
		{"-e with args", "", []string{"-e", `print(select("#", ...), arg[1])`, "x"}, "1\tx\n", "", 0},
		{"script from stdin", `print("from stdin", ...)`, []string{"-", "z"}, "from stdin\tz\n", "", 0},
		{"missing script", "", []string{filepath.Join(dir, "nope.lua")}, "", "no such script", 2},
		{"syntax error names file and line", "", []string{syntax}, "", syntax + ":3: unexpected end of file", 1},
		{"runtime error has a traceback", "", []string{runtime}, "", runtime + ":2: attempt to index", 1},
		{"os.exit code", "", []string{exit}, "", "", 5},
		{"version", "", []string{"--version"}, "gos3lua ", "", 0},
		{"help", "", []string{"--help"}, "usage: gos3lua", "", 0},
		{"unknown option", "", []string{"--frobnicate"}, "", "unknown option --frobnicate", 2},
		{"error table is one line", "", []string{"-e", `error(setmetatable({kind="x", message="it broke"}, {__tostring=function(e) return e.message end}))`}, "", "it broke", 1},
		{"REPL on a pipe", "x = 20\nx + 1\nfunction f()\n  return 'multi'\nend\nf()\n", nil, "21\n\"multi\"\n", "", 0},
		{"-i enters the REPL after a failing script", "print('in repl', x)\n", []string{"-i", write("fail.lua", "x = 5\nerror('boom')\n")}, "in repl\t5\n", "fail.lua:2: boom", 1},
		{"-i enters the REPL after a syntax error", "print('in repl')\n", []string{"-i", syntax}, "in repl\n", syntax + ":3:", 1},
		{"-i enters the REPL after failing -e code", "print('in repl', y)\n", []string{"-i", "-e", "y = 7", "-e", "error('boom')", "-e", "y = 8"}, "in repl\t7\n", "(command line):1: boom", 1},
		{"-i after a good script: the REPL's status", "print('in repl', z)\n", []string{"-i", "-e", "z = 1"}, "in repl\t1\n", "", 0},
		{"-i does not enter the REPL after os.exit", "print('in repl')\n", []string{"-i", exit}, "", "", 5},
		{"missing script with -i", "print('in repl')\n", []string{"-i", filepath.Join(dir, "nope.lua")}, "", "no such script", 2},
		{"binary stdin to stdout", "a\x00b\xff\n", []string{"-e", `io.stdout:write(io.stdin:read("a"))`}, "a\x00b\xff\n", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := gos3lua(t, c.stdin, c.args...)
			if code != c.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, c.code, errs)
			}
			if c.out == "" && out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if c.out != "" && !strings.HasPrefix(out, c.out) {
				t.Errorf("stdout %q, want prefix %q", out, c.out)
			}
			if c.err != "" && !strings.Contains(errs, c.err) {
				t.Errorf("stderr %q, want %q", errs, c.err)
			}
		})
	}
}

func TestTracebackOnStderr(t *testing.T) {
	_, errs, code := gos3lua(t, "", "-e", "local function f() error('deep') end\nf()")
	if code != 1 || !strings.Contains(errs, "stack traceback:") || !strings.Contains(errs, "in function 'f'") {
		t.Fatalf("code %d stderr:\n%s", code, errs)
	}
}

func TestSignals(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "-e", `print("ready") io.stdout:write("") require("task").sleep(60)`)
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 6)
			out.Read(buf)
			start := time.Now()
			cmd.Process.Signal(c.sig)
			err := cmd.Wait()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != c.code {
				t.Fatalf("got %v, want exit status %d", err, c.code)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v to stop", d)
			}
		})
	}
}

// startBlocked starts a script that prints "ready" and then blocks in a
// read of stdin, which is a pipe that stays open: a Go call that does not
// watch the run's context.
func startBlocked(t *testing.T) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, "-e", `print("ready") io.stdout:write("") io.stdin:read("a")`)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	out, _ := cmd.StdoutPipe()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	buf := make([]byte, 6)
	if _, err := io.ReadFull(out, buf); err != nil {
		t.Fatal(err)
	}
	return cmd, &errb
}

// Ctrl-C stops a script even while it waits in a read that ignores
// cancellation (stdin, a terminal): the call is abandoned after a grace
// period.
func TestSignalStopsBlockedRead(t *testing.T) {
	cmd, errb := startBlocked(t)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("got %v, want exit status 130 (stderr %q)", err, errb)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v to stop", d)
	}
}

// A second Ctrl-C exits at once, without waiting for the first one's
// grace period (a second, see host.abandonAfter).
func TestSecondInterruptKills(t *testing.T) {
	cmd, errb := startBlocked(t)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("got %v, want exit status 130 (stderr %q)", err, errb)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Fatalf("took %v: the second Ctrl-C did not kill at once", d)
	}
}

// ptyTerm drives the binary through a real pseudo-terminal.
type ptyTerm struct {
	t   *testing.T
	f   *os.File
	cmd *exec.Cmd
	mu  sync.Mutex
	buf bytes.Buffer
	all bytes.Buffer // everything shown, for checks after the fact
}

func startTerm(t *testing.T, state string, args ...string) *ptyTerm {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+state, "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	tm := &ptyTerm{t: t, f: f, cmd: cmd}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			tm.mu.Lock()
			tm.buf.Write(b[:n])
			tm.all.Write(b[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); f.Close() })
	tm.expect("Ctrl-D exits")
	return tm
}

func (tm *ptyTerm) send(s string) { tm.f.Write([]byte(s)) }

// ctrlD waits for the next prompt, types Ctrl-D there and expects the REPL
// to exit 0. A Ctrl-D typed before readline has the terminal in raw mode is
// taken by the line discipline, so the prompt is awaited first (and Ctrl-D
// typed once more if that was not enough); it fails rather than hangs.
func (tm *ptyTerm) ctrlD() {
	tm.t.Helper()
	tm.expect("> ")
	exited := make(chan error, 1)
	go func() { exited <- tm.cmd.Wait() }()
	for i := 0; i < 2; i++ {
		tm.send("\x04")
		select {
		case err := <-exited:
			if err != nil {
				tm.t.Fatalf("exit: %v", err)
			}
			return
		case <-time.After(5 * time.Second):
		}
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.t.Fatalf("Ctrl-D at the prompt did not end the REPL; it shows %q", tm.buf.String())
}

// expect waits until the output since the last expect contains want.
func (tm *ptyTerm) expect(want string) {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tm.mu.Lock()
		s := tm.buf.String()
		if i := strings.Index(s, want); i >= 0 {
			tm.buf.Next(i + len(want))
			tm.mu.Unlock()
			return
		}
		tm.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.t.Fatalf("terminal never showed %q; it shows %q", want, tm.buf.String())
}

func TestREPLTerminal(t *testing.T) {
	state := t.TempDir()
	tm := startTerm(t, state)
	tm.send("1 + 41\r")
	tm.expect("42")
	// multi-line: the chunk continues at a ">> " prompt
	tm.send("function twice(x)\r")
	tm.expect(">> ")
	tm.send("return x * 2 end\r")
	tm.send("twice(21)\r")
	tm.expect("42")
	// completion of globals and of fields after '.' and ':'
	tm.send("myvalue_unique = {alpha = 1}\r")
	tm.send("myvalue_un\t")
	tm.expect("myvalue_unique")
	tm.send(".al\t")
	tm.expect("alpha")
	tm.send("\r")
	tm.expect("1")
	tm.send("stri\t")
	tm.expect("string")
	tm.send(".upp\t")
	tm.expect("upper")
	tm.send("('ok')\r")
	tm.expect(`"OK"`)
	// modules are preloaded under their names
	tm.send("type(task.spawn)\r")
	tm.expect(`"function"`)
	// Ctrl-C cancels the running line, the REPL goes on
	tm.send("task.sleep(30)\r")
	time.Sleep(300 * time.Millisecond)
	tm.send("\x03")
	tm.expect("cancelled")
	tm.send("'still here'\r")
	tm.expect(`"still here"`)
	// io.read reads the terminal; one given up by Ctrl-C leaves the next
	// line to the REPL (it went to the abandoned read before).
	tm.send("answer = io.read()\r")
	time.Sleep(300 * time.Millisecond)
	tm.send("typed for io.read\r")
	tm.send("answer\r")
	tm.expect(`"typed for io.read"`)
	tm.send("never = io.read()\r")
	time.Sleep(300 * time.Millisecond)
	tm.send("\x03")
	tm.expect("cancelled")
	tm.expect("> ")
	tm.send("'after the read'\r")
	tm.expect(`"after the read"`)
	tm.send("never\r")
	tm.expect("nil")
	tm.ctrlD() // Ctrl-D exits

	// history persists across restarts
	hist, err := os.ReadFile(filepath.Join(state, "gos3lua", "history"))
	if err != nil || !strings.Contains(string(hist), "twice(21)") {
		t.Fatalf("history %q, %v", hist, err)
	}
	tm2 := startTerm(t, state)
	tm2.send("\x1b[A") // up arrow: the last line
	tm2.expect("never")
	tm2.send("\x1b[A\x1b[A")
	tm2.expect("'after the read'")
}

// gos3lua -i SCRIPT on a terminal: the script's error is shown, then the
// REPL starts with the state the script left.
func TestREPLTerminalAfterFailingScript(t *testing.T) {
	script := filepath.Join(t.TempDir(), "fail.lua")
	os.WriteFile(script, []byte("left = 'behind'\nerror('boom')\n"), 0o644)
	tm := startTerm(t, t.TempDir(), "-i", script)
	tm.send("left\r")
	tm.expect(`"behind"`)
	tm.ctrlD()
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if !strings.Contains(tm.all.String(), "fail.lua:2: boom") {
		t.Errorf("the script's error was not shown: %q", tm.all.String())
	}
}

// inDirRun runs the binary in dir with extra environment.
func inDirRun(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runBin(t, dir, "", env, args...)
}

// `gos3lua scripts` lists every bundled script with its description,
// `scripts show NAME` prints it byte for byte, and `gos3lua NAME.lua` runs
// a local file of that name first, else the bundled one.
func TestScriptsCommand(t *testing.T) {
	list := scripts.List()
	if len(list) == 0 {
		t.Fatal("no bundled scripts")
	}
	out, errs, code := gos3lua(t, "", "scripts")
	if code != 0 {
		t.Fatalf("scripts: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(list) {
		t.Fatalf("scripts listed %d lines for %d scripts:\n%s", len(lines), len(list), out)
	}
	for i, s := range list {
		f := strings.Fields(lines[i])
		if len(f) < 2 || f[0] != s.Name || s.Description == "" || !strings.Contains(lines[i], s.Description) {
			t.Errorf("line %q, want %s and its description %q", lines[i], s.Name, s.Description)
		}
	}
	first := list[0].Name
	src, _ := scripts.Source(first)
	for _, name := range []string{first, strings.TrimSuffix(first, ".lua")} {
		if out, _, code := gos3lua(t, "", "scripts", "show", name); code != 0 || out != src {
			t.Errorf("scripts show %s: exit %d, output differs from the bundled source: %v", name, code, out != src)
		}
	}
	for _, c := range []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{[]string{"scripts", "show", "nope"}, 2, "", `no bundled script "nope"`},
		{[]string{"scripts", "show"}, 2, "", "want 'scripts' or 'scripts show NAME'"},
		{[]string{"scripts", "frob"}, 2, "", "want 'scripts' or 'scripts show NAME'"},
		{[]string{"scripts", "--help"}, 0, "usage: gos3lua scripts", ""},
		{[]string{"scripts", "-h"}, 0, "usage: gos3lua scripts", ""},
	} {
		out, errs, code := gos3lua(t, "", c.args...)
		if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errs, c.err) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", c.args, code, out, errs, c.code, c.out, c.err)
		}
	}

	dir := t.TempDir()
	// the bundled script runs when there is no local file of its name
	if out, errs, code := inDirRun(t, dir, nil, first, "--help"); code != 0 || out == "" {
		t.Errorf("bundled %s --help: exit %d, stdout %q, stderr %q", first, code, out, errs)
	}
	// a local file of that name comes first
	os.WriteFile(filepath.Join(dir, first), []byte(`print("the local one", ...)`), 0o644)
	if out, errs, code := inDirRun(t, dir, nil, first, "x"); code != 0 || out != "the local one\tx\n" {
		t.Errorf("local %s: exit %d, stdout %q, stderr %q", first, code, out, errs)
	}
	// a path (with a directory) never falls back to a bundled script
	if _, errs, code := inDirRun(t, dir, nil, filepath.Join("sub", first)); code != 2 || !strings.Contains(errs, "no such script") {
		t.Errorf("sub/%s: exit %d, stderr %q", first, code, errs)
	}
}

// require finds modules next to the script first, then on GOS3LUA_PATH.
func TestRequirePathFromCommand(t *testing.T) {
	dir, lib1, lib2 := t.TempDir(), t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.lua"), []byte(`print(require("shared").from, require("onlylib").from, require("pkg").from)`), 0o644)
	os.WriteFile(filepath.Join(dir, "shared.lua"), []byte(`return {from = "beside"}`), 0o644)
	os.WriteFile(filepath.Join(lib1, "shared.lua"), []byte(`return {from = "lib1"}`), 0o644)
	os.WriteFile(filepath.Join(lib2, "onlylib.lua"), []byte(`return {from = "lib2"}`), 0o644)
	os.MkdirAll(filepath.Join(lib2, "pkg"), 0o755)
	os.WriteFile(filepath.Join(lib2, "pkg", "init.lua"), []byte(`return {from = "pkg/init"}`), 0o644)
	env := []string{"GOS3LUA_PATH=" + lib1 + string(os.PathListSeparator) + lib2}
	out, errs, code := inDirRun(t, t.TempDir(), env, filepath.Join(dir, "main.lua"))
	if code != 0 || out != "beside\tlib2\tpkg/init\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// without GOS3LUA_PATH the library modules are not found
	_, errs, code = inDirRun(t, t.TempDir(), nil, filepath.Join(dir, "main.lua"))
	if code != 1 || !strings.Contains(errs, "onlylib") {
		t.Fatalf("without GOS3LUA_PATH: exit %d, stderr %q", code, errs)
	}
}

// A signal that ends the REPL at its prompt (kill, SIGTERM from a service
// manager) leaves the terminal as it found it, not in the line editor's
// raw mode.
func TestREPLSignalRestoresTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120})
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+t.TempDir(), "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var mu sync.Mutex
	var shown bytes.Buffer
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			mu.Lock()
			shown.Write(b[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	canonical := func() bool {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		return tio.Lflag&unix.ICANON != 0 && tio.Lflag&unix.ECHO != 0
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		ready := strings.Contains(shown.String(), "Ctrl-D exits")
		mu.Unlock()
		if ready && !canonical() {
			break // at the prompt, in raw mode
		}
		if time.Now().After(deadline) {
			t.Fatalf("no prompt in raw mode; shown %q", shown.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Fatalf("exit: %v", err)
	}
	if !canonical() {
		t.Fatal("the terminal was left in raw mode")
	}
}

// A signal at the REPL's prompt while a FUSE mount made at that prompt is
// in place: the mount is undone before the process exits (no stale
// "transport endpoint is not connected" directory).
func TestREPLSignalUnmounts(t *testing.T) {
	hosttest.Need(t, "/dev/fuse")
	if os.Geteuid() != 0 {
		hosttest.Need(t, "fusermount3")
	}
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	tm := startTerm(t, t.TempDir())
	tm.send(`m = fuse.mount("` + mnt + `", {getattr = function(p) if p == "/" then return {type = "dir"} end end, readdir = function() return {} end})` + "\r")
	mounted := func() bool {
		b, _ := os.ReadFile("/proc/self/mountinfo")
		return strings.Contains(string(b), " "+mnt+" ")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !mounted() {
		if time.Now().After(deadline) {
			tm.mu.Lock()
			defer tm.mu.Unlock()
			t.Fatalf("never mounted; terminal shows %q", tm.all.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		if mounted() {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
	tm.expect("> ")
	tm.cmd.Process.Signal(syscall.SIGTERM)
	err := tm.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Fatalf("exit: %v", err)
	}
	if mounted() {
		t.Fatal("the mount outlived the process")
	}
}
