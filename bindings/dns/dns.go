// Package dns is the Lua module "dns": queries with typed records
// (miekg/dns), the mail-oriented lookups (mx with the RFC 5321 implicit MX,
// addresses, reverse) and an authoritative server on loopback for tests.
//
// Every query runs off the Lua thread through host.Go, so tasks resolve
// concurrently; nothing here may block the scheduler goroutine.
package dns

import (
	"context"
	"strings"
	"time"

	"github.com/gos3lua/gos3lua/host"
	mdns "github.com/miekg/dns"
	lua "github.com/yuin/gopher-lua"
)

var funcs = map[string]lua.LGFunction{
	"query":   luaQuery,   // (name, type="A", opts) → result (NXDOMAIN is a result)
	"mx":      luaMX,      // (domain, opts) → {{exchange=, preference=}...}, reason
	"lookup":  luaLookup,  // (host, opts) → {"192.0.2.1", "2001:db8::1"...}, reason
	"reverse": luaReverse, // (ip, opts) → {"host.example.com"...}, reason
	"server":  luaServer,  // {records=, addr=, delay=, drop=, malformed=} → server
	"ascii":   luaASCII,   // (name) → the name as servers know it (IDNA xn-- labels)
}

// luaASCII is dns.ascii(name): an internationalized name in the form DNS
// and SMTP servers know (each non-ASCII label as IDNA "xn--"), checked as
// dns.query checks it; an ASCII name comes back as given.
func luaASCII(L *lua.LState) int {
	name := L.CheckString(1)
	fq, err := QueryName(name, 0)
	if err != nil {
		return host.Raise(L, host.Errorf("dns", "dns: ascii %q: %v", name, err))
	}
	if !strings.HasSuffix(strings.TrimSpace(name), ".") {
		fq = strings.TrimSuffix(fq, ".")
	}
	L.Push(lua.LString(fq))
	return 1
}

// Loader is require("dns").
func Loader(L *lua.LState) int {
	mt := host.NewClass(L, "dns.server", map[string]lua.LGFunction{
		"close": serverClose,
		"set":   serverSet,
		"add":   serverAdd,
	})
	// fields (addr, host, port, queries) as well as methods
	if _, ok := mt.RawGetString("__index").(*lua.LTable); ok {
		mt.RawSetString("__index", L.NewFunction(serverIndex(mt.RawGetString("__index"))))
	}
	L.Push(host.Module(L, funcs))
	return 1
}

// Register makes the module available as require("dns").
func Register() { host.Register("dns", Loader) }

// options reads the query options table at argument n.
func options(L *lua.LState, n int) Options {
	t := host.OptTable(L, n)
	var o Options
	switch v := t.RawGetString("server").(type) {
	case lua.LString:
		o.Servers = []string{NormalizeServer(string(v))}
	case *lua.LTable:
		o.Servers = serverList(L, n, v)
	case *lua.LNilType:
	default:
		L.ArgError(n, "server must be a string or a list of strings")
	}
	if v, ok := t.RawGetString("servers").(*lua.LTable); ok {
		o.Servers = append(o.Servers, serverList(L, n, v)...)
	}
	switch v := t.RawGetString("timeout").(type) {
	case lua.LNumber:
		if v <= 0 {
			L.ArgError(n, "timeout must be positive")
		}
		o.Timeout = time.Duration(float64(v) * float64(time.Second))
	case *lua.LNilType:
	default:
		L.ArgError(n, "timeout must be a number of seconds")
	}
	o.TCP = lua.LVAsBool(t.RawGetString("tcp"))
	switch v := t.RawGetString("edns").(type) {
	case lua.LBool:
		if v {
			o.EDNS = RetryBufSize
		}
	case lua.LNumber:
		if v < 512 || v > 65535 {
			L.ArgError(n, "edns buffer size must be 512-65535")
		}
		o.EDNS = uint16(v)
	case *lua.LNilType:
	default:
		L.ArgError(n, "edns must be a boolean or a buffer size")
	}
	o.DNSSEC = lua.LVAsBool(t.RawGetString("dnssec"))
	return o
}

func serverList(L *lua.LState, n int, t *lua.LTable) []string {
	var out []string
	for i := 1; i <= t.Len(); i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok {
			L.ArgError(n, "server list must hold strings")
		}
		out = append(out, NormalizeServer(string(s)))
	}
	return out
}

