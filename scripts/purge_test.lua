-- Tests of purge.lua: the script runs in this process against a store of
-- its own (s3.server) on loopback.
local test = require("test")
local s3 = require("s3")
local s3test = require("support.s3test")
local task = require("task")

-- run(args...) → stdout, stderr, exit status of purge.lua, run in this task.
local function run(...) return test.run_script("purge.lua", ...) end

-- setup(t) → nothing: a fresh store in a store of the test's own (support/s3test.lua).
local function setup(t) return s3test.store(t) end

local function fill(name, n, prefix)
  s3.create_bucket(name)
  local b = s3.bucket(name)
  local pool = task.pool(32)
  for i = 1, n do pool:spawn(function() b:put(string.format("%s%05d", prefix or "", i), "x") end) end
  pool:wait()
  return b
end

local function count(b, prefix)
  local n = 0
  for _ in b:list{prefix = prefix} do n = n + 1 end
  return n
end

test("without --yes nothing is deleted, and it says what would be", function(t)
  setup(t)
  local b = fill("pbucket", 25)
  local out, _, code = run("-b", "pbucket")
  t:eq(code, 0)
  t:match(out, "would delete s3://pbucket/00001 %(1 bytes%)")
  t:match(out, "%.%.%. and 15 more")
  t:match(out, "would delete 25 objects %(25 bytes%) from bucket pbucket")
  t:match(out, "run again with %-%-yes")
  t:eq(count(b), 25)
end)

test("--yes deletes more than 1,000 objects in batches; --prefix narrows", function(t)
  setup(t)
  local b = fill("pbucket", 1200, "keep/")
  fill("pbucket", 1300, "go/")
  local out, err, code = run("-b", "pbucket", "--prefix", "go/", "--yes")
  t:eq(code, 0, err)
  t:match(out, "deleted 1300 objects %(1300 bytes%) from bucket pbucket under go/")
  t:eq(count(b, "go/"), 0)
  t:eq(count(b, "keep/"), 1200)
  run("-b", "pbucket", "--yes")
  t:eq(count(b), 0)
end)

test("--buckets --yes empties and deletes every bucket", function(t)
  setup(t)
  fill("one-bucket", 3)
  fill("two-bucket", 1001)
  local out, _, code = run("--buckets")
  t:eq(code, 0)
  t:match(out, "would delete bucket one%-bucket")
  t:eq(#s3.buckets(), 2)
  out, _, code = run("--buckets", "--yes")
  t:eq(code, 0)
  t:match(out, "deleted 1001 objects")
  t:match(out, "deleted bucket two%-bucket")
  t:eq(s3.buckets(), {})
end)

test("a missing bucket is a clear error, exit 1", function(t)
  setup(t)
  local _, err, code = run("-b", "no-such-bucket", "--yes")
  t:eq(code, 1)
  t:match(err, "purge.lua: s3: list no%-such%-bucket: NoSuchBucket")
end)
