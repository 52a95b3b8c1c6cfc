-- Lua-side tests of the dns module: the examples of the README, run against
-- dns.server on loopback (`gos3lua test bindings/dns`; go test ./cmd/gos3lua
-- runs it too).
local test = require("test")
local dns = require("dns")

local function zone(t, extra)
  local srv = dns.server{records = {
    "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 60",
    "example.com. 300 IN MX 20 mx2.example.com.",
    "example.com. 300 IN MX 10 mx1.example.com.",
    {name = "mx1.example.com", type = "A", address = "192.0.2.10"},
    {name = "mx1.example.com", type = "AAAA", address = "2001:db8::10"},
    {name = "mx2.example.com", type = "A", address = "192.0.2.20"},
    {name = "null.example.com", type = "MX", preference = 0, exchange = "."},
    {name = "big.example.com", type = "TXT", text = string.rep("t", 4000)},
    {name = "10.2.0.192.in-addr.arpa", type = "PTR", target = "mx1.example.com"},
  }}
  t:cleanup(function() srv:close() end)
  return srv
end

test("query returns typed records", function(t)
  local srv = zone(t)
  local r = dns.query("example.com", "MX", {server = srv.addr})
  t:eq(r.rcode, "NOERROR")
  t:eq(r.authoritative, true)
  t:eq(#r.answers, 2)
  t:eq(r.answers[1].exchange, "mx2.example.com.")
  t:eq(r.answers[1].preference, 20)
  t:eq(r.answers[1].data, "20 mx2.example.com.")
end)

test("NXDOMAIN is an answer", function(t)
  local srv = zone(t)
  local r = dns.query("nothere.example.com", "A", {server = srv.addr})
  t:eq(r.rcode, "NXDOMAIN")
  t:eq(r.authority[1].type, "SOA")
end)

test("mx, lookup, reverse", function(t)
  local srv = zone(t)
  local opts = {server = srv.addr}
  local mxs = dns.mx("example.com", opts)
  t:eq(mxs, {{exchange = "mx1.example.com", preference = 10}, {exchange = "mx2.example.com", preference = 20}})
  t:eq(dns.mx("mx2.example.com", opts), {{exchange = "mx2.example.com", preference = 0, implicit = true}})
  local none, why = dns.mx("null.example.com", opts)
  t:eq(#none, 0); t:eq(why, "null MX")
  none, why = dns.mx("nothere.example.com", opts)
  t:eq(#none, 0); t:eq(why, "NXDOMAIN")
  t:eq(dns.lookup("mx1.example.com", opts), {"192.0.2.10", "2001:db8::10"})
  t:eq(dns.reverse("192.0.2.10", opts), {"mx1.example.com"})
end)

test("a 4,000-byte TXT comes over TCP", function(t)
  local srv = zone(t)
  local r = dns.query("big.example.com", "TXT", {server = srv.addr})
  t:eq(r.protocol, "tcp")
  t:eq(#r.answers[1].text, 4000)
end)

test("a server that never answers times out", function(t)
  local dead = dns.server{drop = true}
  t:cleanup(function() dead:close() end)
  t:err(function() dns.query("example.com", "A", {server = dead.addr, timeout = 0.2}) end, "no answer within")
  local ok, err = pcall(dns.query, "example.com", "A", {server = dead.addr, timeout = 0.2})
  t:eq(err.kind, "timeout")
end)

test("servers are tried in turn", function(t)
  local srv = zone(t)
  local dead = dns.server{drop = true}
  t:cleanup(function() dead:close() end)
  local r = dns.query("mx1.example.com", "A", {server = {dead.addr, srv.addr}, timeout = 1})
  t:eq(r.server, srv.addr)
  t:eq(r.answers[1].address, "192.0.2.10")
end)

test("dig sees what dns.query sees", function(t)
  t:need("dig")
  local srv = zone(t)
  local p = io.popen("dig +short @127.0.0.1 -p " .. srv.port .. " example.com MX | sort")
  local out = p:read("*a")
  p:close()
  t:eq(out, "10 mx1.example.com.\n20 mx2.example.com.\n")
end)
