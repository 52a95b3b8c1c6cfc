-- Tests of restore.lua: snapshots made by backup.lua (or manifests written
-- by hand, hostile ones included) restored from a store of their own
-- (s3.server) on loopback, with the scripts run in this process.
local test = require("test")
local s3 = require("s3")
local s3test = require("support.s3test")
local fs = require("fs")
local json = require("json")

local run = test.run_script -- run(script, args...) → stdout, stderr, exit status

-- setup(t) → the bucket "backups" in a store of the test's own (support/s3test.lua).
local function setup(t) return s3test.store(t, "backups") end

-- The tree the issue asks for: nested and empty directories, an empty
-- file, a symlink, unicode and spaces in names, mode 0600.
local function tricky_tree(root)
  fs.mkdir(root .. "/a/b/c", {parents = true})
  fs.mkdir(root .. "/empty dir")
  fs.mkdir(root .. "/a/nested empty", {parents = true})
  fs.write(root .. "/a/b/c/deep.txt", "deep\n")
  fs.write(root .. "/empty", "")
  fs.write(root .. "/ünïcødé ñame.txt", "unicode\n")
  fs.write(root .. "/with space.txt", string.rep("0123456789", 1000))
  fs.write(root .. "/private", "secret\n")
  fs.chmod(root .. "/private", "0600")
  fs.chmod(root .. "/a/b", "0750")
  fs.symlink("a/b/c/deep.txt", root .. "/link")
  fs.symlink("../nowhere", root .. "/a/dangling")
  fs.utime(root .. "/with space.txt", 1000000000.5, 1000000000.5)
end

-- describe(root) → {rel = "type mode size mtime link content"} for comparing trees.
local function describe(root)
  local d = {}
  for e in fs.walk(root) do
    local content = e.type == "file" and fs.read(e.path) or ""
    local mtime = e.type == "link" and "" or string.format("%.3f", e.mtime)
    d[e.rel] = table.concat({e.type, e.type == "link" and "" or string.format("%o", e.mode), e.size and e.type == "file" and e.size or "", mtime, e.link or "", content}, " ")
  end
  return d
end

local function keys(b, prefix)
  local list = {}
  for o in b:list{prefix = prefix} do list[#list + 1] = o.key end
  return list
end

test("restore --list, a named snapshot, --only", function(t)
  setup(t)
  local src = t:tmpdir() .. "/tree"
  tricky_tree(src)
  run("backup.lua", "-b", "backups", src)
  fs.write(src .. "/empty", "not any more")
  run("backup.lua", "-b", "backups", src)
  local out = run("restore.lua", "-b", "backups", "--list")
  local names = {}
  for name in out:gmatch("(%d+%-%d+[%-%d]*) ") do names[#names + 1] = name end
  t:eq(#names, 2, out)
  t:match(out, "5 files")
  local dest = t:tmpdir()
  local _, err, code = run("restore.lua", "-b", "backups", names[1], dest)
  t:eq(code, 0, err)
  t:eq(fs.read(dest .. "/tree/empty"), "", "the first snapshot's content")
  local only = t:tmpdir()
  run("restore.lua", "-b", "backups", "--only", "tree/a", names[2], only)
  t:ok(fs.exists(only .. "/tree/a/b/c/deep.txt"))
  t:ok(not fs.exists(only .. "/tree/private"), "outside --only")
  _, err, code = run("restore.lua", "-b", "backups", "19990101-000000", only)
  t:eq(code, 1)
  t:match(err, "no snapshot 19990101%-000000")
end)

-- A hostile or damaged manifest: nothing may be written outside DEST.
test("restore refuses paths that would land outside DEST, and content that does not match", function(t)
  local b = setup(t)
  local root = t:tmpdir()
  local dest, outside = root .. "/dest", root .. "/outside"
  fs.mkdir(dest); fs.mkdir(outside)
  fs.symlink(outside, dest .. "/pre") -- already in DEST, pointing out
  b:put("data/good", "good")
  b:put("data/evil", "evil")
  local sha = require("hash").sha256
  local function file(p, key, content)
    return {path = p, type = "file", size = #content, mode = 420, mtime = 1e9, key = key, sha256 = sha(content)}
  end
  local entries = {
    {path = "t", type = "dir", mode = 493, mtime = 1e9},
    file("t/good", "data/good", "good"),
    file("../evil", "data/evil", "evil"),
    file("/tmp/evil-abs", "data/evil", "evil"),
    file("t/../../evil2", "data/evil", "evil"),
    file("t//x", "data/evil", "evil"),
    {path = "t/ln", type = "link", link = outside},
    file("t/ln/evil3", "data/evil", "evil"),
    file("pre/evil4", "data/evil", "evil"),
    file("t/bad-sum", "data/evil", "something else"),
  }
  b:put("backup/20000101-000000.manifest.json", json.encode{format = "gos3lua-backup/1", snapshot = "20000101-000000",
    trees = {{name = "t"}}, entries = entries})
  local out, err, code = run("restore.lua", "-b", "backups", "20000101-000000", dest)
  t:eq(code, 1)
  t:match(err, 'refusing "%.%./evil"')
  t:match(err, 'refusing "/tmp/evil%-abs"')
  t:match(err, 'refusing "t/%.%./%.%./evil2"')
  t:match(err, "refusing t/ln/evil3: it is under the symlink t/ln")
  t:match(err, "pre: it is a link, not a directory")
  t:match(err, "t/bad%-sum: content does not match")
  t:eq(fs.read(dest .. "/t/good"), "good")
  t:eq(fs.readdir(outside), {}, "nothing written outside DEST")
  t:ok(not fs.exists(root .. "/evil") and not fs.exists(root .. "/evil2") and not fs.exists("/tmp/evil-abs"))
  t:ok(not fs.exists(dest .. "/t/bad-sum"), "a file that fails its check is not left behind")
  t:eq(fs.readlink(dest .. "/t/ln"), outside, "the symlink itself is restored")
  t:match(out, "failed")
end)
