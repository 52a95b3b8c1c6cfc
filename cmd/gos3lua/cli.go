package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// subcommands maps `gos3lua NAME ...` to its implementation; files of this
// package register theirs in init (test, serve, scripts).
var subcommands = map[string]func(args []string) int{}

// runTestFile, when set (testcmd.go), runs a *_test.lua file given as the
// script, printing TAP, so that `prove --exec gos3lua` works.
var runTestFile func(path string, args []string) int

// Main is the whole command; it returns the exit status.
func Main(args []string) int {
	wire()
	if len(args) == 0 {
		return 0
	}
	if sub, ok := subcommands[args[0]]; ok {
		return sub(args[1:])
	}
	switch args[0] {
	case "-e":
		if len(args) < 2 {
			fmt.Fprintln(os.Stderr, "gos3lua: -e needs code")
			return 2
		}
		return runCode(args[1], "=(command line)", args[2:])
	}
	return runScript(args[0], args[1:])
}

func runCode(code, name string, args []string) int {
	h := host.New(host.Options{Args: args})
	defer h.Close()
	h.InstallStdio()
	stop := handleSignals(h)
	defer stop()
	_, err := h.RunString(code, name)
	return report(h, err)
}

func runScript(path string, args []string) int {
	var src []byte
	var err error
	if path == "-" {
		src, err = io.ReadAll(os.Stdin)
	} else {
		src, err = os.ReadFile(path)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gos3lua: %s: no such script\n", path)
		return 2
	}
	h := host.New(host.Options{Script: path, Args: args})
	defer h.Close()
	h.InstallStdio()
	stop := handleSignals(h)
	defer stop()
	code := string(src)
	fn, err := h.L.Load(stringsReader(code), path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gos3lua: %v\n", err)
		return 1
	}
	largs := make([]lua.LValue, len(args))
	for i, a := range args {
		largs[i] = lua.LString(a)
	}
	_, err = h.Run(fn, largs...)
	return report(h, err)
}

var signalled = 0

func handleSignals(h *host.Host) func() {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for sig := range ch {
			n++
			code := 130
			if sig == syscall.SIGTERM {
				code = 143
			}
			if n > 1 {
				os.Exit(code)
			}
			signalled = code
			h.Cancel(fmt.Errorf("%s", sig))
		}
	}()
	return func() { signal.Stop(ch) }
}

func report(h *host.Host, err error) int {
	if signalled != 0 {
		if err != nil {
			var le *host.LuaError
			if !errors.As(err, &le) || le.Kind() != "cancelled" {
				fmt.Fprintf(os.Stderr, "gos3lua: %v\n", err)
			}
		}
		return signalled
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

func stringsReader(s string) io.Reader {
	if len(s) > 1 && s[0] == '#' && s[1] == '!' {
		s = "--" + s
	}
	return &stringReader{s: s}
}

type stringReader struct{ s string }

func (r *stringReader) Read(p []byte) (int, error) {
	if len(r.s) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}
