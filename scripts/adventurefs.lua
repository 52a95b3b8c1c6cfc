-- adventurefs: mount a choose-your-own-adventure: cd into your choices, cat story.txt
--
--   gos3lua adventurefs.lua /mnt/adventure
--   cat /mnt/adventure/story.txt; ls /mnt/adventure; cd /mnt/adventure/answer-the-pager
--   gos3lua adventurefs.lua --story mystory.lua /mnt/adventure
--
-- Each directory is a scene: story.txt in it tells the scene and its
-- sub-directories are the choices; an ending has no choices. A story is a
-- plain Lua table (the bundled one is at the end of this file, copy it):
--
--   return {
--     title = "My story", start = "hall",
--     scenes = {
--       hall = {text = "A hall. Two doors.", choices = {{"left-door", "kitchen"}, {"right-door", "hall"}}},
--       kitchen = {text = "You found the cake. The end."},   -- no choices: an ending
--     },
--   }
--
-- choices may also be a map {["left-door"] = "kitchen"}; scenes may lead
-- back to earlier ones, so the tree can be infinitely deep.
local args = require("args")
local fuse = require("fuse")

local opts = args.parse{
  name = "adventurefs.lua",
  description = "A choose-your-own-adventure as a filesystem.",
  options = {
    {nil, "story", metavar = "FILE.lua", help = "a story table to play instead of the bundled one"},
    {"d", "debug", type = "boolean", help = "log one line per request"},
  },
  positional = {
    {"MOUNTPOINT", required = true, help = "the (empty) directory to mount on"},
  },
}

local bundled -- the bundled story, defined at the end of the file

