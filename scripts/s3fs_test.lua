-- Tests of s3fs.lua, run in this process: the script serves its mount in one
-- task while the test reads it through the kernel with the fs module in
-- another (`gos3lua test scripts/s3fs_test.lua`). Real mounts need
-- root and /dev/fuse; bindings/fuse/scripts_test.go runs the script as its
-- own process (a 20 MiB stream compared with cmp, dd, paging, --rw).
-- The bucket lives in a store of its own (s3.server) on loopback.
local test = require("test")
local fs = require("fs")
local s3 = require("s3")
local s3test = require("support.s3test")

local fusetest = require("support.fusetest")
local mount, names, tree = fusetest.mount, fusetest.names, fusetest.tree

-- bucket(t) → the bucket "fsb" in a store of the test's own (support/s3test.lua).
local function bucket(t) return s3test.store(t, "fsb") end

local bytes = s3test.bytes -- bytes(n [, seed]) → n pseudo-random bytes

test("s3fs: objects as files, key prefixes as directories", function(t)
  local b = bucket(t)
  local big = bytes(300000)
  b:put("hello.txt", "hello, s3\n")
  b:put("data/big.bin", big)
  b:put("data/deep/x.txt", "x")
  local dir = mount(t, "s3fs.lua", "-b", "fsb", "--block-size", "64K")
  t:eq(names(dir), {"data", "hello.txt"})
  t:eq(tree(dir .. "/data", 3), {"file 300000 /big.bin", "dir - /deep", "file 1 /deep/x.txt"})
  t:eq(fs.read(dir .. "/hello.txt"), "hello, s3\n")
  local st = fs.stat(dir .. "/data/big.bin")
  t:eq(st.size, #big)
  t:eq(math.floor(st.mtime), math.floor(b:stat("data/big.bin").mtime))
  t:eq(fs.read(dir .. "/data/big.bin"), big)
  -- Reads at offsets: mid-block, across the 64 KiB blocks, the tail.
  local f = fs.open(dir .. "/data/big.bin", "r")
  t:cleanup(function() f:close() end)
  for _, c in ipairs{{65530, 20}, {1000, 140000}, {299990, 100}} do
    f:seek("set", c[1])
    t:eq(f:read(c[2]), big:sub(c[1] + 1, c[1] + c[2]), "read " .. c[2] .. " at " .. c[1])
  end
  t:eq(fs.stat(dir .. "/nope"), nil)
  t:err(function() fs.write(dir .. "/new.txt", "x") end, "read%-only")
end)

test("s3fs: an s3pipe stream reads as one file across its chunks", function(t)
  local b = bucket(t)
  local data, sizes = bytes(250000, 3), {100000, 100000, 50000}
  local off = 0
  for i, n in ipairs(sizes) do
    b:put(("bob-%010d"):format(i - 1), data:sub(off + 1, off + n))
    off = off + n
  end
  b:put("bob.s3pipe.json", require("json").encode{format = "s3pipe/1", first = 0, count = 3, sizes = sizes, size = #data})
  local dir = mount(t, "s3fs.lua", "-b", "fsb", "--block-size", "32K")
  t:eq(names(dir), {"bob"})
  t:eq(fs.stat(dir .. "/bob").size, #data)
  t:eq(fs.read(dir .. "/bob"), data)
  local f = fs.open(dir .. "/bob", "r")
  t:cleanup(function() f:close() end)
  f:seek("set", 99990)
  t:eq(f:read(120020), data:sub(99991, 220010), "a read across both chunk boundaries")
end)
