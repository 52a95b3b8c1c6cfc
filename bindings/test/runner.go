package test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a run of `gos3lua test`.
type Options struct {
	Paths     []string      // files and directories; none means "."
	Jobs      int           // files run in parallel; 0 means runtime.NumCPU()
	Run       string        // only tests whose full name contains it or matches it as a Lua pattern
	Timeout   time.Duration // per file; 0 for none
	Verbose   bool          // print every test, and the output of passing ones
	TAP       bool          // TAP version 13 for the whole run instead of prove-style lines
	JUnit     string        // also write JUnit XML to this file
	Doc       bool          // also run -- >>> examples in comments of every .lua file
	FailEmpty bool          // a run that executes no test exits 1 instead of 0
	Context   context.Context
	Stdout    io.Writer
}

// Item is one unit the runner runs: a test file, or a file's doc examples.
type Item struct {
	Path string
	Doc  bool
}

// Name is how the item is shown: its path, with " (doc)" for examples.
func (it Item) Name() string {
	if it.Doc {
		return it.Path + " (doc)"
	}
	return it.Path
}

// Summary is the outcome of a run.
type Summary struct {
	Files                   []*FileResult
	Passed, Failed, Skipped int
	Duration                time.Duration
	Empty                   bool // no test ran
}

// ExitCode is 0 when nothing failed, 1 otherwise; with failEmpty a run
// in which no test ran counts as failed too.
func (s *Summary) ExitCode(failEmpty bool) int {
	if s.Failed > 0 || s.Empty && failEmpty {
		return 1
	}
	return 0
}

// Last is the summary's last line: "N passed, N failed[, N skipped]".
func (s *Summary) Last() string {
	line := fmt.Sprintf("%d passed, %d failed", s.Passed, s.Failed)
	if s.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", s.Skipped)
	}
	return line
}

