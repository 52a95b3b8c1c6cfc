package test

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host/hosttest"
	"github.com/gos3lua/gos3lua/stdlib"
)

func init() {
	stdlib.Register()
	Register()
}

// files writes name → source under a fresh directory and returns it.
func files(t *testing.T, fs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range fs {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runOne(t *testing.T, src string, o FileOptions) *FileResult {
	t.Helper()
	dir := files(t, map[string]string{"x_test.lua": src})
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	return RunFile(filepath.Join(dir, "x_test.lua"), o)
}

func byName(t *testing.T, r *FileResult, name string) TestResult {
	t.Helper()
	for _, tr := range r.Tests {
		if tr.Name == name {
			return tr
		}
	}
	t.Fatalf("no test %q in %+v", name, r.Tests)
	return TestResult{}
}

// run runs the runner over dir (chdir'd, so paths are relative) and
// returns its output and summary.
func runDir(t *testing.T, dir string, o Options) (string, *Summary) {
	t.Helper()
	var out bytes.Buffer
	o.Stdout = &out
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	t.Chdir(dir)
	sum, err := Run(o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	return out.String(), sum
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestAssertionsSayWhereAndWhat(t *testing.T) {
	r := runOne(t, `local test = require("test")
test("eq", function(t)
  t:eq(1 + 1, 2)
  t:eq({a = 1, b = {2, 3}}, {a = 1, b = {2, 3}})
  t:eq({1, 2}, {1, 3}, "lists")
end)
test("ok", function(t) t:ok(nil, "present") end)
test("err", function(t)
  local e = t:err(function() error({kind = "x", message = "boom: here"}) end, "boom")
  t:eq(e.kind, "x")
  t:err(function() end)
end)
test("match", function(t) t:match("hello", "^h%a+$"); t:match(42, "4") end)
test("near", function(t) t:near(0.1 + 0.2, 0.3); t:near(1, 2, 0.5) end)
test("neq", function(t) t:neq(1, 2); t:neq({1}, {1}) end)
test("multi", function(t) t:eq("a\nb\nc\n", "a\nB\nc\n") end)
test("pass", function(t) t:ok(true) end)
`, FileOptions{})
	cases := []struct {
		name, where, msg string
		values           []string
	}{
		{"eq", "x_test.lua:5", "t:eq: values differ: lists", []string{"expected: { 1, 3 }", "actual: { 1, 2 }"}},
		{"ok", "x_test.lua:7", "t:ok: value is not truthy: present", []string{"actual: nil"}},
		{"err", "x_test.lua:11", "t:err: the function did not raise an error", nil},
		{"match", "x_test.lua:13", "t:match: not a string", []string{`pattern: "4"`, "actual: 42"}},
		{"near", "x_test.lua:14", "t:near: values are not within epsilon", []string{"expected: 2", "actual: 1", "epsilon: 0.5"}},
		{"neq", "x_test.lua:15", "t:neq: values are equal", []string{"both: { 1 }"}},
		{"multi", "x_test.lua:16", "t:eq: values differ", nil},
	}
	for _, c := range cases {
		tr := byName(t, r, c.name)
		if tr.Status != Fail {
			t.Errorf("%s: status %v, want failure", c.name, tr.Status)
			continue
		}
		f := tr.Failure
		if !strings.HasSuffix(f.Where, c.where) || f.Message != c.msg {
			t.Errorf("%s: got %q %q, want %q %q", c.name, f.Where, f.Message, c.where, c.msg)
		}
		var vals []string
		for _, v := range f.Values {
			vals = append(vals, v.Name+": "+v.Text)
		}
		for _, want := range c.values {
			if !strings.Contains(strings.Join(vals, "\n"), want) {
				t.Errorf("%s: values %q lack %q", c.name, vals, want)
			}
		}
	}
	if d := byName(t, r, "multi").Failure.Diff; !strings.Contains(d, "- B") || !strings.Contains(d, "+ b") || !strings.Contains(d, "  a") {
		t.Errorf("multi-line diff:\n%s", d)
	}
	if byName(t, r, "pass").Status != Pass {
		t.Error("pass did not pass")
	}
	if p, f, s := r.Counts(); p != 1 || f != 7 || s != 0 {
		t.Errorf("counts %d %d %d", p, f, s)
	}
}

func TestErrorsAreFailuresWithTraceback(t *testing.T) {
	r := runOne(t, `local test = require("test")
local function deep() local x; return x.y end
test("boom", function(t) deep() end)
test("after", function(t) t:ok(true) end)
`, FileOptions{})
	f := byName(t, r, "boom").Failure
	if f == nil || !strings.Contains(f.Message, "x_test.lua:2:") || !strings.Contains(f.Traceback, "x_test.lua:3") {
		t.Fatalf("failure %+v", f)
	}
	if strings.Contains(f.Traceback, hiddenChunk) {
		t.Errorf("traceback shows the runner's own frames:\n%s", f.Traceback)
	}
	if byName(t, r, "after").Status != Pass {
		t.Error("a test after an erroring one did not run")
	}
}

func TestHooksCleanupOrder(t *testing.T) {
	r := runOne(t, `local test = require("test")
test.before_each(function(t) print("before outer") end)
test.after_each(function(t) print("after outer") end)
test.describe("g", function()
  test.before_each(function(t) print("before inner") end)
  test.after_each(function(t) print("after inner") end)
  test("body fails", function(t)
    t:cleanup(function() print("cleanup 1") end)
    t:cleanup(function() print("cleanup 2") end)
    print("body")
    t:eq(1, 2)
    print("not reached")
  end)
  test.describe("h", function()
    test("nested", function(t) print("nested " .. t:name()) end)
  end)
end)
test.describe("broken setup", function()
  test("before fails", function(t) print("body must not run") end)
  test.before_each(function(t) error("setup broke") end)
end)
`, FileOptions{})
	got := byName(t, r, "g / body fails").Output
	want := "before outer\nbefore inner\nbody\nafter inner\nafter outer\ncleanup 2\ncleanup 1\n"
	if got != want {
		t.Errorf("order:\n%s\nwant:\n%s", got, want)
	}
	if n := byName(t, r, "g / h / nested"); n.Status != Pass || !strings.Contains(n.Output, "nested g / h / nested") {
		t.Errorf("nested: %+v", n)
	}
	// A before_each applies to every test of its group, even one
	// registered before it (hooks are looked up when a test runs).
	bf := byName(t, r, "broken setup / before fails")
	if bf.Status != Fail || !strings.Contains(bf.Failure.Message, "before_each: ") || strings.Contains(bf.Output, "must not run") {
		t.Errorf("before fails: %+v %+v", bf, bf.Failure)
	}
}

func TestAfterEachFailureAddsToTheTest(t *testing.T) {
	r := runOne(t, `local test = require("test")
test.after_each(function(t) error("teardown broke") end)
test("a", function(t) t:ok(true) end)
test("b", function(t) t:eq(1, 2) end)
test("c", function(t) t:skip("later") end)
`, FileOptions{})
	a := byName(t, r, "a")
	if a.Status != Fail || !strings.Contains(a.Failure.Message, "after_each: ") || !strings.Contains(a.Failure.Message, "teardown broke") {
		t.Errorf("a: %+v", a.Failure)
	}
	b := byName(t, r, "b")
	if b.Status != Fail || !strings.Contains(b.Failure.Message, "t:eq") || len(b.Failure.Extra) != 1 {
		t.Errorf("b: %+v", b.Failure)
	}
	if c := byName(t, r, "c"); c.Status != Fail {
		t.Errorf("c: a skipped test whose after_each fails must fail: %+v", c)
	}
}

func TestSkipNeedAndRegisteredSkip(t *testing.T) {
	src := `local test = require("test")
test("skip", function(t) t:skip("needs a server"); error("not reached") end)
test("need", function(t) t:need("sh", "no-such-tool-gos3lua") end)
test("have", function(t) t:need("sh") t:ok(true) end)
test.skip("later", function(t) error("not run") end, "todo")
`
	t.Setenv(RequireToolsEnv, "")
	r := runOne(t, src, FileOptions{})
	if s := byName(t, r, "skip"); s.Status != Skip || s.Skip != "needs a server" {
		t.Errorf("skip: %+v", s)
	}
	if s := byName(t, r, "need"); s.Status != Skip || s.Skip != "needs no-such-tool-gos3lua" {
		t.Errorf("need: %+v", s)
	}
	if s := byName(t, r, "have"); s.Status != Pass {
		t.Errorf("have: %+v", s)
	}
	if s := byName(t, r, "later"); s.Status != Skip || s.Skip != "todo" {
		t.Errorf("later: %+v", s)
	}
	t.Setenv(RequireToolsEnv, "1")
	r = runOne(t, src, FileOptions{})
	if s := byName(t, r, "need"); s.Status != Fail || !strings.Contains(s.Failure.Message, "no-such-tool-gos3lua is required") {
		t.Errorf("need under %s=1: %+v", RequireToolsEnv, s)
	}
}

func TestTmpdirIsRemovedAndTasksWork(t *testing.T) {
	r := runOne(t, `local test = require("test")
local task = require("task")
test("tmp", function(t)
  local d = t:tmpdir()
  local f = assert(io.open(d .. "/f", "w")); f:write("x"); f:close()
  print(d)
end)
test("tasks", function(t)
  local a = task.spawn(function() task.sleep(0.01); return 1 end)
  local b = task.spawn(function() return 2 end)
  t:eq(a:wait() + b:wait(), 3)
  local ok, e = pcall(function() task.sleep(0); error("in pcall") end)
  t:ok(not ok); t:match(e, "in pcall")
  t:err(function() task.sleep(0); error("after a yield") end, "after a yield")
end)
`, FileOptions{})
	tmp := byName(t, r, "tmp")
	if tmp.Status != Pass {
		t.Fatalf("tmp: %+v", tmp.Failure)
	}
	d := strings.TrimSpace(tmp.Output)
	if _, err := os.Stat(d); !os.IsNotExist(err) {
		t.Errorf("tmpdir %q still there (%v)", d, err)
	}
	if tk := byName(t, r, "tasks"); tk.Status != Pass {
		t.Errorf("tasks: %s", tk.Failure)
	}
}

func TestFileLevelFailures(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"syntax", "local x = = 1\n", "x_test.lua:1: syntax error near '='"},
		{"top level", "local test = require('test')\ntest('a', function(t) end)\nerror('at load')\n", "x_test.lua:3: at load"},
		{"exit at top", "os.exit(2)\n", "os.exit(2) was called"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runOne(t, c.src, FileOptions{})
			if r.Err == nil || !strings.Contains(r.Err.Head(), c.want) {
				t.Fatalf("file error %+v, want %q", r.Err, c.want)
			}
			if _, f, _ := r.Counts(); f != 1 {
				t.Errorf("a file that fails counts as one failed test, got %d", f)
			}
		})
	}
	r := runOne(t, "-- no tests here\n", FileOptions{})
	if r.Err != nil || r.Failed() || len(r.Tests) != 0 {
		t.Errorf("a file without tests: %+v", r)
	}
}

func TestExitAndTimeoutEndOnlyTheirTest(t *testing.T) {
	r := runOne(t, `local test = require("test")
test("first", function(t) t:ok(true) end)
test("exits", function(t) os.exit(3) end)
test("never", function(t) t:ok(true) end)
`, FileOptions{})
	if e := byName(t, r, "exits"); e.Status != Fail || !strings.Contains(e.Failure.Head(), "x_test.lua:3: os.exit(3) was called") {
		t.Errorf("exits: %+v", e.Failure)
	}
	if r.NotRun != 1 || r.Err != nil || byName(t, r, "first").Status != Pass {
		t.Errorf("after os.exit: %+v", r)
	}

	for _, loop := range []string{
		"while true do end",
		"while true do pcall(function() while true do end end) end",
		"local co = coroutine.wrap(function() while true do end end); co()",
	} {
		start := time.Now()
		r = runOne(t, `local test = require("test")
test("spins", function(t) `+loop+` end)
test("never", function(t) t:ok(true) end)
`, FileOptions{Timeout: 300 * time.Millisecond})
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("%s: the timeout took %s", loop, el)
		}
		s := byName(t, r, "spins")
		if s.Status != Fail || !strings.Contains(s.Failure.Message, "timed out after 300ms") || !strings.HasSuffix(s.Failure.Where, "x_test.lua:2") {
			t.Errorf("%s: %+v", loop, s.Failure)
		}
		if r.NotRun != 1 {
			t.Errorf("%s: not run %d", loop, r.NotRun)
		}
	}
}

