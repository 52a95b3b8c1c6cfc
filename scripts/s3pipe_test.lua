-- Tests of s3pipe.lua: the script runs in this process against a store of
-- its own (s3.server) on loopback (`gos3lua test scripts/s3pipe_test.lua`).
-- Killing a writer half-way is tested from Go (bindings/s3/scripts_test.go).
local test = require("test")
local s3 = require("s3")
local s3test = require("support.s3test")
local json = require("json")

-- run(t, stdin_data, args...) → stdout, stderr, exit status of s3pipe.lua,
-- run in this task with stdin_data on its stdin.
local function run(t, input, ...)
  local spec = {"s3pipe.lua", ...}
  spec.stdin = input
  return test.run_script(spec)
end

-- setup(t) → the bucket "pipes" in a store of the test's own (support/s3test.lua).
local function setup(t) return s3test.store(t, "pipes") end

local bytes = s3test.bytes -- bytes(n [, seed]) → n pseudo-random bytes

local function keys(b, prefix)
  local list = {}
  for o in b:list{prefix = prefix} do list[#list + 1] = o.key end
  return list
end

test("-w then -r gives the stream back byte for byte; the manifest says what it holds", function(t)
  local b = setup(t)
  local data = bytes(300000)
  local _, err, code = run(t, data, "-b", "pipes", "-w", "-t", "bob", "--chunk-size", "64K")
  t:eq(code, 0, err)
  local out, _, code2 = run(t, nil, "-b", "pipes", "-r", "-t", "bob")
  t:eq(code2, 0)
  t:ok(out == data, "same bytes")
  t:eq(keys(b, "bob"), {"bob-0000000000", "bob-0000000001", "bob-0000000002", "bob-0000000003", "bob-0000000004", "bob.s3pipe.json"})
  local m = json.decode(b:get("bob.s3pipe.json"))
  t:eq(m.count, 5)
  t:eq(m.size, 300000)
  t:eq(m.sizes, {65536, 65536, 65536, 65536, 37856})
  t:eq(m.sha256, require("hash").sha256(data))
end)

test("a stream of 1,500 chunks spans list pages: written, read, rewritten, cleaned up", function(t)
  local b = setup(t)
  local data = bytes(1500 * 64 + 10)
  local _, err, code = run(t, data, "-b", "pipes", "-w", "-t", "many", "--chunk-size", "64", "-j", "32")
  t:eq(code, 0, err)
  t:eq(#keys(b, "many-"), 1501)
  local out = run(t, nil, "-b", "pipes", "-r", "-t", "many")
  t:ok(out == data, "1,501 chunks read back in order")
  -- Rewrite: the new chunks are numbered after the old; the old are gone.
  local small = bytes(200, 3)
  _, err, code = run(t, small, "-b", "pipes", "-w", "-t", "many", "--chunk-size", "64")
  t:eq(code, 0, err)
  t:eq(keys(b, "many-"), {"many-0000001501", "many-0000001502", "many-0000001503", "many-0000001504"})
  t:ok(run(t, nil, "-b", "pipes", "-r", "-t", "many") == small, "rewritten stream")
end)

test("an empty stream is a manifest with no chunks", function(t)
  local b = setup(t)
  local _, _, code = run(t, "", "-b", "pipes", "-w", "-t", "empty")
  t:eq(code, 0)
  t:eq(keys(b, "empty"), {"empty.s3pipe.json"})
  local out, _, code2 = run(t, nil, "-b", "pipes", "-r", "-t", "empty")
  t:eq({out, code2}, {"", 0})
end)

test("an incomplete or corrupt stream: exit 1 and a clear message", function(t)
  local b = setup(t)
  run(t, bytes(1000), "-b", "pipes", "-w", "-t", "x", "--chunk-size", "100")
  b:delete("x-0000000004")
  local _, err, code = run(t, nil, "-b", "pipes", "-r", "-t", "x")
  t:eq(code, 1)
  t:match(err, 'stream "x" is incomplete: chunk x%-0000000004 is missing')
  b:put("x-0000000004", string.rep("z", 100))
  _, err, code = run(t, nil, "-b", "pipes", "-r", "-t", "x")
  t:eq(code, 1)
  t:match(err, 'stream "x" is corrupt: sha256')
  b:put("x-0000000004", "short")
  _, err, code = run(t, nil, "-b", "pipes", "-r", "-t", "x")
  t:match(err, "chunk x%-0000000004 has 5 bytes, the manifest says 100")
  _, err, code = run(t, nil, "-b", "pipes", "-r", "-t", "never")
  t:eq(code, 1)
  t:match(err, 'no stream "never"')
end)

test("a write that never finished is not a stream, and does not hide the old one", function(t)
  local b = setup(t)
  local old = bytes(500, 11)
  run(t, old, "-b", "pipes", "-w", "-t", "bob", "--chunk-size", "100")
  -- What a killed writer leaves: chunks after the old ones, no new manifest.
  for i = 5, 9 do b:put(string.format("bob-%010d", i), "garbage") end
  local out, err = run(t, nil, "-b", "pipes", "-r", "-t", "bob")
  t:eq(#out, #old, err)
  t:ok(out == old, "old stream intact")
  run(t, "new", "-b", "pipes", "-w", "-t", "bob", "--chunk-size", "100")
  t:eq(keys(b, "bob-"), {"bob-0000000005"})
  t:eq(run(t, nil, "-b", "pipes", "-r", "-t", "bob"), "new")
end)

test("-l lists streams; -d deletes one and not its neighbours", function(t)
  local b = setup(t)
  run(t, bytes(10), "-b", "pipes", "-w", "-t", "a", "--chunk-size", "4")
  run(t, bytes(20), "-b", "pipes", "-w", "-t", "a-b")
  run(t, bytes(30), "-b", "pipes", "-w", "-t", "dir/c")
  local out = run(t, nil, "-b", "pipes", "-l")
  t:match(out, "^TAG")
  t:match(out, "\na +10 +3 ")
  t:match(out, "\na%-b +20 +1 ")
  t:match(out, "\ndir/c +30 +1 ")
  local _, err, code = run(t, nil, "-b", "pipes", "-d", "-t", "a")
  t:eq(code, 0, err)
  t:eq(keys(b, "a"), {"a-b-0000000000", "a-b.s3pipe.json"})
  _, err, code = run(t, nil, "-b", "pipes", "-d", "-t", "a")
  t:eq(code, 1)
  t:match(err, 'no stream "a"')
end)

test("bad usage exits 2", function(t)
  setup(t)
  local _, err, code = run(t, nil, "-b", "pipes", "-t", "x")
  t:eq(code, 2)
  t:match(err, "exactly one of")
  _, err, code = run(t, nil, "-b", "pipes", "-r")
  t:eq(code, 2)
  t:match(err, "-t TAG is required")
  for _, bad in ipairs({{"--memory", "0"}, {"-j", "0"}, {"--chunk-size", "0"}}) do
    _, err, code = run(t, nil, "-b", "pipes", "-w", "-t", "x", bad[1], bad[2])
    t:eq(code, 2, bad[1])
    t:match(err, "must be positive")
  end
end)

test("--memory bounds the chunks in flight, down to one; the stream is the same", function(t)
  setup(t)
  local data = bytes(5000, 5)
  local _, err, code = run(t, data, "-b", "pipes", "-w", "-t", "m", "--chunk-size", "1000", "--memory", "10")
  t:eq(code, 0, err)
  t:ok(run(t, nil, "-b", "pipes", "-r", "-t", "m", "--memory", "10") == data, "read back one chunk at a time")
end)
