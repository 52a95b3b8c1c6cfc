// Package smtp is the smtp module: an SMTP client (connect, send) with
// swaks-style transcripts, and a real SMTP server on loopback (server) for
// tests and local experiments. The client is written on net/textproto (see
// Client for why not go-smtp's); the server is go-smtp's.
//
// Lua sees blocking calls; every network step runs off the Lua thread
// through host.Go, so tasks probe many servers at once. Nothing here may
// wait on the network on the scheduler goroutine.
package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	_ "embed"
	"fmt"
	"net"
	"net/mail"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

var funcs = map[string]lua.LGFunction{
	"connect":  luaConnect,  // connect(host_or_addr, opts) → connection
	"send":     luaSend,     // send{server=, from=, to=, subject=, body=, headers=} → {code=, text=}
	"server":   luaServer,   // server{replies=, delay=, tls=, users=} → server
	"hostname": luaHostname, // hostname() → the default EHLO name
}

var connMethods = map[string]lua.LGFunction{
	"ehlo":     connEhlo,     // ehlo([name]) → extensions
	"starttls": connStartTLS, // starttls() → tls info
	"auth":     connAuth,     // auth(user, password) → true
	"mail":     connMail,     // mail(from) → code, text
	"rcpt":     connRcpt,     // rcpt(to) → code, text
	"data":     connData,     // data(message) → code, text
	"cmd":      connCmd,      // cmd(verb [, args]) → code, text, enhanced (never raises on a reply code)
	"quit":     connQuit,     // quit() → code, text
	"close":    connClose,    // close()
}

var serverMethods = map[string]lua.LGFunction{
	"messages":    serverMessages,    // messages() → {{from=, to={...}, data=, subject=, helo=, tls=, user=}, ...}
	"etrns":       serverETRNs,       // etrns() → {"example.com", ...}
	"wait":        serverWait,        // wait(n [, timeout]) → messages once n arrived
	"connections": serverConnections, // connections() → number accepted
	"close":       serverClose,       // close()
}

//go:embed smtp.lua
var wrapSrc string

// Register makes require("smtp") available.
func Register() { host.Register("smtp", Loader) }

// Loader is require("smtp").
func Loader(L *lua.LState) int {
	mod := host.Module(L, funcs)
	cmt := host.NewClass(L, connClass, connMethods)
	smt := host.NewClass(L, serverClass, serverMethods)
	// The chunk is named "stub" so that error positions skip it, as they
	// skip the host's own stubs.
	fn, err := L.Load(strings.NewReader(wrapSrc), "stub")
	if err != nil {
		panic(err)
	}
	L.Push(fn)
	L.Push(mod)
	L.Push(cmt)
	L.Push(smt)
	L.Push(L.NewFunction(connField))
	L.Push(L.NewFunction(serverField))
	L.Call(5, 1)
	return 1
}

const (
	connClass   = "smtp.connection"
	serverClass = "smtp.server"
)

// ---- transcripts ----

// transcript collects the lines of one call for a Lua function, or prints
// them to stderr as they pass (transcript=true).
type transcript struct {
	cb    lua.LValue // the Lua function, or nil
	print bool
	mu    sync.Mutex
	lines []string // mark, line, mark, line...
}

func (t *transcript) log(mark, line string) {
	if t.print {
		fmt.Fprintf(os.Stderr, "%s%s\n", mark, line)
		return
	}
	t.mu.Lock()
	t.lines = append(t.lines, mark, line)
	t.mu.Unlock()
}

func (t *transcript) logger() func(string, string) {
	if t == nil || (!t.print && t.cb == nil) {
		return nil
	}
	return t.log
}

// pushHead pushes the (callback, lines) the Lua wrapper delivers before
// returning; they are taken, so the next call starts empty.
func (t *transcript) pushHead(L *lua.LState) {
	if t == nil || t.cb == nil {
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		return
	}
	t.mu.Lock()
	lines := t.lines
	t.lines = nil
	t.mu.Unlock()
	L.Push(t.cb)
	L.Push(host.ToLua(L, lines))
}