func TestDeadlockAndLeftoverTasksDoNotHang(t *testing.T) {
	start := time.Now()
	r := runOne(t, `local test = require("test")
local task = require("task")
test("deadlock", function(t) task.channel():recv() end)
test("leaves a task", function(t) task.spawn(function() task.sleep(3600) end) end)
test("after", function(t) t:ok(true) end)
`, FileOptions{Timeout: 10 * time.Second})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %s", el)
	}
	if d := byName(t, r, "deadlock"); d.Status != Fail || !strings.Contains(d.Failure.Message, "deadlock") {
		t.Errorf("deadlock: %+v", d.Failure)
	}
	if r.Err != nil || byName(t, r, "after").Status != Pass || byName(t, r, "leaves a task").Status != Pass {
		t.Errorf("%+v %+v", r, r.Err)
	}
}

func TestPackagePathFileDirAndRoot(t *testing.T) {
	dir := files(t, map[string]string{
		".git/HEAD":             "ref: x\n",
		"shared.lua":            "return {who = 'root'}",
		"sub/localmod.lua":      "return {who = 'local'}",
		"sub/shared.lua":        "return {who = 'sub'}",
		"sub/deeper/m_test.lua": "",
		"sub/m_test.lua": `local test = require("test")
test("local wins", function(t)
  t:eq(require("localmod").who, "local")
  t:eq(require("shared").who, "sub")
end)`,
		"other/r_test.lua": `local test = require("test")
test("root", function(t) t:eq(require("shared").who, "root") end)`,
	})
	out, sum := runDir(t, dir, Options{Jobs: 2})
	if sum.Failed != 0 || sum.Passed != 2 {
		t.Fatalf("%s", out)
	}
}

