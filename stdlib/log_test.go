package stdlib

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func captureLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	logStderr = &buf
	t.Cleanup(func() { logStderr = os.Stderr })
	return &buf
}

func TestLog(t *testing.T) {
	buf := captureLog(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "run.log")
	run(t, "local file = "+Quote(file)+`
local log = require("log")
log.debug("hidden")
log.info("uploaded %s (%d bytes)", "a/b", 42)
log.warn("plain", 1, true, {x = 1}, nil)
eq(log.level("debug"), "info")
log.debug("now shown")
log.level("error")
log.warn("hidden too")
log.error("100% sure")
log.level("info")
log.file(file)
log.info("to both")
log.file(file, {stderr = false})
log.info("file only")
log.file(nil)
log.info("stderr again")
eq(log.level(), "info")
`)
	re := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\w+) *(.*)$`)
	var got []string
	for _, m := range re.FindAllStringSubmatch(buf.String(), -1) {
		got = append(got, m[1]+" "+m[2])
	}
	want := []string{
		"INFO uploaded a/b (42 bytes)",
		"WARN plain 1 true { x = 1 } nil",
		"DEBUG now shown",
		"ERROR 100% sure",
		"INFO to both",
		"INFO stderr again",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant lines:\n%s", buf.String(), strings.Join(want, "\n"))
	}
	b, _ := os.ReadFile(file)
	if n := strings.Count(string(b), "\n"); n != 2 || !strings.Contains(string(b), "INFO  to both\n") || !strings.Contains(string(b), "INFO  file only\n") {
		t.Errorf("log file:\n%s", b)
	}
	wantErr(t, map[string]string{
		`require("log").level("loud")`:                  `bad argument #1 to 'level' (unknown level "loud" (debug, info, warn, error, off))`,
		`require("log").file(5)`:                        "bad argument #1 to 'file' (string or nil expected, got number)",
		`require("log").file("/nonexistent/dir/x.log")`: "fs: log.file /nonexistent/dir/x.log: no such file or directory",
	})
}

func TestLogEnv(t *testing.T) {
	buf := captureLog(t)
	t.Setenv("GOS3LUA_LOG", "warn")
	run(t, `local log = require("log") log.info("no") log.warn("yes") eq(log.level(), "warn")`)
	if strings.Contains(buf.String(), "no") || !strings.Contains(buf.String(), "WARN  yes") {
		t.Errorf("stderr: %s", buf.String())
	}
}