func optTranscript(L *lua.LState, v lua.LValue) *transcript {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		if v {
			return &transcript{print: true}
		}
		return nil
	case *lua.LFunction:
		return &transcript{cb: v}
	}
	L.RaiseError("transcript must be true or a function(direction, line), got %s", host.TypeName(v))
	return nil
}

// result is what a call hands back: values or an error, after the lines.
func result(t *transcript, err error, vals func(L *lua.LState) int) host.Push {
	return func(L *lua.LState) int {
		t.pushHead(L)
		if err != nil {
			L.Push(lua.LFalse)
			L.Push(host.ErrorValue(L, err))
			return 4
		}
		L.Push(lua.LTrue)
		n := 0
		if vals != nil {
			n = vals(L)
		}
		return 3 + n
	}
}

// ---- option helpers ----

func optString(L *lua.LState, t *lua.LTable, key, def string) string {
	switch v := t.RawGetString(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	default:
		L.RaiseError("option %s: string expected, got %s", key, host.TypeName(v))
	}
	return def
}

func optNumber(L *lua.LState, t *lua.LTable, key string, def float64) float64 {
	switch v := t.RawGetString(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return f
		}
	}
	L.RaiseError("option %s: number expected, got %s", key, host.TypeName(t.RawGetString(key)))
	return def
}

func optBool(L *lua.LState, t *lua.LTable, key string, def bool) bool {
	switch v := t.RawGetString(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LBool:
		return bool(v)
	}
	L.RaiseError("option %s: boolean expected, got %s", key, host.TypeName(t.RawGetString(key)))
	return def
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func clientOptions(L *lua.LState, o *lua.LTable) (Options, *transcript) {
	tr := optTranscript(L, o.RawGetString("transcript"))
	opts := Options{
		Port:       int(optNumber(L, o, "port", 0)),
		Timeout:    seconds(optNumber(L, o, "timeout", 0)),
		Helo:       optString(L, o, "helo", ""),
		TLS:        optString(L, o, "tls", ""),
		Verify:     optBool(L, o, "verify", true),
		ServerName: optString(L, o, "server_name", ""),
		NoEHLO:     !optBool(L, o, "ehlo", true),
		Log:        tr.logger(),
	}
	switch opts.TLS {
	case "", "auto", "starttls", "tls", "none":
	default:
		L.RaiseError("option tls: want \"starttls\", \"tls\", \"none\" or \"auto\", got %q", opts.TLS)
	}
	return opts, tr
}

// ---- connect and the connection ----

type conn struct {
	c  *Client
	tr *transcript
}

func (c *conn) String() string { return "smtp.connection(" + c.c.Addr() + ")" }

func luaConnect(L *lua.LState) int {
	target := L.CheckString(1)
	opts, tr := clientOptions(L, host.OptTable(L, 2))
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		c, err := Dial(ctx, target, opts)
		return result(tr, err, func(L *lua.LState) int {
			L.Push(host.NewObject(L, connClass, &conn{c: c, tr: tr}))
			return 1
		}), nil
	})
}

func checkConn(L *lua.LState) *conn { return host.Check[*conn](L, 1, connClass) }

// call runs fn off the Lua thread and hands back its reply as code, text,
// enhanced.
func (c *conn) call(L *lua.LState, fn func(ctx context.Context) (Reply, error)) int {
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		rep, err := fn(ctx)
		return result(c.tr, err, func(L *lua.LState) int {
			return pushReply(L, rep)
		}), nil
	})
}

func pushReply(L *lua.LState, rep Reply) int {
	L.Push(lua.LNumber(rep.Code))
	L.Push(lua.LString(rep.Text()))
	if rep.Enhanced != "" {
		L.Push(lua.LString(rep.Enhanced))
	} else {
		L.Push(lua.LNil)
	}
	return 3
}