func TestRunnerOutputFilterAndExit(t *testing.T) {
	dir := files(t, map[string]string{
		"a_test.lua":         `local test = require("test"); test("one", function(t) t:ok(true) end); test("two", function(t) t:skip("why") end)`,
		"b/b_test.lua":       `local test = require("test"); test.describe("grp", function() test("x-y", function(t) t:eq(1, 2) end) end)`,
		"b/none_test.lua":    `-- empty`,
		".hidden/h_test.lua": `error("hidden directories are skipped")`,
		"c_test.lua.bak":     `error("not a test file")`,
		"helper.lua":         `error("not a test file")`,
	})
	out, sum := runDir(t, dir, Options{})
	for _, want := range []string{
		"a_test.lua ....... ok (1 skipped)\n",
		"b/b_test.lua ..... FAILED 1/1\n",
		"  FAIL grp / x-y\n",
		"b/b_test.lua:1: t:eq: values differ",
		"b/none_test.lua .. no tests\n",
		"Files=3, Tests=3, ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if lastLine(out) != "1 passed, 1 failed, 1 skipped" || sum.ExitCode(false) != 1 {
		t.Errorf("last line %q, exit %d", lastLine(out), sum.ExitCode(false))
	}
	if !(strings.Index(out, "a_test.lua") < strings.Index(out, "b/b_test.lua") && strings.Index(out, "b/b_test.lua") < strings.Index(out, "b/none_test.lua")) {
		t.Errorf("not in path order:\n%s", out)
	}

	// --run: a plain substring (with Lua magic characters) or a pattern.
	for _, pat := range []string{"x-y", "^grp / x", "g.p"} {
		out, sum = runDir(t, dir, Options{Run: pat})
		if sum.Failed != 1 || sum.Passed != 0 {
			t.Errorf("--run %q: %s", pat, out)
		}
	}
	out, sum = runDir(t, dir, Options{Run: "nothing matches this"})
	if !strings.Contains(out, `no tests ran: --run "nothing matches this" matched no test`) || lastLine(out) != "0 passed, 0 failed" {
		t.Errorf("empty --run:\n%s", out)
	}
	if sum.ExitCode(false) != 0 || sum.ExitCode(true) != 1 {
		t.Errorf("an empty run exits 0, or 1 with --fail-empty")
	}

	empty := t.TempDir()
	out, sum = runDir(t, empty, Options{})
	if !strings.Contains(out, "no tests found") || lastLine(out) != "0 passed, 0 failed" || sum.ExitCode(false) != 0 || sum.ExitCode(true) != 1 {
		t.Errorf("no files:\n%s", out)
	}

	// One file that passes: exit 0; -v lists every test.
	out, sum = runDir(t, dir, Options{Paths: []string{"a_test.lua"}, Verbose: true})
	if sum.ExitCode(false) != 0 || !strings.Contains(out, "  ok   one (") || !strings.Contains(out, "  skip two: why") {
		t.Errorf("-v:\n%s", out)
	}
	if lastLine(out) != "1 passed, 0 failed, 1 skipped" {
		t.Errorf("last line %q", lastLine(out))
	}
}

