-- Tests of randomfs.lua, run in this process: the script serves its mount in one
-- task while the test reads it through the kernel with the fs module in
-- another (`gos3lua test scripts/randomfs_test.lua`). Real mounts need
-- root and /dev/fuse; bindings/fuse/scripts_test.go runs the script as its
-- own process (ls -R, find, dd, Ctrl-C).
local test = require("test")
local fs = require("fs")
local fuse = require("fuse")
local task = require("task")

local here = debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*)/[^/]*$") or "."

-- mount(t, "randomfs.lua", args...) runs the script in a task with its own
-- arg and a fuse module that hands the test its mount; returns the
-- mountpoint. The mount is undone when the test ends.
local function mount(t, script, ...)
  t:need("/dev/fuse")
  local dir = t:tmpdir()
  local chunk = assert(loadfile(here .. "/" .. script))
  local handle
  local myfuse = setmetatable({
    mount = function(...)
      handle = fuse.mount(...)
      return handle
    end,
  }, {__index = fuse})
  local env = setmetatable({
    require = function(name) if name == "fuse" then return myfuse end return require(name) end,
    io = setmetatable({stderr = {write = function() end}}, {__index = io}),
  }, {__index = _G})
  setfenv(chunk, env)
  local args = {...}
  args[#args + 1] = dir
  local saved = _G.arg
  _G.arg = {[0] = script, unpack(args)}
  local served = task.spawn(chunk, unpack(args))
  while not handle and not served:done() do task.sleep(0.01) end
  _G.arg = saved
  if not handle then served:wait() end -- raises the script's error
  t:ok(handle, script .. " did not mount")
  t:cleanup(function()
    handle:unmount()
    served:wait()
  end)
  return dir
end

-- names(dir) → the sorted names in dir.
local function names(dir)
  local out = {}
  for _, e in ipairs(fs.readdir(dir)) do out[#out + 1] = e.name end
  return out
end

-- tree(dir, depth) → "type size path" lines, like find -maxdepth.
local function tree(dir, depth, out, rel)
  out, rel = out or {}, rel or ""
  if depth == 0 then return out end
  for _, e in ipairs(fs.readdir(dir)) do
    local p = rel .. "/" .. e.name
    out[#out + 1] = e.type .. " " .. (e.type == "file" and e.size or "-") .. " " .. p
    if e.type == "dir" then tree(dir .. "/" .. e.name, depth - 1, out, p) end
  end
  return out
end

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
