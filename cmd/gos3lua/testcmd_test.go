package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host/hosttest"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// inDir runs the binary in dir.
func inDir(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	return runBin(t, dir, "", nil, args...)
}

func last(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

const passing = `local test = require("test")
test("adds numbers", function(t)
  t:eq(1 + 1, 2)
  t:ok(#"abc" == 3, "length")
  t:err(function() error("boom") end, "boom")
end)
test("not yet", function(t) t:skip("needs a server") end)
`

const failing = `local test = require("test")
test("good", function(t) t:ok(true) end)
test("bad", function(t)
  t:eq({1, 2}, {1, 3})
end)
`

func TestTestCommand(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"a/pass_test.lua": passing,
		"b/fail_test.lua": failing,
		"c/exit_test.lua": `local test = require("test")
test("exits", function(t) os.exit(0) end)`,
		"d/empty_test.lua": "-- none yet\n",
	})
	out, _, code := inDir(t, dir, "test", "-j", "2")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{
		"a/pass_test.lua ... ok (1 skipped)\n",
		"b/fail_test.lua ... FAILED 1/2\n",
		"  FAIL bad\n",
		"b/fail_test.lua:4: t:eq: values differ\n",
		"expected: { 1, 3 }\n",
		"actual:   { 1, 2 }\n",
		"c/exit_test.lua ... FAILED 1/1\n",
		"c/exit_test.lua:2: os.exit(0) was called",
		"d/empty_test.lua .. no tests\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if last(out) != "2 passed, 2 failed, 1 skipped" {
		t.Errorf("last line %q", last(out))
	}
	if !regexp.MustCompile(`(?m)^Files=4, Tests=5, [0-9.]+m?s$`).MatchString(out) {
		t.Errorf("no summary line:\n%s", out)
	}

	out, _, code = inDir(t, dir, "test", "a")
	if code != 0 || last(out) != "1 passed, 0 failed, 1 skipped" {
		t.Errorf("a: exit %d\n%s", code, out)
	}
	out, _, code = inDir(t, dir, "test", "--run", "good", "b", "-v")
	if code != 0 || !strings.Contains(out, "  ok   good (") || last(out) != "1 passed, 0 failed" {
		t.Errorf("--run good: exit %d\n%s", code, out)
	}
	out, _, code = inDir(t, dir, "test", "d")
	if code != 0 || !strings.Contains(out, "no tests ran") || last(out) != "0 passed, 0 failed" {
		t.Errorf("empty: exit %d\n%s", code, out)
	}
	if _, _, code = inDir(t, dir, "test", "d", "--fail-empty"); code != 1 {
		t.Errorf("--fail-empty: exit %d", code)
	}
	if _, errs, code := inDir(t, dir, "test", "nosuch"); code != 2 || !strings.Contains(errs, "nosuch") {
		t.Errorf("bad path: exit %d %q", code, errs)
	}
	if _, errs, code := inDir(t, dir, "test", "--frobnicate"); code != 2 || !strings.Contains(errs, "unknown option --frobnicate") {
		t.Errorf("bad flag: exit %d %q", code, errs)
	}
	if out, _, code := inDir(t, dir, "test", "--help"); code != 0 || !strings.Contains(out, "--junit FILE") {
		t.Errorf("--help: %d %s", code, out)
	}

	// --tap and --junit together.
	xmlPath := filepath.Join(t.TempDir(), "out.xml")
	out, _, code = inDir(t, dir, "test", "--tap", "--junit="+xmlPath, "a", "b")
	if code != 1 || !strings.HasPrefix(out, "TAP version 13\n") || !strings.Contains(out, "\n1..4\n") ||
		!strings.Contains(out, "not ok 4 - b/fail_test.lua: bad\n") || last(out) != "# 2 passed, 1 failed, 1 skipped" {
		t.Errorf("--tap: exit %d\n%s", code, out)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	b, _ := os.ReadFile(xmlPath)
	if err := xml.Unmarshal(b, &doc); err != nil || doc.Tests != 4 || doc.Failures != 1 {
		t.Errorf("junit %+v %v\n%s", doc, err, b)
	}
}

