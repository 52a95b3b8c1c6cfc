package s3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/bindings/s3/store"
	"github.com/gos3lua/gos3lua/host"
	"github.com/gos3lua/gos3lua/host/hosttest"
	"github.com/gos3lua/gos3lua/stdlib"
)

// luaPrelude gives the Lua tests a few assertions.
const luaPrelude = `
local function eq(a, b, what)
  if a ~= b then error((what or "value") .. ": expected " .. tostring(b) .. ", got " .. tostring(a), 2) end
end
local function fails(fn, kind, pattern)
  local ok, err = pcall(fn)
  if ok then error("expected an error of kind " .. kind, 2) end
  if type(err) ~= "table" or err.kind ~= kind then
    error("expected kind " .. kind .. ", got " .. tostring(type(err) == "table" and err.kind) .. ": " .. tostring(err), 2)
  end
  if pattern and not tostring(err):find(pattern) then
    error("message " .. tostring(err) .. " does not match " .. pattern, 2)
  end
  return err
end
local s3 = require("s3")
local fs = require("fs")
local task = require("task")
`

func TestLuaRoundTrips(t *testing.T) {
	srv := startStore(t)
	awsEnv(t, srv.URL())
	dir := t.TempDir()
	big := make([]byte, 23<<20+12345)
	rand.New(rand.NewSource(1)).Read(big)
	os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644)
	sum := sha256.Sum256(big)
	code := luaPrelude + fmt.Sprintf(`
local dir, bigsum = %q, %q
s3.create_bucket("test-bucket")
s3.create_bucket("test-bucket") -- again: fine, it is ours
local found = false
for _, b in ipairs(s3.buckets()) do if b.name == "test-bucket" then found = true; assert(b.created > 0) end end
assert(found, "buckets() lists test-bucket")

local b = s3.bucket()               -- GOS3LUA_BUCKET
eq(b:name(), "test-bucket", "name")
local r = b:put("dir/hello.txt", "hello\0world", {content_type = "text/plain", metadata = {owner = "bob"}})
eq(r.size, 11, "put size")
assert(#r.etag == 32, "etag is an md5")
eq(b:get("dir/hello.txt"), "hello\0world", "get")
eq(b:get("dir/hello.txt", {range = "bytes=6-10"}), "world", "get range")
eq(b:get("dir/hello.txt", {range = {0, 4}}), "hello", "get range table")
local st = b:stat("dir/hello.txt")
eq(st.size, 11, "stat size"); eq(st.content_type, "text/plain", "content type"); eq(st.metadata.owner, "bob", "metadata")
assert(st.mtime > 1e9 and st.etag == r.etag)
eq(b:stat("dir/missing"), nil, "stat of a missing key")

local err = fails(function() b:get("dir/missing") end, "NoSuchKey", "^s3: get dir/missing: NoSuchKey: ")
eq(err.status, 404, "status"); eq(err.key, "dir/missing", "key")
fails(function() s3.bucket("no-such-bucket-here"):put("a/b.txt", "x") end, "NoSuchBucket",
  "^s3: put a/b.txt: NoSuchBucket: ")

-- files and streams, multipart
local up = b:put_file("big.bin", dir .. "/big.bin", {sha256 = true, part_size = "5M", concurrency = 3})
eq(up.size, %d, "put_file size"); eq(up.sha256, bigsum, "put_file sha256"); eq(up.parts, 5, "parts")
local got = b:get_file("big.bin", dir .. "/big.copy", {sha256 = true, part_size = "5M"})
eq(got.sha256, bigsum, "get_file sha256")
local f = fs.open(dir .. "/big.bin", "r")
local u = b:upload("streamed.bin", f, {part_size = "5M", concurrency = 4, sha256 = true})
f:close()
eq(u.sha256, bigsum, "upload sha256"); eq(u.parts, 5, "upload parts")
local out = fs.open(dir .. "/streamed.out", "w")
local d = b:download("streamed.bin", out, {sha256 = true, part_size = "5M", concurrency = 4})
out:close()
eq(d.sha256, bigsum, "download sha256"); eq(d.size, %d, "download size")
local small = fs.open(dir .. "/small.out", "w")
b:download("dir/hello.txt", small)
small:close()
eq(fs.read(dir .. "/small.out"), "hello\0world", "small download")
fails(function() b:get_file("dir/missing", dir .. "/never") end, "NoSuchKey")
eq(fs.exists(dir .. "/never"), false, "no file for a missing key")

-- open: a stream, with ranges
local s = b:open("dir/hello.txt")
eq(s:read(5), "hello", "read 5"); eq(s:read("a"), "\0world", "read rest"); s:close()
local s2 = b:open("big.bin", {range = "bytes=1000-1999"})
eq(#s2:read("a"), 1000, "ranged open"); s2:close()

-- copy, delete, delete_many, list
b:copy("dir/hello.txt", "dir/copy.txt")
eq(b:get("dir/copy.txt"), "hello\0world", "copy")
b:copy("dir/hello.txt", "other.txt", {bucket = "test-bucket"})
local keys = {}
for o in b:list{} do keys[#keys + 1] = o.key end
eq(table.concat(keys, ","), "big.bin,dir/copy.txt,dir/hello.txt,other.txt,streamed.bin", "list")
local entries = {}
for o in b:list{delimiter = "/"} do entries[#entries + 1] = o.prefix or o.key end
eq(table.concat(entries, ","), "big.bin,dir/,other.txt,streamed.bin", "delimiter listing")
local n = 0
for o in b:list{prefix = "dir/", start_after = "dir/copy.txt"} do n = n + 1; eq(o.key, "dir/hello.txt") end
eq(n, 1, "start_after")
b:delete("other.txt")
b:delete("other.txt") -- deleting what is gone is fine
eq(b:delete_many({"big.bin", "streamed.bin", "dir/copy.txt"}), 3, "delete_many")
keys = {}
for o in b:list{} do keys[#keys + 1] = o.key end
eq(table.concat(keys, ","), "dir/hello.txt", "after deletes")

-- concurrency: tasks share the client
local pool = task.pool(8)
for i = 1, 50 do pool:spawn(function() b:put(string.format("many/%%03d", i), tostring(i)) end) end
pool:wait()
n = 0
for o in b:list{prefix = "many/"} do n = n + 1 end
eq(n, 50, "parallel puts")

-- buckets
s3.create_bucket("scratch-bucket")
s3.delete_bucket("scratch-bucket")
fails(function() s3.delete_bucket("test-bucket") end, "BucketNotEmpty")

-- an explicit client
local c = s3.client{endpoint = os.getenv("AWS_ENDPOINT_URL"), access_key = os.getenv("AWS_ACCESS_KEY_ID"),
  secret_key = os.getenv("AWS_SECRET_ACCESS_KEY"), region = "us-east-1", retries = 2, timeout = 30}
eq(c:bucket("test-bucket"):get("dir/hello.txt"), "hello\0world", "explicit client")
local bad = s3.client{endpoint = os.getenv("AWS_ENDPOINT_URL"), access_key = "nobody", secret_key = "wrong"}
fails(function() bad:bucket("test-bucket"):get("dir/hello.txt") end, "InvalidAccessKeyId")
`, dir, hex.EncodeToString(sum[:]), len(big), len(big))
	runLua(t, code)
	if b, _ := os.ReadFile(filepath.Join(dir, "streamed.out")); !bytes.Equal(b, big) {
		t.Fatal("downloaded stream differs")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "big.copy")); !bytes.Equal(b, big) {
		t.Fatal("get_file copy differs")
	}
}