// Discover finds what to run under paths: *_test.lua files recursively
// (skipping hidden directories), a file named explicitly whatever its name,
// and with doc, every .lua file that has examples. Sorted by path.
func Discover(paths []string, doc bool) ([]Item, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	seen := map[Item]bool{}
	var items []Item
	add := func(it Item) {
		if !seen[it] {
			seen[it] = true
			items = append(items, it)
		}
	}
	for _, p := range paths {
		p = filepath.Clean(p)
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			if strings.HasSuffix(p, "_test.lua") || !doc {
				add(Item{Path: p})
			}
			if doc && hasExamples(p) {
				add(Item{Path: p, Doc: true})
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if path != p && strings.HasPrefix(name, ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(name, ".lua") || strings.HasPrefix(name, ".") {
				return nil
			}
			if strings.HasSuffix(name, "_test.lua") {
				add(Item{Path: path})
			}
			if doc && hasExamples(path) {
				add(Item{Path: path, Doc: true})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Path != items[j].Path {
			return items[i].Path < items[j].Path
		}
		return !items[i].Doc && items[j].Doc
	})
	return items, nil
}

// FindRoot is the project root for a file: the nearest directory above it
// holding .git, else the current directory.
func FindRoot(path string) string {
	abs, err := filepath.Abs(path)
	if err == nil {
		for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
				return dir
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	wd, _ := os.Getwd()
	return wd
}

// Matcher is the --run filter.
func Matcher(pattern string) func(string) bool {
	if pattern == "" {
		return nil
	}
	return func(name string) bool { return matchText(name, pattern) }
}

// RunItem runs one item with the run's options.
func RunItem(it Item, o Options) *FileResult {
	fo := FileOptions{Context: o.Context, Match: Matcher(o.Run), Timeout: o.Timeout, Root: FindRoot(it.Path)}
	if it.Doc {
		return RunDoc(it.Path, fo)
	}
	return RunFile(it.Path, fo)
}

// Run discovers, runs (Jobs at a time) and reports, printing each file's
// result as soon as it and every file before it are done, so the output
// order is stable. It returns an error only for bad paths or an unwritable
// JUnit file.
func Run(o Options) (*Summary, error) {
	start := time.Now()
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	items, err := Discover(o.Paths, o.Doc)
	if err != nil {
		return nil, err
	}
	var rep reporter = &human{w: o.Stdout, verbose: o.Verbose}
	if o.TAP {
		rep = &tapWriter{w: o.Stdout, prefixFile: true}
	}
	rep.begin(items)

	results := make([]*FileResult, len(items))
	done := make([]chan struct{}, len(items))
	for i := range done {
		done[i] = make(chan struct{})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(o.Jobs, max(1, len(items))); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = RunItem(items[i], o)
				close(done[i])
			}
		}()
	}
	go func() {
		for i := range items {
			next <- i
		}
		close(next)
	}()
	sum := &Summary{}
	for i := range items {
		<-done[i]
		r := results[i]
		rep.file(items[i], r)
		p, f, s := r.Counts()
		sum.Passed += p
		sum.Failed += f
		sum.Skipped += s
		sum.Files = append(sum.Files, r)
	}
	wg.Wait()
	sum.Duration = time.Since(start)
	sum.Empty = sum.Passed+sum.Failed+sum.Skipped == 0
	var junitErr error
	if o.JUnit != "" {
		junitErr = WriteJUnitFile(o.JUnit, sum)
	}
	rep.end(sum, o)
	return sum, junitErr
}

type reporter interface {
	begin(items []Item)
	file(it Item, r *FileResult)
	end(sum *Summary, o Options)
}

// human prints prove-like lines: "path ..... ok", failures in detail.
type human struct {
	w       io.Writer
	verbose bool
	width   int
}

func (h *human) begin(items []Item) {
	for _, it := range items {
		h.width = max(h.width, len(it.Name()))
	}
}

func (h *human) file(it Item, r *FileResult) {
	p, f, s := r.Counts()
	var status string
	switch {
	case f > 0:
		status = fmt.Sprintf("FAILED %d/%d", f, p+f+s)
	case p+s == 0:
		status = "no tests"
	default:
		status = "ok"
		if s > 0 {
			status += fmt.Sprintf(" (%d skipped)", s)
		}
	}
	if h.verbose {
		status += fmt.Sprintf("  [%s, %s]", plural(p+f+s, "test"), fmtDuration(r.Duration))
	}
	var b strings.Builder
	name := it.Name()
	fmt.Fprintf(&b, "%s %s %s\n", name, strings.Repeat(".", h.width-len(name)+2), status)
	for _, t := range r.Tests {
		if t.Status == Fail || h.verbose {
			writeHumanTest(&b, t, h.verbose)
		}
	}
	if r.Err != nil {
		b.WriteString("  FAIL (file)\n")
		b.WriteString("    " + indentLines(r.Err.String(), "    ") + "\n")
	}
	if r.NotRun > 0 {
		fmt.Fprintf(&b, "  (%s did not run)\n", plural(r.NotRun, "test"))
	}
	if r.Output != "" && (f > 0 || h.verbose) {
		writeOutput(&b, "  ", r.Output)
	}
	io.WriteString(h.w, b.String())
}

// Format renders one file's result as `gos3lua test` prints it (with
// every test when verbose): for callers that run files themselves.
func Format(it Item, r *FileResult, verbose bool) string {
	var b strings.Builder
	h := &human{w: &b, verbose: verbose, width: len(it.Name())}
	h.file(it, r)
	return b.String()
}

func writeHumanTest(b *strings.Builder, t TestResult, verbose bool) {
	switch t.Status {
	case Pass:
		fmt.Fprintf(b, "  ok   %s (%s)\n", t.Name, fmtDuration(t.Duration))
	case Skip:
		fmt.Fprintf(b, "  skip %s: %s\n", t.Name, t.Skip)
	case Fail:
		fmt.Fprintf(b, "  FAIL %s\n", t.Name)
		b.WriteString("    " + indentLines(t.Failure.String(), "    ") + "\n")
	}
	if t.Output != "" && (t.Status == Fail || verbose) {
		writeOutput(b, "    ", t.Output)
	}
}

func writeOutput(b *strings.Builder, indent, out string) {
	b.WriteString(indent + "output:\n")
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		b.WriteString(indent + "| " + l + "\n")
	}
}

func (h *human) end(sum *Summary, o Options) {
	var b strings.Builder
	var failed []string
	tests := 0
	for _, r := range sum.Files {
		p, f, s := r.Counts()
		tests += p + f + s
		if f > 0 {
			name := r.Path
			if r.Doc {
				name += " (doc)"
			}
			failed = append(failed, fmt.Sprintf("  %s (%d failed)", name, f))
		}
	}
	switch {
	case len(sum.Files) == 0:
		fmt.Fprintf(&b, "no tests found: no *_test.lua file under %s\n", strings.Join(pathsOrDot(o.Paths), " "))
	case sum.Empty && o.Run != "":
		fmt.Fprintf(&b, "no tests ran: --run %q matched no test\n", o.Run)
	case sum.Empty:
		b.WriteString("no tests ran: the test files register no test\n")
	}
	if sum.Empty && o.FailEmpty {
		b.WriteString("(--fail-empty: an empty run fails)\n")
	}
	if len(failed) > 0 {
		b.WriteString("Failed:\n" + strings.Join(failed, "\n") + "\n")
	}
	fmt.Fprintf(&b, "Files=%d, Tests=%d, %s\n", len(sum.Files), tests, fmtDuration(sum.Duration))
	b.WriteString(sum.Last() + "\n")
	io.WriteString(h.w, b.String())
}

func pathsOrDot(p []string) []string {
	if len(p) == 0 {
		return []string{"."}
	}
	return p
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
