-- A DNS server for the Go tests of the scripts: serves the zone file arg[1],
-- writes its address to arg[2], and stops when stdin closes.
local dns = require("dns")
local zone, addr_file = ...
local f = assert(io.open(zone))
local records = f:read("*a")
f:close()
local d = dns.server{records = records}
local tmp = addr_file .. ".tmp"
local o = assert(io.open(tmp, "w"))
o:write(d.addr)
o:close()
os.rename(tmp, addr_file)
io.stdin:read("a")
d:close()
