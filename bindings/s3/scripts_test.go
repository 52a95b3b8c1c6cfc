package s3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/bindings/s3/store"
	"github.com/gos3lua/gos3lua/host/hosttest"
)

// The bundled scripts, run as a user runs them: the gos3lua binary in its
// own process, configured by the environment.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	// buildEnv is the environment the test binary started with: tests
	// point HOME at temporary directories (awsEnv), and a build under such
	// a HOME would start with an empty module cache and download it all.
	buildEnv = os.Environ()
)

func gos3lua(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gos3lua-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "gos3lua")
		cmd := exec.Command("go", "build", "-o", binPath, "../../cmd/gos3lua")
		cmd.Env = buildEnv
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type runResult struct {
	stdout, stderr string
	code           int
}

// runScript runs `gos3lua script args...` with stdin and the current
// environment (set by awsEnv) and returns its output and exit status.
func runScript(t testing.TB, stdin io.Reader, script string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(gos3lua(t), append([]string{script}, args...)...)
	cmd.Dir = "../../scripts"
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return runResult{out.String(), errb.String(), code}
}

func mustRun(t testing.TB, stdin io.Reader, script string, args ...string) runResult {
	t.Helper()
	r := runScript(t, stdin, script, args...)
	if r.code != 0 {
		t.Fatalf("%s %v: exit %d\nstdout: %s\nstderr: %s", script, args, r.code, r.stdout, r.stderr)
	}
	return r
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestScriptsHelp(t *testing.T) {
	for _, s := range []string{"backup.lua", "restore.lua", "s3pipe.lua", "purge.lua"} {
		r := mustRun(t, nil, s, "--help")
		if !strings.Contains(r.stdout, "usage: "+s) || !strings.Contains(r.stdout, "--bucket") {
			t.Errorf("%s --help:\n%s", s, r.stdout)
		}
	}
	if r := runScript(t, nil, "s3pipe.lua", "-w"); r.code != 2 || !strings.Contains(r.stderr, "-t TAG is required") {
		t.Errorf("s3pipe -w without a tag: %+v", r)
	}
	if r := runScript(t, nil, "s3pipe.lua", "-w", "-r", "-t", "x"); r.code != 2 {
		t.Errorf("s3pipe -w -r: %+v", r)
	}
}

func TestS3pipeProcess(t *testing.T) {
	srv := startStore(t)
	awsEnv(t, srv.URL())
	testClient(t, srv.URL())
	data := randomBytes(3<<20 + 4321)
	mustRun(t, bytes.NewReader(data), "s3pipe.lua", "-w", "-t", "bob", "--chunk-size", "1M")
	r := mustRun(t, nil, "s3pipe.lua", "-r", "-t", "bob")
	if r.stdout != string(data) {
		t.Fatalf("read back %d bytes, want %d", len(r.stdout), len(data))
	}
	r = mustRun(t, nil, "s3pipe.lua", "-l")
	if !strings.Contains(r.stdout, "bob") || !strings.Contains(r.stdout, fmt.Sprint(len(data))) {
		t.Fatalf("-l:\n%s", r.stdout)
	}
	if r := runScript(t, nil, "s3pipe.lua", "-r", "-t", "nobody"); r.code != 1 || !strings.Contains(r.stderr, `no stream "nobody"`) {
		t.Fatalf("missing stream: %+v", r)
	}
	// A damaged chunk: exit 1 with a clear message.
	_, b := testClient(t, srv.URL())
	b.Put(context.Background(), "bob-0000000001", strings.Repeat("x", 1<<20), PutOptions{})
	if r := runScript(t, nil, "s3pipe.lua", "-r", "-t", "bob"); r.code != 1 || !strings.Contains(r.stderr, "is corrupt: sha256") {
		t.Fatalf("corrupt stream: code %d stderr %s", r.code, r.stderr)
	}
	b.Delete(context.Background(), "bob-0000000002")
	if r := runScript(t, nil, "s3pipe.lua", "-r", "-t", "bob"); r.code != 1 || !strings.Contains(r.stderr, "incomplete: chunk bob-0000000002 is missing") {
		t.Fatalf("incomplete stream: code %d stderr %s", r.code, r.stderr)
	}
	mustRun(t, nil, "s3pipe.lua", "-d", "-t", "bob")
	if n := countKeys(t, b, "bob"); n != 0 {
		t.Fatalf("%d objects left after -d", n)
	}
}

func countKeys(t testing.TB, b *Bucket, prefix string) int {
	t.Helper()
	n, token := 0, ""
	for {
		p, err := b.ListPage(context.Background(), ListOptions{Prefix: prefix}, token)
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Items)
		if p.Next == "" {
			return n
		}
		token = p.Next
	}
}

