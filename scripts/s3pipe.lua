-- s3pipe: store a stream (stdin) in S3 as numbered chunks, and read it back
--
--   tar czf - /some/dir | gos3lua s3pipe.lua -w -t bob     # stdin → stream "bob"
--   gos3lua s3pipe.lua -r -t bob | tar tzf -               # stream "bob" → stdout
--   gos3lua s3pipe.lua -l                                  # list the streams
--   gos3lua s3pipe.lua -d -t bob                           # delete one
--
-- A stream TAG is the objects TAG-0000000000, TAG-0000000001, ... of
-- --chunk-size bytes (the last one shorter), and TAG.s3pipe.json, a manifest
-- written last: where the chunks start, how many, their sizes and the sha256
-- of the whole stream. Readers believe only the manifest, so a write that
-- died half-way is never mistaken for a stream.
--
-- Writing an existing TAG again numbers the new chunks after the old ones;
-- the old chunks are deleted only once the new manifest is in place, so the
-- old stream stays readable until the new one is whole.
local args = require("args")
local s3 = require("s3")
local json = require("json")
local task = require("task")
local time = require("time")

local opts = args.parse{
  name = "s3pipe.lua",
  description = "Store stdin in S3 as numbered chunks plus a manifest, and read it back to stdout.",
  options = {
    {"w", "write", type = "boolean", help = "read stdin and store it as stream TAG"},
    {"r", "read", type = "boolean", help = "write stream TAG to stdout, verifying sizes and sha256"},
    {"l", "list", type = "boolean", help = "list the streams (tag, size, chunks, date)"},
    {"d", "delete", type = "boolean", help = "delete stream TAG"},
    {"t", "tag", help = "the stream's name (may contain / to use a prefix)"},
    {"b", "bucket", env = "GOS3LUA_BUCKET", help = "bucket (default: the embedded store's)"},
    {nil, "chunk-size", type = "size", default = "10M", help = "bytes per chunk object"},
    {"j", "concurrency", type = "integer", default = 8, help = "chunks in flight at most"},
    {"m", "memory", type = "size", default = "48M", help = "chunk bytes held at once at most (fewer chunks in flight when chunks are big)"},
  },
}

local function die(fmt, ...)
  io.stderr:write("s3pipe.lua: ", string.format(fmt, ...), "\n")
  os.exit(1)
end

local modes = (opts.write and 1 or 0) + (opts.read and 1 or 0) + (opts.list and 1 or 0) + (opts.delete and 1 or 0)
if modes ~= 1 then
  io.stderr:write("s3pipe.lua: give exactly one of -w, -r, -l, -d\ntry s3pipe.lua --help\n")
  os.exit(2)
end
if not opts.list and (not opts.tag or opts.tag == "" or opts.tag:sub(-1) == "/") then
  io.stderr:write("s3pipe.lua: -t TAG is required (and must not end with /)\n")
  os.exit(2)
end
if opts.chunk_size < 1 or opts.concurrency < 1 or opts.memory < 1 then
  io.stderr:write("s3pipe.lua: --chunk-size, --concurrency and --memory must be positive\n")
  os.exit(2)
end

-- Chunks in flight: --concurrency, fewer when that many chunks would hold
-- more than --memory (each one in flight is a buffer of its size). Four
-- 10M chunks keep loopback as busy as eight, in 40 MiB less memory.
local function in_flight(chunk_size)
  return math.max(1, math.min(opts.concurrency, math.floor(opts.memory / math.max(chunk_size, 1))))
end

local MANIFEST = ".s3pipe.json"
local bucket = s3.bucket(opts.bucket)

local function chunk_format(tag) return tag .. "-%010d" end
local function manifest_key(tag) return tag .. MANIFEST end

