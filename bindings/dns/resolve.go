package dns

import (
	"context"
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/gos3lua/gos3lua/host"
	mdns "github.com/miekg/dns"
)

// MX is one mail exchange of a domain. Names have no trailing dot.
type MX struct {
	Exchange   string
	Preference int
	Implicit   bool // RFC 5321 5.1: no MX records, the domain itself
}

// Why a list is empty without an error.
const (
	ReasonNXDOMAIN = "NXDOMAIN" // the name does not exist
	ReasonNoData   = "NODATA"   // it exists, without records of that type
	ReasonNullMX   = "null MX"  // RFC 7505: the domain accepts no mail
)

// answerError is the error for an rcode that is neither NOERROR nor
// NXDOMAIN (SERVFAIL from every server, REFUSED, ...).
func answerError(what string, res *Result) error {
	return &host.Error{Kind: "dns", Message: "dns: " + what + ": " + res.Rcode + " from " + res.Server,
		Fields: map[string]any{"rcode": res.Rcode, "server": res.Server}}
}

func bare(name string) string {
	if name == "." {
		return name
	}
	return strings.TrimSuffix(name, ".")
}

// LookupMX returns the exchanges of domain by preference (then name), or
// the implicit MX (the domain, preference 0) when it has none. An empty
// list comes with a reason: NXDOMAIN or null MX.
func LookupMX(ctx context.Context, domain string, o Options) ([]MX, string, error) {
	res, err := Query(ctx, domain, mdns.TypeMX, o)
	if err != nil {
		return nil, "", err
	}
	switch res.Msg.Rcode {
	case mdns.RcodeSuccess:
	case mdns.RcodeNameError:
		return nil, ReasonNXDOMAIN, nil
	default:
		return nil, "", answerError("mx "+bare(mdns.Fqdn(domain)), res)
	}
	var out []MX
	for _, r := range res.Answers {
		mx, ok := r.RR.(*mdns.MX)
		if !ok {
			continue
		}
		if mx.Mx == "." {
			return nil, ReasonNullMX, nil
		}
		out = append(out, MX{Exchange: bare(mx.Mx), Preference: int(mx.Preference)})
	}
	if len(out) == 0 {
		return []MX{{Exchange: bare(mdns.Fqdn(strings.TrimSpace(domain))), Preference: 0, Implicit: true}}, "", nil
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Preference != out[j].Preference {
			return out[i].Preference < out[j].Preference
		}
		return strings.ToLower(out[i].Exchange) < strings.ToLower(out[j].Exchange)
	})
	return out, "", nil
}

// LookupHost returns the IPv4 then IPv6 addresses of name, asking for A and
// AAAA at once (family 4 or 6 asks for one only). An IP address is its own
// answer. It fails only when no address came back and a query failed.
func LookupHost(ctx context.Context, name string, family int, o Options) ([]string, string, error) {
	if ip := net.ParseIP(strings.Trim(name, "[]")); ip != nil {
		return []string{ip.String()}, "", nil
	}
	var types []uint16
	if family != 6 {
		types = append(types, mdns.TypeA)
	}
	if family != 4 {
		types = append(types, mdns.TypeAAAA)
	}
	results := make([]*Result, len(types))
	errs := make([]error, len(types))
	var wg sync.WaitGroup
	for i, t := range types {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = Query(ctx, name, t, o)
		}()
	}
	wg.Wait()
	var addrs []string
	var firstErr error
	nx := false
	for i, res := range results {
		if errs[i] != nil {
			if firstErr == nil {
				firstErr = errs[i]
			}
			continue
		}
		switch res.Msg.Rcode {
		case mdns.RcodeSuccess:
		case mdns.RcodeNameError:
			nx = true
			continue
		default:
			if firstErr == nil {
				firstErr = answerError("lookup "+bare(mdns.Fqdn(name)), res)
			}
			continue
		}
		for _, r := range res.Answers {
			switch rr := r.RR.(type) {
			case *mdns.A:
				if types[i] == mdns.TypeA {
					addrs = append(addrs, rr.A.String())
				}
			case *mdns.AAAA:
				if types[i] == mdns.TypeAAAA {
					addrs = append(addrs, rr.AAAA.String())
				}
			}
		}
	}
	switch {
	case len(addrs) > 0:
		return addrs, "", nil
	case firstErr != nil:
		return nil, "", firstErr
	case nx:
		return nil, ReasonNXDOMAIN, nil
	}
	return nil, ReasonNoData, nil
}

// LookupAddr returns the PTR names of ip, without trailing dots.
func LookupAddr(ctx context.Context, ip string, o Options) ([]string, string, error) {
	if net.ParseIP(ip) == nil {
		return nil, "", host.Errorf("dns", "dns: reverse %s: not an IP address", ip)
	}
	res, err := Query(ctx, ip, mdns.TypePTR, o)
	if err != nil {
		return nil, "", err
	}
	switch res.Msg.Rcode {
	case mdns.RcodeSuccess:
	case mdns.RcodeNameError:
		return nil, ReasonNXDOMAIN, nil
	default:
		return nil, "", answerError("reverse "+ip, res)
	}
	var names []string
	for _, r := range res.Answers {
		if p, ok := r.RR.(*mdns.PTR); ok {
			names = append(names, bare(p.Ptr))
		}
	}
	if len(names) == 0 {
		return nil, ReasonNoData, nil
	}
	return names, "", nil
}