// A write killed half-way leaves the previous stream readable, and the next
// write cleans up what the dead one left.
func TestS3pipeInterruptedWrite(t *testing.T) {
	srv := startStore(t)
	awsEnv(t, srv.URL())
	_, b := testClient(t, srv.URL())
	old := randomBytes(300 << 10)
	mustRun(t, bytes.NewReader(old), "s3pipe.lua", "-w", "-t", "bob", "--chunk-size", "64K")

	cmd := exec.Command(gos3lua(t), "s3pipe.lua", "-w", "-t", "bob", "--chunk-size", "64K")
	cmd.Dir = "../../scripts"
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in.Write(randomBytes(10 * 64 << 10)) // ten chunks' worth, and the pipe stays open
	deadline := time.Now().Add(20 * time.Second)
	for countKeys(t, b, "bob-") < 5+8 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if n := countKeys(t, b, "bob-"); n < 5+8 {
		t.Fatalf("the interrupted write stored only %d chunks in all", n)
	}
	r := mustRun(t, nil, "s3pipe.lua", "-r", "-t", "bob")
	if r.stdout != string(old) {
		t.Fatal("the old stream is no longer readable after an interrupted write")
	}
	next := randomBytes(100 << 10)
	mustRun(t, bytes.NewReader(next), "s3pipe.lua", "-w", "-t", "bob", "--chunk-size", "64K")
	if r := mustRun(t, nil, "s3pipe.lua", "-r", "-t", "bob"); r.stdout != string(next) {
		t.Fatal("new stream differs")
	}
	if n := countKeys(t, b, "bob-"); n != 2 {
		t.Fatalf("%d chunks left, want the new stream's 2", n)
	}
}

// s3pipe through a proxy failing 20% of requests: byte-exact both ways.
func TestS3pipeThroughFaults(t *testing.T) {
	srv := startStore(t)
	testClient(t, srv.URL())
	p := startFaultProxy(t, srv.URL(), 0.2, 99)
	awsEnv(t, p.url)
	t.Setenv("AWS_MAX_ATTEMPTS", "12")
	data := randomBytes(2<<20 + 17)
	mustRun(t, bytes.NewReader(data), "s3pipe.lua", "-w", "-t", "faulty", "--chunk-size", "128K")
	if r := mustRun(t, nil, "s3pipe.lua", "-r", "-t", "faulty"); r.stdout != string(data) {
		t.Fatal("stream read through faults differs")
	}
	if p.faults.Load() == 0 {
		t.Fatal("no faults injected")
	}
}

// With nothing configured, the scripts use the embedded store, which
// persists across runs.
func TestEmbeddedStore(t *testing.T) {
	home := t.TempDir()
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "GOS3LUA_BUCKET"} {
		unsetenv(t, v)
	}
	t.Setenv("HOME", home)
	data := fastDir(t)
	t.Setenv("XDG_DATA_HOME", data)
	src := filepath.Join(t.TempDir(), "docs")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "a.txt"), []byte("hello"), 0o644)
	r := mustRun(t, nil, "backup.lua", src)
	want := "gos3lua: using the embedded S3 store at " + filepath.Join(data, "gos3lua", "s3") + " (http://127.0.0.1:"
	if !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "using the embedded") != 1 {
		t.Fatalf("announcement: %q", r.stderr)
	}
	if !strings.Contains(r.stdout, "in bucket gos3lua: 1 files") {
		t.Fatalf("summary: %s", r.stdout)
	}
	dest := t.TempDir()
	mustRun(t, nil, "restore.lua", "latest", dest)
	if b, _ := os.ReadFile(filepath.Join(dest, "docs", "sub", "a.txt")); string(b) != "hello" {
		t.Fatalf("restored %q", b)
	}
}