func luaQuery(L *lua.LState) int {
	name := L.CheckString(1)
	qtype := uint16(mdns.TypeA)
	switch v := L.Get(2).(type) {
	case lua.LString:
		t, ok := ParseType(string(v))
		if !ok {
			L.ArgError(2, "unknown record type "+string(v))
		}
		qtype = t
	case lua.LNumber:
		if v < 0 || v > 65535 {
			L.ArgError(2, "record type out of range")
		}
		qtype = uint16(v)
	case *lua.LNilType:
	default:
		L.ArgError(2, "record type expected, got "+host.TypeName(v))
	}
	o := options(L, 3)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		res, err := Query(ctx, name, qtype, o)
		if err != nil {
			return nil, err
		}
		return func(L *lua.LState) int { L.Push(resultTable(L, res)); return 1 }, nil
	})
}

func resultTable(L *lua.LState, r *Result) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("rcode", lua.LString(r.Rcode))
	t.RawSetString("truncated", lua.LBool(r.Truncated))
	t.RawSetString("authoritative", lua.LBool(r.Authoritative))
	t.RawSetString("recursion_available", lua.LBool(r.RecursionAvailable))
	t.RawSetString("authenticated", lua.LBool(r.AuthenticatedData))
	t.RawSetString("rtt", lua.LNumber(r.RTT.Seconds()))
	t.RawSetString("server", lua.LString(r.Server))
	t.RawSetString("protocol", lua.LString(r.Protocol))
	t.RawSetString("answers", recordList(L, r.Answers))
	t.RawSetString("authority", recordList(L, r.Authority))
	t.RawSetString("additional", recordList(L, r.Additional))
	if r.EDNS != nil {
		e := L.NewTable()
		e.RawSetString("bufsize", lua.LNumber(r.EDNS.BufSize))
		e.RawSetString("dnssec_ok", lua.LBool(r.EDNS.DO))
		e.RawSetString("version", lua.LNumber(r.EDNS.Version))
		t.RawSetString("edns", e)
	}
	return t
}

func recordList(L *lua.LState, recs []Record) *lua.LTable {
	t := L.CreateTable(len(recs), 0)
	for i, r := range recs {
		t.RawSetInt(i+1, recordTable(L, r))
	}
	return t
}

func recordTable(L *lua.LState, r Record) *lua.LTable {
	t := L.CreateTable(0, 4+len(r.Fields))
	t.RawSetString("name", lua.LString(r.Name))
	t.RawSetString("type", lua.LString(r.Type))
	t.RawSetString("class", lua.LString(r.Class))
	t.RawSetString("ttl", lua.LNumber(r.TTL))
	for k, v := range r.Fields {
		t.RawSetString(k, host.ToLua(L, v))
	}
	return t
}

func pushReason(L *lua.LState, reason string) {
	if reason == "" {
		L.Push(lua.LNil)
	} else {
		L.Push(lua.LString(reason))
	}
}

func luaMX(L *lua.LState) int {
	domain := L.CheckString(1)
	o := options(L, 2)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		mxs, reason, err := LookupMX(ctx, domain, o)
		if err != nil {
			return nil, err
		}
		return func(L *lua.LState) int {
			t := L.CreateTable(len(mxs), 0)
			for i, mx := range mxs {
				e := L.CreateTable(0, 3)
				e.RawSetString("exchange", lua.LString(mx.Exchange))
				e.RawSetString("preference", lua.LNumber(mx.Preference))
				if mx.Implicit {
					e.RawSetString("implicit", lua.LTrue)
				}
				t.RawSetInt(i+1, e)
			}
			L.Push(t)
			pushReason(L, reason)
			return 2
		}, nil
	})
}

func pushNames(names []string, reason string) host.Push {
	return func(L *lua.LState) int {
		L.Push(host.ToLua(L, append([]string{}, names...)))
		pushReason(L, reason)
		return 2
	}
}

func luaLookup(L *lua.LState) int {
	name := L.CheckString(1)
	o := options(L, 2)
	family := 0
	switch v := host.OptTable(L, 2).RawGetString("family").(type) {
	case lua.LNumber:
		family = int(v)
	case lua.LString:
		switch string(v) {
		case "ipv4", "inet", "4":
			family = 4
		case "ipv6", "inet6", "6":
			family = 6
		default:
			family = -1
		}
	case *lua.LNilType:
	default:
		family = -1
	}
	if family != 0 && family != 4 && family != 6 {
		L.ArgError(2, "family must be 4, 6, \"ipv4\" or \"ipv6\"")
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		addrs, reason, err := LookupHost(ctx, name, family, o)
		if err != nil {
			return nil, err
		}
		return pushNames(addrs, reason), nil
	})
}

func luaReverse(L *lua.LState) int {
	ip := L.CheckString(1)
	o := options(L, 2)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		names, reason, err := LookupAddr(ctx, ip, o)
		if err != nil {
			return nil, err
		}
		return pushNames(names, reason), nil
	})
}
