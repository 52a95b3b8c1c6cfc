package dns

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gos3lua/gos3lua/host"
	mdns "github.com/miekg/dns"
	lua "github.com/yuin/gopher-lua"
)

// dns.server{records=, addr="127.0.0.1:0", origin=, delay=, drop=true|N, malformed=, rcode=}
// → server with fields addr, host, port, queries and methods close(),
// set(records), add(records). It also stops when the run ends.
func luaServer(L *lua.LState) int {
	t := host.OptTable(L, 1)
	rrs, err := recordsArg(L, t.RawGetString("records"), lua.LVAsString(t.RawGetString("origin")))
	if err != nil {
		L.ArgError(1, err.Error())
	}
	var opts ServerOptions
	if v, ok := t.RawGetString("delay").(lua.LNumber); ok {
		opts.Delay = time.Duration(float64(v) * float64(time.Second))
	}
	switch v := t.RawGetString("drop").(type) {
	case lua.LNumber:
		opts.DropFirst = int64(v) // drop=N: leave the first N queries unanswered
	default:
		opts.Drop = lua.LVAsBool(v)
	}
	opts.Malformed = lua.LVAsBool(t.RawGetString("malformed"))
	if v, ok := t.RawGetString("rcode").(lua.LString); ok {
		rc, ok := mdns.StringToRcode[strings.ToUpper(string(v))]
		if !ok {
			L.ArgError(1, "unknown rcode "+string(v))
		}
		opts.Rcode = rc
	}
	addr := "127.0.0.1:0"
	if v, ok := t.RawGetString("addr").(lua.LString); ok {
		addr = string(v)
	}
	srv, err := NewServer(addr, rrs, opts)
	if err != nil {
		return host.Raise(L, host.Wrap("", err))
	}
	context.AfterFunc(host.From(L).Context(), func() { srv.Close() })
	L.Push(host.NewObject(L, "dns.server", srv))
	return 1
}

// recordsArg reads records given as zone text, or a list of zone-file
// lines and {name=, type=, ttl=, <fields> | data=} tables.
func recordsArg(L *lua.LState, v lua.LValue, origin string) ([]mdns.RR, error) {
	if origin == "" {
		origin = "."
	}
	switch v := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LString:
		return ParseZone(string(v), origin)
	case *lua.LTable:
		var out []mdns.RR
		for i := 1; i <= v.Len(); i++ {
			switch e := v.RawGetInt(i).(type) {
			case lua.LString:
				rrs, err := ParseZone(string(e), origin)
				if err != nil {
					return nil, fmt.Errorf("records[%d]: %v", i, err)
				}
				out = append(out, rrs...)
			case *lua.LTable:
				spec := RecordSpec{}
				var bad error
				e.ForEach(func(k, val lua.LValue) {
					ks, ok := k.(lua.LString)
					if !ok {
						return
					}
					switch x := val.(type) {
					case lua.LString:
						spec[string(ks)] = string(x)
					case lua.LNumber:
						spec[string(ks)] = float64(x)
					case *lua.LTable:
						var l []string
						for j := 1; j <= x.Len(); j++ {
							l = append(l, lua.LVAsString(x.RawGetInt(j)))
						}
						spec[string(ks)] = l
					default:
						bad = fmt.Errorf("field %s: %s not allowed", ks, val.Type())
					}
				})
				if bad != nil {
					return nil, fmt.Errorf("records[%d]: %v", i, bad)
				}
				rr, err := spec.RR()
				if err != nil {
					return nil, fmt.Errorf("records[%d]: %v", i, err)
				}
				out = append(out, rr)
			default:
				return nil, fmt.Errorf("records[%d]: string or table expected, got %s", i, host.TypeName(e))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("records must be zone text or a list, got %s", host.TypeName(v))
}

func serverIndex(methods lua.LValue) lua.LGFunction {
	return func(L *lua.LState) int {
		srv := host.Check[*Server](L, 1, "dns.server")
		switch L.CheckString(2) {
		case "addr":
			L.Push(lua.LString(srv.Addr))
		case "host":
			h, _, _ := net.SplitHostPort(srv.Addr)
			L.Push(lua.LString(h))
		case "port":
			_, p, _ := net.SplitHostPort(srv.Addr)
			n, _ := net.LookupPort("udp", p)
			L.Push(lua.LNumber(n))
		case "queries":
			L.Push(lua.LNumber(srv.Queries()))
		default:
			if t, ok := methods.(*lua.LTable); ok {
				L.Push(t.RawGet(L.Get(2)))
			} else {
				L.Push(lua.LNil)
			}
		}
		return 1
	}
}

func serverClose(L *lua.LState) int {
	srv := host.Check[*Server](L, 1, "dns.server")
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		srv.Close()
		return nil, nil
	})
}

func serverSet(L *lua.LState) int {
	srv := host.Check[*Server](L, 1, "dns.server")
	rrs, err := recordsArg(L, L.Get(2), ".")
	if err != nil {
		L.ArgError(2, err.Error())
	}
	srv.Set(rrs)
	return 0
}

func serverAdd(L *lua.LState) int {
	srv := host.Check[*Server](L, 1, "dns.server")
	rrs, err := recordsArg(L, L.Get(2), ".")
	if err != nil {
		L.ArgError(2, err.Error())
	}
	srv.Add(rrs)
	return 0
}

func (s *Server) String() string { return "dns.server(" + s.Addr + ")" }