// Unchanged re-run: no file data moves; the new snapshot's prefix is empty.
func TestBackupUnchangedRerun(t *testing.T) {
	srv := startStore(t)
	awsEnv(t, srv.URL())
	_, b := testClient(t, srv.URL())
	src := filepath.Join(t.TempDir(), "tree")
	for i := 0; i < 200; i++ {
		p := filepath.Join(src, fmt.Sprintf("d%02d", i%10), fmt.Sprintf("f%03d", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, randomBytes(i*37), 0o644)
	}
	r := mustRun(t, nil, "backup.lua", src)
	if !strings.Contains(r.stdout, "200 files") || !strings.Contains(r.stdout, "200 uploaded") {
		t.Fatalf("first run: %s", r.stdout)
	}
	before := countKeys(t, b, "backup/")
	r = mustRun(t, nil, "backup.lua", src)
	if !strings.Contains(r.stdout, "0 uploaded (0.0 MB), 200 unchanged") {
		t.Fatalf("second run: %s", r.stdout)
	}
	if after := countKeys(t, b, "backup/"); after != before+1 {
		t.Fatalf("the unchanged re-run added %d objects, want only its manifest", after-before)
	}
	os.WriteFile(filepath.Join(src, "d03", "f003"), []byte("changed"), 0o644)
	r = mustRun(t, nil, "backup.lua", src)
	if !strings.Contains(r.stdout, "1 uploaded") {
		t.Fatalf("third run: %s", r.stdout)
	}
	dest := t.TempDir()
	mustRun(t, nil, "restore.lua", "latest", dest)
	if got, _ := os.ReadFile(filepath.Join(dest, "tree", "d03", "f003")); string(got) != "changed" {
		t.Fatalf("restored %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "tree", "d07", "f017")); len(got) != 17*37 {
		t.Fatalf("unchanged file restored with %d bytes", len(got))
	}
}

// Interop: what gos3lua writes, aws-cli and s3cmd read, and the other way.
func TestInteropAWSCLI(t *testing.T) {
	hosttest.Need(t, "aws")
	srv := startStore(t)
	awsEnv(t, srv.URL())
	_, b := testClient(t, srv.URL())
	ctx := context.Background()
	data := randomBytes(6<<20 + 3)
	if _, err := b.Upload(ctx, "from-gos3lua/big.bin", bytes.NewReader(data), PutOptions{PartSize: 5 << 20}); err != nil {
		t.Fatal(err)
	}
	aws := func(args ...string) []byte {
		t.Helper()
		return awsCLI(t, nil, append([]string{"--endpoint-url", srv.URL(), "--region", "us-east-1"}, args...)...)
	}
	if out := aws("s3", "cp", "s3://test-bucket/from-gos3lua/big.bin", "-"); !bytes.Equal(out, data) {
		t.Fatalf("aws read %d bytes, want %d", len(out), len(data))
	}
	if out := aws("s3", "ls", "s3://test-bucket/from-gos3lua/"); !strings.Contains(string(out), "big.bin") {
		t.Fatalf("aws s3 ls: %s", out)
	}
	f := filepath.Join(t.TempDir(), "up.bin")
	os.WriteFile(f, data[:2<<20], 0o644)
	aws("s3", "cp", f, "s3://test-bucket/from-aws/up.bin")
	got, err := b.Get(ctx, "from-aws/up.bin", "")
	if err != nil || !bytes.Equal(got, data[:2<<20]) {
		t.Fatalf("gos3lua read of aws's object: %v", err)
	}
	// A stream written by s3pipe is plain objects aws-cli can list and get.
	mustRun(t, bytes.NewReader(data[:300]), "s3pipe.lua", "-w", "-t", "interop", "--chunk-size", "100")
	if out := aws("s3", "cp", "s3://test-bucket/interop-0000000001", "-"); !bytes.Equal(out, data[100:200]) {
		t.Fatal("aws read of an s3pipe chunk differs")
	}
}

func TestInteropS3cmd(t *testing.T) {
	hosttest.Need(t, "s3cmd")
	srv := startStore(t)
	awsEnv(t, srv.URL())
	_, b := testClient(t, srv.URL())
	ctx := context.Background()
	host := strings.TrimPrefix(srv.URL(), "http://")
	cfg := filepath.Join(t.TempDir(), "s3cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\nuse_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n",
		testAK, testSK, host, host)), 0o600)
	s3cmd := func(args ...string) []byte {
		out, err := exec.Command("s3cmd", append([]string{"-c", cfg}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("s3cmd %v: %v\n%s", args, err, out)
		}
		return out
	}
	data := randomBytes(6<<20 + 5)
	if _, err := b.Put(ctx, "from-gos3lua/x.bin", string(data), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s3cmd("get", "s3://test-bucket/from-gos3lua/x.bin", filepath.Join(dir, "x.bin"))
	if got, _ := os.ReadFile(filepath.Join(dir, "x.bin")); !bytes.Equal(got, data) {
		t.Fatal("s3cmd read differs")
	}
	os.WriteFile(filepath.Join(dir, "y.bin"), data[:1<<20], 0o644)
	s3cmd("put", filepath.Join(dir, "y.bin"), "s3://test-bucket/from-s3cmd/y.bin")
	got, err := b.Get(ctx, "from-s3cmd/y.bin", "")
	if err != nil || !bytes.Equal(got, data[:1<<20]) {
		t.Fatalf("gos3lua read of s3cmd's object: %v", err)
	}
	if out := s3cmd("ls", "s3://test-bucket/from-gos3lua/"); !strings.Contains(string(out), "x.bin") {
		t.Fatalf("s3cmd ls: %s", out)
	}
}

// awsCLI runs aws-cli with extra environment and returns its stdout; a
// failure ends the test with aws's stderr.
func awsCLI(t *testing.T, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("aws", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("aws %v: %v\n%s", args, err, stderr)
	}
	return out
}

// startServe runs `gos3lua serve s3` in its own process over dir and
// returns its endpoint; the server is stopped (SIGTERM) at cleanup.
func startServe(t *testing.T, dir string) (string, func()) {
	t.Helper()
	cmd := exec.Command(gos3lua(t), "serve", "s3", "--dir", dir, "--addr", "127.0.0.1:0",
		"--access-key", testAK, "--secret-key", testSK)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	line, err := bufio.NewReader(out).ReadString('\n')
	m := regexp.MustCompile(`S3 store at (http://\S+) serving`).FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("serve s3 said %q (%v); stderr %s", line, err, errb.String())
	}
	go io.Copy(io.Discard, out)
	return m[1], stop
}

// Interop through `gos3lua serve s3` as users run it: gos3lua's scripts,
// aws-cli and s3cmd each read what the others wrote, and it all survives a
// restart of the server.
func TestServeInterop(t *testing.T) {
	hosttest.Need(t, "aws", "s3cmd")
	dir := fastDir(t)
	url, stop := startServe(t, dir)
	awsEnv(t, url)
	home := os.Getenv("HOME")
	aws := func(args ...string) []byte {
		t.Helper()
		env := []string{"AWS_PAGER=", "AWS_CONFIG_FILE=" + home + "/none", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/none"}
		return awsCLI(t, env, append([]string{"--endpoint-url", url}, args...)...)
	}
	cfg := filepath.Join(t.TempDir(), "s3cfg")
	hostport := strings.TrimPrefix(url, "http://")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\nuse_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n",
		testAK, testSK, hostport, hostport)), 0o600)
	s3cmd := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command("s3cmd", append([]string{"-c", cfg}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("s3cmd %v: %v\n%s", args, err, out)
		}
		return out
	}
	aws("s3", "mb", "s3://"+testBucket)

	// gos3lua writes (a multipart stream chunk and a backup), the others read.
	data := randomBytes(7<<20 + 11)
	mustRun(t, bytes.NewReader(data), "s3pipe.lua", "-w", "-t", "pipe", "--chunk-size", "6M")
	if out := aws("s3", "cp", "s3://"+testBucket+"/pipe-0000000001", "-"); !bytes.Equal(out, data[6<<20:]) {
		t.Fatalf("aws read of an s3pipe chunk: %d bytes", len(out))
	}
	src := filepath.Join(t.TempDir(), "tree")
	os.MkdirAll(filepath.Join(src, "sub dir"), 0o755)
	os.WriteFile(filepath.Join(src, "sub dir", "é.txt"), []byte("from backup.lua"), 0o644)
	mustRun(t, nil, "backup.lua", src)
	ls := string(s3cmd("ls", "-r", "s3://"+testBucket+"/backup/"))
	m := regexp.MustCompile(`s3://\S+/backup/(\d{8}-\d{6})/tree/sub dir/é\.txt`).FindStringSubmatch(ls)
	if m == nil {
		t.Fatalf("s3cmd ls does not show the backup's file:\n%s", ls)
	}
	got := filepath.Join(t.TempDir(), "got")
	s3cmd("get", "s3://"+testBucket+"/backup/"+m[1]+"/tree/sub dir/é.txt", got)
	if b, _ := os.ReadFile(got); string(b) != "from backup.lua" {
		t.Fatalf("s3cmd read %q", b)
	}

	// The others write, gos3lua reads.
	f := filepath.Join(t.TempDir(), "up.bin")
	os.WriteFile(f, data, 0o644)
	aws("s3", "cp", f, "s3://"+testBucket+"/from-aws/up.bin") // one PUT (aws-cli splits from 8 MiB)
	s3cmd("put", "--multipart-chunk-size-mb=5", f, "s3://"+testBucket+"/from-s3cmd/up.bin")
	stop()
	url2, _ := startServe(t, dir) // a restart: everything is still there
	awsEnv(t, url2)
	for _, k := range []string{"from-aws/up.bin", "from-s3cmd/up.bin"} {
		out := filepath.Join(t.TempDir(), "o")
		r := mustRun(t, nil, "s3pipe.lua", "-l") // lists through the restarted server
		if !strings.Contains(r.stdout, "pipe") {
			t.Fatalf("-l after restart: %s", r.stdout)
		}
		runLuaProcess(t, fmt.Sprintf(`local b = require("s3").bucket(); b:get_file(%q, %q)`, k, out))
		if b, _ := os.ReadFile(out); !bytes.Equal(b, data) {
			t.Fatalf("gos3lua read of %s: %d bytes", k, len(b))
		}
	}
	if r := mustRun(t, nil, "s3pipe.lua", "-r", "-t", "pipe"); r.stdout != string(data) {
		t.Fatal("s3pipe stream after a restart differs")
	}
}