func TestParallelFilesKeepPathOrder(t *testing.T) {
	fs := map[string]string{}
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for i, n := range names {
		// Earlier files sleep longer, so they finish last.
		fs[n+"_test.lua"] = `local test = require("test"); local task = require("task")
test("t", function(t) task.sleep(` + []string{"0.4", "0.35", "0.3", "0.25", "0.2", "0.15", "0.1", "0.05"}[i] + `) end)`
	}
	dir := files(t, fs)
	start := time.Now()
	out, sum := runDir(t, dir, Options{Jobs: 8})
	if sum.Passed != 8 {
		t.Fatal(out)
	}
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Errorf("8 files of ≤0.4 s with -j 8 took %s", el)
	}
	last := -1
	for _, n := range names {
		i := strings.Index(out, n+"_test.lua")
		if i < last {
			t.Fatalf("output not in path order:\n%s", out)
		}
		last = i
	}
}

func TestTAP(t *testing.T) {
	dir := files(t, map[string]string{
		"a_test.lua": `local test = require("test")
test("one # hash", function(t) print("said") t:ok(true) end)
test("two", function(t) t:skip("later") end)
test("three", function(t) t:eq("a\nb", "a\nc") end)`,
		"b_test.lua": "local x = = 1",
	})
	out, _ := runDir(t, dir, Options{TAP: true})
	want := []string{
		"TAP version 13",
		"# a_test.lua",
		`ok 1 - a_test.lua: one \# hash`,
		"# said",
		"ok 2 - a_test.lua: two # SKIP later",
		"not ok 3 - a_test.lua: three",
		"  ---",
		`  message: "t:eq: values differ"`,
		`  at: "a_test.lua:4"`,
		`  expected: "\"a\\nc\""`,
		`  diff: "  a\n- c\n+ b"`,
		"  ...",
		"# b_test.lua",
		"not ok 4 - b_test.lua: (file)",
		"1..4",
		"# 2 passed, 2 failed, 1 skipped",
	}
	_ = want
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if lines[0] != "TAP version 13" {
		t.Errorf("first line %q", lines[0])
	}
	for _, w := range want[1:] {
		if !strings.Contains(out, w+"\n") && w != "# 2 passed, 2 failed, 1 skipped" {
			t.Errorf("TAP lacks %q:\n%s", w, out)
		}
	}
	if lastLine(out) != "# 1 passed, 2 failed, 1 skipped" {
		t.Errorf("last line %q", lastLine(out))
	}
	// Every line is TAP: a test line, a plan, a comment or YAML inside a block.
	inYAML := false
	for _, l := range lines {
		switch {
		case l == "  ---":
			inYAML = true
		case l == "  ...":
			inYAML = false
		case inYAML, strings.HasPrefix(l, "ok "), strings.HasPrefix(l, "not ok "), strings.HasPrefix(l, "#"),
			strings.HasPrefix(l, "1.."), l == "TAP version 13":
		default:
			t.Errorf("not TAP: %q", l)
		}
	}
}

