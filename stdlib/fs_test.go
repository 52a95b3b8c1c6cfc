package stdlib

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFSFiles(t *testing.T) {
	runIn(t, `
local fs = require("fs")
local p = dir .. "/a.txt"
eq(fs.stat(p), nil, "stat of a missing file")
eq(fs.lstat(p), nil)
eq(fs.exists(p), false)
eq(fs.readlink(p), nil)
eq(fs.write(p, "hello\0world"), 11)
eq(fs.read(p), "hello\0world")
eq(fs.write(p, "!", {append = true}), 1)
eq(fs.read(p), "hello\0world!")
fs.write(p, "new", {atomic = true, mode = "0600"})
eq(fs.read(p), "new")
local st = fs.stat(p)
eq(st.type, "file"); eq(st.size, 3); eq(st.mode, 384); eq(st.name, "a.txt"); eq(st.path, p)
assert(math.abs(st.mtime - os.time()) < 5, st.mtime)
fs.chmod(p, "755"); eq(fs.stat(p).mode, 493)
fs.chmod(p, 420); eq(fs.stat(p).mode, 420)
fs.utime(p, 1000000000.5, 1234567890.25)
eq(fs.stat(p).mtime, 1234567890.25); eq(fs.stat(p).atime, 1000000000.5)
eq(fs.exists(p), true)

fs.mkdir(dir .. "/d")
fs.mkdir(dir .. "/x/y/z", {parents = true, mode = "0700"})
fs.mkdir(dir .. "/x/y/z", {parents = true}) -- exists: fine
eq(fs.stat(dir .. "/x/y/z").type, "dir"); eq(fs.stat(dir .. "/x/y/z").mode, 448)
fs.symlink("a.txt", dir .. "/ln")
eq(fs.readlink(dir .. "/ln"), "a.txt")
eq(fs.lstat(dir .. "/ln").type, "link"); eq(fs.lstat(dir .. "/ln").link, "a.txt")
eq(fs.stat(dir .. "/ln").type, "file"); eq(fs.stat(dir .. "/ln").link, "a.txt")
fs.symlink("nowhere", dir .. "/dangling")
eq(fs.stat(dir .. "/dangling"), nil); eq(fs.exists(dir .. "/dangling"), false)
eq(fs.lstat(dir .. "/dangling").type, "link")

local names = {}
for _, e in ipairs(fs.readdir(dir)) do names[#names + 1] = e.name .. ":" .. e.type end
eq(table.concat(names, " "), "a.txt:file d:dir dangling:link ln:link x:dir")
eq(#fs.glob(dir .. "/*.txt"), 1); eq(fs.glob(dir .. "/*.txt")[1], p)
eq(#fs.glob(dir .. "/none*"), 0)
eq(fs.match("*.txt", "a.txt"), true); eq(fs.match("*.txt", "d/a.txt"), false)

fs.rename(p, dir .. "/b.txt")
eq(fs.exists(p), false); eq(fs.read(dir .. "/b.txt"), "new")
eq(fs.remove(dir .. "/b.txt"), true)
eq(fs.remove(dir .. "/b.txt"), false, "remove of a missing file")
eq(fs.remove(dir .. "/x", {recursive = true}), true)
eq(fs.exists(dir .. "/x"), false)

local tmp = fs.tmpdir("fstest-")
eq(fs.stat(tmp).type, "dir"); eq(fs.stat(tmp).mode, 448)
fs.remove(tmp)
`)
}

func TestFSOpen(t *testing.T) {
	runIn(t, `
local fs = require("fs")
local p = dir .. "/s"
local f = fs.open(p, "w")
f:write("line1\n", "line2\n", 3)
f:close()
f = fs.open(p)
eq(f:read("l"), "line1"); eq(f:read(3), "lin"); eq(f:read("a"), "e2\n3"); eq(f:read(1), nil)
f:seek("set", 2); eq(f:read(3), "ne1")
f:close()
f = fs.open(p, "a"); f:write("x"); f:close()
eq(fs.read(p), "line1\nline2\n3x")
local n = 0
for l in fs.open(p):lines() do n = n + 1 end
eq(n, 3)
-- a stream can be the data of write
fs.write(dir .. "/copy", fs.open(p))
eq(fs.read(dir .. "/copy"), "line1\nline2\n3x")
local ok, err = pcall(fs.open, p, "x")
eq(ok, false); eq(err.kind, "EEXIST")
`)
}

