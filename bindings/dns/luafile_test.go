package dns

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLuaFile runs dns_test.lua (the README's examples) with `gos3lua test`.
func TestLuaFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gos3lua binary")
	}
	bin := filepath.Join(t.TempDir(), "gos3lua")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gos3lua/gos3lua/cmd/gos3lua").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "test", "dns_test.lua")
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gos3lua test dns_test.lua: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
