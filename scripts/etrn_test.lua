-- Tests of etrn.lua: the script runs in this process against smtp.server
-- on loopback (`gos3lua test scripts/etrn_test.lua`).
local test = require("test")
local smtp = require("smtp")

-- run(script, args...) → stdout and stderr together, exit status.
local function run(script, ...)
  local out, err, code = test.run_script(script, ...)
  return out .. err, code
end

local function server(t)
  local s = smtp.server{replies = {etrn = {
    ["other.test"] = {459, "4.3.0", "<other.test>: service unavailable"},
    ["empty.test"] = {251, "OK no messages waiting"},
  }}}
  t:cleanup(function() s:close() end)
  return s
end

test("--server: one ETRN per domain, replies printed, exit 0 when all are 250-253", function(t)
  local s = server(t)
  local out, code = run("etrn.lua", "--server", s.addr, "example.test", "empty.test")
  t:eq(out, s.addr .. " example.test 250 Queuing for node example.test started\n" ..
            s.addr .. " empty.test 251 OK no messages waiting\n")
  t:eq(code, 0)
  t:eq(s:etrns(), {"example.test", "empty.test"})
end)

test("a refusal (459) makes exit 1", function(t)
  local s = server(t)
  local out, code = run("etrn.lua", "--server", s.addr, "other.test")
  t:eq(out, s.addr .. " other.test 459 4.3.0 <other.test>: service unavailable\n")
  t:eq(code, 1)
end)

test("--config: a Lua table of servers and their domains, servers in name order", function(t)
  local s = server(t)
  local dead = smtp.server{}
  local dead_addr = dead.addr
  dead:close()
  local conf = t:tmpdir() .. "/etrn.conf"
  local f = assert(io.open(conf, "w"))
  f:write(string.format([[
-- backup MX servers and the domains they keep mail for
return {
  [%q] = {"a.test", "other.test"},
  [%q] = {"a.test"},
}
]], s.addr, dead_addr))
  f:close()
  local out, code = run("etrn.lua", "--config", conf)
  local lines = {
    [s.addr] = s.addr .. " a.test 250 Queuing for node a.test started\n" ..
               s.addr .. " other.test 459 4.3.0 <other.test>: service unavailable\n",
    [dead_addr] = dead_addr .. " a.test FAIL connect connection refused\n",
  }
  local order = {s.addr, dead_addr}
  table.sort(order) -- servers come in name order
  t:eq(out, lines[order[1]] .. lines[order[2]])
  t:eq(code, 1)
  -- Domains (and servers) on the command line narrow the config down.
  out, code = run("etrn.lua", "--config", conf, "--server", s.addr, "a.test")
  t:eq(out, s.addr .. " a.test 250 Queuing for node a.test started\n")
  t:eq(code, 0)
end)

test("bad usage exits 2", function(t)
  local out, code = run("etrn.lua", "example.test")
  t:eq(code, 2)
  t:match(out, "give --server HOST or --config FILE", "plain")
  local conf = t:tmpdir() .. "/bad.conf"
  local f = assert(io.open(conf, "w"))
  f:write("return 42\n")
  f:close()
  out, code = run("etrn.lua", "--config", conf)
  t:eq(code, 2)
  t:match(out, "must return a table", "plain")
end)

test("servers that hang, drop or refuse: FAIL lines within the timeout, exit 1", function(t)
  local time = require("time")
  local hang_connect = smtp.server{replies = {connect = "hang"}}
  local hang_etrn = smtp.server{replies = {etrn = "hang"}}
  local drop = smtp.server{replies = {etrn = "drop"}}
  local refuse = smtp.server{replies = {connect = {554, "5.3.2", "No service for you"}}}
  t:cleanup(function() hang_connect:close(); hang_etrn:close(); drop:close(); refuse:close() end)
  local t0 = time.now()
  local out, code = run("etrn.lua", "--timeout", "0.5s", "--server", hang_connect.addr, "--server", hang_etrn.addr,
    "--server", drop.addr, "--server", refuse.addr, "a.test", "b.test")
  t:ok(time.now() - t0 < 2.5, "servers asked at once, each bounded by the timeout")
  t:eq(code, 1)
  local want = {
    [hang_connect.addr] = "FAIL connect timeout after 500ms",
    [hang_etrn.addr] = "FAIL etrn timeout after 500ms",
    [drop.addr] = "FAIL etrn connection closed by server",
    [refuse.addr] = "FAIL connect 554 5.3.2 No service for you",
  }
  local order = {hang_connect.addr, hang_etrn.addr, drop.addr, refuse.addr}
  table.sort(order)
  local lines = {}
  for _, addr in ipairs(order) do
    lines[#lines + 1] = addr .. " a.test " .. want[addr]
    lines[#lines + 1] = addr .. " b.test " .. want[addr]
  end
  t:eq(out:gsub("connection reset by server", "connection closed by server"), table.concat(lines, "\n") .. "\n")
end)

test("bad --port, --timeout, domains, config entries and server ports", function(t)
  local s = server(t)
  for _, c in ipairs{
    {{"--port", "0", "--server", s.addr, "a.test"}, "--port must be 1-65535"},
    {{"--timeout", "0s", "--server", s.addr, "a.test"}, "--timeout must be positive"},
    {{"--server", s.addr, "two words"}, 'bad domain "two words"'},
    {{"--server", s.addr, ""}, 'bad domain ""'},
  } do
    local out, code = run("etrn.lua", unpack(c[1]))
    t:eq(code, 2, table.concat(c[1], " "))
    t:match(out, c[2], "plain")
  end
  local conf = t:tmpdir() .. "/etrn.conf"
  local f = assert(io.open(conf, "w"))
  f:write(string.format("return {[%q] = {\"a.test\", \"b c.test\"}}\n", s.addr))
  f:close()
  local out, code = run("etrn.lua", "--config", conf)
  t:eq(code, 2)
  t:match(out, 'bad domain "b c.test"', "plain")
  t:eq(#s:etrns(), 0, "nothing sent on bad usage")
  -- A server with a port that cannot be: a FAIL line, not a crash.
  out, code = run("etrn.lua", "--server", "127.0.0.1:99999", "a.test")
  t:eq(out, '127.0.0.1:99999 a.test FAIL connect invalid port "99999"\n')
  t:eq(code, 1)
end)
