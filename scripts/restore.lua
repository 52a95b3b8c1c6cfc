-- restore: list backup.lua's snapshots, or restore one into a directory
--
--   gos3lua restore.lua --list                       # snapshots, newest last
--   gos3lua restore.lua latest /tmp/back             # the newest snapshot
--   gos3lua restore.lua 20260102-030405 /tmp/back    # a given one
--   gos3lua restore.lua 20260102-030405 /tmp/back --only Documents/notes
--
-- Files, directories, symlinks, modes and mtimes come back as the snapshot's
-- manifest recorded them. Every file's content is checked against its
-- sha256 before it is put in place. A manifest entry that would land
-- outside DEST (an absolute path, a .. component, or a path through a
-- symlink) is refused with an error; nothing is ever written outside DEST.
local args = require("args")
local s3 = require("s3")
local fs = require("fs")
local json = require("json")
local task = require("task")
local progress = require("progress")

local opts = args.parse{
  name = "restore.lua",
  description = "List backup.lua's snapshots, or restore one into DEST.",
  options = {
    {"b", "bucket", env = "GOS3LUA_BUCKET", help = "bucket (default: the embedded store's)"},
    {nil, "prefix", default = "backup/", help = "where the snapshots are in the bucket"},
    {"l", "list", type = "boolean", help = "list the snapshots"},
    {nil, "only", metavar = "PATH", help = "restore only PATH (a file or directory of the snapshot)"},
    {"j", "jobs", type = "integer", default = 16, help = "files downloaded at once"},
  },
  positional = {
    {"SNAPSHOT", help = "snapshot name as --list shows it, or 'latest'"},
    {"DEST", help = "directory to restore into (created if missing)"},
  },
}

local bucket = s3.bucket(opts.bucket)
local prefix = opts.prefix
if prefix ~= "" and prefix:sub(-1) ~= "/" then prefix = prefix .. "/" end
local SUFFIX = ".manifest.json"
local failed = 0

local function die(fmt, ...)
  io.stderr:write("restore.lua: ", string.format(fmt, ...), "\n")
  os.exit(1)
end

local function report(fmt, ...)
  io.stderr:write("restore.lua: ", string.format(fmt, ...), "\n")
  failed = failed + 1
end

