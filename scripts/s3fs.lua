-- s3fs: mount an S3 bucket as a read-only tree; s3pipe streams show as one file each
--
--   gos3lua s3fs.lua -b backups /mnt/backups
--   ls /mnt/backups; cp /mnt/backups/photos/2024/a.jpg .
--   tar tzf /mnt/backups/nightly          # an s3pipe stream, read as one file
--
-- Directories come from the "/" in keys; objects are files with their real
-- sizes and times. Each s3pipe stream (objects TAG-0000000000, ... plus its
-- manifest TAG.s3pipe.json) is shown as one file named TAG whose reads span
-- its chunks; a stream whose write never finished (no manifest) shows as
-- its chunk objects.
-- Reads are ranged GETs of --block-size, cached (--cache-size) and fetched
-- ahead (--read-ahead blocks) when a file is read sequentially. With --rw,
-- new files written through the mount are stored as s3pipe streams when
-- closed (cp big.tar /mnt/backups/ then `s3pipe.lua -r -t big.tar` reads it).
local args = require("args")
local fuse = require("fuse")
local s3 = require("s3")
local task = require("task")
local json = require("json")

local opts = args.parse{
  name = "s3fs.lua",
  description = "An S3 bucket as a read-only filesystem, s3pipe streams as single files.",
  options = {
    {"b", "bucket", env = "GOS3LUA_BUCKET", required = true, help = "the bucket to mount"},
    {"p", "prefix", help = "mount only the keys under this prefix"},
    {nil, "ttl", type = "duration", default = "10", help = "seconds a directory listing is trusted"},
    {nil, "block-size", type = "size", default = "8M", help = "bytes of one ranged GET"},
    {nil, "read-ahead", type = "integer", default = 4, help = "blocks fetched ahead of a sequential reader"},
    {nil, "cache-size", type = "size", default = "256M", help = "bytes of file data kept in memory"},
    {nil, "no-streams", type = "boolean", help = "show s3pipe chunks and manifests as they are"},
    {nil, "rw", type = "boolean", help = "let new files be written: each is stored as an s3pipe stream when closed"},
    {nil, "chunk-size", type = "size", default = "10M", help = "with --rw: bytes per chunk of a written stream"},
    {"d", "debug", type = "boolean", help = "log one line per request"},
  },
  positional = {
    {"MOUNTPOINT", required = true, help = "the (empty) directory to mount on"},
  },
}

local bucket = s3.bucket(opts.bucket)
local prefix = opts.prefix or ""
if prefix ~= "" and prefix:sub(-1) ~= "/" then prefix = prefix .. "/" end
local B = opts.block_size
local started = os.time()

-- ---- s3pipe streams ----
-- A stream TAG is the objects TAG-0000000000, ... and the manifest
-- TAG.s3pipe.json (written last; see s3pipe.lua), which says where the
-- chunks start, how many there are and their sizes.

local CHUNK = "^(.+)%-%d%d%d%d%d%d%d%d%d%d$"
local MANIFEST = "^(.+)%.s3pipe%.json$"

-- read_manifest(key, etag) → {size=, chunks={{key=, off=, size=}...}} for
-- the stream whose manifest is key; nil when it is not a usable one.
local manifests = {}
local function read_manifest(key, etag)
  local m = manifests[key]
  if m and m.etag == etag then return m.stream end
  local ok, t = pcall(function() return json.decode(bucket:get(key)) end)
  local stream
  if ok and type(t) == "table" and t.format == "s3pipe/1" and type(t.sizes) == "table" then
    local tag = key:match(MANIFEST)
    local off = 0
    stream = {chunks = {}}
    for i, size in ipairs(t.sizes) do
      stream.chunks[i] = {key = ("%s-%010d"):format(tag, t.first + i - 1), off = off, size = size}
      off = off + size
    end
    stream.size = off
    if #t.sizes ~= t.count or off ~= t.size then stream = nil end
  end
  manifests[key] = {etag = etag, stream = stream}
  return stream
end

-- ---- directories ----

