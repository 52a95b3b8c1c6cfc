-- backup: snapshot directories to S3, uploading only what changed
--
--   gos3lua backup.lua ~/Documents /etc                  # a snapshot of both
--   gos3lua backup.lua -b mybucket --exclude '*.tmp' src   # to a bucket of yours
--   gos3lua backup.lua --dry-run src                     # what would go up
--
-- Each run is a snapshot named by the time, PREFIX/20260102-030405/, with
-- every DIR under its base name: PREFIX/20260102-030405/Documents/notes.txt.
-- The snapshot's manifest, PREFIX/20260102-030405.manifest.json, written
-- last, lists every file, directory and symlink with its mode and mtime,
-- and for each file the key that holds its content and its sha256.
--
-- A file whose size and mtime match the previous snapshot is not uploaded
-- again: the new manifest points at the copy already stored. So a re-run
-- over unchanged trees transfers no file data, a snapshot's prefix holds
-- only what changed since the one before it, and restore.lua needs the
-- manifest (don't delete an older snapshot's objects by hand).
--
-- Unreadable files are reported and counted; the run goes on, and its exit
-- status is 1.
local args = require("args")
local s3 = require("s3")
local fs = require("fs")
local path = require("path")
local json = require("json")
local task = require("task")
local time = require("time")
local progress = require("progress")

local opts = args.parse{
  name = "backup.lua",
  description = "Snapshot directories to S3; unchanged files are not uploaded again.",
  options = {
    {"b", "bucket", env = "GOS3LUA_BUCKET", help = "bucket (default: the embedded store's)"},
    {nil, "prefix", default = "backup/", help = "where snapshots go in the bucket"},
    {"x", "exclude", multiple = true, metavar = "GLOB", help = "skip names (or paths, with a /) matching GLOB; repeatable"},
    {"n", "dry-run", type = "boolean", help = "show what would be uploaded; change nothing"},
    {"j", "jobs", type = "integer", default = 16, help = "files uploaded at once"},
    {"q", "quiet", type = "boolean", help = "no summary, only errors"},
  },
  positional = {
    {"DIR", multiple = true, required = true, help = "directories (or files) to back up"},
  },
}

local bucket = s3.bucket(opts.bucket)
local prefix = opts.prefix
if prefix ~= "" and prefix:sub(-1) ~= "/" then prefix = prefix .. "/" end
local failed = 0
local STOP = {network = true, timeout = true, cancelled = true}

local function report(fmt, ...)
  io.stderr:write("backup.lua: ", string.format(fmt, ...), "\n")
  failed = failed + 1
end

-- The previous snapshot's manifest (the newest one), or nil.
local function previous()
  local newest
  for obj in bucket:list{prefix = prefix, delimiter = "/"} do
    if obj.key and obj.key:match("%.manifest%.json$") and (not newest or obj.key > newest) then newest = obj.key end
  end
  if not newest then return nil end
  local m = json.decode(bucket:get(newest))
  local by_path = {}
  for _, e in ipairs(m.entries) do by_path[e.path] = e end
  return by_path
end

-- A snapshot name that is not taken yet (two runs in one second).
local function snapshot_name()
  local name = time.format("%Y%m%d-%H%M%S")
  local candidate, n = name, 1
  while bucket:stat(prefix .. candidate .. ".manifest.json") do
    candidate = name .. "-" .. n
    n = n + 1
  end
  return candidate
end