var argNum = regexp.MustCompile(`#\d+`)

func TestLuaBadArguments(t *testing.T) {
	srv := startStore(t)
	awsEnv(t, srv.URL())
	cases := []struct{ code, want string }{
		{`s3.bucket():put({})`, "bad argument #2 to 'put' (string expected, got table)"},
		{`s3.bucket():put("k", {})`, "bad argument #3 to 'put' (string expected, got table)"},
		{`s3.bucket():put("k", "v", {concurrency = "x"})`, "concurrency: number expected, got string"},
		{`s3.bucket():put_file("k", "p", {part_size = "1M"})`, "part_size must be at least 5M"},
		{`s3.bucket():get("k", {range = true})`, "range: string or table expected"},
		{`s3.bucket():delete_many({"a", 2})`, "item 2: string expected"},
		{`s3.bucket():upload("k", "not a stream")`, "bad argument #3 to 'upload' (stream expected, got string)"},
		{`s3.bucket():split(require("fs").open("/dev/null"), "nochunk")`, "bad chunk key format \"nochunk\""},
		{`s3.client{retries = "x"}`, "retries: number expected"},
		{`s3.client{access_key = "a"}`, "access_key and secret_key go together"},
		{`s3.bucket().put("k", "v")`, "bad argument #1 to 'put' (s3.bucket expected, got string)"},
	}
	for _, c := range cases {
		err := hosttest.Run(t, `local s3 = require("s3")
`+c.code, stdlib.Register, Register)
		// The argument's number is the host's to decide (whether self
		// counts); the function, the expectation and the value are ours.
		if err == nil || !strings.Contains(argNum.ReplaceAllString(err.Error(), "#N"), argNum.ReplaceAllString(c.want, "#N")) {
			t.Errorf("%s: got %v, want %q", c.code, err, c.want)
		}
	}
}