-- A listing: name → {type=, size=, mtime=, key=, segs=} for one directory.
-- Streams are folded into one entry each.
local function load_listing(dir)
  local p = prefix .. (dir == "/" and "" or dir:sub(2) .. "/")
  local entries, streams = {}, {}
  for obj in bucket:list{prefix = p, delimiter = "/"} do
    if obj.prefix then
      local name = obj.prefix:sub(#p + 1, -2)
      if name ~= "" then entries[name] = {type = "dir", mode = 493, mtime = started} end
    else
      local name = obj.key:sub(#p + 1)
      if name ~= "" then
        entries[name] = {type = "file", mode = 420, size = obj.size, mtime = obj.mtime, key = obj.key, etag = obj.etag}
        local tag = not opts.no_streams and name:match(MANIFEST)
        if tag then streams[tag] = entries[name] end
      end
    end
  end
  for tag, m in pairs(streams) do
    local st = read_manifest(m.key, m.etag)
    if st then
      entries[tag .. ".s3pipe.json"] = nil
      for name in pairs(entries) do
        local t = name:match(CHUNK)
        if t == tag then entries[name] = nil end
      end
      entries[tag] = {type = "file", mode = 420, size = st.size, mtime = m.mtime, segs = st.chunks, key = m.key}
    end
  end
  return entries
end

-- listing(dir) → its entries, trusted for --ttl seconds; requests that
-- want the same directory at once share one listing.
local listings, loading, nlistings = {}, {}, 0
local function listing(dir)
  local l = listings[dir]
  if l and os.time() - l.at < opts.ttl then return l.entries end
  local t = loading[dir]
  if not t then
    t = task.spawn(function()
      local ok, entries = pcall(load_listing, dir)
      loading[dir] = nil
      if not ok then error(entries, 0) end
      if nlistings >= 10000 then listings, nlistings = {}, 0 end
      if not listings[dir] then nlistings = nlistings + 1 end
      listings[dir] = {at = os.time(), entries = entries}
      return entries
    end)
    loading[dir] = t
  end
  return t:wait()
end

local function split(path)
  local dir, name = path:match("^(.*)/([^/]+)$")
  if dir == "" then dir = "/" end
  return dir, name
end

-- added[dir][name]: what --rw made here that the bucket does not show
-- yet: files being written, and directories (S3 has none until a key is
-- under them).
local added = {}

local function entry(path)
  if path == "/" then return {type = "dir", mode = 493, mtime = started} end
  local dir, name = split(path)
  local a = added[dir]
  return a and a[name] or listing(dir)[name]
end

-- ---- file data: blocks of ranged GETs, cached and fetched ahead ----

-- segs of a file: its pieces as {key=, off=, size=} (one for an object).
local function segs(e)
  if not e.segs then e.segs = {{key = e.key, off = 0, size = e.size}} end
  return e.segs
end

-- block_at(e, offset) → the block holding offset: {id=, key=, first=, last=, off=}
local function block_at(e, offset)
  local ss = segs(e)
  local lo, hi = 1, #ss
  while lo < hi do -- the last segment starting at or before offset
    local mid = math.floor((lo + hi + 1) / 2)
    if ss[mid].off <= offset then lo = mid else hi = mid - 1 end
  end
  local s = ss[lo]
  local j = math.floor((offset - s.off) / B)
  local first = j * B
  local last = math.min(first + B, s.size) - 1
  return {id = s.key .. "@" .. j, key = s.key, first = first, last = last, off = s.off + first}
end

local cache, cached, clock = {}, 0, 0

local function evict()
  while cached > opts.cache_size do
    local oldest, id
    for k, b in pairs(cache) do
      if b.data and (not oldest or b.used < oldest.used) then oldest, id = b, k end
    end
    if not oldest then return end
    cache[id] = nil
    cached = cached - #oldest.data
  end
end

-- fetch(blk) → a cache entry whose task is getting (or got) the block.
local function fetch(blk)
  local c = cache[blk.id]
  if not c then
    c = {used = clock}
    c.task = task.spawn(function()
      local ok, data = pcall(bucket.get, bucket, blk.key, {range = {blk.first, blk.last}})
      if not ok then
        cache[blk.id] = nil -- the next read tries again
        error(data, 0)
      end
      c.data = data
      cached = cached + #data
      evict()
      return data
    end)
    cache[blk.id] = c
  end
  clock = clock + 1
  c.used = clock
  return c
end

local function block_data(blk)
  local c = fetch(blk)
  return c.data or c.task:wait()
end

local read_pending -- with --rw, below

local function read(path, size, offset, fh)
  local e = fh and fh.entry or entry(path)
  if not e or e.type ~= "file" then error(fuse.ENOENT) end
  if e.pending then return read_pending(e, size, offset) end
  if offset >= e.size then return "" end
  size = math.min(size, e.size - offset)
  if fh then
    if offset == fh.next then
      -- Sequential: keep --read-ahead blocks in flight past this one.
      local ahead = block_at(e, offset)
      for _ = 1, opts.read_ahead do
        local nxt = ahead.off + (ahead.last - ahead.first + 1)
        if nxt >= e.size then break end
        ahead = block_at(e, nxt)
        fetch(ahead)
      end
    end
    fh.next = offset + size
  end
  local parts = {}
  while size > 0 do
    local blk = block_at(e, offset)
    local data = block_data(blk)
    local from = offset - blk.off
    local part = data:sub(from + 1, from + size)
    if #part == 0 then break end -- the object is shorter than it said
    parts[#parts + 1] = part
    offset, size = offset + #part, size - #part
  end
  return #parts == 1 and parts[1] or table.concat(parts)
end

listing("/") -- a missing bucket or bad credentials fail here, not in every request

local ops = {
  getattr = entry,
  readdir = function(path)
    local list, seen = {}, {}
    for name, e in pairs(added[path] or {}) do
      seen[name] = true
      list[#list + 1] = {name = name, type = e.type, mode = e.mode, size = e.size, mtime = e.mtime}
    end
    for name, e in pairs(listing(path)) do
      if not seen[name] then
        list[#list + 1] = {name = name, type = e.type, mode = e.mode, size = e.size, mtime = e.mtime}
      end
    end
    return list
  end,
  open = function(path, flags)
    local e = entry(path)
    if not e then error(fuse.ENOENT) end
    if flags % 4 ~= 0 and not e.pending then error(fuse.EROFS) end -- only new files are written
    return {entry = e, next = 0}
  end,
  read = read,
}

-- ---- --rw: new files become s3pipe streams when closed ----
-- A file being written lives in a temporary file; on close (flush) it is
-- split into TAG-0000000000, ... and its manifest TAG.s3pipe.json is written
-- last, as s3pipe.lua -w does, so a failed upload never shows as a file.
if opts.rw then
  local fs = require("fs")
  local time = require("time")

  -- lock(e, fn): one write, read or upload of a file at a time (each is a
  -- seek then a suspending call on the shared temporary file).
  local function lock(e, fn)
    e.lock:send(true)
    local ok, r = pcall(fn)
    e.lock:recv()
    if not ok then error(r, 0) end
    return r
  end

  function read_pending(e, size, offset)
    return lock(e, function()
      e.file:seek("set", offset)
      return e.file:read(size) or ""
    end)
  end

  local function added_in(dir)
    added[dir] = added[dir] or {}
    return added[dir]
  end

  ops.create = function(path, mode)
    local dir, name = split(path)
    if name:match(MANIFEST) or name:match(CHUNK) then error(fuse.EINVAL) end
    local tmp = fs.tmpdir("s3fs-")
    local e = {type = "file", mode = 420, size = 0, mtime = os.time(), pending = true, dirty = true,
      tmp = tmp, file = fs.open(tmp .. "/data", "w+"), lock = task.channel(1),
      tag = prefix .. path:sub(2)}
    added_in(dir)[name] = e
    return {entry = e, next = 0}
  end

  ops.write = function(path, data, offset, fh)
    local e = fh.entry
    lock(e, function()
      e.file:seek("set", offset)
      e.file:write(data)
    end)
    e.size = math.max(e.size, offset + #data)
    e.mtime, e.dirty = os.time(), true
  end

  ops.truncate = function(path, size)
    local e = entry(path)
    if not (e and e.pending and size == e.size) then error(fuse.EROFS) end
  end

  local function upload(e)
    e.file:seek("set", 0)
    local res = bucket:split(e.file, e.tag .. "-%010d", {chunk_size = opts.chunk_size})
    bucket:put(e.tag .. ".s3pipe.json", json.encode{
      format = "s3pipe/1", tag = e.tag, first = 0, count = res.count,
      chunk_size = opts.chunk_size, size = res.size, sizes = json.array(res.sizes),
      sha256 = res.sha256, created = time.format("!%Y-%m-%dT%H:%M:%SZ"),
    }, {content_type = "application/json"})
    -- Leftovers of an earlier write of this name that never finished.
    local stale = {}
    for obj in bucket:list{prefix = e.tag .. "-"} do
      local n = obj.key:sub(#e.tag + 2)
      if #n == 10 and n:match("^%d+$") and tonumber(n) >= res.count then stale[#stale + 1] = obj.key end
    end
    if #stale > 0 then bucket:delete_many(stale) end
  end

  ops.flush = function(path, fh)
    local e = fh.entry
    if not e.pending or not e.dirty then return end
    lock(e, function() upload(e) end)
    e.dirty = false
  end

  ops.release = function(path, fh)
    local e = fh.entry
    if not e.pending then return end
    -- Uploaded (or failed, and close() said so): from now on the bucket
    -- tells what there is.
    local dir, name = split(path)
    listings[dir] = nil
    if added[dir] and added[dir][name] == e then added[dir][name] = nil end
    e.pending = false
    e.file:close()
    fs.remove(e.tmp, {recursive = true})
  end

  ops.mkdir = function(path)
    local dir, name = split(path)
    added_in(dir)[name] = {type = "dir", mode = 493, mtime = os.time()}
  end
end

local m = fuse.mount(opts.mountpoint, ops, {
  read_only = not opts.rw, fsname = "s3fs:" .. opts.bucket, debug = opts.debug,
  -- The kernel may trust attributes as long as we trust listings; without
  -- this it would ask getattr before every read().
  cache = {attr = opts.ttl, entry = opts.ttl},
})

io.stderr:write(("s3fs: bucket %s mounted on %s; Ctrl-C to unmount\n"):format(opts.bucket, m:mountpoint()))
m:serve()
