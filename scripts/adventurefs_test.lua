-- Tests of adventurefs.lua, run in this process: the script serves its mount in one
-- task while the test reads it through the kernel with the fs module in
-- another (`gos3lua test scripts/adventurefs_test.lua`). Real mounts need
-- root and /dev/fuse; bindings/fuse/scripts_test.go runs the script as its
-- own process (ls -R, find, dd, Ctrl-C).
local test = require("test")
local fs = require("fs")

local fusetest = require("support.fusetest")
local mount, names, tree = fusetest.mount, fusetest.names, fusetest.tree

test("adventurefs: scenes, choices and an ending", function(t)
  local dir = mount(t, "adventurefs.lua")
  t:eq(names(dir), {"answer-the-pager", "go-back-to-sleep", "story.txt"})
  local story = fs.read(dir .. "/story.txt")
  t:ok(story:find("The Night Shift", 1, true) ~= nil)
  t:eq(fs.stat(dir .. "/story.txt").size, #story)
  local ending = dir .. "/go-back-to-sleep/let-it-ring"
  t:eq(names(ending), {"story.txt"})
  t:ok(fs.read(ending .. "/story.txt"):find("THE END", 1, true) ~= nil)
  t:eq(fs.stat(dir .. "/nowhere"), nil)
end)

test("adventurefs: a story of your own", function(t)
  local file = t:tmpdir() .. "/story.lua"
  fs.write(file, [[return {title = "Two rooms", start = "a",
    scenes = {a = {text = "Room A.", choices = {{"to-b", "b"}}}, b = {text = "Room B.", choices = {{"back", "a"}}}}}]])
  local dir = mount(t, "adventurefs.lua", "--story", file)
  t:ok(fs.read(dir .. "/to-b/back/to-b/story.txt"):find("Room B.", 1, true) ~= nil)
end)