func TestNoBucketConfigured(t *testing.T) {
	srv := startStore(t)
	awsEnv(t, srv.URL())
	t.Setenv("GOS3LUA_BUCKET", "")
	err := hosttest.Run(t, `require("s3").bucket()`, Register)
	if err == nil || !strings.Contains(err.Error(), "s3: no bucket given") {
		t.Fatalf("got %v", err)
	}
}

// More than 1,000 keys: every page, in order, through the iterator and
// the delimiter form (the blog's truncation bug).
func TestListManyKeys(t *testing.T) {
	srv := startStore(t)
	awsEnv(t, srv.URL())
	_, b := testClient(t, srv.URL())
	const n = 2345
	putMany(t, b, n, func(i int) string { return fmt.Sprintf("k/%05d", i) })
	putMany(t, b, 1200, func(i int) string { return fmt.Sprintf("d/%04d/x", i) })
	runLua(t, luaPrelude+fmt.Sprintf(`
local b = s3.bucket()
local n, last = 0, ""
for o in b:list{prefix = "k/"} do
  n = n + 1
  assert(o.key > last, "sorted: " .. o.key .. " after " .. last .. " at " .. n); last = o.key
  eq(o.size, #o.key, "size")
end
eq(n, %d, "keys listed")
n = 0
for o in b:list{prefix = "k/", page_size = 100} do n = n + 1 end
eq(n, %d, "small pages")
n = 0
for o in b:list{prefix = "d/", delimiter = "/"} do assert(o.prefix, "prefix entry"); n = n + 1 end
eq(n, 1200, "common prefixes over pages")
-- breaking out early is fine
local first
for o in b:list{} do first = o.key; break end
eq(first, "d/0000/x", "first key")
-- the body of a listing loop may suspend
n = 0
for o in b:list{prefix = "k/0000"} do b:stat(o.key); n = n + 1 end
eq(n, 10, "suspending inside the loop")
`, n, n))
}

