package stdlib

import (
	"strings"
	"testing"

	"github.com/gos3lua/gos3lua/host/hosttest"
)

// prelude gives Lua test snippets eq(got, want) with a readable failure.
const prelude = `local function eq(got, want, what)
  if got ~= want then
    error((what or "value") .. ": got " .. require("inspect")(got) .. ", want " .. require("inspect")(want), 2)
  end
end
`

// run runs Lua code under a fresh host with the stdlib and fails on error.
func run(t *testing.T, code string) {
	t.Helper()
	if err := hosttest.Run(t, prelude+code, Register); err != nil {
		t.Fatalf("lua: %v", err)
	}
}

// runErr runs code and returns its error message ("" when none).
func runErr(t *testing.T, code string) string {
	t.Helper()
	err := hosttest.Run(t, prelude+code, Register)
	if err == nil {
		return ""
	}
	return err.Error()
}

// wantErr runs each snippet and requires an error containing want.
func wantErr(t *testing.T, cases map[string]string) {
	t.Helper()
	for code, want := range cases {
		got := runErr(t, code)
		if got == "" || !strings.Contains(got, want) {
			t.Errorf("%s\n  error %q, want it to contain %q", code, got, want)
		}
	}
}

// runIn runs code with a local `dir` naming a fresh temporary directory.
func runIn(t *testing.T, code string) string {
	t.Helper()
	dir := t.TempDir()
	run(t, "local dir = "+Quote(dir)+"\n"+code)
	return dir
}