func TestJUnit(t *testing.T) {
	dir := files(t, map[string]string{
		"a_test.lua": `local test = require("test")
test("ok <&>", function(t) t:ok(true) end)
test("skips", function(t) t:skip("later") end)
test("fails", function(t) t:eq(1, 2) end)
test("errors", function(t) error("boom \1") end)`,
	})
	xmlPath := filepath.Join(t.TempDir(), "j.xml")
	_, sum := runDir(t, dir, Options{JUnit: xmlPath})
	b, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if doc.Tests != 4 || doc.Failures != 2 || doc.Skipped != 1 || len(doc.Suites) != 1 {
		t.Fatalf("%+v", doc)
	}
	st := doc.Suites[0]
	if st.Name != "a_test.lua" || st.Failures != 1 || st.Errors != 1 || st.Cases[0].Name != "ok <&>" || st.Cases[2].Line != "4" {
		t.Errorf("%+v", st)
	}
	if f := st.Cases[2].Failure; f == nil || f.Message != "a_test.lua:4: t:eq: values differ" || !strings.Contains(f.Text, "expected: 2") {
		t.Errorf("failure %+v", f)
	}
	if sum.Failed != 2 {
		t.Errorf("summary %+v", sum)
	}
}

func TestDocExamples(t *testing.T) {
	dir := files(t, map[string]string{
		"mod.lua": `local M = {}
--- Doubles a number.
-- >>> double(21)
-- 42
-- >>> double("x")
-- error: bad argument
-- >>> double(1), double(2)
-- 2, 4
-- >>> {double(1), x = "y"}
-- { 2, x = "y" }
-- >>> print("hi") return double(0)
-- hi
-- 0
-- >>> base = 10
-- >>> base + double(1)
-- 12
-- >>> local s = 0
-- ... for i = 1, 3 do s = s + double(i) end
-- ... return s
-- 12
-- >>> double(2)
-- 5
-- >>> string.rep("ab", 2)
-- "abab"
-- >>> nosuch.field
-- error: no such thing
function M.double(x)
  if type(x) ~= "number" then error("bad argument #1 to 'double' (number expected)", 2) end
  return x * 2
end
return M
`,
		"plain.lua":  "-- no examples\nreturn {}\n",
		"broken.lua": "-- >>> 1\n-- 1\nerror('cannot load')\n",
		"m_test.lua": `local test = require("test"); test("t", function(t) t:ok(true) end)`,
	})
	out, sum := runDir(t, dir, Options{Doc: true})
	if !strings.Contains(out, "mod.lua (doc) ..... FAILED 2/11") {
		t.Errorf("doc line:\n%s", out)
	}
	for _, want := range []string{
		"FAIL line 21: >>> double(2)",
		"expected: 5",
		"actual:   4",
		"FAIL line 25: >>> nosuch.field",
		"error: mod.lua:25: attempt to index",
		"broken.lua (doc) ",
		"broken.lua:3: cannot load",
		"m_test.lua ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "plain.lua") {
		t.Errorf("a file without examples is listed:\n%s", out)
	}
	if sum.Passed != 10 || sum.Failed != 3 {
		t.Errorf("%d passed, %d failed:\n%s", sum.Passed, sum.Failed, out)
	}
}