func putMany(t testing.TB, b *Bucket, n int, name func(int) string) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			k := name(i)
			if _, err := b.Put(ctx, k, k, PutOptions{}); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestSplitCat(t *testing.T) {
	srv := startStore(t)
	awsEnv(t, srv.URL())
	_, b := testClient(t, srv.URL())
	ctx := context.Background()
	data := make([]byte, 1500*1024+77)
	rand.New(rand.NewSource(2)).Read(data)
	res, err := b.Split(ctx, bytes.NewReader(data), "s-%010d", 5, 1024, PutOptions{Concurrency: 16})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if res.Size != int64(len(data)) || len(res.Sizes) != 1501 || res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("split: %+v", res.Size)
	}
	keys := make([]string, len(res.Sizes))
	for i := range keys {
		keys[i] = ChunkKey("s-%010d", int64(5+i))
	}
	var out bytes.Buffer
	cres, err := b.Cat(ctx, keys, &out, PutOptions{Concurrency: 8})
	if err != nil || !bytes.Equal(out.Bytes(), data) || cres.SHA256 != res.SHA256 {
		t.Fatalf("cat: %v, equal=%v", err, bytes.Equal(out.Bytes(), data))
	}
	// A missing chunk is an error naming it.
	b.Delete(ctx, keys[700])
	out.Reset()
	_, err = b.Cat(ctx, keys, &out, PutOptions{})
	if err == nil || !strings.Contains(err.Error(), keys[700]) || !strings.Contains(err.Error(), "NoSuchKey") {
		t.Fatalf("missing chunk: %v", err)
	}
	// An empty stream is zero chunks.
	res, err = b.Split(ctx, bytes.NewReader(nil), "e-%d", 0, 1024, PutOptions{})
	if err != nil || len(res.Sizes) != 0 || res.Size != 0 {
		t.Fatalf("empty split: %+v %v", res, err)
	}
}

