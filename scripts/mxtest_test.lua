-- Tests of mxtest.lua: the script runs in this process against dns.server
-- and smtp.server on loopback (`gos3lua test scripts/mxtest_test.lua`).
local test = require("test")
local dns = require("dns")
local smtp = require("smtp")

-- run(script, args...) → stdout and stderr together, exit status.
local function run(script, ...)
  local out, err, code = test.run_script(script, ...)
  return out .. err, code
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
refused.test.       60 IN MX 10 mx.refused.test.
mx.refused.test.    60 IN A 127.0.0.2
drop.test.          60 IN MX 10 mx.drop.test.
mx.drop.test.       60 IN A 127.0.0.1
xn--bcher-kva.test. 60 IN MX 10 mx.xn--bcher-kva.test.
mx.xn--bcher-kva.test. 60 IN A 127.0.0.1
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

test("an internationalized domain is looked up and addressed in its xn-- form", function(t)
  local d, s = servers(t)
  local out, code = run("mxtest.lua", "--dns", d.addr, "--port", tostring(s.port), "--from", "me@straße.test", "bücher.test")
  t:eq(out, "bücher.test mx.xn--bcher-kva.test 127.0.0.1 OK\n")
  t:eq(code, 0)
  local m = s:messages()
  t:eq(#m, 1)
  t:eq(m[1].from, "me@xn--strae-oqa.test")
  t:eq(m[1].to, {"postmaster@xn--bcher-kva.test"})
  -- the headers too: no 8-bit bytes without SMTPUTF8
  t:eq(m[1].subject, "Test via mx.xn--bcher-kva.test for xn--bcher-kva.test")
  t:match(m[1].data, "\r\nTo: <postmaster@xn%-%-bcher%-kva%.test>\r\n")
  t:eq(m[1].data:find("[\128-\255]"), nil)
  t:eq(dns.ascii("Bücher.test."), "xn--bcher-kva.test.")
  t:eq(dns.ascii("_dmarc.example.com"), "_dmarc.example.com")
  t:err(function() dns.ascii("a..b") end, "empty label")
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

test("refused connections, drops mid-DATA and bad names are FAIL lines", function(t)
  local d = dns.server{records = ZONE}
  local s = smtp.server{replies = {data = {["@drop.test"] = "drop"}}}
  t:cleanup(function() d:close(); s:close() end)
  -- smtp.server listens on 127.0.0.1 only: 127.0.0.2 refuses.
  local out, code = run("mxtest.lua", "--dns", d.addr, "--port", tostring(s.port), "--timeout", "2s",
    "refused.test", "drop.test", "exa mple.test", "a\226\128\174b.test", "a..b.test")
  out = out:gsub("connection reset by server", "connection closed by server")
  t:eq(out, table.concat({
    "refused.test mx.refused.test 127.0.0.2 FAIL connect connection refused",
    "drop.test mx.drop.test 127.0.0.1 FAIL data connection closed by server",
    'exa mple.test - - FAIL dns query "exa mple.test" MX: invalid name: contains a space or control character',
    'a\226\128\174b.test - - FAIL dns query "a\\u202eb.test" MX: invalid name: label "a\\u202eb": disallowed rune U+202E',
    'a..b.test - - FAIL dns query "a..b.test" MX: invalid name: empty label',
  }, "\n") .. "\n")
  t:eq(code, 1)
end)

test("a DNS server that never answers, or answers garbage: FAIL dns within the timeout", function(t)
  local dead = dns.server{drop = true}
  local bad = dns.server{malformed = true, records = ZONE}
  t:cleanup(function() dead:close(); bad:close() end)
  local time = require("time")
  local t0 = time.now()
  local out, code = run("mxtest.lua", "--dns", dead.addr, "--timeout", "0.5s", "good.test", "relay.test")
  t:eq(out, "good.test - - FAIL dns query good.test MX: " .. dead.addr .. ": no answer within 0.5s\n" ..
            "relay.test - - FAIL dns query relay.test MX: " .. dead.addr .. ": no answer within 0.5s\n")
  t:eq(code, 1)
  t:ok(time.now() - t0 < 2, "both domains time out together, in about 0.5 s")
  out, code = run("mxtest.lua", "--dns", bad.addr, "--timeout", "1s", "good.test")
  t:match(out, "^good.test %- %- FAIL dns query good.test MX: 127.0.0.1:%d+: malformed answer: ")
  t:eq(code, 1)
end)

test("bad --port, --timeout, --jobs exit 2", function(t)
  for _, a in ipairs{{"--port", "0"}, {"--port", "65536"}, {"--timeout", "0s"}, {"--jobs", "0"}} do
    local out, code = run("mxtest.lua", a[1], a[2], "good.test")
    t:eq(code, 2, a[1] .. " " .. a[2])
    t:match(out, "mxtest.lua: " .. a[1]:gsub("%-", "%%-"))
  end
end)

test("domains and exchanges are probed concurrently", function(t)
  local records = {}
  local names = {}
  for i = 1, 20 do
    local d = "d" .. i .. ".test."
    records[#records + 1] = d .. " 60 IN MX 10 mx1." .. d
    records[#records + 1] = d .. " 60 IN MX 20 mx2." .. d
    records[#records + 1] = "mx1." .. d .. " 60 IN A 127.0.0.1"
    records[#records + 1] = "mx2." .. d .. " 60 IN A 127.0.0.1"
    names[i] = "d" .. i .. ".test"
  end
  local d = dns.server{records = table.concat(records, "\n")}
  local s = smtp.server{delay = 0.1}
  t:cleanup(function() d:close(); s:close() end)
  local time = require("time")
  local t0 = time.now()
  local out, code = run("mxtest.lua", "--dns", d.addr, "--port", tostring(s.port), unpack(names))
  local took = time.now() - t0
  t:eq(code, 0, out)
  -- 40 conversations of 7 replies at 0.1 s: 28 s one after the other.
  t:ok(took < 3, "40 exchanges took " .. took .. " s")
  local want = {}
  for i = 1, 20 do
    want[#want + 1] = "d" .. i .. ".test mx1.d" .. i .. ".test 127.0.0.1 OK"
    want[#want + 1] = "d" .. i .. ".test mx2.d" .. i .. ".test 127.0.0.1 OK"
  end
  t:eq(out, table.concat(want, "\n") .. "\n", "the order of the arguments, then preference")
  t:eq(#s:messages(), 40)
end)
