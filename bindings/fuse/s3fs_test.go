package fuse

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host/hosttest"
)

const (
	s3AK = "FUSETESTKEY"
	s3SK = "FUSETESTSECRET0123456789"
)

// s3Server runs `gos3lua serve s3` on loopback over a fresh directory and
// returns the environment that points the s3 module (and s3fs.lua) at it.
func s3Server(t *testing.T) []string {
	t.Helper()
	bin := gos3lua(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve", "s3", "--dir", filepath.Join(dir, "s3"), "--addr", "127.0.0.1:0",
		"--access-key", s3AK, "--secret-key", s3SK)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	urlC := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 4 && f[1] == "S3" && f[3] == "at" {
				urlC <- f[4]
			}
		}
	}()
	var url string
	select {
	case url = <-urlC:
	case <-time.After(10 * time.Second):
		t.Fatalf("serve s3 did not start: %s", stderr.String())
	}
	home := filepath.Join(dir, "home")
	return []string{"HOME=" + home, "XDG_DATA_HOME=" + home + "/data", "AWS_PROFILE=", "AWS_CONFIG_FILE=", "AWS_SHARED_CREDENTIALS_FILE=",
		"AWS_ENDPOINT_URL=" + url, "AWS_ENDPOINT_URL_S3=", "AWS_ACCESS_KEY_ID=" + s3AK, "AWS_SECRET_ACCESS_KEY=" + s3SK,
		"AWS_SESSION_TOKEN=", "AWS_REGION=us-east-1", "GOS3LUA_BUCKET="}
}