// runLuaProcess runs code with `gos3lua -e` in the test's environment.
func runLuaProcess(t *testing.T, code string) {
	t.Helper()
	out, err := exec.Command(gos3lua(t), "-e", code).CombinedOutput()
	if err != nil {
		t.Fatalf("gos3lua -e: %v\n%s", err, out)
	}
}

// A write that fails (every PUT refused) exits 1 and leaves the previous
// s3pipe stream, and the previous backup snapshot, whole and readable.
func TestFailedWritesKeepTheOldCopy(t *testing.T) {
	srv := startStore(t)
	awsEnv(t, srv.URL())
	_, b := testClient(t, srv.URL())
	old := randomBytes(200 << 10)
	mustRun(t, bytes.NewReader(old), "s3pipe.lua", "-w", "-t", "bob", "--chunk-size", "64K")
	src := filepath.Join(t.TempDir(), "tree")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("first"), 0o644)
	mustRun(t, nil, "backup.lua", src)
	keysBefore := countKeys(t, b, "")

	p := startFaultProxy(t, srv.URL(), 1.0, 5)
	p.only = func(r *http.Request) bool { return r.Method == http.MethodPut || r.Method == http.MethodPost }
	awsEnv(t, p.url)
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	r := runScript(t, bytes.NewReader(randomBytes(300<<10)), "s3pipe.lua", "-w", "-t", "bob", "--chunk-size", "64K")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "s3pipe.lua: s3: put bob-") {
		t.Fatalf("failed write: exit %d, stderr %q", r.code, r.stderr)
	}
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("second, longer"), 0o644)
	if r := runScript(t, nil, "backup.lua", src); r.code != 1 || !strings.Contains(r.stderr, "backup.lua: s3: put") {
		t.Fatalf("failed backup: exit %d, stderr %q", r.code, r.stderr)
	}
	if p.faults.Load() == 0 {
		t.Fatal("no write was refused")
	}

	awsEnv(t, srv.URL())
	if r := mustRun(t, nil, "s3pipe.lua", "-r", "-t", "bob"); r.stdout != string(old) {
		t.Fatal("the old stream is not readable after a failed write")
	}
	dest := t.TempDir()
	mustRun(t, nil, "restore.lua", "latest", dest)
	if got, _ := os.ReadFile(filepath.Join(dest, "tree", "a.txt")); string(got) != "first" {
		t.Fatalf("latest snapshot after a failed backup: %q", got)
	}
	if n := countKeys(t, b, ""); n < keysBefore {
		t.Fatalf("%d objects before the failed writes, %d after: something was deleted", keysBefore, n)
	}
}

