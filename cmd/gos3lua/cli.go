package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/gos3lua/gos3lua/host"
	"github.com/gos3lua/gos3lua/scripts"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=..."
var version = "0.1.0-dev"

// subcommands maps `gos3lua NAME ...` to its implementation; files of this
// package register theirs in init (test, serve).
var subcommands = map[string]func(args []string) int{}

// runTestFile, when set (testcmd.go), runs a *_test.lua file given as the
// script, printing TAP, so that `prove --exec gos3lua` works.
var runTestFile func(path string, args []string) int

const usage = `usage: gos3lua [options] [SCRIPT [ARGS...]]
       gos3lua test [PATH...] [-j N] [-v] [--run PATTERN] [--tap] [--junit FILE] [--doc]
       gos3lua scripts [show NAME]
       gos3lua serve s3 [--dir DIR] [--addr HOST:PORT]

Runs Lua scripts with batteries for S3, SMTP, DNS, FUSE and tests.
With no script, starts the REPL (or reads Lua from stdin when it is not a
terminal). SCRIPT may name a bundled script (see 'gos3lua scripts') when no
local file of that name exists; '-' reads the script from stdin.

options:
  -e CODE      run CODE (may be repeated); ARGS follow
  -i           enter the REPL after running the script or -e code
  -v, --version  print the version and exit
  -h, --help     print this help and exit

exit status: the script's os.exit code; 0 on success; 1 on a Lua error;
2 on bad usage or a missing script; 130 on Ctrl-C; 143 on SIGTERM.
`

// Main is the whole command; it returns the exit status.
func Main(args []string) int {
	wire()
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			return sub(args[1:])
		}
		if args[0] == "scripts" {
			return scriptsCommand(args[1:])
		}
	}
	var codes []string
	interactive := false
	i := 0
loop:
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-e":
			if i+1 >= len(args) {
				return usageError("-e needs an argument")
			}
			codes = append(codes, args[i+1])
			i++
		case a == "-i":
			interactive = true
		case a == "-v" || a == "--version":
			fmt.Println("gos3lua", version)
			return 0
		case a == "-h" || a == "--help":
			fmt.Print(usage)
			return 0
		case a == "--":
			i++
			break loop
		case a == "-":
			break loop
		case strings.HasPrefix(a, "-"):
			return usageError("unknown option " + a)
		default:
			break loop
		}
	}
	rest := args[i:]
	if len(codes) == 0 && len(rest) == 0 {
		return repl(nil, 0)
	}
	if len(codes) > 0 {
		startSignals()
		h := newHost("", rest)
		defer h.Close()
		code, luaErr := 0, false
		for _, c := range codes {
			if code, luaErr = runChunk(h, c, "(command line)", rest); code != 0 {
				break
			}
		}
		if interactive && (code == 0 || luaErr) {
			return repl(h, code)
		}
		return code
	}
	path, scriptArgs := rest[0], rest[1:]
	if runTestFile != nil && strings.HasSuffix(path, "_test.lua") {
		if _, err := os.Stat(path); err == nil {
			return runTestFile(path, scriptArgs)
		}
	}
	src, name, err := loadScript(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gos3lua: %v\n", err)
		return 2
	}
	startSignals()
	h := newHost(name, scriptArgs)
	defer h.Close()
	code, luaErr := runChunk(h, src, name, scriptArgs)
	if interactive && (code == 0 || luaErr) {
		// After a Lua error too (reported above), so that the state the
		// script left can be inspected, as python -i does. (PUC lua -i
		// exits instead.) os.exit and signals still end the run.
		return repl(h, code)
	}
	return code
}

func usageError(msg string) int {
	fmt.Fprintf(os.Stderr, "gos3lua: %s\ntry 'gos3lua --help'\n", msg)
	return 2
}

// loadScript finds a script: a local file first, then a bundled one.
func loadScript(path string) (src, name string, err error) {
	if path == "-" {
		b, err := io.ReadAll(os.Stdin)
		return string(b), "stdin", err
	}
	b, err := os.ReadFile(path)
	if err == nil {
		return string(b), path, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		if s, ok := scripts.Source(filepath.Base(path)); ok && !strings.ContainsRune(path, os.PathSeparator) {
			return s, path, nil
		}
		return "", "", fmt.Errorf("%s: no such script (see 'gos3lua scripts' for the bundled ones)", path)
	}
	return "", "", err
}

func newHost(script string, args []string) *host.Host {
	h := host.New(host.Options{Script: script, Args: args})
	h.InstallStdio()
	return h
}

// runChunk compiles and runs src as the main task, reporting errors; it
// returns the exit status, and whether it is 1 for a Lua error (syntax or
// run time) rather than os.exit or a signal.
func runChunk(h *host.Host, src, name string, args []string) (code int, luaErr bool) {
	fn, err := h.Compile(src, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gos3lua: %v\n", err)
		return 1, true
	}
	largs := make([]lua.LValue, len(args))
	for i, a := range args {
		largs[i] = lua.LString(a)
	}
	stop := handleSignals(h)
	_, err = h.Run(fn, largs...)
	sig := stop()
	var ee *host.ExitError
	return report(err, sig), err != nil && sig == 0 && !errors.As(err, &ee)
}

