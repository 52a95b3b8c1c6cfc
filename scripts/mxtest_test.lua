-- Tests of mxtest.lua: the script runs in this process against dns.server
-- and smtp.server on loopback (`gos3lua test scripts/mxtest_test.lua`).
local test = require("test")
local dns = require("dns")
local smtp = require("smtp")

local here = debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*)/[^/]*$") or "."

-- run("mxtest.lua", args...) → output, exit status. The script runs as a
-- function of this task, with its own arg, print, io.stderr and os.exit.
local function run(script, ...)
  local chunk = assert(loadfile(here .. "/" .. script))
  local out = {}
  local EXIT = {}
  local function put(s) out[#out + 1] = s end
  local env = setmetatable({
    print = function(...)
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      put(table.concat(parts, "\t") .. "\n")
    end,
    io = setmetatable({stderr = {write = function(self, ...) for _, s in ipairs({...}) do put(tostring(s)) end end}}, {__index = io}),
    os = setmetatable({exit = function(code) EXIT.code = code; error(EXIT, 0) end}, {__index = os}),
  }, {__index = _G})
  setfenv(chunk, env)
  local saved = _G.arg
  _G.arg = {[0] = script, ...} -- args.parse reads the global arg
  local ok, err = pcall(chunk, ...)
  _G.arg = saved
  if not ok and err ~= EXIT then error(err, 0) end
  return table.concat(out), ok and 0 or EXIT.code
end

local ZONE = [[
good.test.          60 IN MX 10 mx1.good.test.
good.test.          60 IN MX 20 mx2.good.test.
mx1.good.test.      60 IN A 127.0.0.1
mx2.good.test.      60 IN A 127.0.0.1
relay.test.         60 IN MX 5 mx.relay.test.
mx.relay.test.      60 IN A 127.0.0.1
slow.test.          60 IN MX 5 mx.slow.test.
mx.slow.test.       60 IN A 127.0.0.1
implicit.test.      60 IN A 127.0.0.1
null.test.          60 IN MX 0 .
]]

local function servers(t, smtp_opts)
  local d = dns.server{records = ZONE}
  local s = smtp.server(smtp_opts or {
    tls = true,
    replies = {rcpt = {["@relay.test"] = {554, "5.7.1", "Relay access denied"}, ["@slow.test"] = "hang"}},
  })
  t:cleanup(function() d:close(); s:close() end)
  return d, s
end

test("one line per exchange address, in the order given, exit 1 on a failure", function(t)
  local d, s = servers(t)
  local out, code = run("mxtest.lua", "--dns", d.addr, "--port", tostring(s.port), "--timeout", "1s",
    "good.test", "relay.test", "slow.test", "implicit.test", "null.test", "missing.test")
  t:eq(out, table.concat({
    "good.test mx1.good.test 127.0.0.1 OK",
    "good.test mx2.good.test 127.0.0.1 OK",
    "relay.test mx.relay.test 127.0.0.1 FAIL rcpt 554 5.7.1 Relay access denied",
    "slow.test mx.slow.test 127.0.0.1 FAIL rcpt timeout after 1s",
    "implicit.test implicit.test 127.0.0.1 OK",
    "null.test - - FAIL dns null MX",
    "missing.test - - FAIL dns NXDOMAIN",
  }, "\n") .. "\n")
  t:eq(code, 1)
  -- Each accepted message went through STARTTLS and names its exchange.
  local subjects = {}
  for _, m in ipairs(s:messages()) do
    t:eq(m.tls, true)
    subjects[#subjects + 1] = m.subject
  end
  table.sort(subjects)
  t:eq(subjects, {"Test via implicit.test for implicit.test", "Test via mx1.good.test for good.test", "Test via mx2.good.test for good.test"})
end)

test("exit 0 when every exchange accepts; --from and --to", function(t)
  local d, s = servers(t)
  local out, code = run("mxtest.lua", "--dns", d.addr, "--port", tostring(s.port), "--from", "me@here.test", "--to", "you@good.test", "good.test")
  t:eq(code, 0, out)
  local m = s:messages()
  t:eq(#m, 2)
  t:eq(m[1].from, "me@here.test")
  t:eq(m[1].to, {"you@good.test"})
end)

test("--quit-after rcpt sends no message; --no-tls; --json", function(t)
  local d, s = servers(t)
  local out, code = run("mxtest.lua", "--dns", d.addr, "--port", tostring(s.port), "--quit-after", "rcpt", "--no-tls", "--json", "good.test", "relay.test")
  t:eq(code, 1)
  t:eq(#s:messages(), 0)
  t:match(out, '{"domain":"good.test","exchange":"mx1.good.test","preference":10,"address":"127.0.0.1","ok":true}', "plain")
  t:match(out, '"stage":"rcpt","code":554,"enhanced":"5.7.1","text":"Relay access denied"}', "plain")
end)

test("--transcript shows the conversation under its line", function(t)
  local d, s = servers(t)
  local out, code = run("mxtest.lua", "--dns", d.addr, "--port", tostring(s.port), "--transcript", "implicit.test")
  t:eq(code, 0)
  t:match(out, "^implicit.test implicit.test 127.0.0.1 OK\n    === Trying 127.0.0.1:")
  t:match(out, "\n     -> STARTTLS\n", "plain")
  t:match(out, "\n     ~> Subject: Test via implicit.test for implicit.test\n", "plain")
  t:match(out, "\n    <~  221 2.0.0 Bye\n", "plain")
end)

test("a server that never answers is a timeout, not a hang", function(t)
  local d = dns.server{records = ZONE}
  local s = smtp.server{replies = {connect = "hang"}}
  t:cleanup(function() d:close(); s:close() end)
  local out, code = run("mxtest.lua", "--dns", d.addr, "--port", tostring(s.port), "--timeout", "0.5s", "implicit.test")
  t:eq(out, "implicit.test implicit.test 127.0.0.1 FAIL connect timeout after 500ms\n")
  t:eq(code, 1)
end)