func TestFSErrors(t *testing.T) {
	dir := t.TempDir()
	q := Quote(dir)
	wantErr(t, map[string]string{
		`require("fs").read(` + q + ` .. "/missing")`:                                               "fs: read " + dir + "/missing: no such file or directory",
		`local ok, e = pcall(require("fs").read, ` + q + ` .. "/m") error(e.kind .. " " .. e.path)`: "ENOENT " + dir + "/m",
		`require("fs").read(` + q + `)`:                                                             "fs: read " + dir + ": is a directory",
		`require("fs").readdir(` + q + ` .. "/missing")`:                                            "fs: readdir " + dir + "/missing: no such file or directory",
		`require("fs").open(` + q + ` .. "/missing")`:                                               "fs: open " + dir + "/missing: no such file or directory",
		`require("fs").mkdir(` + q + `)`:                                                            "file exists",
		`require("fs").mkdir(` + q + ` .. "/a/b")`:                                                  "no such file or directory",
		`require("fs").walk(` + q + ` .. "/missing", function() end)`:                               "fs: walk " + dir + "/missing: no such file or directory",
		`local fs = require("fs") for e in fs.walk(` + q + ` .. "/missing") do end`:                 "fs: walk " + dir + "/missing: no such file or directory",
		`require("fs").rename(` + q + ` .. "/m", "/tmp/x")`:                                         "fs: rename " + dir + "/m to /tmp/x: no such file or directory",
		`require("fs").stat()`:                                                                      "bad argument #1 to 'stat' (string expected, got nil)",
		`require("fs").stat({})`:                                                                    "bad argument #1 to 'stat' (string expected, got table)",
		`require("fs").read(true)`:                                                                  "bad argument #1 to 'read' (string expected, got boolean)",
		`require("fs").write("x", {})`:                                                              "bad argument #2 to 'write' (string or stream expected, got table)",
		`require("fs").write("x", "y", 5)`:                                                          "bad argument #3 to 'write' (table expected, got number)",
		`require("fs").write("x", "y", {mode = "rwx"})`:                                             `bad argument #3 to 'write' (mode: bad mode "rwx"`,
		`require("fs").mkdir("x", {mode = true})`:                                                   "bad argument #2 to 'mkdir' (mode: mode: number or octal string expected, got boolean)",
		`require("fs").open("x", "rw")`:                                                             `bad argument #2 to 'open' (bad mode "rw"`,
		`require("fs").chmod("x")`:                                                                  "bad argument #2 to 'chmod' (mode expected)",
		`require("fs").walk(".", 5)`:                                                                "bad argument #2 to 'walk' (function or table expected, got number)",
		`require("fs").walk(".", function() end, {exclude = "[" })`:                                 `bad argument #3 to 'walk' (exclude: bad pattern "["`,
		`require("fs").glob("[")`:                                                                   `bad argument #1 to 'glob' (bad pattern "["`,
		`require("fs").utime("x", "soon")`:                                                          "bad argument #2 to 'utime' (number expected, got string)",
		`require("fs").symlink("a")`:                                                                "bad argument #2 to 'symlink' (string expected, got nil)",
	})
}

func mktree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"a/b/c", "a/skip/deep", "z"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a/1.txt", "a/b/2.txt", "a/b/c/3.o", "a/skip/deep/4.txt", "top.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../a", filepath.Join(dir, "z/up")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFSWalk(t *testing.T) {
	dir := mktree(t)
	run(t, "local dir = "+Quote(dir)+`
local fs = require("fs")
local function walk(opts, fn)
  local seen = {}
  fs.walk(dir, function(e)
    assert(not e.error, e.error)
    seen[#seen + 1] = e.rel .. (e.type == "dir" and "/" or e.type == "link" and "@" or "")
    if fn then return fn(e) end
  end, opts)
  return table.concat(seen, " ")
end
eq(walk(), "a/ a/1.txt a/b/ a/b/2.txt a/b/c/ a/b/c/3.o a/skip/ a/skip/deep/ a/skip/deep/4.txt top.txt z/ z/up@")
eq(walk(nil, function(e) if e.rel == "a/skip" then return "skip" end end),
   "a/ a/1.txt a/b/ a/b/2.txt a/b/c/ a/b/c/3.o a/skip/ top.txt z/ z/up@")
eq(walk(nil, function(e) if e.rel == "a/b" then return false end end), "a/ a/1.txt a/b/")
eq(walk({exclude = {"*.o", "skip", "z/*"}}), "a/ a/1.txt a/b/ a/b/2.txt a/b/c/ top.txt z/")
eq(walk({depth = 1}), "a/ top.txt z/")
eq(walk({depth = 2, exclude = "a"}), "top.txt z/ z/up@")

-- the iterator form gives the same entries
local n, files = 0, 0
for e in fs.walk(dir) do
  n = n + 1
  if e.type == "file" then files = files + 1; eq(e.path, dir .. "/" .. e.rel); eq(e.size, #e.rel) end
end
eq(n, 12, "n"); eq(files, 5, "files")
for e in fs.walk(dir, {exclude = "a"}) do eq(e.rel ~= "a/1.txt", true) end
-- breaking out of the iterator early is fine (a loop body must not start
-- with break: gopher-lua 1.1.2 miscompiles the loop's jump back)
for e in fs.walk(dir) do n = 0 break end
-- a file as the root is walked as itself
local one = {}
for e in fs.walk(dir .. "/top.txt") do one[#one + 1] = e.rel end
eq(table.concat(one, ","), "top.txt")
`)
}