func TestParseExamples(t *testing.T) {
	exs := parseExamples(`--- x
  -- >>> f(1)
  -- 1
  --
  -- not expected
-- >>> g()
local y = 1 -- >>> not an example at line end
--[[ >>> nor in a block
]]
---   >>>   h()
--- a
--- b
`)
	if len(exs) != 3 {
		t.Fatalf("%+v", exs)
	}
	if exs[0].src != "f(1)" || len(exs[0].want) != 1 || exs[0].want[0] != "1" || exs[0].line != 2 {
		t.Errorf("%+v", exs[0])
	}
	if exs[1].src != "g()" || len(exs[1].want) != 0 {
		t.Errorf("%+v", exs[1])
	}
	if exs[2].src != "h()" || strings.Join(exs[2].want, "|") != "a|b" {
		t.Errorf("%+v", exs[2])
	}
}

func TestStandaloneRunsAtOnceAndRaises(t *testing.T) {
	err := hosttest.Run(t, `local test = require("test")
local ran = {}
test("a", function(t) ran[#ran+1] = "a"; t:eq(1, 1) end)
test.describe("g", function()
  test.before_each(function(t) ran[#ran+1] = "before" end)
  test("b", function(t) ran[#ran+1] = "b" end)
end)
assert(table.concat(ran, ",") == "a,before,b", table.concat(ran, ","))
test("c", function(t) t:eq({1}, {2}) end)
error("not reached")
`)
	if err == nil || !strings.Contains(err.Error(), `test "c" failed: test:9: t:eq: values differ`) || !strings.Contains(err.Error(), "expected: { 2 }") {
		t.Fatalf("%v", err)
	}
}