type repeatReader struct {
	block []byte
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	return n, nil
}

// peakRSS runs the script with stdin and stdout discarded and returns its
// peak resident memory in MiB. It is measured by /usr/bin/time, which forks
// the script from its own small process: Linux carries the peak RSS of a
// process across exec, so the rusage of a child of this (big) test
// process would report the test's own size.
func peakRSS(t *testing.T, stdin io.Reader, script string, args ...string) float64 {
	t.Helper()
	hosttest.Need(t, "/usr/bin/time")
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "peak %M", gos3lua(t), script}, args...)...)
	cmd.Dir = "../../scripts"
	cmd.Stdin = stdin
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", script, args, err, errb.String())
	}
	m := regexp.MustCompile(`peak (\d+)\s*$`).FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no peak RSS in %q", errb.String())
	}
	var kib float64
	fmt.Sscan(m[1], &kib)
	return kib / 1024
}

// s3pipe's defaults hold a bounded number of chunk bytes (--memory 48M:
// four 10M chunks in flight, not eight), so its peak RSS stays well under
// the 100 MiB target both ways, whatever the stream's length.
func TestS3pipeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 300 MiB")
	}
	srv := startStore(t)
	awsEnv(t, srv.URL())
	_, b := testClient(t, srv.URL())
	const size = 300 << 20
	w := peakRSS(t, io.LimitReader(&repeatReader{block: randomBytes(1<<20 + 7)}, size), "s3pipe.lua", "-w", "-t", "big")
	r := peakRSS(t, nil, "s3pipe.lua", "-r", "-t", "big")
	t.Logf("peak RSS: -w %.0f MiB, -r %.0f MiB", w, r)
	if w > 80 || r > 80 {
		t.Fatalf("peak RSS -w %.0f MiB, -r %.0f MiB: want under 80 MiB", w, r)
	}
	if n := countKeys(t, b, "big-"); n != 30 {
		t.Fatalf("%d chunks, want 30 of the default 10M", n)
	}
}

