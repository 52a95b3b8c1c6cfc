package dns

import (
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/host/hosttest"
	"github.com/gos3lua/gos3lua/stdlib"
)

const luaPrelude = `
local dns = require("dns")
local function eq(got, want, what)
  if got ~= want then
    error((what or "value") .. ": got " .. tostring(got) .. ", want " .. tostring(want), 2)
  end
end
local srv = dns.server{records = {
  "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 60",
  "example.com. 300 IN MX 20 mx2.example.com.",
  {name = "example.com", type = "MX", preference = 10, exchange = "mx1.example.com"},
  {name = "mx1.example.com", type = "A", address = "192.0.2.10"},
  {name = "mx1.example.com", type = "AAAA", address = "2001:db8::10", ttl = 60},
  {name = "mx2.example.com", type = "A", data = "192.0.2.20"},
  {name = "txt.example.com", type = "TXT", text = string.rep("x", 4000)},
  {name = "list.example.com", type = "TXT", strings = {"a", "b"}},
  {name = "10.2.0.192.in-addr.arpa", type = "PTR", target = "mx1.example.com"},
  "nomx.example.com. IN A 192.0.2.30",
}}
local S = {server = srv.addr, timeout = 2}
`

func runLua(t *testing.T, code string) {
	t.Helper()
	if err := hosttest.Run(t, luaPrelude+code+"\nsrv:close()", stdlib.Register, Register); err != nil {
		t.Fatalf("lua: %v", err)
	}
}

func TestLuaQuery(t *testing.T) {
	runLua(t, `
assert(tostring(srv):match("^dns.server%(127.0.0.1:%d+%)$"), tostring(srv))
eq(srv.host, "127.0.0.1")
eq(srv.addr, "127.0.0.1:" .. srv.port)
local r = dns.query("example.com", "mx", S)
eq(r.rcode, "NOERROR"); eq(r.authoritative, true); eq(r.truncated, false)
eq(r.protocol, "udp"); eq(r.server, srv.addr)
assert(type(r.rtt) == "number" and r.rtt > 0 and r.rtt < 2, "rtt")
eq(#r.answers, 2); eq(#r.authority, 0); eq(#r.additional, 3)
local a = r.answers[1]
eq(a.name, "example.com."); eq(a.type, "MX"); eq(a.ttl, 300); eq(a.class, "IN")
eq(a.preference, 20); eq(a.exchange, "mx2.example.com."); eq(a.data, "20 mx2.example.com.")

r = dns.query("mx1.example.com", "AAAA", S)
eq(r.answers[1].address, "2001:db8::10"); eq(r.answers[1].ttl, 60)
r = dns.query("mx2.example.com", nil, S)   -- type defaults to A
eq(r.answers[1].address, "192.0.2.20")
r = dns.query("192.0.2.10", "PTR", S)
eq(r.answers[1].target, "mx1.example.com.")
r = dns.query("list.example.com", "TXT", S)
eq(r.answers[1].text, "ab"); eq(#r.answers[1].strings, 2)

r = dns.query("txt.example.com", "TXT", S)
eq(r.protocol, "tcp"); eq(#r.answers[1].text, 4000)
r = dns.query("txt.example.com", "TXT", {server = srv.addr, tcp = true})
eq(r.protocol, "tcp")
r = dns.query("example.com", "MX", {server = srv.addr, edns = 4096, dnssec = true})
eq(r.edns.bufsize, 4096); eq(r.edns.dnssec_ok, true)

r = dns.query("nothere.example.com", "A", S)
eq(r.rcode, "NXDOMAIN"); eq(#r.answers, 0); eq(r.authority[1].type, "SOA")
eq(r.authority[1].mname, "ns1.example.com."); eq(r.authority[1].minimum, 60)
`)
}