-- Walk each DIR into a flat list of entries {path=, type=, size=, mode=,
-- mtime=, link=, source=}, path being "TREE/rel".
local function scan(dirs)
  local entries, skipped, trees, seen = {}, 0, {}, {}
  for _, dir in ipairs(dirs) do
    local abs = path.abs(dir)
    local root = fs.lstat(abs)
    if not root then
      report("%s: no such file or directory", dir)
    else
      local tree = path.base(abs)
      if tree == "/" or tree == "" then tree = "root" end
      local name, n = tree, 2
      while seen[name] do name = tree .. "-" .. n; n = n + 1 end
      seen[name] = true
      trees[#trees + 1] = {name = name, source = abs}
      if root.type == "dir" then
        entries[#entries + 1] = {path = name, type = "dir", mode = root.mode, mtime = root.mtime}
        for e in fs.walk(abs, {exclude = opts.exclude}) do
          local p = name .. "/" .. e.rel
          if e.error then
            report("%s", e.error)
          elseif e.type == "file" or e.type == "dir" then
            entries[#entries + 1] = {path = p, type = e.type, size = e.size, mode = e.mode, mtime = e.mtime, source = e.path}
          elseif e.type == "link" then
            entries[#entries + 1] = {path = p, type = "link", link = e.link, mtime = e.mtime}
          else
            skipped = skipped + 1 -- sockets, devices, fifos
          end
        end
      elseif root.type == "file" then
        entries[#entries + 1] = {path = name, type = "file", size = root.size, mode = root.mode, mtime = root.mtime, source = abs}
      else
        report("%s: not a directory or a regular file", dir)
      end
    end
  end
  return entries, trees, skipped
end

local started = time.now()
local ok, err = pcall(function()
  local entries, trees, skipped = scan(opts.dir)
  local prev = previous() or {}
  local snap = snapshot_name()
  local base = prefix .. snap .. "/"

  -- What must go up: new files, and files whose size or mtime changed.
  local todo, total, files, bytes = {}, 0, 0, 0
  for _, e in ipairs(entries) do
    if e.type == "file" then
      files, bytes = files + 1, bytes + e.size
      local p = prev[e.path]
      if p and p.type == "file" and p.size == e.size and p.mtime == e.mtime and p.key then
        e.key, e.sha256 = p.key, p.sha256
      else
        todo[#todo + 1] = e
        total = total + e.size
      end
    end
  end

  if opts.dry_run then
    for _, e in ipairs(todo) do print("would upload " .. e.path) end
    print(string.format("dry run: %d files (%d bytes): %d to upload (%d bytes), %d unchanged, %d skipped",
      files, bytes, #todo, total, files - #todo, skipped))
    return
  end

  local bar = progress.new{total = total, label = "backup " .. snap, unit = "bytes"}
  local pool = task.pool(opts.jobs)
  local sent, uploaded = 0, 0
  for _, e in ipairs(todo) do
    pool:spawn(function()
      local key = base .. e.path
      local ok, res = pcall(bucket.put_file, bucket, key, e.source, {sha256 = true})
      if ok then
        e.key, e.sha256 = key, res.sha256
        sent, uploaded = sent + res.size, uploaded + 1
        bar:add(res.size)
      elseif type(res) == "table" and not res.status and not STOP[res.kind] then
        report("%s", tostring(res)) -- unreadable, vanished: this file's trouble
      else
        error(res, 0) -- the bucket's or the network's trouble: stop
      end
    end)
  end
  pool:wait()
  bar:done()

  local list = {}
  for _, e in ipairs(entries) do
    if e.type ~= "file" or e.key then
      list[#list + 1] = {path = e.path, type = e.type, size = e.size, mode = e.mode, mtime = e.mtime,
                         link = e.link, key = e.key, sha256 = e.sha256}
    end
  end
  local manifest = {format = "gos3lua-backup/1", snapshot = snap, created = time.format("!%Y-%m-%dT%H:%M:%SZ"),
                    prefix = base, trees = trees, entries = json.array(list)}
  bucket:put(prefix .. snap .. ".manifest.json", json.encode(manifest), {content_type = "application/json"})

  if not opts.quiet then
    local secs = math.max(time.now() - started, 1e-3)
    print(string.format("snapshot %s%s in bucket %s: %d files (%.1f MB), %d uploaded (%.1f MB), %d unchanged, %d skipped, %d failed, %.1f s, %.1f MB/s",
      prefix, snap, bucket:name(), files, bytes / 1e6, uploaded, sent / 1e6, files - #todo, skipped, failed, secs, sent / 1e6 / secs))
  end
end)
if not ok then
  if type(err) == "table" and err.kind then
    io.stderr:write("backup.lua: ", tostring(err), "\n")
    os.exit(1)
  end
  error(err, 0)
end
os.exit(failed > 0 and 1 or 0)