-- chunk_number("bob", "bob-0000000012") → 12; nil for any other key
-- (including the chunks of a tag "bob-x").
local function chunk_number(tag, key)
  if key:sub(1, #tag + 1) ~= tag .. "-" then return nil end
  local digits = key:sub(#tag + 2)
  if #digits == 10 and digits:match("^%d+$") then return tonumber(digits) end
end

local function read_manifest(tag)
  local ok, data = pcall(bucket.get, bucket, manifest_key(tag))
  if not ok then
    if type(data) == "table" and data.kind == "NoSuchKey" then return nil end
    error(data, 0)
  end
  local ok2, m = pcall(json.decode, data)
  if not ok2 or type(m) ~= "table" or m.format ~= "s3pipe/1" then
    die("%s is not an s3pipe manifest", manifest_key(tag))
  end
  return m
end

-- Every chunk of tag outside [first, first + count): the old stream's, and
-- leftovers of writes that never finished.
local function stale_chunks(tag, first, count)
  local stale = {}
  for obj in bucket:list{prefix = tag .. "-"} do
    local n = chunk_number(tag, obj.key)
    if n and (n < first or n >= first + count) then stale[#stale + 1] = obj.key end
  end
  return stale
end

local function write(tag)
  local old = read_manifest(tag)
  local first = old and (old.first + old.count) or 0
  local res = bucket:split(io.stdin, chunk_format(tag), {
    chunk_size = opts.chunk_size, concurrency = in_flight(opts.chunk_size), first = first})
  local manifest = {
    format = "s3pipe/1", tag = tag, first = first, count = res.count,
    chunk_size = opts.chunk_size, size = res.size, sizes = json.array(res.sizes),
    sha256 = res.sha256, created = time.format("!%Y-%m-%dT%H:%M:%SZ"),
  }
  bucket:put(manifest_key(tag), json.encode(manifest), {content_type = "application/json"})
  local stale = stale_chunks(tag, first, res.count)
  if #stale > 0 then bucket:delete_many(stale) end
end

local function read(tag)
  local m = read_manifest(tag)
  if not m then die("no stream %q in bucket %s (or its write never finished)", tag, bucket:name()) end
  local keys = {}
  for i = 0, m.count - 1 do keys[#keys + 1] = string.format(chunk_format(tag), m.first + i) end
  local ok, res = pcall(bucket.cat, bucket, keys, io.stdout, {concurrency = in_flight(m.chunk_size or opts.chunk_size)})
  if not ok then
    if type(res) == "table" and res.kind == "NoSuchKey" then
      die("stream %q is incomplete: chunk %s is missing", tag, res.key or "?")
    end
    error(res, 0)
  end
  for i, size in ipairs(res.sizes) do
    if size ~= m.sizes[i] then
      die("stream %q is corrupt: chunk %s has %d bytes, the manifest says %d", tag, keys[i], size, m.sizes[i])
    end
  end
  if res.size ~= m.size then die("stream %q is corrupt: %d bytes instead of %d", tag, res.size, m.size) end
  if res.sha256 ~= m.sha256 then die("stream %q is corrupt: sha256 %s, the manifest says %s", tag, res.sha256, m.sha256) end
end

local function list()
  local tags = {}
  for obj in bucket:list{} do
    if obj.key:sub(-#MANIFEST) == MANIFEST then tags[#tags + 1] = obj.key:sub(1, -#MANIFEST - 1) end
  end
  local rows = {}
  local pool = task.pool(16)
  for i, tag in ipairs(tags) do
    pool:spawn(function()
      local ok, m = pcall(read_manifest, tag)
      if ok and m then rows[i] = {tag, m.size, m.count, m.created} end
    end)
  end
  pool:wait()
  local w = 3
  for _, tag in ipairs(tags) do w = math.max(w, #tag) end
  print(string.format("%-" .. w .. "s %15s %8s  %s", "TAG", "SIZE", "CHUNKS", "CREATED"))
  for i = 1, #tags do
    local r = rows[i]
    if r then print(string.format("%-" .. w .. "s %15d %8d  %s", r[1], r[2], r[3], r[4])) end
  end
end

local function delete(tag)
  local m = read_manifest(tag)
  -- The manifest goes first: from then on the stream is gone for readers,
  -- never half there.
  if m then bucket:delete(manifest_key(tag)) end
  local chunks = stale_chunks(tag, 0, 0)
  if not m and #chunks == 0 then die("no stream %q in bucket %s", tag, bucket:name()) end
  if #chunks > 0 then bucket:delete_many(chunks) end
end

local ok, err = pcall(function()
  if opts.write then write(opts.tag)
  elseif opts.read then read(opts.tag)
  elseif opts.list then list()
  else delete(opts.tag) end
end)
if not ok then
  if type(err) == "table" and err.kind then die("%s", tostring(err)) end
  error(err, 0)
end