func TestLuaResolve(t *testing.T) {
	runLua(t, `
local mx, why = dns.mx("example.com", S)
eq(#mx, 2); eq(why, nil)
eq(mx[1].exchange, "mx1.example.com"); eq(mx[1].preference, 10); eq(mx[1].implicit, nil)
eq(mx[2].exchange, "mx2.example.com")
mx, why = dns.mx("nomx.example.com", S)
eq(#mx, 1); eq(mx[1].exchange, "nomx.example.com"); eq(mx[1].preference, 0); eq(mx[1].implicit, true)
mx, why = dns.mx("nothere.example.com", S)
eq(#mx, 0); eq(why, "NXDOMAIN")

local addrs = dns.lookup("mx1.example.com", S)
eq(table.concat(addrs, " "), "192.0.2.10 2001:db8::10")
addrs = dns.lookup("mx1.example.com", {server = srv.addr, family = "ipv6"})
eq(table.concat(addrs, " "), "2001:db8::10")
addrs, why = dns.lookup("nothere.example.com", S)
eq(#addrs, 0); eq(why, "NXDOMAIN")
local names = dns.reverse("192.0.2.10", S)
eq(names[1], "mx1.example.com")

-- records can be changed while serving
srv:add{"late.example.com. 300 IN A 192.0.2.99"}
eq(dns.lookup("late.example.com", S)[1], "192.0.2.99")
srv:set{"other.test. 300 IN A 192.0.2.1"}
eq(dns.lookup("other.test", S)[1], "192.0.2.1")
eq(#dns.lookup("late.example.com", S), 0)
assert(srv.queries > 10, "queries counted")
`)
}

func TestLuaErrors(t *testing.T) {
	runLua(t, `
local dead = dns.server{drop = true}
local bad = dns.server{malformed = true, records = {"a.test. 300 IN A 192.0.2.1"}}
local t0 = os.time()
local ok, err = pcall(dns.query, "a.test", "A", {server = dead.addr, timeout = 0.3})
eq(ok, false); eq(err.kind, "timeout")
assert(tostring(err):find("^dns: query a.test A: 127.0.0.1:%d+: no answer within"), tostring(err))
ok, err = pcall(dns.mx, "a.test", {server = bad.addr, timeout = 1})
eq(ok, false); eq(err.kind, "malformed")
assert(tostring(err):find("malformed answer"), tostring(err))
-- several servers in turn: the dead one first
local r = dns.query("mx1.example.com", "A", {servers = {dead.addr, bad.addr, srv.addr}, timeout = 1.5})
eq(r.server, srv.addr); eq(r.answers[1].address, "192.0.2.10")
dead:close(); bad:close()

ok, err = pcall(dns.query, "a.test", "NOPE", S)
assert(not ok and tostring(err):find("bad argument #2 to 'query' %(unknown record type NOPE%)"), tostring(err))
ok, err = pcall(dns.query, "a..test", "A", S)
assert(not ok and err.kind == "dns" and tostring(err):find("invalid name"), tostring(err))
ok, err = pcall(dns.query, "a.test", "A", {timeout = "soon"})
assert(not ok and tostring(err):find("timeout must be a number"), tostring(err))
ok, err = pcall(dns.server, {records = {{name = "x.test", type = "A"}}})
assert(not ok and tostring(err):find('missing field "address"'), tostring(err))
ok, err = pcall(dns.server, {records = {"x.test. IN A not-an-ip"}})
assert(not ok and tostring(err):find("records%[1%]"), tostring(err))
ok, err = pcall(dns.lookup, "mx1.example.com", {server = srv.addr, family = "ipv5"})
assert(not ok and tostring(err):find("family must be 4, 6"), tostring(err))
ok, err = pcall(dns.query, "exa mple.com", "A", S)
assert(not ok and err.kind == "dns" and tostring(err) == 'dns: query "exa mple.com" A: invalid name: contains a space or control character', tostring(err))
ok, err = pcall(dns.reverse, "mx1.example.com", S)
assert(not ok and tostring(err):find("not an IP address"), tostring(err))
`)
}

// Tasks resolve concurrently: 50 lookups (100 queries) to a server that
// waits 200 ms before every answer take about 200 ms, not 20 s.
func TestLuaConcurrent(t *testing.T) {
	start := time.Now()
	runLua(t, `
local task = require("task")
local slow = dns.server{delay = 0.2, records = {"a.test. 300 IN A 192.0.2.1"}}
local tasks = {}
for i = 1, 50 do
  tasks[i] = task.spawn(function() return dns.lookup("a.test", {server = slow.addr}) end)
end
for i = 1, 50 do eq(tasks[i]:wait()[1], "192.0.2.1") end
slow:close()
`)
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Errorf("50 concurrent lookups against a 200 ms server took %v", el)
	}
}