func connEhlo(L *lua.LState) int {
	c := checkConn(L)
	name := L.OptString(2, "")
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		ext, err := c.c.Ehlo(name)
		return result(c.tr, err, func(L *lua.LState) int {
			L.Push(extTable(L, ext))
			return 1
		}), nil
	})
}

func extTable(L *lua.LState, ext map[string]string) *lua.LTable {
	t := L.CreateTable(0, len(ext))
	for _, k := range SortedExtensions(ext) {
		t.RawSetString(k, lua.LString(ext[k]))
	}
	return t
}

func connStartTLS(L *lua.LState) int {
	c := checkConn(L)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		err := c.c.StartTLS(ctx)
		return result(c.tr, err, func(L *lua.LState) int {
			L.Push(tlsTable(L, c.c))
			return 1
		}), nil
	})
}

func tlsTable(L *lua.LState, c *Client) lua.LValue {
	st := c.TLS()
	if st == nil {
		return lua.LNil
	}
	m := map[string]any{
		"version":     tls.VersionName(st.Version),
		"cipher":      tls.CipherSuiteName(st.CipherSuite),
		"server_name": c.name,
		"verified":    c.opts.Verify,
	}
	if len(st.PeerCertificates) > 0 {
		cert := st.PeerCertificates[0]
		m["subject"] = cert.Subject.String()
		m["issuer"] = cert.Issuer.String()
		m["not_after"] = cert.NotAfter.UTC().Format(time.RFC3339)
		m["names"] = append([]string(nil), cert.DNSNames...)
	}
	return host.ToLua(L, m)
}

func connAuth(L *lua.LState) int {
	c := checkConn(L)
	user, pass := L.CheckString(2), L.CheckString(3)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		err := c.c.Auth(user, pass)
		return result(c.tr, err, func(L *lua.LState) int { L.Push(lua.LTrue); return 1 }), nil
	})
}

func connMail(L *lua.LState) int {
	c := checkConn(L)
	from := L.CheckString(2)
	return c.call(L, func(context.Context) (Reply, error) { return c.c.Mail(from) })
}

func connRcpt(L *lua.LState) int {
	c := checkConn(L)
	to := L.CheckString(2)
	return c.call(L, func(context.Context) (Reply, error) { return c.c.Rcpt(to) })
}

func connData(L *lua.LState) int {
	c := checkConn(L)
	msg := L.CheckString(2)
	return c.call(L, func(context.Context) (Reply, error) { return c.c.Data([]byte(msg)) })
}

func connCmd(L *lua.LState) int {
	c := checkConn(L)
	verb := L.CheckString(2)
	args := L.OptString(3, "")
	if verb == "" || strings.ContainsAny(verb, " \r\n") {
		L.ArgError(2, "a command verb (e.g. \"ETRN\") expected")
	}
	return c.call(L, func(context.Context) (Reply, error) { return c.c.Cmd(verb, args) })
}

func connQuit(L *lua.LState) int {
	c := checkConn(L)
	return c.call(L, func(context.Context) (Reply, error) { return c.c.Quit() })
}

func connClose(L *lua.LState) int {
	c := checkConn(L)
	c.c.Close()
	result(c.tr, nil, nil)(L)
	return 3
}

// connField answers c.tls, c.extensions, c.banner, c.addr, c.helo.
func connField(L *lua.LState) int {
	c, ok := L.CheckUserData(1).Value.(*conn)
	if !ok {
		return 0
	}
	switch L.CheckString(2) {
	case "tls":
		L.Push(tlsTable(L, c.c))
	case "extensions":
		L.Push(extTable(L, c.c.Extensions()))
	case "banner":
		L.Push(lua.LString(c.c.Banner().String()))
	case "addr":
		L.Push(lua.LString(c.c.Addr()))
	case "helo":
		L.Push(lua.LString(c.c.Helo()))
	default:
		L.Push(lua.LNil)
	}
	return 1
}

func luaHostname(L *lua.LState) int {
	L.Push(lua.LString(defaultHelo()))
	return 1
}

