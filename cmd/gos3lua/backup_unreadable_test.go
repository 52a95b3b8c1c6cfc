package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// backup.lua reports a file it cannot read, backs up the rest and exits 1.
// scripts/backup_test.lua makes the file unreadable by its mode, which root
// ignores; here the real command runs as nobody when the test runs as root,
// against the embedded store, so the case is proven either way.
func TestBackupUnreadableFile(t *testing.T) {
	base, err := os.MkdirTemp("", "gos3lua-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	tree := filepath.Join(base, "tree")
	for _, d := range []string{base, tree, filepath.Join(base, "home"), filepath.Join(base, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(base, 0o755)
	os.Chmod(filepath.Join(base, "home"), 0o777)
	os.Chmod(filepath.Join(base, "data"), 0o777)
	os.WriteFile(filepath.Join(tree, "ok.txt"), []byte("fine"), 0o644)
	os.WriteFile(filepath.Join(tree, "locked.txt"), []byte("no"), 0o000)

	cmd := exec.Command(bin, "backup.lua", tree)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+filepath.Join(base, "home"), "XDG_DATA_HOME="+filepath.Join(base, "data"), "GOS3LUA_PROGRESS=0")
	if os.Geteuid() == 0 {
		os.Chmod(filepath.Dir(bin), 0o755)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != 1 || !strings.Contains(errb.String(), "locked.txt") ||
		!strings.Contains(out.String(), "1 uploaded") || !strings.Contains(out.String(), "1 failed") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
}
