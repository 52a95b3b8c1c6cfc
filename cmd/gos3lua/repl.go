package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chzyer/readline"
	"github.com/gos3lua/gos3lua/host"
	"github.com/gos3lua/gos3lua/stdlib"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/term"
)

// repl reads Lua a chunk at a time, runs each as a main task and prints
// what an expression evaluates to. h may carry state from -e/-i; status is
// theirs (1 when they failed), kept as the exit status when stdin is not a
// terminal.
func repl(h *host.Host, status int) int {
	if h == nil {
		h = newHost("", nil)
		defer h.Close()
	}
	h.Renew() // a failed script cancelled the run's context
	if err := h.Preload(); err != nil {
		fmt.Fprintf(os.Stderr, "gos3lua: %v\n", err)
	}
	if !isTerminal(os.Stdin) {
		return replPipe(h, os.Stdin, status)
	}
	// A signal at the prompt (kill, a second Ctrl-C while a line runs)
	// ends the process: the terminal must not stay in raw mode.
	startSignals()
	if st, err := term.GetState(int(os.Stdin.Fd())); err == nil {
		onSignalExit(func() { term.Restore(int(os.Stdin.Fd()), st) })
		defer onSignalExit(nil)
	}
	stdin := newSharedStdin(os.Stdin)
	replStdin = stdin
	defer func() { replStdin = nil }()
	rl, err := readline.NewEx(&readline.Config{
		Stdin:             stdin.Editor(),
		Prompt:            "> ",
		HistoryFile:       historyFile(),
		HistoryLimit:      5000,
		AutoComplete:      &completer{h: h},
		InterruptPrompt:   "^C",
		EOFPrompt:         "",
		HistorySearchFold: true,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "gos3lua: %v\n", err)
		return replPipe(h, os.Stdin, status)
	}
	defer rl.Close()
	h.SetStdin(stdin)
	fmt.Fprintf(rl.Stdout(), "gos3lua %s (Lua 5.1); modules: %s; Ctrl-D exits\n", version, strings.Join(host.Modules(), ", "))
	var buf []string
	for {
		if len(buf) == 0 {
			rl.SetPrompt("> ")
		} else {
			rl.SetPrompt(">> ")
		}
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			buf = nil
			continue
		}
		if err != nil { // io.EOF: Ctrl-D
			return 0
		}
		buf = append(buf, line)
		if evalChunk(h, strings.Join(buf, "\n"), rl.Stdout()) {
			continue // incomplete: read more
		}
		buf = nil
	}
}

// replStdin is the terminal REPL's shared stdin (nil otherwise).
var replStdin *sharedStdin

// replPipe evaluates stdin line by line without prompts; an incomplete
// chunk continues on the next line. The exit status is 1 if any chunk failed.
func replPipe(h *host.Host, r io.Reader, status int) int {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	var buf []string
	for sc.Scan() {
		buf = append(buf, sc.Text())
		more := evalChunkStatus(h, strings.Join(buf, "\n"), os.Stdout, &status)
		if !more {
			buf = nil
		}
	}
	if len(buf) > 0 {
		if _, err := h.Compile(strings.Join(buf, "\n"), "stdin"); err != nil {
			fmt.Fprintf(os.Stderr, "gos3lua: %v\n", err)
			status = 1
		}
	}
	return status
}

func evalChunk(h *host.Host, src string, out io.Writer) (incomplete bool) {
	var status int
	return evalChunkStatus(h, src, out, &status)
}