local function snapshots()
  local names = {}
  for obj in bucket:list{prefix = prefix, delimiter = "/"} do
    if obj.key and obj.key:sub(-#SUFFIX) == SUFFIX then
      names[#names + 1] = {name = obj.key:sub(#prefix + 1, -#SUFFIX - 1), key = obj.key, mtime = obj.mtime}
    end
  end
  table.sort(names, function(a, b) return a.name < b.name end)
  return names
end

-- A manifest path is safe when it is relative, has no empty, "." or ".."
-- component and no NUL: then DEST/path stays under DEST (symlinks aside,
-- which restore() checks on the disk).
local function safe(p)
  if type(p) ~= "string" or p == "" or p:sub(1, 1) == "/" or p:find("%z") or p:find("\\", 1, true) then return false end
  for part in (p .. "/"):gmatch("([^/]*)/") do
    if part == "" or part == "." or part == ".." then return false end
  end
  return true
end

local function list()
  local ss = snapshots()
  local pool, info = task.pool(16), {}
  for i, s in ipairs(ss) do
    pool:spawn(function()
      local m = json.decode(bucket:get(s.key))
      local files, bytes = 0, 0
      for _, e in ipairs(m.entries) do
        if e.type == "file" then files, bytes = files + 1, bytes + (e.size or 0) end
      end
      local trees = {}
      for _, t in ipairs(m.trees or {}) do trees[#trees + 1] = t.name end
      info[i] = string.format("%-20s %s %8d files %12d bytes  %s", s.name, m.created or "", files, bytes, table.concat(trees, " "))
    end)
  end
  pool:wait()
  for i = 1, #ss do print(info[i]) end
end

local function restore(name, dest)
  local ss = snapshots()
  if name == "latest" then
    if #ss == 0 then die("no snapshots under %s in bucket %s", prefix, bucket:name()) end
    name = ss[#ss].name
  end
  local ok, data = pcall(bucket.get, bucket, prefix .. name .. SUFFIX)
  if not ok then
    if type(data) == "table" and data.kind == "NoSuchKey" then die("no snapshot %s (see restore.lua --list)", name) end
    error(data, 0)
  end
  local m = json.decode(data)
  if m.format ~= "gos3lua-backup/1" then die("%s%s%s is not a backup manifest", prefix, name, SUFFIX) end

  -- Sort out the entries: refuse unsafe paths and paths under a symlink of
  -- the snapshot; keep those under --only.
  local dirs, files, links, kinds = {}, {}, {}, {}
  for _, e in ipairs(m.entries) do
    if not safe(e.path) then
      report("refusing %q: it would land outside %s", tostring(e.path), dest)
    elseif not opts.only or e.path == opts.only or e.path:sub(1, #opts.only + 1) == opts.only .. "/" then
      kinds[e.path] = e.type
      if e.type == "dir" then dirs[#dirs + 1] = e
      elseif e.type == "file" then files[#files + 1] = e
      elseif e.type == "link" then links[#links + 1] = e end
    end
  end
  local function under_link(p)
    local parent = p:match("^(.*)/[^/]*$")
    while parent do
      if kinds[parent] == "link" then return parent end
      parent = parent:match("^(.*)/[^/]*$")
    end
  end

  -- Directories: DEST/d must really be a directory, never a symlink that a
  -- file would be written through. Checked once per directory.
  fs.mkdir(dest, {parents = true})
  local real = {[""] = true}
  local function ensure_dir(rel)
    if real[rel] then return true end
    local parent = rel:match("^(.*)/[^/]*$") or ""
    if not ensure_dir(parent) then return false end
    local p = dest .. "/" .. rel
    local st = fs.lstat(p)
    if not st then
      pcall(fs.mkdir, p, {mode = "0700"}) -- another task may be making it too
      st = fs.lstat(p)
    end
    if not st or st.type ~= "dir" then
      report("refusing to write under %s: it is %s, not a directory", p, st and "a " .. st.type or "missing")
      return false
    end
    real[rel] = true
    return true
  end

  table.sort(dirs, function(a, b) return a.path < b.path end)
  for _, d in ipairs(dirs) do
    if under_link(d.path) then report("refusing %s: it is under the symlink %s", d.path, under_link(d.path))
    else ensure_dir(d.path) end
  end

  local total = 0
  for _, f in ipairs(files) do total = total + (f.size or 0) end
  local bar = progress.new{total = total, label = "restore " .. name, unit = "bytes"}
  local pool = task.pool(opts.jobs)
  for _, f in ipairs(files) do
    pool:spawn(function()
      local parent = f.path:match("^(.*)/[^/]*$") or ""
      if under_link(f.path) then return report("refusing %s: it is under the symlink %s", f.path, under_link(f.path)) end
      if not ensure_dir(parent) then return end
      local target = dest .. "/" .. f.path
      local tmp = dest .. "/" .. (parent ~= "" and parent .. "/" or "") .. ".restore-" .. f.path:match("[^/]*$")
      fs.remove(tmp) -- never write through whatever was there
      local ok, res = pcall(bucket.get_file, bucket, f.key, tmp, {sha256 = true})
      if not ok then
        fs.remove(tmp)
        if type(res) == "table" and (res.kind == "network" or res.kind == "timeout" or res.kind == "cancelled") then error(res, 0) end
        return report("%s: %s", f.path, tostring(res))
      end
      if (f.sha256 and res.sha256 ~= f.sha256) or (f.size and res.size ~= f.size) then
        fs.remove(tmp)
        return report("%s: content does not match the manifest (sha256 %s, want %s)", f.path, res.sha256, tostring(f.sha256))
      end
      local st = fs.lstat(target)
      if st and st.type == "dir" then fs.remove(target, {recursive = true}) end
      fs.rename(tmp, target) -- replaces a file or symlink itself, never what it points to
      if f.mode then fs.chmod(target, f.mode) end
      if f.mtime then fs.utime(target, f.mtime, f.mtime) end
      bar:add(res.size)
    end)
  end
  pool:wait()
  bar:done()

  for _, l in ipairs(links) do
    local parent = l.path:match("^(.*)/[^/]*$") or ""
    if under_link(l.path) then report("refusing %s: it is under the symlink %s", l.path, under_link(l.path))
    elseif ensure_dir(parent) then
      local target = dest .. "/" .. l.path
      local st = fs.lstat(target)
      if st then fs.remove(target, {recursive = st.type == "dir"}) end
      fs.symlink(l.link, target)
    end
  end

  -- Modes and mtimes of directories last, deepest first: writing into a
  -- directory changes its mtime, and a read-only one could not be filled.
  for i = #dirs, 1, -1 do
    local d = dirs[i]
    if real[d.path] then
      local p = dest .. "/" .. d.path
      if d.mode then fs.chmod(p, d.mode) end
      if d.mtime then fs.utime(p, d.mtime, d.mtime) end
    end
  end
  print(string.format("restored %s into %s: %d files, %d directories, %d symlinks, %d failed",
    name, dest, #files, #dirs, #links, failed))
end

local ok, err = pcall(function()
  if opts.list then
    list()
  elseif opts.snapshot and opts.dest then
    restore(opts.snapshot, opts.dest)
  else
    io.stderr:write("restore.lua: give --list, or SNAPSHOT and DEST\ntry restore.lua --help\n")
    os.exit(2)
  end
end)
if not ok then
  if type(err) == "table" and err.kind then die("%s", tostring(err)) end
  error(err, 0)
end
os.exit(failed > 0 and 1 or 0)