// handleSignals cancels the run on the first SIGINT/SIGTERM and exits at
// once on the second. stop returns the exit status the signal asks for
// (0 when none came); after it, until the next run, a signal exits at once
// (as it would without a handler).
func handleSignals(h *host.Host) (stop func() int) {
	startSignals()
	<-sigs.ready
	sigs.mu.Lock()
	sigs.h, sigs.got = h, 0
	sigs.mu.Unlock()
	return func() int {
		sigs.mu.Lock()
		defer sigs.mu.Unlock()
		sigs.h, sigs.idle = nil, h
		return sigs.got
	}
}

// sigs is the process's one registration for SIGINT/SIGTERM, made once and
// never undone: signal.Notify's first call waits for the Go runtime to
// start a thread of its own, and signal.Stop for the signal goroutine to
// be idle, together an eighth of the time `gos3lua -e ""` took. Main
// starts it before building the host, so that it overlaps with that.
var sigs struct {
	once  sync.Once
	ready chan struct{} // closed once registered
	mu    sync.Mutex
	h     *host.Host // the run to cancel; nil between runs
	idle  *host.Host // between runs, the last run's host: its closers run before a signal's exit
	got   int        // the exit status the run's first signal asks for
	ended bool       // a signal is ending the process
	// restore, when set, undoes what must not outlive the process (the
	// REPL's raw terminal) before a signal ends it.
	restore func()
}

func exitAfterSignal(restore func(), code int) {
	if restore != nil {
		restore()
	}
	os.Exit(code)
}

// onSignalExit sets what runs before a signal ends the process (nil: nothing).
func onSignalExit(fn func()) {
	sigs.mu.Lock()
	sigs.restore = fn
	sigs.mu.Unlock()
}

func startSignals() {
	sigs.once.Do(func() {
		sigs.ready = make(chan struct{})
		go func() {
			ch := make(chan os.Signal, 2)
			signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
			close(sigs.ready)
			for sig := range ch {
				code := 130
				if sig == syscall.SIGTERM {
					code = 143
				}
				sigs.mu.Lock()
				if sigs.ended || sigs.h != nil && sigs.got != 0 {
					exitAfterSignal(sigs.restore, code) // the second signal: at once
				}
				if sigs.h == nil {
					// Between runs: undo what the last run left in place
					// (FUSE mounts, the REPL's raw terminal), then exit.
					sigs.ended = true
					idle, restore := sigs.idle, sigs.restore
					sigs.mu.Unlock()
					if idle != nil {
						go func() { idle.RunClosers(); exitAfterSignal(restore, code) }()
					} else {
						exitAfterSignal(restore, code)
					}
					continue
				}
				sigs.got = code
				// Under the lock: a run that has just ended must not
				// pass this on to the next one.
				sigs.h.Cancel(fmt.Errorf("interrupted (%s)", sig))
				sigs.mu.Unlock()
			}
		}()
	})
}

func report(err error, sig int) int {
	if sig != 0 {
		var le *host.LuaError
		if err != nil && !(errors.As(err, &le) && le.Kind() == "cancelled") {
			var ee *host.ExitError
			if !errors.As(err, &ee) {
				fmt.Fprintf(os.Stderr, "gos3lua: %v\n", err)
			}
		}
		return sig
	}
	if err == nil {
		return 0
	}
	var ee *host.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var le *host.LuaError
	if errors.As(err, &le) {
		fmt.Fprintf(os.Stderr, "gos3lua: %s\n", le.Error())
		if le.Traceback != "" {
			fmt.Fprintln(os.Stderr, le.Traceback)
		}
		return 1
	}
	fmt.Fprintf(os.Stderr, "gos3lua: %v\n", err)
	return 1
}

func scriptsCommand(args []string) int {
	if len(args) >= 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Print("usage: gos3lua scripts            list the bundled scripts\n       gos3lua scripts show NAME  print one (copy it, edit it, run your copy)\n")
		return 0
	}
	if len(args) == 0 {
		list := scripts.List()
		w := 0
		for _, s := range list {
			w = max(w, len(s.Name))
		}
		for _, s := range list {
			fmt.Printf("%-*s  %s\n", w, s.Name, s.Description)
		}
		return 0
	}
	if args[0] == "show" && len(args) == 2 {
		src, ok := scripts.Source(args[1])
		if !ok {
			fmt.Fprintf(os.Stderr, "gos3lua: no bundled script %q (see 'gos3lua scripts')\n", args[1])
			return 2
		}
		fmt.Print(src)
		return 0
	}
	return usageError("scripts: want 'scripts' or 'scripts show NAME'")
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