// evalChunkStatus runs src; an expression's values are pretty-printed.
// It reports true when src is an unfinished chunk.
func evalChunkStatus(h *host.Host, src string, out io.Writer, status *int) bool {
	if strings.TrimSpace(src) == "" {
		return false
	}
	code := strings.TrimPrefix(src, "=")
	// An expression is returned with its count, so that a call returning
	// nothing prints nothing and one returning nil prints nil.
	isExpr := true
	fn, err := h.Compile("return (function(...) return select('#', ...), ... end)("+code+"\n)", "stdin")
	if err != nil {
		isExpr = false
		fn, err = h.Compile(code, "stdin")
	}
	if err != nil {
		var se *host.SyntaxError
		if errors.As(err, &se) && se.AtEOF {
			return true
		}
		fmt.Fprintf(os.Stderr, "%v\n", err)
		*status = 1
		return false
	}
	h.Renew()
	if replStdin != nil {
		replStdin.BeginRun()
	}
	stop := handleSignals(h)
	rets, err := h.Run(fn)
	stop()
	if replStdin != nil {
		// Reads of the terminal this line's tasks left behind (Go work
		// abandoned after Ctrl-C) must not take the next line.
		replStdin.EndRun()
	}
	if err != nil {
		var ee *host.ExitError
		if errors.As(err, &ee) {
			// os.exit ends the REPL: the closers (FUSE unmounts) and
			// lingering cleanup run first, as after a script.
			h.Close()
			exit(ee.Code)
		}
		fmt.Fprintf(os.Stderr, "%v\n", err)
		var le *host.LuaError
		if errors.As(err, &le) && le.Traceback != "" && le.Kind() != "cancelled" {
			fmt.Fprintln(os.Stderr, le.Traceback)
		}
		*status = 1
		return false
	}
	if isExpr && len(rets) > 1 {
		n, _ := rets[0].(lua.LNumber)
		rets = rets[1:]
		parts := make([]string, 0, int(n))
		for i := 0; i < int(n) && i < len(rets); i++ {
			parts = append(parts, stdlib.Inspect(rets[i]))
		}
		fmt.Fprintln(out, strings.Join(parts, "\t"))
	}
	return false
}

func historyFile() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	dir = filepath.Join(dir, "gos3lua")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	return filepath.Join(dir, "history")
}

// completer completes globals and fields after '.' and ':'. It runs on
// readline's goroutine while the REPL waits for input, when no Lua runs.
type completer struct{ h *host.Host }

func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	text := string(line[:pos])
	i := len(text)
	for i > 0 {
		ch := text[i-1]
		if ch == '_' || ch == '.' || ch == ':' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' {
			i--
			continue
		}
		break
	}
	expr := text[i:]
	cut := strings.LastIndexAny(expr, ".:")
	var base lua.LValue = c.h.L.G.Global
	partial := expr
	methods := false
	if cut >= 0 {
		partial = expr[cut+1:]
		methods = expr[cut] == ':'
		base = c.h.L.G.Global
		for _, name := range strings.FieldsFunc(expr[:cut], func(r rune) bool { return r == '.' || r == ':' }) {
			base = field(base, name)
			if base == lua.LNil {
				return nil, 0
			}
		}
	}
	names := map[string]bool{}
	for _, t := range fieldTables(base) {
		t.ForEach(func(k, v lua.LValue) {
			ks, ok := k.(lua.LString)
			if !ok || !strings.HasPrefix(string(ks), partial) {
				return
			}
			if methods && v.Type() != lua.LTFunction {
				return
			}
			names[string(ks)] = true
		})
	}
	if cut < 0 {
		for _, kw := range []string{"local", "function", "return", "while", "repeat", "until", "then", "else", "elseif", "end", "for", "nil", "true", "false", "and", "not"} {
			if strings.HasPrefix(kw, partial) {
				names[kw] = true
			}
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	out := make([][]rune, len(sorted))
	for i, n := range sorted {
		out[i] = []rune(n[len(partial):])
	}
	return out, len([]rune(partial))
}

// fieldTables are the tables whose keys v exposes: itself (a table) and
// the __index tables of its metatable chain.
func fieldTables(v lua.LValue) []*lua.LTable {
	var out []*lua.LTable
	for depth := 0; depth < 5 && v != nil && v != lua.LNil; depth++ {
		var mt lua.LValue = lua.LNil
		switch x := v.(type) {
		case *lua.LTable:
			out = append(out, x)
			mt = x.Metatable
		case *lua.LUserData:
			mt = x.Metatable
		}
		mtt, ok := mt.(*lua.LTable)
		if !ok {
			break
		}
		v = mtt.RawGetString("__index")
		if _, ok := v.(*lua.LTable); !ok {
			break
		}
	}
	return out
}

func field(v lua.LValue, name string) lua.LValue {
	for _, t := range fieldTables(v) {
		if f := t.RawGetString(name); f != lua.LNil {
			return f
		}
	}
	return lua.LNil
}