// ---- send ----

// SendOptions are smtp.send's.
type SendOptions struct {
	Server   string
	From     string
	To       []string
	User     string
	Password string
	Message  []byte
	Client   Options
}

// Send connects, authenticates when a user is given, sends one message and
// quits; it returns the final DATA reply.
func Send(ctx context.Context, o SendOptions) (Reply, error) {
	c, err := Dial(ctx, o.Server, o.Client)
	if err != nil {
		return Reply{}, err
	}
	defer c.Close()
	if o.User != "" {
		if err := c.Auth(o.User, o.Password); err != nil {
			return Reply{}, err
		}
	}
	if _, err := c.Mail(o.From); err != nil {
		return Reply{}, err
	}
	for _, to := range o.To {
		if _, err := c.Rcpt(to); err != nil {
			return Reply{}, err
		}
	}
	rep, err := c.Data(o.Message)
	if err != nil {
		return rep, err
	}
	c.Quit()
	return rep, nil
}

// foldHeader keeps a header value to its own header: line breaks become
// folded continuation lines, so a value cannot start a new header.
func foldHeader(v string) string {
	v = strings.ReplaceAll(v, "\r", "")
	return strings.ReplaceAll(v, "\n", "\r\n ")
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 127 || c == ':' {
			return false
		}
	}
	return true
}

// Compose builds a plain-text message: Date, From, To, Subject,
// Message-ID, MIME headers, then extra headers in name order, then body.
func Compose(from string, to []string, subject, body string, headers map[string]string) []byte {
	var b bytes.Buffer
	have := map[string]bool{}
	for k := range headers {
		have[strings.ToLower(k)] = true
	}
	put := func(k, v string) {
		if !have[strings.ToLower(k)] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, foldHeader(v))
		}
	}
	put("Date", time.Now().Format(time.RFC1123Z))
	put("From", from)
	put("To", strings.Join(to, ", "))
	if subject != "" {
		put("Subject", subject)
	}
	put("Message-ID", fmt.Sprintf("<%d.%d@gos3lua>", time.Now().UnixNano(), os.Getpid()))
	put("MIME-Version", "1.0")
	put("Content-Type", "text/plain; charset=utf-8")
	if !isASCII(body) {
		put("Content-Transfer-Encoding", "8bit")
	}
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !validHeaderName(k) {
			continue // a name with spaces, colons or line breaks would forge other headers
		}
		fmt.Fprintf(&b, "%s: %s\r\n", k, foldHeader(headers[k]))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	if body != "" && !strings.HasSuffix(body, "\n") {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > 127 {
			return false
		}
	}
	return true
}

func stringList(L *lua.LState, v lua.LValue, what string) []string {
	switch v := v.(type) {
	case lua.LString:
		return []string{string(v)}
	case *lua.LTable:
		var out []string
		for i := 1; i <= v.Len(); i++ {
			out = append(out, lua.LVAsString(v.RawGetInt(i)))
		}
		return out
	case *lua.LNilType:
		return nil
	}
	L.RaiseError("%s: string or list of strings expected, got %s", what, host.TypeName(v))
	return nil
}

func luaSend(L *lua.LState) int {
	t := L.CheckTable(1)
	opts, tr := clientOptions(L, t)
	o := SendOptions{
		Server:   optString(L, t, "server", "localhost"),
		From:     optString(L, t, "from", ""),
		To:       stringList(L, t.RawGetString("to"), "to"),
		User:     optString(L, t, "user", ""),
		Password: optString(L, t, "password", ""),
		Client:   opts,
	}
	if len(o.To) == 0 {
		L.ArgError(1, "to: at least one recipient expected")
	}
	if m, ok := t.RawGetString("message").(lua.LString); ok {
		o.Message = []byte(m)
	} else {
		headers := map[string]string{}
		if h, ok := t.RawGetString("headers").(*lua.LTable); ok {
			h.ForEach(func(k, v lua.LValue) { headers[lua.LVAsString(k)] = lua.LVAsString(v) })
		}
		o.Message = Compose(o.From, o.To, optString(L, t, "subject", ""), optString(L, t, "body", ""), headers)
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		rep, err := Send(ctx, o)
		return result(tr, err, func(L *lua.LState) int {
			L.Push(host.ToLua(L, map[string]any{"code": rep.Code, "text": rep.Text(), "enhanced": rep.Enhanced}))
			return 1
		}), nil
	})
}

