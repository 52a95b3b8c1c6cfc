package fuse

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host"
)

// A read-only tree of three files: the shape of most user filesystems.
const staticFS = `
local fuse = require("fuse")
local mnt, log = ...
local files = {
  ["/hello.txt"] = "hello, world\n",
  ["/docs/readme.md"] = "# readme\n" .. string.rep("0123456789", 1000),
  ["/docs/deep/x.bin"] = "\0\1\2\3",
}
local dirs = {["/"] = {"hello.txt", "docs", "link"}, ["/docs"] = {"readme.md", "deep"}, ["/docs/deep"] = {"x.bin"}}
local m = fuse.mount(mnt, {
  getattr = function(path)
    if dirs[path] then return {type = "dir", mtime = 1700000000} end
    if path == "/link" then return {type = "link", target = "hello.txt"} end
    local d = files[path]
    if d then return {type = "file", size = #d, mode = 416, mtime = 1700000000.5, uid = 1234} end
  end,
  readdir = function(path) return dirs[path] end,
  read = function(path, size, offset) return files[path]:sub(offset + 1, offset + size) end,
}, {log = log})
m:serve()
`

func TestReadOnlyTree(t *testing.T) {
	f := serveLua(t, staticFS)
	b, err := os.ReadFile(f.path("hello.txt"))
	if err != nil || string(b) != "hello, world\n" {
		t.Fatalf("read: %q %v", b, err)
	}
	st, err := os.Stat(f.path("docs/readme.md"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != 10009 || st.Mode().Perm() != 0640 || st.ModTime().Unix() != 1700000000 || st.Sys().(*syscall.Stat_t).Uid != 1234 {
		t.Fatalf("stat: size %d mode %v mtime %v uid %d", st.Size(), st.Mode(), st.ModTime(), st.Sys().(*syscall.Stat_t).Uid)
	}
	if st.ModTime().Nanosecond() != 500000000 {
		t.Errorf("mtime nanoseconds: %d", st.ModTime().Nanosecond())
	}
	// Reads at offsets, including past the end.
	fh, err := os.Open(f.path("docs/readme.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	buf := make([]byte, 10)
	for _, off := range []int64{0, 9, 5003, 9999} {
		n, err := fh.ReadAt(buf, off)
		want := ("# readme\n" + strings.Repeat("0123456789", 1000))[off:min(off+10, 10009)]
		if string(buf[:n]) != want || (err != nil && n == 10) {
			t.Errorf("ReadAt %d: %q %v, want %q", off, buf[:n], err, want)
		}
	}
	if n, _ := fh.ReadAt(buf, 20000); n != 0 {
		t.Errorf("read past the end gave %d bytes", n)
	}
	out := sh(t, f.dir, "dd if=docs/readme.md bs=1 skip=9 count=12 status=none")
	if out != "012345678901" {
		t.Errorf("dd: %q", out)
	}
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "docs hello.txt link" {
		t.Errorf("readdir: %v", names)
	}
	if got := sh(t, f.dir, "find . | sort"); got != ".\n./docs\n./docs/deep\n./docs/deep/x.bin\n./docs/readme.md\n./hello.txt\n./link\n" {
		t.Errorf("find: %q", got)
	}
	if target, err := os.Readlink(f.path("link")); err != nil || target != "hello.txt" {
		t.Errorf("readlink: %q %v", target, err)
	}
	if b, err := os.ReadFile(f.path("link")); err != nil || string(b) != "hello, world\n" {
		t.Errorf("read through the link: %q %v", b, err)
	}
	_, err = os.Stat(f.path("missing"))
	wantErrno(t, err, syscall.ENOENT)
	// No write-side callbacks: every change is EROFS.
	_, err = os.OpenFile(f.path("hello.txt"), os.O_WRONLY, 0)
	wantErrno(t, err, syscall.EROFS)
	wantErrno(t, os.WriteFile(f.path("new.txt"), []byte("x"), 0644), syscall.EROFS)
	wantErrno(t, os.Mkdir(f.path("newdir"), 0755), syscall.EROFS)
	wantErrno(t, os.Remove(f.path("hello.txt")), syscall.EROFS)
	wantErrno(t, os.Rename(f.path("hello.txt"), f.path("x")), syscall.EROFS)
	wantErrno(t, os.Truncate(f.path("hello.txt"), 0), syscall.EROFS)
	wantErrno(t, os.Chmod(f.path("hello.txt"), 0600), syscall.EROFS)
	wantErrno(t, os.Symlink("a", f.path("sym")), syscall.EROFS)
	if log := f.logText(t); log != "" {
		t.Errorf("nothing failed, yet the log says:\n%s", log)
	}
}

// A callback that raises: EIO for the caller, message and traceback in
// the log, and the filesystem goes on serving.
func TestCallbackErrors(t *testing.T) {
	f := serveLua(t, `
local fuse = require("fuse")
local mnt, log = ...
local function helper(path) error("kaboom at " .. path) end
fuse.mount(mnt, {
  getattr = function(path)
    if path == "/" or path == "/dir" then return {type = "dir"} end
    if path == "/boom" then helper(path) end
    if path == "/denied" then error(fuse.EACCES) end
    if path == "/returned" then return nil, fuse.ENOTDIR end
    if path == "/kind" then error({kind = "ENOENT", message = "no such thing"}) end
    if path == "/table" then error({kind = "weird", message = "a table error"}) end
    if path == "/badtype" then return {type = "pipe-dream"} end
    if path == "/badret" then return "nope" end
    if path == "/ok" then return {size = 2} end
  end,
  readdir = function(path)
    if path == "/dir" then return {"a", "b", 3 } end
    return {"ok", "boom"}
  end,
  read = function(path, size, offset)
    local t = nil
    return t.field -- a runtime error, not an error() call
  end,
}, {log = log}):serve()
`)
	_, err := os.Stat(f.path("boom"))
	wantErrno(t, err, syscall.EIO)
	log := f.logText(t)
	for _, want := range []string{"getattr /boom", "kaboom at /boom", "stack traceback:", "fs.lua:4: in function 'helper'", "fs.lua:8:"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	// The next request works.
	if st, err := os.Stat(f.path("ok")); err != nil || st.Size() != 2 {
		t.Fatalf("after an error: %v %v", st, err)
	}
	_, err = os.Stat(f.path("denied"))
	wantErrno(t, err, syscall.EACCES)
	_, err = os.Stat(f.path("returned"))
	wantErrno(t, err, syscall.ENOTDIR)
	_, err = os.Stat(f.path("kind"))
	wantErrno(t, err, syscall.ENOENT)
	_, err = os.Stat(f.path("table"))
	wantErrno(t, err, syscall.EIO)
	_, err = os.Stat(f.path("badtype"))
	wantErrno(t, err, syscall.EIO)
	_, err = os.Stat(f.path("badret"))
	wantErrno(t, err, syscall.EIO)
	_, err = os.ReadDir(f.path("dir"))
	wantErrno(t, err, syscall.EIO)
	_, err = os.ReadFile(f.path("ok"))
	wantErrno(t, err, syscall.EIO)
	log = f.logText(t)
	for _, want := range []string{"a table error", `"pipe-dream" is not one of`, "getattr must return a table or nil, got string",
		"readdir: entry 3: string or table expected", "read /ok", "attempt to index"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "denied") || strings.Contains(log, "returned") || strings.Contains(log, "/kind") {
		t.Errorf("errnos are answers, not failures to log:\n%s", log)
	}
	if err := f.stop(t); err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("serve after cancel: %v", err)
	}
	if mounted(f.dir) {
		t.Error("still mounted after the run was cancelled")
	}
}

// A writable filesystem in a table: every write-side callback.
const memFS = `
local fuse = require("fuse")
local mnt, log = ...
local nodes = {["/"] = {type = "dir"}}
local function parent(p) return (p:match("^(.*)/[^/]+$")) end
local function children(dir)
  local out = {}
  for p in pairs(nodes) do
    if p ~= "/" and (parent(p) == dir or (dir == "/" and parent(p) == "")) then out[#out + 1] = p:match("[^/]+$") end
  end
  table.sort(out)
  return out
end
local opened = 0
local m = fuse.mount(mnt, {
  getattr = function(p)
    local n = nodes[p]
    if not n then return nil end
    return {type = n.type, size = n.data and #n.data or 0, mode = n.mode, target = n.target, mtime = n.mtime}
  end,
  readdir = function(p) return children(p) end,
  open = function(p, flags) opened = opened + 1; return {id = opened, path = p} end,
  read = function(p, size, off, fh)
    assert(fh.path == p, "handle")
    return nodes[p].data:sub(off + 1, off + size)
  end,
  write = function(p, data, off, fh)
    local n = nodes[p]
    local d = n.data
    if #d < off then d = d .. string.rep("\0", off - #d) end
    n.data = d:sub(1, off) .. data .. d:sub(off + #data + 1)
  end,
  create = function(p, mode) nodes[p] = {type = "file", data = "", mode = mode}; return {id = -1, path = p} end,
  truncate = function(p, size)
    local n = nodes[p]
    n.data = (n.data .. string.rep("\0", size)):sub(1, size)
  end,
  unlink = function(p) if not nodes[p] then error(fuse.ENOENT) end nodes[p] = nil end,
  mkdir = function(p, mode) nodes[p] = {type = "dir", mode = mode} end,
  rmdir = function(p)
    if #children(p) > 0 then error(fuse.ENOTEMPTY) end
    nodes[p] = nil
  end,
  rename = function(from, to)
    for p, n in pairs(nodes) do
      if p == from or p:sub(1, #from + 1) == from .. "/" then
        nodes[p] = nil
        nodes[to .. p:sub(#from + 1)] = n
      end
    end
  end,
  symlink = function(target, p) nodes[p] = {type = "link", target = target} end,
  chmod = function(p, mode) nodes[p].mode = mode end,
  utimens = function(p, atime, mtime) nodes[p].mtime = mtime end,
  statfs = function() return {blocks = 1000, bfree = 600, bsize = 4096, files = 50, ffree = 40} end,
}, {log = log})
m:serve()
`

func TestWritable(t *testing.T) {
	f := serveLua(t, memFS)
	p := f.path("a.txt")
	if err := os.WriteFile(p, []byte("hello"), 0640); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "hello" {
		t.Fatalf("read back: %q %v", b, err)
	}
	fh, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteAt([]byte("XY"), 8); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	if b, _ := os.ReadFile(p); string(b) != "hello\x00\x00\x00XY" {
		t.Errorf("sparse write: %q", b)
	}
	if err := os.Truncate(p, 3); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "hel" {
		t.Errorf("after truncate: %q", b)
	}
	if err := os.WriteFile(p, []byte("new"), 0640); err != nil { // O_TRUNC
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("after rewrite: %q", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0640 {
		t.Errorf("create mode: %v", st.Mode())
	}
	if err := os.Chmod(p, 0600); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0600 {
		t.Errorf("chmod: %v", st.Mode())
	}
	when := time.Unix(1600000000, 0)
	if err := os.Chtimes(p, when, when); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); !st.ModTime().Equal(when) {
		t.Errorf("utimens: %v", st.ModTime())
	}
	if err := os.MkdirAll(f.path("d/e"), 0700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p, f.path("d/e/b.txt")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(f.path("d/e/b.txt")); err != nil || string(b) != "new" {
		t.Errorf("after rename: %q %v", b, err)
	}
	wantErrno(t, os.Remove(f.path("d")), syscall.ENOTEMPTY)
	if err := os.Rename(f.path("d"), f.path("dd")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(f.path("dd/e/b.txt")); err != nil || string(b) != "new" {
		t.Errorf("after renaming the directory: %q %v", b, err)
	}
	if err := os.Symlink("dd/e/b.txt", f.path("s")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(f.path("s")); err != nil || string(b) != "new" {
		t.Errorf("through the symlink: %q %v", b, err)
	}
	if err := os.Remove(f.path("dd/e/b.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.path("dd/e")); err != nil {
		t.Fatal(err)
	}
	got := sh(t, f.dir, "find . | sort")
	if got != ".\n./dd\n./s\n" {
		t.Errorf("tree at the end: %q", got)
	}
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(f.dir, &sfs); err != nil || sfs.Blocks != 1000 || sfs.Bfree != 600 || sfs.Bavail != 600 || sfs.Files != 50 {
		t.Errorf("statfs: %+v %v", sfs, err)
	}
	if log := f.logText(t); log != "" {
		t.Errorf("log:\n%s", log)
	}
}

// Callbacks are tasks: one that suspends (here in task.sleep, as it would
// in an S3 call) does not hold up the others.
func TestCallbacksRunConcurrently(t *testing.T) {
	f := serveLua(t, `
local fuse = require("fuse")
local task = require("task")
local mnt, log = ...
fuse.mount(mnt, {
  getattr = function(path)
    if path == "/" then return {type = "dir"} end
    if path:match("^/slow") then task.sleep(2) end
    return {type = "file", size = 1}
  end,
}, {log = log, debug = true}):serve()
`)
	// The slow stats come from other processes, as they would in use.
	// (From this process they can line up: it is the FUSE server too.)
	start := time.Now()
	done := make(chan string, 1)
	go func() {
		out, _ := exec.Command("sh", "-c", "cd '"+f.dir+"' && { for x in a b c d e f; do stat -c %s slow$x & done; wait; }").CombinedOutput()
		done <- string(out)
	}()
	time.Sleep(200 * time.Millisecond)
	fast := time.Now()
	if _, err := os.Stat(f.path("fast")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(fast); d > time.Second {
		t.Errorf("a fast request waited %v behind slow ones", d)
	}
	if out := <-done; out != strings.Repeat("1\n", 6) {
		t.Fatalf("stats: %q", out)
	}
	if d := time.Since(start); d > 10*time.Second { // lookup + getattr: 4 s each; one after another: 24 s
		t.Errorf("6 stats of 4 s took %v: not concurrent\n%s", d, f.logText(t))
	}
	// debug: one line per request with op, path, result and duration.
	log := f.logText(t)
	if !strings.Contains(log, "fuse: getattr /fast -> ok (") || !strings.Contains(log, "fuse: getattr /slowa -> ok (2.") {
		t.Errorf("debug lines:\n%s", log)
	}
}

// unmount() from another task ends serve(); so does umount from outside.
func TestUnmount(t *testing.T) {
	f := serveLua(t, `
local fuse = require("fuse")
local task = require("task")
local mnt, log = ...
local m
m = fuse.mount(mnt, {
  getattr = function(path) return {type = path == "/" and "dir" or "file"} end,
  unlink = function(path)
    task.spawn(function()
      while not m do task.sleep(0.01) end -- mount() may not have returned yet
      m:unmount()
    end)
  end,
})
m:serve()
-- mount again: the first mount is gone, so this works
m = fuse.mount(mnt, {getattr = function(path) return {type = "dir"} end})
m:serve()
return "served twice"
`)
	os.Remove(f.path("x")) // asks the script to unmount itself
	waitFor(t, "the second mount", func() bool {
		_, err := os.Stat(f.path("x"))
		return err == nil && mounted(f.dir) && isDir(f.path("x"))
	})
	// umount from outside; the kernel may still hold the last lookup's
	// reference for a moment ("target is busy"), as go-fuse's own
	// Unmount allows for.
	for try := 0; ; try++ {
		out, err := exec.Command("umount", f.dir).CombinedOutput()
		if err == nil {
			break
		}
		if try == 20 {
			t.Fatalf("umount: %v %s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := f.wait(t); err != nil {
		t.Fatalf("script: %v", err)
	}
	if mounted(f.dir) {
		t.Error("still mounted")
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// The mount goes with the run, also when the script fails.
func TestMountUndoneOnError(t *testing.T) {
	f := serveLua(t, `
local fuse = require("fuse")
local task = require("task")
local mnt = ...
fuse.mount(mnt, {getattr = function(path) return {type = "dir"} end})
task.sleep(0.3)
error("the script fails after mounting")
`)
	err := f.wait(t)
	var le *host.LuaError
	if !errors.As(err, &le) || !strings.Contains(le.Error(), "fails after mounting") {
		t.Fatalf("want the script's error, got %v", err)
	}
	if mounted(f.dir) {
		t.Fatal("the mount outlived the run")
	}
}

func TestBadArguments(t *testing.T) {
	cases := []string{
		`require("fuse").mount("/tmp", {})`, "ops.getattr is required",
		`require("fuse").mount("/tmp", {getattr = print, reed = print})`, "unknown callback reed",
		`require("fuse").mount("/tmp", {getattr = 1})`, "ops.getattr: function expected",
		`require("fuse").mount("/nonexistent/dir", {getattr = print})`, "fuse: mount /nonexistent/dir",
		`require("fuse").mount("/etc/hostname", {getattr = print})`, "not a directory",
		`require("fuse").mount("/tmp", {getattr = print}, {cache = "x"})`, "cache: seconds or a table",
	}
	for i := 0; i < len(cases); i += 2 {
		f := serveLuaErr(t, cases[i])
		if f == nil || !strings.Contains(f.Error(), cases[i+1]) {
			t.Errorf("%s: want %q, got %v", cases[i], cases[i+1], f)
		}
	}
}

func serveLuaErr(t *testing.T, code string) error {
	Register()
	h := host.New(host.Options{})
	defer h.Close()
	_, err := h.RunString(code, "bad.lua")
	return err
}

func TestErrnoConstants(t *testing.T) {
	names := make([]string, 0, len(errnos))
	for n := range errnos {
		names = append(names, n)
	}
	sort.Strings(names)
	code := "local fuse = require('fuse')\n"
	for _, n := range names {
		code += "assert(fuse." + n + " == " + strconv.Itoa(int(errnos[n])) + ", '" + n + "')\n"
	}
	if err := serveLuaErr(t, code); err != nil {
		t.Fatal(err)
	}
}

// direct_io: a file whose size is not known in advance (size 0) still
// reads to its end; cache: the kernel keeps attributes, so getattr is
// asked once for repeated stats.
func TestDirectIOAndCache(t *testing.T) {
	f := serveLua(t, `
local fuse = require("fuse")
local mnt, log = ...
local calls = 0
local text = string.rep("generated on the fly\n", 5000)
fuse.mount(mnt, {
  getattr = function(path)
    if path == "/" then return {type = "dir"} end
    if path == "/calls" then calls = calls + 1; return {size = 0} end
    if path == "/stream" then return {size = 0} end
  end,
  read = function(path, size, offset)
    if path == "/calls" then
      local s = tostring(calls) .. "\n"
      return s:sub(offset + 1, offset + size)
    end
    return text:sub(offset + 1, offset + size)
  end,
}, {direct_io = true, cache = 30, log = log}):serve()
`)
	b, err := os.ReadFile(f.path("stream"))
	if err != nil || string(b) != strings.Repeat("generated on the fly\n", 5000) {
		t.Fatalf("direct_io read: %d bytes, %v", len(b), err)
	}
	for i := 0; i < 5; i++ {
		if _, err := os.Stat(f.path("calls")); err != nil {
			t.Fatal(err)
		}
	}
	if got := sh(t, f.dir, "cat calls"); got != "1\n" {
		t.Errorf("getattr calls with cache = 30: %q, want 1", got)
	}
}

// mountOptions is the option field of dir's line in /proc/mounts, and its
// source (the fsname).
func mountOptions(t *testing.T, dir string) (source, opts string) {
	t.Helper()
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[1] == dir {
			return f[0], "," + f[3] + ","
		}
	}
	t.Fatalf("%s is not in /proc/mounts", dir)
	return "", ""
}

// opts: read_only wins over write callbacks (EROFS, an "ro" mount, the
// callbacks never called); fsname names the mount; allow_other is off
// unless asked for. readdir entries may be tables; release is called.
func TestMountOptions(t *testing.T) {
	f := serveLua(t, `
local fuse = require("fuse")
local mnt, log = ...
local released = 0
fuse.mount(mnt, {
  getattr = function(path)
    if path == "/" or path == "/sub" then return {type = "dir"} end
    if path == "/released" then return {size = #tostring(released)} end
    if path == "/f" then return {size = 3} end
  end,
  readdir = function(path)
    return {{name = "f", type = "file", size = 3}, {name = "sub", type = "dir"}, "released"}
  end,
  read = function(path, size, off)
    if path == "/released" then return tostring(released) end
    return ("abc"):sub(off + 1, off + size)
  end,
  release = function(path) if path == "/f" then released = released + 1 end end,
  write = function() error("write must not be called on a read_only mount") end,
  create = function() error("create must not be called on a read_only mount") end,
  unlink = function() error("unlink must not be called on a read_only mount") end,
}, {read_only = true, fsname = "myfs", log = log}):serve()
`)
	src, opts := mountOptions(t, f.dir)
	if src != "myfs" || !strings.Contains(opts, ",ro,") || strings.Contains(opts, "allow_other") {
		t.Errorf("/proc/mounts: %s %s", src, opts)
	}
	_, err := os.OpenFile(f.path("f"), os.O_WRONLY, 0)
	wantErrno(t, err, syscall.EROFS)
	wantErrno(t, os.WriteFile(f.path("new"), []byte("x"), 0644), syscall.EROFS)
	wantErrno(t, os.Remove(f.path("f")), syscall.EROFS)
	ents, err := os.ReadDir(f.dir)
	if err != nil || len(ents) != 3 || ents[0].Name() != "f" || ents[0].IsDir() || ents[2].Name() != "sub" || !ents[2].IsDir() {
		t.Fatalf("readdir with entry tables: %v %v", ents, err)
	}
	for i := 0; i < 2; i++ {
		if b, err := os.ReadFile(f.path("f")); err != nil || string(b) != "abc" {
			t.Fatalf("read: %q %v", b, err)
		}
	}
	// release is asynchronous for the kernel: wait for it.
	waitFor(t, "two releases", func() bool { return sh(t, f.dir, "cat released") == "2" })
	if log := f.logText(t); log != "" {
		t.Errorf("a callback ran:\n%s", log)
	}

	g := serveLua(t, `
local fuse = require("fuse")
fuse.mount(..., {getattr = function() return {type = "dir"} end}, {allow_other = true}):serve()
`)
	if src, opts := mountOptions(t, g.dir); src != "gos3lua" || !strings.Contains(opts, ",allow_other,") || strings.Contains(opts, ",ro,") {
		t.Errorf("allow_other = true: %s %s", src, opts)
	}
}

// A write-side callback that raises is an EIO too, logged; the next
// write works.
func TestWriteCallbackErrors(t *testing.T) {
	f := serveLua(t, `
local fuse = require("fuse")
local mnt, log = ...
local data = ""
fuse.mount(mnt, {
  getattr = function(path)
    if path == "/" then return {type = "dir"} end
    if path == "/f" then return {size = #data} end
  end,
  read = function(path, size, off) return data:sub(off + 1, off + size) end,
  write = function(path, d, off)
    if d:find("bad", 1, true) then error("refusing " .. d) end
    data = data:sub(1, off) .. d
  end,
  truncate = function(path, size) data = data:sub(1, size) end,
  mkdir = function(path) local x = nil; return x.y end,
}, {log = log}):serve()
`)
	fh, err := os.OpenFile(f.path("f"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	_, err = fh.WriteAt([]byte("bad bytes"), 0)
	wantErrno(t, err, syscall.EIO)
	if _, err := fh.WriteAt([]byte("good"), 0); err != nil {
		t.Fatalf("the write after a failed one: %v", err)
	}
	if b, err := os.ReadFile(f.path("f")); err != nil || string(b) != "good" {
		t.Errorf("read back: %q %v", b, err)
	}
	wantErrno(t, os.Mkdir(f.path("d"), 0755), syscall.EIO)
	log := f.logText(t)
	for _, want := range []string{"fuse: write /f 9@0: error in callback (EIO): fs.lua:12: refusing bad bytes", "fuse: mkdir /d", "attempt to index", "stack traceback:"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// The error report goes to stderr as well as to opts.log (here: no log).
func TestCallbackErrorOnStderr(t *testing.T) {
	file := filepath.Join(t.TempDir(), "broken.lua")
	os.WriteFile(file, []byte(`local fuse = require("fuse")
local function inner(path) error("broken for " .. path) end
fuse.mount(arg[1], {
  getattr = function(path)
    if path == "/" then return {type = "dir"} end
    if path == "/broken" then inner(path) end
    return {size = 0}
  end,
}):serve()
`), 0644)
	s := runScript(t, nil, file)
	_, err := os.Stat(s.path("broken"))
	wantErrno(t, err, syscall.EIO)
	if _, err := os.Stat(s.path("fine")); err != nil {
		t.Fatalf("after the error: %v", err)
	}
	s.cmd.Process.Signal(os.Interrupt)
	<-s.exited
	errs := s.stderr.String()
	for _, want := range []string{"fuse: getattr /broken: error in callback (EIO): ", "broken.lua:2: broken for /broken",
		"stack traceback:", "broken.lua:2: in function 'inner'", "broken.lua:6:"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}
