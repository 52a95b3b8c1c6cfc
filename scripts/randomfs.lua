-- randomfs: mount an infinitely deep tree of random entries, the same for the same path every time
--
--   gos3lua randomfs.lua /mnt/random            # then: ls -R /mnt/random | head
--   gos3lua randomfs.lua --seed 7 /mnt/random   # another seed, another tree
--
-- Each directory's listing is drawn from a random generator seeded with
-- its path, so `ls` twice agrees and a path that existed exists again
-- after a remount; files hold random (but stable) text. Ctrl-C unmounts.
local args = require("args")
local fuse = require("fuse")

local opts = args.parse{
  name = "randomfs.lua",
  description = "An infinitely deep directory of random entries, stable for each path.",
  options = {
    {"s", "seed", type = "integer", default = 1, help = "seed of the tree: another seed, another tree"},
    {"d", "debug", type = "boolean", help = "log one line per request"},
    {nil, "cache", type = "number", default = 0, help = "seconds the kernel may cache entries and attributes"},
  },
  positional = {
    {"MOUNTPOINT", required = true, help = "the (empty) directory to mount on"},
  },
}

-- The generator: a string hash and the Park-Miller "minimal standard"
-- generator, exact in Lua's doubles (bench/fusego does the same in Go).
local M = 2147483647

local function hash(s)
  local h = opts.seed % M
  for i = 1, #s do
    h = (h * 31 + s:byte(i)) % M
  end
  if h == 0 then h = 1 end
  return h
end

local function generator(path)
  local x = hash(path)
  return function(n) -- 0 .. n-1
    x = x * 16807 % M
    return x % n
  end
end

local words = {
  "amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor",
  "iris", "juniper", "kestrel", "lagoon", "maple", "nimbus", "orchid", "pebble",
  "quartz", "raven", "saffron", "tundra", "umber", "violet", "willow", "xenon",
  "yarrow", "zephyr", "basalt", "comet", "dune", "glacier", "meadow", "spruce",
}
local exts = {".txt", ".log", ".md", ".csv", ".conf", ".dat"}
local epoch = 1600000000

-- listing(dir) → entries (name, type, size, mtime) and a name index. The
-- last few are kept: lookups come right after a listing.
local cache, cached = {}, 0
local function listing(dir)
  local l = cache[dir]
  if l then return l end
  local r = generator(dir)
  l = {byname = {}}
  for _ = 1, 3 + r(8) do
    local name = words[1 + r(#words)]
    if r(3) == 0 then name = name .. "-" .. r(100) end
    local e = {mode = 420, mtime = epoch + r(100000000)}
    if r(5) < 3 then
      e.type, e.mode = "dir", 493
    else
      e.type, e.size = "file", 16 + r(4000)
      name = name .. exts[1 + r(#exts)]
    end
    if not l.byname[name] then
      e.name = name
      l[#l + 1] = e
      l.byname[name] = e
    end
  end
  if cached >= 4096 then cache, cached = {}, 0 end
  cache[dir], cached = l, cached + 1
  return l
end

local function split(path)
  local dir, name = path:match("^(.*)/([^/]+)$")
  if dir == "" then dir = "/" end
  return dir, name
end

local function entry(path)
  if path == "/" then return {type = "dir", mode = 493, mtime = epoch} end
  local dir, name = split(path)
  return listing(dir).byname[name]
end

-- content(path) → the file's text: lines of random words, exactly size bytes.
local function content(path, size)
  local r = generator(path .. "#")
  local parts, n = {}, 0
  while n < size do
    local line = {}
    for i = 1, 3 + r(8) do line[i] = words[1 + r(#words)] end
    local s = table.concat(line, " ") .. "\n"
    parts[#parts + 1] = s
    n = n + #s
  end
  return table.concat(parts):sub(1, size)
end

local last = {}
local m = fuse.mount(opts.mountpoint, {
  getattr = entry,
  readdir = function(path) return listing(path) end,
  read = function(path, size, offset)
    local e = entry(path)
    if not e or e.type ~= "file" then error(fuse.ENOENT) end
    if last.path ~= path then last = {path = path, data = content(path, e.size)} end
    return last.data:sub(offset + 1, offset + size)
  end,
}, {read_only = true, fsname = "randomfs", debug = opts.debug, cache = opts.cache})

io.stderr:write("randomfs: mounted on " .. m:mountpoint() .. " (seed " .. opts.seed .. "); Ctrl-C to unmount\n")
m:serve()