-- load_story checks a story table and prepares each scene: its choices as
-- an ordered list, its story.txt.
local function load_story(story)
  assert(type(story) == "table", "a story is a table with title, start and scenes")
  assert(type(story.scenes) == "table", "story.scenes must be a table of scenes")
  assert(story.scenes[story.start], "story.start must name a scene (got " .. tostring(story.start) .. ")")
  local scenes = {}
  for id, s in pairs(story.scenes) do
    assert(type(s) == "table" and type(s.text) == "string", "scene " .. tostring(id) .. " needs a text")
    local choices = {}
    for k, v in pairs(s.choices or {}) do
      if type(k) == "number" then
        choices[#choices + 1] = {name = v[1], scene = v[2], order = k}
      else
        choices[#choices + 1] = {name = k, scene = v, order = math.huge}
      end
    end
    table.sort(choices, function(a, b)
      if a.order ~= b.order then return a.order < b.order end
      return a.name < b.name
    end)
    scenes[id] = {choices = choices, by = {}, text = s.text, title = s.title}
  end
  for id, sc in pairs(scenes) do
    for _, c in ipairs(sc.choices) do
      assert(type(c.name) == "string" and c.name ~= "" and not c.name:find("/") and c.name ~= "story.txt",
        "scene " .. id .. ": bad choice name " .. tostring(c.name))
      assert(scenes[c.scene], "scene " .. id .. ": choice " .. c.name .. " leads to unknown scene " .. tostring(c.scene))
      sc.by[c.name] = c.scene
    end
  end
  return scenes, story.title or "An adventure", story.start
end

local function wrap(text, width)
  local out = {}
  local src = text:gsub("\r", "")
  src = src .. "\n\n"
  for para in src:gmatch("(.-)\n%s*\n") do
    local line = ""
    for word in para:gmatch("%S+") do
      if #line > 0 and #line + 1 + #word > width then
        out[#out + 1] = line
        line = word
      else
        line = #line > 0 and (line .. " " .. word) or word
      end
    end
    if #line > 0 then out[#out + 1] = line; out[#out + 1] = "" end
  end
  return table.concat(out, "\n")
end

-- read_story is the story to play: the bundled one or --story's file,
-- checked. A story that cannot be played is a one-line reason and exit 2.
local function read_story()
  local ok, scenes, title, start = pcall(function()
    local story = bundled
    if opts.story then
      local chunk, err = loadfile(opts.story)
      if not chunk then error(err, 0) end
      story = chunk()
    end
    return load_story(story)
  end)
  if not ok then
    local why = tostring(type(scenes) == "table" and scenes.message or scenes)
    io.stderr:write("adventurefs.lua: story ", opts.story or "(bundled)", ": ", (why:gsub("^[^\n]-:%d+: ", ""):gsub("%s+$", "")), "\n")
    os.exit(2)
  end
  return scenes, title, start
end

local function main()
  local scenes, title, start = read_story()

  local texts = {}
  for id, sc in pairs(scenes) do
    local t = {"== " .. title .. (sc.title and (": " .. sc.title) or "") .. " ==", "", wrap(sc.text, 72)}
    if #sc.choices == 0 then
      t[#t + 1] = "THE END.  (cd / to play again)"
    else
      t[#t + 1] = "What do you do?"
      for _, c in ipairs(sc.choices) do t[#t + 1] = "  cd " .. c.name end
    end
    texts[id] = table.concat(t, "\n") .. "\n"
  end

  -- scene_of(path) → the scene a directory path leads to, or nil.
  local function scene_of(path)
    local id = start
    for part in path:gmatch("[^/]+") do
      id = scenes[id].by[part]
      if not id then return nil end
    end
    return id
  end

  local started = os.time()
  local function attr(path)
    local id = scene_of(path)
    if id then return {type = "dir", mode = 365, mtime = started} end -- 0555
    local dir, name = path:match("^(.*)/([^/]+)$")
    id = scene_of(dir)
    if id and name == "story.txt" then
      return {type = "file", mode = 292, size = #texts[id], mtime = started} -- 0444
    end
  end

  local m = fuse.mount(opts.mountpoint, {
    getattr = attr,
    readdir = function(path)
      local id = scene_of(path)
      if not id then error(fuse.ENOENT) end
      local list = {{name = "story.txt", type = "file", mode = 292, size = #texts[id], mtime = started}}
      for _, c in ipairs(scenes[id].choices) do
        list[#list + 1] = {name = c.name, type = "dir", mode = 365, mtime = started}
      end
      return list
    end,
    read = function(path, size, offset)
      local id = scene_of(path:match("^(.*)/story%.txt$") or "\0")
      if not id then error(fuse.ENOENT) end
      return texts[id]:sub(offset + 1, offset + size)
    end,
  }, {read_only = true, fsname = "adventurefs", debug = opts.debug})

  io.stderr:write(("adventurefs: %q mounted on %s; cat %s/story.txt to begin, Ctrl-C to unmount\n")
    :format(title, m:mountpoint(), m:mountpoint()))
  m:serve()
end

-- ---------------------------------------------------------------------------
-- The bundled story. Copy it into a file of its own (`return { ... }`),
-- change it, and play it with --story.
-- ---------------------------------------------------------------------------
bundled = {
  title = "The Night Shift",
  start = "pager",
  scenes = {
    pager = {
      title = "03:12",
      text = [[Your pager goes off at 03:12. The message reads: "DISK 97% FULL - backup01". The house is dark and the cat is asleep on your laptop bag.

You could get up and deal with it, or you could trust that a disk at 97% will still be a disk at 97% in the morning.]],
      choices = {{"answer-the-pager", "laptop"}, {"go-back-to-sleep", "sleep"}},
    },
    sleep = {
      title = "Sweet dreams",
      text = [[You roll over. The pager goes off again at 03:40: "DISK 100% FULL - backup01". Then at 03:41: "BACKUP FAILED - 212 hosts". Then the phone rings. It is your manager, and she is awake in the way only managers woken by a dashboard can be.]],
      choices = {{"pick-up-the-phone", "manager"}, {"let-it-ring", "fired"}},
    },
    fired = {
      title = "Silence",
      text = [[You let it ring. In the morning the backups are a week old, the postmortem has your name in the title, and the cat has taken your side of the bed. You start reading job ads for lighthouse keepers. Lighthouses have no pagers.]],
    },
    manager = {
      title = "The call",
      text = [["The backups are down," she says, as if you did not know. "Can you log in?" You say you are already on it, which becomes true about four seconds later.]],
      choices = {{"open-the-laptop", "laptop"}},
    },
    laptop = {
      title = "The console",
      text = [[The laptop fan spins up like a tiny jet. You ssh into backup01. df -h agrees with the pager: the backup volume is nearly full. Tonight's snapshot is still being written, at a few megabytes a second, into the last few gigabytes.]],
      choices = {{"find-the-big-files", "du"}, {"delete-old-snapshots", "purge"}, {"move-it-to-s3", "s3"}},
    },
    du = {
      title = "du -sh *",
      text = [[du takes its time. At the top of the list is a directory you do not recognise: /backup/tmp/core-dumps, 1.8 terabytes of crash dumps from a service that was switched off two years ago. Someone's cron job still copies them here every night.]],
      choices = {{"delete-the-core-dumps", "cores"}, {"ask-on-the-team-chat", "chat"}},
    },
    cores = {
      title = "rm -rf",
      text = [[You check the path three times, then once more, and delete the core dumps. The volume drops to 41%. The snapshot speeds up. Somewhere a cron job will try again tomorrow night.]],
      choices = {{"fix-the-cron-job", "cron"}, {"go-to-bed", "bed"}},
    },
    chat = {
      title = "#ops at 3 a.m.",
      text = [[You ask whether anyone needs /backup/tmp/core-dumps. The only one awake is the chat bot, which replies with a random picture of a goat. You take this as consent.]],
      choices = {{"delete-the-core-dumps", "cores"}, {"wait-for-an-answer", "sleep"}},
    },
    purge = {
      title = "Retention",
      text = [[The retention policy says to keep thirty daily snapshots. There are ninety-one: the purge job has been failing quietly since spring because its log went to a file on the same full disk. You could purge by hand, carefully, or write the purge properly this time.]],
      choices = {{"purge-by-hand", "byhand"}, {"write-a-purge-script", "script"}},
    },
    byhand = {
      title = "One by one",
      text = [[You delete snapshot after snapshot, typing dates with the care of someone defusing a bomb. At snapshot sixty you mistype a year. It was only a week's worth of data, and it was already in S3, probably.]],
      choices = {{"check-s3", "s3"}, {"hope-for-the-best", "bed"}},
    },
    script = {
      title = "purge.lua",
      text = [[Twelve lines of Lua later you have a purge script that keeps the last thirty snapshots, prints what it would delete, and only deletes with --yes. You run it without --yes, read the list twice, then run it for real. The disk drops to 35%.]],
      choices = {{"fix-the-cron-job", "cron"}, {"go-to-bed", "bed"}},
    },
    s3 = {
      title = "Off-site",
      text = [[You pipe the snapshot straight to object storage: tar czf - /data | gos3lua s3pipe.lua -w -t nightly. It streams out in ten-megabyte chunks while the disk stops filling. The progress bar says twenty minutes. The cat comes to supervise.]],
      choices = {{"wait-for-the-upload", "upload"}, {"go-to-bed", "bed"}},
    },
    upload = {
      title = "Verified",
      text = [[The manifest lands last: every chunk, every size, one sha256 for the whole stream. You read it back with s3pipe.lua -r and it matches. For the first time this year, the backups are both complete and somewhere else.]],
      choices = {{"fix-the-cron-job", "cron"}, {"go-to-bed", "bed"}},
    },
    cron = {
      title = "Root cause",
      text = [[You find the cron job, comment it out, and write a ticket explaining why, with the du output attached. Then you add an alert for the purge job's failures that goes somewhere other than the disk it is cleaning. It is 04:30.]],
      choices = {{"go-to-bed", "hero"}},
    },
    bed = {
      title = "Back to bed",
      text = [[The alerts stop. You get back into bed at 04:15. The problem is gone for tonight, though not for good: you dream of disks at 97% and a cron job with a long memory. The pager, for now, is silent.]],
    },
    hero = {
      title = "Morning",
      text = [[You sleep until nine. At stand-up your manager reads out your ticket and nobody has anything to add. The cat, who did most of the supervising, takes the credit. The pager stays silent for a whole month.]],
    },
  },
}

main()
