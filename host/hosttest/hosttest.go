// Package hosttest helps Go tests run Lua under a real Host and decide
// what to do when an outside tool is missing.
package hosttest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/gos3lua/gos3lua/host"
)

// RequireEnv, when set to 1 (as .ci/run does), turns every skip for a
// missing outside tool into a failure, so CI proves them all.
const RequireEnv = "GOS3LUA_REQUIRE_TOOLS"

// Required reports whether missing tools must fail instead of skip.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Need skips the test (fails it under GOS3LUA_REQUIRE_TOOLS=1) unless every
// named command is on PATH. Use a path like "/dev/fuse" for devices.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		ok := false
		if len(tool) > 0 && tool[0] == '/' {
			_, err := os.Stat(tool)
			ok = err == nil
		} else {
			_, err := exec.LookPath(tool)
			ok = err == nil
		}
		if !ok {
			if Required() {
				t.Fatalf("%s is required (%s=1) but missing", tool, RequireEnv)
			}
			t.Skipf("needs %s", tool)
		}
	}
}

// Run runs code as the main chunk of a fresh Host with every registered
// module available, and returns its error (a *host.LuaError for a Lua
// error). register is called first (e.g. stdlib.Register).
func Run(t testing.TB, code string, register ...func()) error {
	t.Helper()
	for _, r := range register {
		r()
	}
	h := host.New(host.Options{})
	defer h.Close()
	_, err := h.RunString(code, "test")
	return err
}