func TestBadArguments(t *testing.T) {
	r := runOne(t, `local test = require("test")
test("a", function(t) t:near("x", 1) end)
test("b", function(t) t:cleanup(42) end)
`, FileOptions{})
	// Methods count arguments after self (Lua's own habit) or from self:
	// the host's choice; either names the bad one.
	if f := byName(t, r, "a").Failure; f == nil || !regexp.MustCompile(`bad argument #[12] to 'near' \(number expected`).MatchString(f.Message) {
		t.Errorf("a: %+v", f)
	}
	if f := byName(t, r, "b").Failure; f == nil || !regexp.MustCompile(`bad argument #[12] to 'cleanup' \(function expected`).MatchString(f.Message) {
		t.Errorf("b: %+v", f)
	}
	r = runOne(t, `local test = require("test")
test(42)`, FileOptions{})
	if r.Err == nil || !strings.Contains(r.Err.Message, "bad argument #2 to 'test' (function expected, got nil)") {
		t.Errorf("%+v", r.Err)
	}
}

// An assertion that fails in a task the test spawned fails the test, even
// when nobody waits for that task or it fails after the test has ended;
// an error without a position (a stack overflow) is placed at its test.
func TestFailuresInSpawnedTasksAreNotLost(t *testing.T) {
	r := runOne(t, `local test = require("test")
local task = require("task")
test("waited", function(t) task.spawn(function() t:eq(1, 2) end):wait() end)
test("not waited", function(t) task.spawn(function() t:ok(false, "stray") end) end)
test("late", function(t) task.spawn(function() task.sleep(0.05); t:fail("late") end) end)
test("caught in the body", function(t) local ok = pcall(t.eq, t, 1, 2); t:ok(not ok) end)
test("overflow", function(t) local function f() return 1 + f() end; f() end)
test("slow", function(t) task.sleep(0.3) end)
test("caught in a task", function(t) task.spawn(function() local ok = pcall(t.eq, t, 1, 2); t:ok(not ok) end):wait() end)
`, FileOptions{})
	cases := []struct{ name, where, msg string }{
		{"waited", "x_test.lua:3", "t:eq: values differ (in a task the test spawned)"},
		{"not waited", "x_test.lua:4", "t:ok: value is not truthy: stray (in a task the test spawned)"},
		{"late", "x_test.lua:5", "late (in a task the test spawned), after the test had ended"},
		{"overflow", "x_test.lua:7", "overflow"},
	}
	for _, c := range cases {
		tr := byName(t, r, c.name)
		if tr.Status != Fail || !strings.HasSuffix(tr.Failure.Where, c.where) || !strings.Contains(tr.Failure.Message, c.msg) {
			t.Errorf("%s: %v %+v, want a failure at %s: %s", c.name, tr.Status, tr.Failure, c.where, c.msg)
		} else if len(tr.Failure.Extra) != 0 {
			t.Errorf("%s: counted twice: %q", c.name, tr.Failure.Extra)
		}
	}
	if byName(t, r, "caught in the body").Status != Pass || byName(t, r, "slow").Status != Pass ||
		byName(t, r, "caught in a task").Status != Pass {
		t.Errorf("%+v", r.Tests)
	}
	if p, f, _ := r.Counts(); p != 3 || f != 4 || r.Err != nil {
		t.Errorf("counts %d passed %d failed, file error %v", p, f, r.Err)
	}
}

