-- Helpers for the FUSE scripts' tests (randomfs, adventurefs, s3fs): run a
-- bundled script in a task of the test and read its mount through the
-- kernel. Not a bundled script: `require("support.fusetest")` from a test.
local fs = require("fs")
local fuse = require("fuse")
local task = require("task")

local M = {}

-- The bundled scripts are in this file's parent directory.
local scripts = ((debug.getinfo(1, "S").source:gsub("^@", "")):match("^(.*)/[^/]*$") or ".") .. "/.."

-- mount(t, "randomfs.lua", args...) runs the script in a task with its own
-- arg and a fuse module that hands the test its mount; returns the
-- mountpoint. The mount is undone when the test ends.
function M.mount(t, script, ...)
  t:need("/dev/fuse")
  local dir = t:tmpdir()
  local chunk = assert(loadfile(scripts .. "/" .. script))
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
function M.names(dir)
  local out = {}
  for _, e in ipairs(fs.readdir(dir)) do out[#out + 1] = e.name end
  return out
end

-- tree(dir, depth) → "type size path" lines, like find -maxdepth.
function M.tree(dir, depth, out, rel)
  out, rel = out or {}, rel or ""
  if depth == 0 then return out end
  for _, e in ipairs(fs.readdir(dir)) do
    local p = rel .. "/" .. e.name
    out[#out + 1] = e.type .. " " .. (e.type == "file" and e.size or "-") .. " " .. p
    if e.type == "dir" then M.tree(dir .. "/" .. e.name, depth - 1, out, p) end
  end
  return out
end

return M