// ---- server ----

func luaServer(L *lua.LState) int {
	t := host.OptTable(L, 1)
	o := ServerOptions{
		Domain: optString(L, t, "domain", ""),
		Delay:  seconds(optNumber(L, t, "delay", 0)),
		Addr:   optString(L, t, "addr", ""),
	}
	switch v := t.RawGetString("tls").(type) {
	case lua.LBool:
		o.TLS = bool(v)
	case lua.LString:
		switch v {
		case "starttls":
			o.TLS = true
		case "implicit", "tls":
			o.Implicit = true
		case "none":
		default:
			L.RaiseError("option tls: want true (STARTTLS), \"implicit\" or false, got %q", string(v))
		}
	case *lua.LNilType:
	default:
		L.RaiseError("option tls: want true (STARTTLS), \"implicit\" or false, got %s", host.TypeName(v))
	}
	if p := int(optNumber(L, t, "port", 0)); p != 0 && o.Addr == "" {
		o.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	if u, ok := t.RawGetString("users").(*lua.LTable); ok {
		o.Users = map[string]string{}
		u.ForEach(func(k, v lua.LValue) { o.Users[lua.LVAsString(k)] = lua.LVAsString(v) })
	}
	if r, ok := t.RawGetString("replies").(*lua.LTable); ok {
		o.Replies = map[string]*Rule{}
		r.ForEach(func(k, v lua.LValue) {
			stage := lua.LVAsString(k)
			rule, err := parseRule(v)
			if err != nil {
				L.RaiseError("replies.%s: %v", stage, err)
			}
			o.Replies[stage] = rule
		})
	}
	s, err := StartServer(o)
	if err != nil {
		return host.Raise(L, host.Wrap("", err))
	}
	// The server lives as long as the run, at most.
	stop := context.AfterFunc(host.From(L).Context(), func() { s.Close() })
	L.Push(host.NewObject(L, serverClass, &server{s: s, stop: stop}))
	return 1
}

// parseRule reads a stage's replies: {554, "5.7.1", "text"}, {554, "text"},
// {code=, enhanced=, text=}, "drop", "hang", or a table mapping substrings
// of the stage's argument to any of those (key "*" for the default).
func parseRule(v lua.LValue) (*Rule, error) {
	if a, ok, err := parseAction(v); ok || err != nil {
		return &Rule{Default: a}, err
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("reply, \"drop\", \"hang\" or a table of them expected, got %s", v.Type())
	}
	r := &Rule{}
	var keys []string
	acts := map[string]*Action{}
	var perr error
	t.ForEach(func(k, v lua.LValue) {
		key := lua.LVAsString(k)
		a, ok, err := parseAction(v)
		if err != nil || !ok {
			if perr == nil {
				perr = fmt.Errorf("[%q]: %v", key, err)
				if err == nil {
					perr = fmt.Errorf("[%q]: reply, \"drop\" or \"hang\" expected", key)
				}
			}
			return
		}
		if key == "*" {
			r.Default = a
			return
		}
		keys = append(keys, key)
		acts[key] = a
	})
	// Longest keys first, so "@a.b.example" wins over "b.example".
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		r.Match = append(r.Match, Match{Key: k, Action: *acts[k]})
	}
	return r, perr
}