// Ctrl-C during a multipart upload: the process aborts it and finishes
// that before it exits, so no parts stay behind, even when the abort takes
// longer than the second the host gives abandoned work, and whether the
// producer of the piped source dies with the same Ctrl-C or keeps the pipe
// open (the upload is then stuck in a read: the abort must not wait for it).
func TestInterruptedUploadAborted(t *testing.T) {
	for _, c := range []struct {
		name       string
		closeAfter time.Duration
	}{{"producer dies too", 0}, {"producer stays", 4 * time.Second}} {
		t.Run(c.name, func(t *testing.T) { interruptedUpload(t, c.closeAfter) })
	}
}

func interruptedUpload(t *testing.T, closeAfter time.Duration) {
	dir := fastDir(t)
	srv, err := store.Start(store.Options{Dir: dir, Addr: "127.0.0.1:0", AccessKey: testAK, SecretKey: testSK})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	testClient(t, srv.URL())
	target, _ := url.Parse(srv.URL())
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target); r.Out.Host = r.In.Host },
		ErrorLog: log.New(io.Discard, "", 0)}
	var aborts atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && r.URL.Query().Has("uploadId") {
			aborts.Add(1)
			time.Sleep(2 * time.Second)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	awsEnv(t, slow.URL)

	cmd := exec.Command(gos3lua(t), "-e", `require("s3").bucket():upload("big", io.stdin, {part_size = "5M"})`)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in.Write(randomBytes(11 << 20)) // two parts' worth; the pipe stays open
	uploads := filepath.Join(dir, ".uploads")
	deadline := time.Now().Add(20 * time.Second)
	for {
		parts, _ := filepath.Glob(filepath.Join(uploads, "*", "p0000[0-9].json"))
		if len(parts) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no part stored; stderr: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	time.AfterFunc(closeAfter, func() { in.Close() })
	start := time.Now()
	err = cmd.Wait()
	if took := time.Since(start); closeAfter > 0 && took >= closeAfter {
		t.Errorf("exited after %v: it waited for the source", took)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v; stderr: %s", err, stderr.String())
	}
	if aborts.Load() == 0 {
		t.Fatalf("the upload was not aborted; stderr: %s", stderr.String())
	}
	if left, _ := os.ReadDir(uploads); len(left) != 0 {
		t.Fatalf("%d multipart uploads left behind; stderr: %s", len(left), stderr.String())
	}
	if !strings.Contains(stderr.String(), "finishing before exit: aborting the upload of big") {
		t.Fatalf("stderr does not say what it waits for: %s", stderr.String())
	}
}