// luaRun runs Lua code with the gos3lua binary in env; stdin may be nil.
func luaRun(t *testing.T, env []string, stdin io.Reader, args ...string) string {
	t.Helper()
	cmd := exec.Command(gos3lua(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gos3lua %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func randomData(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestS3FS(t *testing.T) {
	hosttestNeed(t)
	env := s3Server(t)
	tmp := t.TempDir()
	big := randomData(t, 3<<20+12345)
	os.WriteFile(filepath.Join(tmp, "big.bin"), big, 0644)
	luaRun(t, env, nil, "-e", fmt.Sprintf(`
local s3 = require("s3")
s3.create_bucket("fusetest")
local b = s3.bucket("fusetest")
b:put("hello.txt", "hello, s3\n")
b:put_file("data/big.bin", %q)
b:put("data/deep/er/x.txt", "x")
b:put("empty", "")
local pool = require("task").pool(16)
for i = 1, 1100 do pool:spawn(function() b:put(("many/k%%04d"):format(i), tostring(i)) end) end
pool:wait()
`, filepath.Join(tmp, "big.bin")))
	s := runScript(t, env, "s3fs.lua", "-b", "fusetest", "--block-size", "1M")
	if got := sh(t, s.dir, "ls"); got != "data\nempty\nhello.txt\nmany\n" {
		t.Errorf("ls: %q", got)
	}
	if got := sh(t, s.dir, "cat hello.txt"); got != "hello, s3\n" {
		t.Errorf("cat: %q", got)
	}
	st, err := os.Stat(s.path("data/big.bin"))
	if err != nil || st.Size() != int64(len(big)) {
		t.Fatalf("stat: %v %v", st, err)
	}
	if d := time.Since(st.ModTime()); d < 0 || d > 10*time.Minute {
		t.Errorf("mtime %v is not the object's", st.ModTime())
	}
	if st, _ := os.Stat(s.path("empty")); st == nil || st.Size() != 0 {
		t.Errorf("empty object: %v", st)
	}
	sh(t, s.dir, "cmp data/big.bin "+filepath.Join(tmp, "big.bin"))
	// Reads at offsets: mid-block starts, block-crossing reads, the tail.
	for _, c := range []struct{ bs, skip, count int }{{1000, 1048, 3}, {4096, 255, 3}, {1 << 20, 2, 2}, {7, 449000, 100}, {1, 3<<20 + 12340, 10}} {
		got := sh(t, s.dir, fmt.Sprintf("dd if=data/big.bin bs=%d skip=%d count=%d status=none", c.bs, c.skip, c.count))
		from := min(c.bs*c.skip, len(big))
		want := big[from:min(from+c.bs*c.count, len(big))]
		if got != string(want) {
			t.Errorf("dd bs=%d skip=%d count=%d: %d bytes differ from the %d expected", c.bs, c.skip, c.count, len(got), len(want))
		}
	}
	if got := sh(t, s.dir, "find data | sort"); got != "data\ndata/big.bin\ndata/deep\ndata/deep/er\ndata/deep/er/x.txt\n" {
		t.Errorf("find: %q", got)
	}
	// Listings page (the store answers 1,000 keys a page).
	if got := strings.Count(sh(t, s.dir, "ls many"), "\n"); got != 1100 {
		t.Errorf("ls many: %d entries", got)
	}
	_, err = os.Stat(s.path("nope"))
	wantErrno(t, err, syscall.ENOENT)
	wantErrno(t, os.WriteFile(s.path("new"), []byte("x"), 0644), syscall.EROFS)
	if strings.Contains(s.stderr.String(), "error") {
		t.Errorf("stderr: %s", s.stderr)
	}
}

// A missing bucket fails at start, with a message, instead of mounting.
func TestS3FSMissingBucket(t *testing.T) {
	hosttestNeed(t)
	env := s3Server(t)
	cmd := exec.Command(gos3lua(t), filepath.Join(repoRoot(), "scripts", "s3fs.lua"), "-b", "nosuchbucket", t.TempDir())
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "NoSuchBucket") {
		t.Errorf("want NoSuchBucket, got %v: %s", err, out)
	}
}

// A 20 MiB s3pipe stream in 1 MiB chunks reads as one file: whole, from
// mid-chunk offsets, and across chunk boundaries.
func TestS3FSStream(t *testing.T) {
	hosttestNeed(t)
	if _, err := os.Stat(filepath.Join(repoRoot(), "scripts", "s3pipe.lua")); err != nil {
		t.Skip("scripts/s3pipe.lua has not landed yet")
	}
	env := s3Server(t)
	env = append(env, "GOS3LUA_BUCKET=streams")
	luaRun(t, env, nil, "-e", `require("s3").create_bucket("streams")`)
	data := randomData(t, 20<<20)
	orig := filepath.Join(t.TempDir(), "orig")
	os.WriteFile(orig, data, 0644)
	pipe := filepath.Join(repoRoot(), "scripts", "s3pipe.lua")
	luaRun(t, env, bytes.NewReader(data), pipe, "-w", "-t", "bob", "--chunk-size", "1M")
	luaRun(t, env, bytes.NewReader([]byte("small stream\n")), pipe, "-w", "-t", "alice")
	s := runScript(t, env, "s3fs.lua", "-b", "streams", "--block-size", "384K")
	if got := sh(t, s.dir, "ls"); got != "alice\nbob\n" {
		t.Fatalf("ls shows the chunks, not the streams: %q", got)
	}
	if st, err := os.Stat(s.path("bob")); err != nil || st.Size() != 20<<20 {
		t.Fatalf("stat bob: %v %v", st, err)
	}
	sh(t, s.dir, "cmp bob "+orig)
	if got := sh(t, s.dir, "cat alice"); got != "small stream\n" {
		t.Errorf("alice: %q", got)
	}
	const mib = 1 << 20
	for _, c := range []struct{ off, n int }{
		{mib - 10, 20},              // across the first chunk boundary
		{5*mib + 12345, 3 * mib},    // mid-chunk start, spanning three chunks
		{7 * mib, mib},              // exactly one chunk
		{20*mib - 100, 100},         // the tail
		{3*mib - 1, 2},              // one byte each side
		{mib/2 + 384<<10 - 5, 4096}, // across a block boundary inside a chunk
	} {
		got := sh(t, s.dir, fmt.Sprintf("dd if=bob bs=64K skip=%d count=%d status=none iflag=skip_bytes,count_bytes", c.off, c.n))
		if got != string(data[c.off:c.off+c.n]) {
			t.Errorf("read %d@%d differs", c.n, c.off)
		}
	}
	// Reads from several readers at once, at different places.
	var cmds, waits []string
	for i := 0; i < 4; i++ {
		cmds = append(cmds, fmt.Sprintf("(dd if=bob bs=64K skip=%d count=40 status=none | cmp - %s -i 0:%d -n %d) & p%d=$!;", i*70, orig, i*70*65536, 40*65536, i))
		waits = append(waits, fmt.Sprintf("wait $p%d", i))
	}
	sh(t, s.dir, strings.Join(cmds, " ")+" "+strings.Join(waits, " && "))
	sh(t, s.dir, "cmp bob "+orig)
	// A rewritten stream numbers its chunks after the old ones: the file
	// follows the manifest.
	luaRun(t, env, bytes.NewReader([]byte("alice, second take\n")), pipe, "-w", "-t", "alice")
	s2 := runScript(t, env, "s3fs.lua", "-b", "streams", "--ttl", "0")
	if got := sh(t, s2.dir, "cat alice; ls"); got != "alice, second take\nalice\nbob\n" {
		t.Errorf("after a rewrite: %q", got)
	}
}

func hosttestNeed(t *testing.T) {
	t.Helper()
	hosttest.Need(t, "/dev/fuse")
}

// --rw: a new file is stored as an s3pipe stream when closed; s3pipe.lua
// reads it back; existing objects stay read-only.
func TestS3FSWrite(t *testing.T) {
	hosttestNeed(t)
	env := s3Server(t)
	env = append(env, "GOS3LUA_BUCKET=rwbucket")
	luaRun(t, env, nil, "-e", `local b = require("s3").bucket("rwbucket"); require("s3").create_bucket("rwbucket"); b:put("old.txt", "old\n")`)
	data := randomData(t, 3<<20+777)
	orig := filepath.Join(t.TempDir(), "orig")
	os.WriteFile(orig, data, 0644)
	s := runScript(t, env, "s3fs.lua", "--rw", "--chunk-size", "1M", "-b", "rwbucket")
	sh(t, s.dir, "cp "+orig+" new.bin && mkdir -p sub/deeper && echo hello > sub/deeper/hi.txt")
	sh(t, s.dir, "cmp new.bin "+orig)
	if got := sh(t, s.dir, "cat sub/deeper/hi.txt; ls"); got != "hello\nnew.bin\nold.txt\nsub\n" {
		t.Errorf("after writing: %q", got)
	}
	pipe := filepath.Join(repoRoot(), "scripts", "s3pipe.lua")
	if got := luaRun(t, env, nil, pipe, "-r", "-t", "new.bin"); got != string(data) {
		t.Errorf("s3pipe -r new.bin: %d bytes, not the %d written", len(got), len(data))
	}
	if got := luaRun(t, env, nil, pipe, "-r", "-t", "sub/deeper/hi.txt"); got != "hello\n" {
		t.Errorf("s3pipe -r sub/deeper/hi.txt: %q", got)
	}
	_, err := os.OpenFile(s.path("old.txt"), os.O_WRONLY|os.O_APPEND, 0)
	wantErrno(t, err, syscall.EROFS)
	// A fresh mount sees the streams the first one wrote.
	s2 := runScript(t, env, "s3fs.lua", "-b", "rwbucket")
	sh(t, s2.dir, "cmp new.bin "+orig)
	wantErrno(t, os.WriteFile(s2.path("more.txt"), []byte("x"), 0644), syscall.EROFS)
}