// parseAction reports ok=false when v is a keyed table rather than one action.
func parseAction(v lua.LValue) (*Action, bool, error) {
	switch v := v.(type) {
	case lua.LString:
		switch string(v) {
		case "drop", "hang":
			return &Action{Kind: string(v)}, true, nil
		}
		return nil, false, fmt.Errorf("%q: want \"drop\", \"hang\" or a reply", string(v))
	case lua.LNumber:
		return &Action{Kind: "reply", Code: int(v), Text: "Reply " + v.String()}, true, nil
	case *lua.LTable:
		a := &Action{Kind: "reply"}
		if n, ok := v.RawGetInt(1).(lua.LNumber); ok {
			a.Code = int(n)
			s2, s3 := v.RawGetInt(2), v.RawGetInt(3)
			if s3 != lua.LNil {
				a.Enhanced, a.Text = lua.LVAsString(s2), lua.LVAsString(s3)
			} else {
				a.Text = lua.LVAsString(s2)
			}
		} else if n, ok := v.RawGetString("code").(lua.LNumber); ok {
			a.Code = int(n)
			a.Enhanced = lua.LVAsString(v.RawGetString("enhanced"))
			a.Text = lua.LVAsString(v.RawGetString("text"))
		} else {
			return nil, false, nil
		}
		if a.Code < 200 || a.Code > 599 {
			return nil, false, fmt.Errorf("reply code %d out of range 200-599", a.Code)
		}
		if a.Text == "" {
			a.Text = "Reply " + strconv.Itoa(a.Code)
		}
		return a, true, nil
	}
	return nil, false, fmt.Errorf("reply, \"drop\" or \"hang\" expected, got %s", v.Type())
}

type server struct {
	s    *Server
	stop func() bool
}

func (s *server) String() string { return "smtp.server(" + s.s.Addr() + ")" }

func checkServer(L *lua.LState) *server { return host.Check[*server](L, 1, serverClass) }

func pushMessages(L *lua.LState, msgs []Message) int {
	t := L.CreateTable(len(msgs), 0)
	for i, m := range msgs {
		mt := host.ToLua(L, map[string]any{
			"from": m.From, "to": m.To, "data": m.Data, "helo": m.Helo, "tls": m.TLS, "remote": m.Remote,
		}).(*lua.LTable)
		if m.User != "" {
			mt.RawSetString("user", lua.LString(m.User))
		}
		if pm, err := mail.ReadMessage(bytes.NewReader(m.Data)); err == nil {
			mt.RawSetString("subject", lua.LString(pm.Header.Get("Subject")))
		}
		t.RawSetInt(i+1, mt)
	}
	L.Push(t)
	return 1
}

func serverMessages(L *lua.LState) int {
	return pushMessages(L, checkServer(L).s.Messages())
}

func serverETRNs(L *lua.LState) int {
	L.Push(host.ToLua(L, checkServer(L).s.ETRNs()))
	return 1
}

func serverConnections(L *lua.LState) int {
	s := checkServer(L).s
	s.mu.Lock()
	n := s.conns
	s.mu.Unlock()
	L.Push(lua.LNumber(n))
	return 1
}

func serverWait(L *lua.LState) int {
	s := checkServer(L)
	n := L.CheckInt(2)
	timeout := seconds(float64(L.OptNumber(3, 10)))
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		msgs := s.s.Wait(n, timeout, ctx.Done())
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return func(L *lua.LState) int { return pushMessages(L, msgs) }, nil
	})
}

func serverClose(L *lua.LState) int {
	s := checkServer(L)
	s.stop()
	s.s.Close()
	return 0
}

// serverField answers s.addr, s.host, s.port.
func serverField(L *lua.LState) int {
	s, ok := L.CheckUserData(1).Value.(*server)
	if !ok {
		return 0
	}
	h, p, _ := net.SplitHostPort(s.s.Addr())
	switch L.CheckString(2) {
	case "addr":
		L.Push(lua.LString(s.s.Addr()))
	case "host":
		L.Push(lua.LString(h))
	case "port":
		n, _ := strconv.Atoi(p)
		L.Push(lua.LNumber(n))
	default:
		L.Push(lua.LNil)
	}
	return 1
}
