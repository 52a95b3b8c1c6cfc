-- purge: delete every object of a bucket (or under a prefix), in batches
--
--   gos3lua purge.lua -b scratch                 # shows what it would delete
--   gos3lua purge.lua -b scratch --yes           # deletes it
--   gos3lua purge.lua --prefix backup/ --yes     # only under backup/
--   gos3lua purge.lua --buckets --yes            # every object of every bucket, and the buckets
--
-- Nothing is deleted without --yes. Keys are listed page by page and
-- deleted 1,000 per request while the listing goes on.
local args = require("args")
local s3 = require("s3")

local opts = args.parse{
  name = "purge.lua",
  description = "Delete every object of a bucket (--prefix to narrow, --buckets for all buckets and the buckets too).",
  options = {
    {"b", "bucket", env = "GOS3LUA_BUCKET", help = "bucket (default: the embedded store's)"},
    {"p", "prefix", default = "", help = "only keys starting with this"},
    {nil, "buckets", type = "boolean", help = "every bucket (or the -b one): its objects, then the bucket itself"},
    {"y", "yes", type = "boolean", help = "really delete; without it, only show what would go"},
  },
}

-- purge(bucket) → objects, bytes (deleted, or that would be).
local function purge(bucket)
  local batch, count, bytes, shown = {}, 0, 0, 0
  for obj in bucket:list{prefix = opts.prefix} do
    count, bytes = count + 1, bytes + obj.size
    if opts.yes then
      batch[#batch + 1] = obj.key
      if #batch == 1000 then
        bucket:delete_many(batch)
        batch = {}
      end
    elseif shown < 10 then
      print(string.format("would delete s3://%s/%s (%d bytes)", bucket:name(), obj.key, obj.size))
      shown = shown + 1
    end
  end
  if #batch > 0 then bucket:delete_many(batch) end
  if not opts.yes and count > shown then print(string.format("... and %d more", count - shown)) end
  return count, bytes
end

local ok, err = pcall(function()
  local names = {}
  if opts.buckets and not opts.bucket then
    for _, b in ipairs(s3.buckets()) do names[#names + 1] = b.name end
  else
    names[1] = s3.bucket(opts.bucket):name()
  end
  for _, name in ipairs(names) do
    local bucket = s3.bucket(name)
    local count, bytes = purge(bucket)
    local verb = opts.yes and "deleted" or "would delete"
    print(string.format("%s %d objects (%d bytes) from bucket %s%s", verb, count, bytes, name,
      opts.prefix ~= "" and " under " .. opts.prefix or ""))
    if opts.buckets then
      if opts.yes then s3.delete_bucket(name) end
      print(string.format("%s bucket %s", opts.yes and "deleted" or "would delete", name))
    end
  end
  if not opts.yes then print("nothing deleted: run again with --yes to delete") end
end)
if not ok then
  if type(err) == "table" and err.kind then
    io.stderr:write("purge.lua: ", tostring(err), "\n")
    os.exit(1)
  end
  error(err, 0)
end