func TestTestCommandDoc(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"lib/m.lua": `local M = {}
--- Doubles a number.
-- >>> M.double(21)
-- 42
-- >>> double("x")
-- error: number expected
-- >>> double(2)
-- 5
function M.double(x) return type(x) == "number" and x * 2 or error("number expected") end
return M`,
		"lib/m_test.lua": `local test = require("test")
test("double", function(t) t:eq(require("m").double(4), 8) end)`,
	})
	out, _, code := inDir(t, dir, "test", "--doc")
	if code != 1 || !strings.Contains(out, "lib/m.lua (doc) .. FAILED 1/3\n") || !strings.Contains(out, "FAIL line 7: >>> double(2)") ||
		!strings.Contains(out, "lib/m_test.lua ... ok\n") || last(out) != "3 passed, 1 failed" {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestTestCommandTimeout(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"spin_test.lua": `local test = require("test")
test("ok", function(t) t:ok(true) end)
test("spins", function(t) while true do end end)`,
		"other_test.lua": passing,
	})
	start := time.Now()
	out, _, code := inDir(t, dir, "test", "--timeout", "0.5")
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %s", el)
	}
	if code != 1 || !strings.Contains(out, "spin_test.lua:3: timed out after 500ms (--timeout)") ||
		!strings.Contains(out, "other_test.lua .. ok") || last(out) != "2 passed, 1 failed, 1 skipped" {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestTestCommandInterrupt(t *testing.T) {
	dir := writeTree(t, map[string]string{"slow_test.lua": `local test = require("test")
local task = require("task")
test("sleeps", function(t) task.sleep(60) end)`})
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		cmd := exec.Command(bin, "test")
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		cmd.Process.Signal(c.sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v did not stop the run", c.sig)
		}
		if cmd.ProcessState.ExitCode() != c.code || !strings.Contains(out.String(), "interrupted") || last(out.String()) != "0 passed, 1 failed" {
			t.Errorf("%v: exit %d\n%s", c.sig, cmd.ProcessState.ExitCode(), out.String())
		}
	}
}

func TestTestFileDirectlyPrintsTAP(t *testing.T) {
	dir := writeTree(t, map[string]string{"pass_test.lua": passing, "fail_test.lua": failing})
	out, _, code := inDir(t, dir, "pass_test.lua")
	want := "TAP version 13\nok 1 - adds numbers\nok 2 - not yet # SKIP needs a server\n1..2\n"
	if code != 0 || out != want {
		t.Errorf("exit %d\n%s\nwant\n%s", code, out, want)
	}
	out, _, code = inDir(t, dir, "fail_test.lua")
	if code != 1 || !strings.Contains(out, "ok 1 - good\nnot ok 2 - bad\n  ---\n") || last(out) != "1..2" {
		t.Errorf("exit %d\n%s", code, out)
	}
	out, _, code = inDir(t, dir, "fail_test.lua", "--run", "good", "--timeout", "5")
	if code != 0 || out != "TAP version 13\nok 1 - good\n1..1\n" {
		t.Errorf("--run good: exit %d\n%s", code, out)
	}
	if out, _, code := inDir(t, dir, "fail_test.lua", "--help"); code != 0 || !strings.HasPrefix(out, "usage: gos3lua FILE_test.lua") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{{"--tap"}, {"-j", "2"}, {"other_test.lua"}, {"--frobnicate"}, {"--timeout", "soon"}} {
		out, errs, code := inDir(t, dir, append([]string{"fail_test.lua"}, bad...)...)
		if code != 2 || out != "" || !strings.Contains(errs, "fail_test.lua: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", bad, code, out, errs)
		}
	}
}

func TestProveRunsTestFiles(t *testing.T) {
	hosttest.Need(t, "prove")
	pass := writeTree(t, map[string]string{
		"pass_test.lua":     passing,
		"sub/more_test.lua": `local test = require("test"); test("x", function(t) print("noise") t:eq("a", "a") end)`,
	})
	cmd := exec.Command("prove", "--exec", bin, "-r", "--ext", ".lua", pass)
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "Result: PASS") || !strings.Contains(string(b), "Files=2, Tests=3") {
		t.Errorf("prove on a passing suite: %v\n%s", err, b)
	}
	fail := writeTree(t, map[string]string{"pass_test.lua": passing, "fail_test.lua": failing, "helper.lua": "return {}",
		"diag_test.lua": `local test = require("test")
test("diff", function(t) t:eq("a\n  b\n\nc", "a\n  B\n\nc") end)
test("error", function(t) local x; x.y = 1 end)`})
	cmd = exec.Command("prove", "-j", "2", "--exec", bin, "-r", "--ext", "_test.lua", fail)
	b, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "Result: FAIL") || !strings.Contains(string(b), "Failed test:  2") ||
		!strings.Contains(string(b), "Failed tests:  1-2") || strings.Contains(string(b), "Parse errors") {
		t.Errorf("prove on a failing suite: %v\n%s", err, b)
	}
}
