package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gos3lua/gos3lua/bindings/test"
)

func init() {
	subcommands["test"] = testCommand
	runTestFile = runOneTestFile
}

const testUsage = `usage: gos3lua test [PATH...] [options]

Finds *_test.lua files under each PATH (default: the current directory;
hidden directories are skipped), runs each in its own Lua state, several at
once, and reports prove-style. Exit status 0 when nothing failed (a run in
which no test ran says so), 1 when a test failed (or, with --fail-empty,
when no test ran), 2 on bad usage.

options:
  -j, --jobs N      files run in parallel (default: number of CPUs)
  -v, --verbose     print every test and its output
  --run PATTERN     only tests whose full name ("group / name") contains
                    PATTERN or matches it as a Lua pattern
  --tap             print TAP version 13 for the whole run
  --junit FILE      also write JUnit XML to FILE
  --timeout S       fail a file that runs longer than S seconds (default 120; 0: none)
  --doc             also run "-- >>> expr" examples in comments of every .lua file
  --fail-empty      exit 1 when no test ran (a wrong path or --run pattern)

A test file run as a script (gos3lua foo_test.lua [--timeout S] [--run P])
prints TAP for that file, so Perl's harness can run a suite:
  prove -j 4 --exec gos3lua -r --ext _test.lua DIR
`

// parseTestArgs reads the flags of `gos3lua test` anywhere among the paths.
func parseTestArgs(args []string) (test.Options, error) {
	o := test.Options{Timeout: 120 * time.Second}
	value := func(i *int, name string) (string, error) {
		a := args[*i]
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, nil
		}
		if a != name {
			// -j4
			return strings.TrimPrefix(a, name), nil
		}
		if *i+1 >= len(args) {
			return "", fmt.Errorf("%s needs a value", name)
		}
		*i++
		return args[*i], nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		var err error
		var v string
		switch {
		case a == "--":
			o.Paths = append(o.Paths, args[i+1:]...)
			return o, nil
		case a == "-v" || a == "--verbose":
			o.Verbose = true
		case a == "--tap":
			o.TAP = true
		case a == "--doc":
			o.Doc = true
		case a == "--fail-empty":
			o.FailEmpty = true
		case a == "-h" || a == "--help":
			return o, errHelp
		case strings.HasPrefix(a, "--jobs"), strings.HasPrefix(a, "-j"):
			name := "-j"
			if strings.HasPrefix(a, "--jobs") {
				name = "--jobs"
			}
			if v, err = value(&i, name); err == nil {
				o.Jobs, err = strconv.Atoi(v)
				if err != nil || o.Jobs < 1 {
					err = fmt.Errorf("%s: want a number of jobs ≥ 1, got %q", name, v)
				}
			}
		case a == "--run" || strings.HasPrefix(a, "--run="):
			o.Run, err = value(&i, "--run")
		case a == "--junit" || strings.HasPrefix(a, "--junit="):
			o.JUnit, err = value(&i, "--junit")
		case a == "--timeout" || strings.HasPrefix(a, "--timeout="):
			if v, err = value(&i, "--timeout"); err == nil {
				var s float64
				s, err = strconv.ParseFloat(v, 64)
				if err != nil || s < 0 {
					err = fmt.Errorf("--timeout: want seconds, got %q", v)
				}
				o.Timeout = time.Duration(s * float64(time.Second))
			}
		case strings.HasPrefix(a, "-") && a != "-":
			err = fmt.Errorf("unknown option %s", a)
		default:
			o.Paths = append(o.Paths, a)
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

var errHelp = fmt.Errorf("help")

func testCommand(args []string) int {
	o, err := parseTestArgs(args)
	if err == errHelp {
		fmt.Print(testUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gos3lua test: %v\ntry 'gos3lua test --help'\n", err)
		return 2
	}
	tuneGC()
	ctx, sig, stop := testSignals()
	defer stop()
	o.Context = ctx
	o.Stdout = os.Stdout
	sum, err := test.Run(o)
	if sum == nil {
		fmt.Fprintf(os.Stderr, "gos3lua test: %v\n", err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gos3lua test: %v\n", err)
		return 1
	}
	if s := sig(); s != 0 {
		return s
	}
	return sum.ExitCode(o.FailEmpty)
}

const directUsage = `usage: gos3lua FILE_test.lua [--run PATTERN] [--timeout S]

Runs the tests of one file and prints TAP version 13 for it (exit status 1
when a test failed, 2 on bad usage), so that Perl's harness can run a suite:
  prove -j 4 --exec gos3lua -r --ext _test.lua DIR
For prove-style output, several files, -j, --tap or --junit: gos3lua test.
`

// runOneTestFile is `gos3lua foo_test.lua [--timeout S] [--run P]`: TAP
// for that file, for prove --exec gos3lua.
func runOneTestFile(path string, args []string) int {
	o, err := parseTestArgs(args)
	if err == errHelp {
		fmt.Print(directUsage)
		return 0
	}
	if err == nil && (len(o.Paths) > 0 || o.Jobs != 0 || o.Verbose || o.TAP || o.Doc || o.FailEmpty || o.JUnit != "") {
		// Options of the runner that mean nothing for one file's TAP.
		err = fmt.Errorf("only --run and --timeout apply to one test file (see gos3lua test --help)")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gos3lua: %s: %v\ntry 'gos3lua %s --help'\n", path, err, path)
		return 2
	}
	tuneGC()
	ctx, sig, stop := testSignals()
	defer stop()
	code := test.RunDirect(path, test.FileOptions{Context: ctx, Timeout: o.Timeout, Match: test.Matcher(o.Run)}, os.Stdout)
	if s := sig(); s != 0 {
		return s
	}
	return code
}

// tuneGC trades memory for speed: a test run allocates a Lua state per
// file and is short-lived; collecting less often cuts its CPU time by a
// quarter. GOGC, when set, wins.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// testSignals: the first Ctrl-C/SIGTERM cancels every running file (they
// report "interrupted"), a second one exits at once.
func testSignals() (ctx context.Context, sig func() int, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	code := make(chan int, 1)
	go func() {
		n := 0
		for s := range ch {
			n++
			c := 130
			if s == syscall.SIGTERM {
				c = 143
			}
			if n > 1 {
				os.Exit(c)
			}
			select {
			case code <- c:
			default:
			}
			cancel()
		}
	}()
	sig = func() int {
		select {
		case c := <-code:
			return c
		default:
			return 0
		}
	}
	return ctx, sig, func() { signal.Stop(ch); cancel() }
}
