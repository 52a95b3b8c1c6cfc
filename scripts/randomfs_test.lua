-- Tests of randomfs.lua, run in this process: the script serves its mount in one
-- task while the test reads it through the kernel with the fs module in
-- another (`gos3lua test scripts/randomfs_test.lua`). Real mounts need
-- root and /dev/fuse; bindings/fuse/scripts_test.go runs the script as its
-- own process (ls -R, find, dd, Ctrl-C).
local test = require("test")
local fs = require("fs")

local fusetest = require("support.fusetest")
local mount, names, tree = fusetest.mount, fusetest.names, fusetest.tree

test("randomfs: listings are stable for their path", function(t)
  local dir = mount(t, "randomfs.lua")
  local first = tree(dir, 3)
  t:ok(#first > 20, "a tree of some size")
  t:eq(tree(dir, 3), first)
  -- Files hold text of their stated size, the same at every read.
  for _, line in ipairs(first) do
    local size, p = line:match("^file (%d+) (.*)$")
    if size then
      local data = fs.read(dir .. p)
      t:eq(#data, tonumber(size))
      t:eq(fs.read(dir .. p), data)
      break
    end
  end
  t:err(function() fs.write(dir .. "/new.txt", "x") end, "read%-only")
end)

test("randomfs: another seed, another tree", function(t)
  local a = tree(mount(t, "randomfs.lua"), 2)
  local b = tree(mount(t, "randomfs.lua", "--seed", "42"), 2)
  t:ok(table.concat(a, "\n") ~= table.concat(b, "\n"))
end)