// test.run_script runs a script beside the test file with its output and
// exit status captured, its own arg, and errors raised in the caller.
func TestRunScript(t *testing.T) {
	dir := files(t, map[string]string{
		"tool.lua": `local n = select("#", ...)
print("args", n, arg[0]:match("[^/]*$"), arg[1], ...)
io.write("w1 ", 2, "\n")
io.stdout:write("w3\n")
io.stderr:write("warn: ", arg[1] or "-", "\n")
if arg[1] == "fail" then os.exit(3) end
if arg[1] == "false" then os.exit(false) end
if arg[1] == "boom" then error("exploded") end`,
		"ordered.lua": `local task = require("task")
local results, nextp = {}, 1
local function flush()
  while results[nextp] do print(results[nextp]); results[nextp] = nil; nextp = nextp + 1 end
end
local hs = {}
for i = 1, 20 do
  hs[i] = task.spawn(function() task.sleep(0.001 * ((i * 7) % 5)); results[i] = "r" .. i; flush() end)
end
for _, h in ipairs(hs) do h:wait() end
io.stdout:write("end\n")`,
		"upper.lua": `local data = io.read("*a")
io.stdout:write((arg[1] .. " " .. data):upper())`,
		"x_test.lua": `local test = require("test")
test("output and status", function(t)
  local out, err, code = test.run_script("tool.lua", "a", "b")
  t:eq(out, "args\t2\ttool.lua\ta\ta\tb\nw1 2\nw3\n")
  t:eq(err, "warn: a\n")
  t:eq(code, 0)
  t:eq(arg == nil or arg[1] ~= "a", true, "the test's own arg is restored")
end)
test("stdin, and io.stdout as a real stream", function(t)
  local out, err, code = test.run_script{"upper.lua", "x", stdin = "some input\n"}
  t:eq({out, err, code}, {"X SOME INPUT\n", "", 0})
  t:err(function() test.run_script{"upper.lua", stdin = 42} end, "stdin must be a string")
end)
test("print does not yield, as in gos3lua itself", function(t)
  local want = {}
  for i = 1, 20 do want[i] = "r" .. i .. "\n" end
  local out = test.run_script("ordered.lua")
  t:eq(out, table.concat(want) .. "end\n")
end)
test("through a tail call", function(t)
  local function run(...) return test.run_script("tool.lua", ...) end
  local _, err, code = run("x")
  t:eq({err, code}, {"warn: x\n", 0})
end)
test("os.exit", function(t)
  local _, err, code = test.run_script("tool.lua", "fail")
  t:eq({err, code}, {"warn: fail\n", 3})
  local _, _, code2 = test.run_script("tool.lua", "false")
  t:eq(code2, 1)
end)
test("errors reach the caller", function(t)
  t:err(function() test.run_script("tool.lua", "boom") end, "tool.lua:8: exploded")
  t:err(function() test.run_script("missing.lua") end, "missing.lua")
  t:err(function() test.run_script(42) end, "bad argument #1 to 'run_script'")
end)
`})
	r := RunFile(filepath.Join(dir, "x_test.lua"), FileOptions{Timeout: 20 * time.Second})
	if p, f, _ := r.Counts(); p != 6 || f != 0 || r.Err != nil {
		t.Errorf("%d passed %d failed, %v: %+v", p, f, r.Err, r.Tests)
	}
}