// Following symlinks: a link back to an ancestor is reported as an error
// entry (not followed forever), a dangling link likewise; the walk goes on.
func TestFSWalkFollowErrors(t *testing.T) {
	dir := mktree(t)
	if err := os.Symlink("nowhere", filepath.Join(dir, "a/dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b", filepath.Join(dir, "a/bee")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../..", filepath.Join(dir, "a/b/loop")); err != nil {
		t.Fatal(err)
	}
	run(t, "local dir = "+Quote(dir)+`
local fs = require("fs")
local seen, errs = {}, {}
fs.walk(dir, function(e)
  if e.error then errs[#errs + 1] = e.rel .. " " .. e.kind .. " " .. e.error return end
  seen[#seen + 1] = e.rel
end, {follow = true, exclude = {"skip", "z"}})
eq(#errs, 3, "errors")
assert(errs[1]:find("^a/b/loop ELOOP fs: walk .*/a/b/loop: symlink loop %(../.. points to an ancestor%)"), errs[1])
assert(errs[2]:find("^a/bee/loop ELOOP "), errs[2])
assert(errs[3]:find("^a/dangling ENOENT fs: walk: follow " .. dir:gsub("%p", "%%%0") .. "/a/dangling: no such file"), errs[3])
eq(table.concat(seen, " "), "a a/1.txt a/b a/b/2.txt a/b/c a/b/c/3.o a/bee a/bee/2.txt a/bee/c a/bee/c/3.o top.txt")
`)
}

// Every fs function on a path that is not there: absence where the API
// says so (stat, lstat, readlink: nil; exists, remove: false; glob: {}),
// else an error naming the path whose kind is the errno name.
func TestFSMissing(t *testing.T) {
	runIn(t, `
local fs, hash = require("fs"), require("hash")
local m = dir .. "/missing"
eq(fs.stat(m), nil, "stat")
eq(fs.lstat(m), nil, "lstat")
eq(fs.readlink(m), nil, "readlink")
eq(fs.exists(m), false, "exists")
eq(fs.remove(m), false, "remove")
eq(fs.remove(m, {recursive = true}), false, "remove recursive")
eq(#fs.glob(m .. "/*"), 0, "glob")
eq(fs.stat(m .. "/below"), nil, "stat below a missing directory")
local function fails(what, kind, f, ...)
  local ok, e = pcall(f, ...)
  eq(ok, false, what)
  eq(e.kind, kind, what .. " kind")
  assert(tostring(e):find(m, 1, true), what .. ": " .. tostring(e))
end
fails("read", "ENOENT", fs.read, m)
fails("readdir", "ENOENT", fs.readdir, m)
fails("open", "ENOENT", fs.open, m)
fails("open r+", "ENOENT", fs.open, m, "r+")
fails("open w below", "ENOENT", fs.open, m .. "/f", "w")
fails("write below", "ENOENT", fs.write, m .. "/f", "x")
fails("write atomic below", "ENOENT", fs.write, m .. "/f", "x", {atomic = true})
fails("mkdir below", "ENOENT", fs.mkdir, m .. "/a/b")
fails("rename", "ENOENT", fs.rename, m, dir .. "/other")
fails("symlink below", "ENOENT", fs.symlink, "x", m .. "/link")
fails("chmod", "ENOENT", fs.chmod, m, "0644")
fails("utime", "ENOENT", fs.utime, m, 1, 1)
fails("walk", "ENOENT", fs.walk, m, function() end)
fails("hash.file", "ENOENT", hash.file, "md5", m)
-- a file where a directory is expected, and the other way round
fs.write(dir .. "/file", "x")
local function kind(f, ...) local ok, e = pcall(f, ...) eq(ok, false) return e.kind end
eq(kind(fs.readdir, dir .. "/file"), "ENOTDIR", "readdir of a file")
eq(kind(fs.mkdir, dir .. "/file/sub", {parents = true}), "ENOTDIR", "mkdir below a file")
eq(kind(fs.read, dir), "EISDIR", "read of a directory")
eq(kind(fs.mkdir, dir .. "/file"), "EEXIST", "mkdir over a file")
`)
}
