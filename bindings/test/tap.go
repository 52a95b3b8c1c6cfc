package test

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// tapWriter prints TAP version 13: one line per test, failures with a YAML
// diagnostic block, printed output as comments, the plan at the end.
type tapWriter struct {
	w          io.Writer
	prefixFile bool // the whole run: "path: name"; one file (prove --exec): "name"
	n          int
}

func (t *tapWriter) begin([]Item) { io.WriteString(t.w, "TAP version 13\n") }

func (t *tapWriter) file(it Item, r *FileResult) {
	var b strings.Builder
	prefix := ""
	if t.prefixFile {
		prefix = it.Name() + ": "
		fmt.Fprintf(&b, "# %s\n", it.Name())
	}
	if r.Output != "" {
		writeComment(&b, r.Output)
	}
	for _, tr := range r.Tests {
		t.n++
		writeTAPTest(&b, t.n, prefix, tr)
	}
	if r.Err != nil {
		t.n++
		writeTAPTest(&b, t.n, prefix, TestResult{Name: "(file)", Status: Fail, Failure: r.Err})
	}
	if r.NotRun > 0 {
		fmt.Fprintf(&b, "# %s did not run\n", plural(r.NotRun, "test"))
	}
	io.WriteString(t.w, b.String())
}

func (t *tapWriter) end(sum *Summary, o Options) {
	var b strings.Builder
	tests := sum.Passed + sum.Failed + sum.Skipped
	if tests == 0 {
		b.WriteString("1..0 # SKIP no tests\n")
	} else {
		fmt.Fprintf(&b, "1..%d\n", tests)
	}
	if t.prefixFile && tests == 0 {
		b.WriteString("# no tests ran")
		if o.FailEmpty {
			b.WriteString(" (--fail-empty: an empty run fails)")
		}
		b.WriteString("\n")
	}
	if t.prefixFile {
		fmt.Fprintf(&b, "# Files=%d, Tests=%d, %s\n", len(sum.Files), tests, fmtDuration(sum.Duration))
		b.WriteString("# " + sum.Last() + "\n")
	}
	io.WriteString(t.w, b.String())
}

// tapEscape keeps a description from being read as a directive.
func tapEscape(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\\\")
	s = strings.ReplaceAll(s, "#", "\\#")
	return strings.ReplaceAll(s, "\n", " ")
}

func writeTAPTest(b *strings.Builder, n int, prefix string, tr TestResult) {
	desc := tapEscape(prefix + tr.Name)
	switch tr.Status {
	case Pass:
		fmt.Fprintf(b, "ok %d - %s\n", n, desc)
	case Skip:
		fmt.Fprintf(b, "ok %d - %s # SKIP %s\n", n, desc, strings.ReplaceAll(tr.Skip, "\n", " "))
	case Fail:
		fmt.Fprintf(b, "not ok %d - %s\n", n, desc)
		f := tr.Failure
		b.WriteString("  ---\n")
		yamlField(b, "message", f.Message)
		if f.Where != "" {
			yamlField(b, "at", f.Where)
		}
		for _, v := range f.Values {
			yamlField(b, v.Name, v.Text)
		}
		if f.Diff != "" {
			yamlField(b, "diff", f.Diff)
		}
		if f.Traceback != "" {
			yamlField(b, "traceback", f.Traceback)
		}
		for i, e := range f.Extra {
			yamlField(b, fmt.Sprintf("also%d", i+1), e)
		}
		b.WriteString("  ...\n")
	}
	if tr.Output != "" {
		writeComment(b, tr.Output)
	}
}

func writeComment(b *strings.Builder, out string) {
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		b.WriteString("# " + l + "\n")
	}
}

// yamlField writes key: value inside a TAP YAML block, in the subset
// Perl's TAP::Parser (YAMLish) reads: a literal "|" block for several
// lines when the block keeps them intact (no blank line, the first not
// indented), a double-quoted scalar otherwise.
func yamlField(b *strings.Builder, key, val string) {
	lines := strings.Split(val, "\n")
	block := len(lines) > 1 && !strings.HasPrefix(val, " ") && !strings.HasPrefix(val, "\t")
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			block = false
		}
	}
	if !block {
		fmt.Fprintf(b, "  %s: %s\n", key, yamlQuote(val))
		return
	}
	fmt.Fprintf(b, "  %s: |\n", key)
	for _, l := range lines {
		b.WriteString("    " + l + "\n")
	}
}

func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 32 || r == 127:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// RunDirect runs one test file and prints its TAP: what `gos3lua
// foo_test.lua` does, so that `prove --exec gos3lua` can run a suite. It
// returns the exit status (1 when anything failed).
func RunDirect(path string, o FileOptions, w io.Writer) int {
	if w == nil {
		w = os.Stdout
	}
	if o.Root == "" {
		o.Root = FindRoot(path)
	}
	r := RunFile(path, o)
	tw := &tapWriter{w: w}
	tw.begin(nil)
	tw.file(Item{Path: path}, r)
	p, f, s := r.Counts()
	tw.end(&Summary{Files: []*FileResult{r}, Passed: p, Failed: f, Skipped: s}, Options{})
	if f > 0 {
		return 1
	}
	return 0
}
