package dns

import (
	"fmt"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
)

// Record is one resource record as Lua sees it: name, type, ttl, class
// and typed fields (address, preference/exchange, text/strings, target,
// host, SOA, SRV and CAA fields), plus data, the rdata in zone-file form.
type Record struct {
	Name   string
	Type   string
	Class  string
	TTL    uint32
	Fields map[string]any
	RR     mdns.RR
}

func newRecord(rr mdns.RR) Record {
	h := rr.Header()
	rec := Record{
		Name:   h.Name,
		Type:   TypeName(h.Rrtype),
		Class:  mdns.Class(h.Class).String(),
		TTL:    h.Ttl,
		Fields: map[string]any{},
		RR:     rr,
	}
	f := rec.Fields
	// rdata in zone-file form: what follows name, ttl, class and type
	if parts := strings.SplitN(rr.String(), "\t", 5); len(parts) == 5 {
		f["data"] = parts[4]
	} else {
		f["data"] = ""
	}
	switch r := rr.(type) {
	case *mdns.A:
		f["address"] = r.A.String()
	case *mdns.AAAA:
		f["address"] = r.AAAA.String()
	case *mdns.MX:
		f["preference"] = int(r.Preference)
		f["exchange"] = r.Mx
	case *mdns.TXT:
		f["text"] = strings.Join(r.Txt, "")
		f["strings"] = append([]string(nil), r.Txt...)
	case *mdns.SPF:
		f["text"] = strings.Join(r.Txt, "")
		f["strings"] = append([]string(nil), r.Txt...)
	case *mdns.CNAME:
		f["target"] = r.Target
	case *mdns.DNAME:
		f["target"] = r.Target
	case *mdns.PTR:
		f["target"] = r.Ptr
	case *mdns.NS:
		f["host"] = r.Ns
	case *mdns.SOA:
		f["mname"] = r.Ns
		f["rname"] = r.Mbox
		f["serial"] = int64(r.Serial)
		f["refresh"] = int64(r.Refresh)
		f["retry"] = int64(r.Retry)
		f["expire"] = int64(r.Expire)
		f["minimum"] = int64(r.Minttl)
	case *mdns.SRV:
		f["priority"] = int(r.Priority)
		f["weight"] = int(r.Weight)
		f["port"] = int(r.Port)
		f["target"] = r.Target
	case *mdns.CAA:
		f["flag"] = int(r.Flag)
		f["tag"] = r.Tag
		f["value"] = r.Value
	}
	return rec
}

// RecordSpec is a record given as fields (from a Lua table): name, type,
// ttl, and either data (rdata in zone-file form) or the typed fields that
// Record uses. Values are strings, numbers or, for TXT strings, []string.
type RecordSpec map[string]any

// DefaultTTL is the TTL of records given without one.
const DefaultTTL = 300

func (s RecordSpec) str(k string) (string, bool) {
	switch v := s[k].(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}

// RR builds the resource record s describes.
func (s RecordSpec) RR() (mdns.RR, error) {
	name, ok := s.str("name")
	if !ok || name == "" {
		return nil, fmt.Errorf("record without name")
	}
	typ, ok := s.str("type")
	if !ok {
		return nil, fmt.Errorf("record %s without type", name)
	}
	t, ok := ParseType(typ)
	if !ok {
		return nil, fmt.Errorf("record %s: unknown type %q", name, typ)
	}
	ttl := DefaultTTL
	if v, ok := s.str("ttl"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("record %s %s: bad ttl %q", name, typ, v)
		}
		ttl = n
	}
	name = mdns.Fqdn(name)
	hdr := mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: uint32(ttl)}
	if data, ok := s.str("data"); ok {
		return parseRR(fmt.Sprintf("%s %d IN %s %s", name, ttl, TypeName(t), data))
	}
	need := func(keys ...string) ([]string, error) {
		out := make([]string, len(keys))
		for i, k := range keys {
			v, ok := s.str(k)
			if !ok {
				return nil, fmt.Errorf("record %s %s: missing field %q (or data)", name, TypeName(t), k)
			}
			out[i] = v
		}
		return out, nil
	}
	opt := func(k, def string) string {
		if v, ok := s.str(k); ok {
			return v
		}
		return def
	}
	var rdata string
	switch t {
	case mdns.TypeTXT, mdns.TypeSPF:
		var strs []string
		if l, ok := s["strings"].([]string); ok {
			strs = l
		} else if text, ok := s.str("text"); ok {
			strs = splitTXT(text)
		} else {
			return nil, fmt.Errorf("record %s TXT: missing field \"text\" (or strings, data)", name)
		}
		if t == mdns.TypeSPF {
			return &mdns.SPF{Hdr: hdr, Txt: strs}, nil
		}
		return &mdns.TXT{Hdr: hdr, Txt: strs}, nil
	case mdns.TypeA, mdns.TypeAAAA:
		v, err := need("address")
		if err != nil {
			return nil, err
		}
		rdata = v[0]
	case mdns.TypeMX:
		v, err := need("exchange")
		if err != nil {
			return nil, err
		}
		rdata = opt("preference", "10") + " " + mdns.Fqdn(v[0])
	case mdns.TypeCNAME, mdns.TypeDNAME, mdns.TypePTR:
		v, err := need("target")
		if err != nil {
			return nil, err
		}
		rdata = mdns.Fqdn(v[0])
	case mdns.TypeNS:
		v, err := need("host")
		if err != nil {
			return nil, err
		}
		rdata = mdns.Fqdn(v[0])
	case mdns.TypeSOA:
		v, err := need("mname", "rname")
		if err != nil {
			return nil, err
		}
		rdata = strings.Join([]string{mdns.Fqdn(v[0]), mdns.Fqdn(v[1]), opt("serial", "1"),
			opt("refresh", "3600"), opt("retry", "600"), opt("expire", "86400"), opt("minimum", "300")}, " ")
	case mdns.TypeSRV:
		v, err := need("port", "target")
		if err != nil {
			return nil, err
		}
		rdata = strings.Join([]string{opt("priority", "0"), opt("weight", "0"), v[0], mdns.Fqdn(v[1])}, " ")
	case mdns.TypeCAA:
		v, err := need("tag", "value")
		if err != nil {
			return nil, err
		}
		rdata = opt("flag", "0") + " " + v[0] + " " + strconv.Quote(v[1])
	default:
		return nil, fmt.Errorf("record %s %s: give its rdata as data=", name, TypeName(t))
	}
	return parseRR(fmt.Sprintf("%s %d IN %s %s", name, ttl, TypeName(t), rdata))
}

// splitTXT cuts text into the 255-byte character-strings TXT rdata is made of.
func splitTXT(text string) []string {
	if text == "" {
		return []string{""}
	}
	var out []string
	for len(text) > 255 {
		out = append(out, text[:255])
		text = text[255:]
	}
	return append(out, text)
}

// parseRR parses one zone-file line (miekg/dns splits a TXT string longer
// than 255 bytes into several).
func parseRR(line string) (mdns.RR, error) {
	rr, err := mdns.NewRR(line)
	if err != nil {
		return nil, err
	}
	if rr == nil {
		return nil, fmt.Errorf("no record in %q", line)
	}
	return rr, nil
}