// Every transfer through a proxy that fails 20% of requests (500, 503,
// dropped connections, bodies cut half-way) still gives byte-exact results.
func TestFaultInjection(t *testing.T) {
	srv := startStore(t)
	_, _ = testClient(t, srv.URL())
	p := startFaultProxy(t, srv.URL(), 0.2, 42)
	awsEnv(t, p.url)
	c := NewClient(Config{Endpoint: p.url, AccessKey: testAK, SecretKey: testSK, Retries: 10})
	b := c.Bucket(testBucket)
	ctx := context.Background()
	data := make([]byte, 37<<20+999)
	rand.New(rand.NewSource(3)).Read(data)

	if _, err := b.Upload(ctx, "faulty/upload", bytes.NewReader(data), PutOptions{PartSize: 5 << 20, Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := b.Download(ctx, "faulty/upload", &out, PutOptions{PartSize: 5 << 20, Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("download through faults differs")
	}
	got, err := b.Get(ctx, "faulty/upload", "")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get through faults: %v", err)
	}
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, data, 0o644)
	if _, err := b.PutFile(ctx, "faulty/file", path, PutOptions{PartSize: 5 << 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetFile(ctx, "faulty/file", path+".back", PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if back, _ := os.ReadFile(path + ".back"); !bytes.Equal(back, data) {
		t.Fatal("get_file through faults differs")
	}
	res, err := b.Split(ctx, bytes.NewReader(data[:3<<20]), "faulty/c-%05d", 0, 64<<10, PutOptions{Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(res.Sizes))
	for i := range keys {
		keys[i] = ChunkKey("faulty/c-%05d", int64(i))
	}
	out.Reset()
	if _, err := b.Cat(ctx, keys, &out, PutOptions{}); err != nil || !bytes.Equal(out.Bytes(), data[:3<<20]) {
		t.Fatalf("cat through faults: %v", err)
	}
	// Listing through faults sees every key once.
	err = hosttest.Run(t, `
local b = require("s3").client{retries = 10}:bucket("test-bucket")
local n = 0
for o in b:list{prefix = "faulty/c-", page_size = 7} do n = n + 1 end
assert(n == `+fmt.Sprint(len(keys))+`, "listed " .. n)
assert(b:delete_many(b and (function() local t = {} for o in b:list{prefix = "faulty/"} do t[#t+1] = o.key end return t end)()) == `+fmt.Sprint(len(keys)+2)+`)
`, Register)
	if err != nil {
		t.Fatal(err)
	}
	if p.faults.Load() < 10 {
		t.Fatalf("only %d faults injected in %d requests", p.faults.Load(), p.requests.Load())
	}
	t.Logf("%d requests, %d faults injected", p.requests.Load(), p.faults.Load())
}

// With retries used up, the error names the fault instead of hanging.
func TestFaultsExhaustRetries(t *testing.T) {
	srv := startStore(t)
	testClient(t, srv.URL())
	p := startFaultProxy(t, srv.URL(), 1.0, 7)
	c := NewClient(Config{Endpoint: p.url, AccessKey: testAK, SecretKey: testSK, Retries: 1})
	_, err := c.Bucket(testBucket).Put(context.Background(), "x", "y", PutOptions{})
	var he *host.Error
	if err == nil || !asHostError(err, &he) {
		t.Fatalf("want a host error, got %v", err)
	}
	switch he.Kind {
	case "InternalError", "SlowDown", "network":
	default:
		t.Fatalf("kind %q: %v", he.Kind, err)
	}
	if !strings.HasPrefix(he.Message, "s3: put x: ") || strings.Contains(he.Message, "\n") {
		t.Fatalf("message %q", he.Message)
	}
}

func asHostError(err error, he **host.Error) bool {
	e, ok := err.(*host.Error)
	if ok {
		*he = e
	}
	return ok
}

func TestCancel(t *testing.T) {
	srv := startStore(t)
	_, b := testClient(t, srv.URL())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.Put(ctx, "x", "y", PutOptions{})
	var he *host.Error
	if !asHostError(err, &he) || he.Kind != "cancelled" {
		t.Fatalf("got %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"10M": 10 << 20, "512k": 512 << 10, "1G": 1 << 30, "1.5M": 3 << 19, "123": 123, "16MiB": 16 << 20} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "-1M", "M"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// hangingServer accepts connections and, per request, does what stall
// says: "silent" reads the request and never answers; "body" answers a GET
// with headers and a few bytes of a longer body, then stops; "deaf" never
// reads at all (a PUT's body fills the socket buffers and stops).
func hangingServer(t *testing.T, stall string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns sync.WaitGroup
	t.Cleanup(func() { close(done); ln.Close(); conns.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer c.Close()
				if stall != "deaf" {
					br := bufio.NewReader(c)
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					if stall == "body" {
						fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"abc\"\r\nContent-Type: text/plain\r\n\r\n0123456789")
					}
					_ = req
				}
				<-done
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// A server that stops answering, mid-headers, mid-body or mid-upload,
// makes the call fail with kind "timeout" after about the client's
// timeout; nothing hangs.
func TestHangingServerTimesOut(t *testing.T) {
	cases := []struct{ stall, call string }{
		{"silent", `b:get("k")`},
		{"silent", `b:stat("k")`},
		{"silent", `b:put("k", "v")`},
		{"silent", `for o in b:list{} do end`},
		{"body", `b:get("k")`},
		{"body", `local s = b:open("k"); s:read("a")`},
		{"deaf", `b:put("k", string.rep("x", 64 * 1024 * 1024))`},
	}
	for _, c := range cases {
		t.Run(c.stall+"/"+c.call, func(t *testing.T) {
			url := hangingServer(t, c.stall)
			start := time.Now()
			runLua(t, luaPrelude+fmt.Sprintf(`
local c = s3.client{endpoint = %q, access_key = "a", secret_key = "b", region = "us-east-1", timeout = 0.5, retries = 0}
local b = c:bucket("x")
local err = fails(function() %s end, "timeout")
assert(tostring(err):find("s3: ", 1, true) and tostring(err):find("timeout", 1, true), tostring(err))
`, url, c.call))
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("took %v with a timeout of 0.5 s", d)
			}
		})
	}
}

// slowWriter sends at most 32 KiB per write, 20 ms apart.
type slowWriter struct{ http.ResponseWriter }

func (s slowWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		time.Sleep(20 * time.Millisecond)
		k, err := s.ResponseWriter.Write(p[:min(len(p), 32<<10)])
		n += k
		if err != nil {
			return n, err
		}
		s.ResponseWriter.(http.Flusher).Flush()
		p = p[k:]
	}
	return n, nil
}

// The timeout bounds a silence, not a transfer: a download from a slow
// server that keeps sending takes longer than the timeout and succeeds.
// (An upload cannot be tested so: loopback's socket buffers swallow a
// body whole, and the server's slow draining of them is silence to the
// client, as it is to any client.)
func TestSlowTransferOutlastsTimeout(t *testing.T) {
	h, err := store.Handler(store.Options{Dir: fastDir(t), AccessKey: testAK, SecretKey: testSK})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "" {
			w = slowWriter{w}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := NewClient(Config{Endpoint: srv.URL, AccessKey: testAK, SecretKey: testSK, Region: "us-east-1", Retries: 0, Timeout: 300 * time.Millisecond})
	ctx := context.Background()
	if err := c.CreateBucket(ctx, testBucket); err != nil {
		t.Fatal(err)
	}
	b := c.Bucket(testBucket)
	data := make([]byte, 1<<20) // 32 writes of 32 KiB, 20 ms apart: 0.65 s
	rand.New(rand.NewSource(5)).Read(data)
	if _, err := b.Put(ctx, "slow", string(data), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := b.Get(ctx, "slow", "")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("slow download: %v", err)
	}
	if d := time.Since(start); d < 2*300*time.Millisecond {
		t.Fatalf("took only %v: the server was not slow enough to test anything", d)
	}
}

// AWS_CA_BUNDLE is honoured for an HTTPS endpoint with a private CA (and
// without it that endpoint is refused), and does not get in the way of a
// plain-HTTP one; through the module and through a script's process.
func TestCABundle(t *testing.T) {
	h, err := store.Handler(store.Options{Dir: fastDir(t), AccessKey: testAK, SecretKey: testSK})
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewTLSServer(h)
	t.Cleanup(tlsSrv.Close)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	if err := os.WriteFile(bundle, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	awsEnv(t, tlsSrv.URL)
	ctx := context.Background()

	unsetenv(t, "AWS_CA_BUNDLE")
	c := NewClient(Config{Retries: 0})
	if err := c.CreateBucket(ctx, testBucket); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the bundle, a private CA must be refused: %v", err)
	}

	t.Setenv("AWS_CA_BUNDLE", bundle)
	c = NewClient(Config{Retries: -1})
	if err := c.CreateBucket(ctx, testBucket); err != nil {
		t.Fatalf("with AWS_CA_BUNDLE: %v", err)
	}
	data := randomBytes(6<<20 + 1)
	if _, err := c.Bucket(testBucket).Upload(ctx, "tls/big", bytes.NewReader(data), PutOptions{PartSize: 5 << 20}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Bucket(testBucket).Get(ctx, "tls/big", ""); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get over TLS: %v", err)
	}
	mustRun(t, bytes.NewReader(data[:1000]), "s3pipe.lua", "-w", "-t", "tls", "--chunk-size", "300")
	if r := mustRun(t, nil, "s3pipe.lua", "-r", "-t", "tls"); r.stdout != string(data[:1000]) {
		t.Fatal("s3pipe over TLS with AWS_CA_BUNDLE differs")
	}

	// A plain-HTTP endpoint with a bundle set (as on machines that set it
	// for everything).
	plain := startStore(t)
	awsEnv(t, plain.URL())
	t.Setenv("AWS_CA_BUNDLE", bundle)
	testClient(t, plain.URL())
	mustRun(t, bytes.NewReader(data[:1000]), "s3pipe.lua", "-w", "-t", "plain")
	// One that names no file (a stale setting) neither.
	t.Setenv("AWS_CA_BUNDLE", filepath.Join(t.TempDir(), "gone.pem"))
	if r := mustRun(t, nil, "s3pipe.lua", "-r", "-t", "plain"); r.stdout != string(data[:1000]) {
		t.Fatal("s3pipe over HTTP with a stale AWS_CA_BUNDLE differs")
	}
}
