package stdlib

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// args: declarative command-line parsing for scripts, with a generated
// --help and the usual exit status 2 on bad usage.
var argsFuncs = map[string]lua.LGFunction{
	"parse":    argsParse,    // parse(spec [, list]) → table
	"help":     argsHelp,     // help(spec) → the --help text
	"size":     argsSize,     // size("10M") → 10485760
	"duration": argsDuration, // duration("1m30s") → 90
}

// ArgsLoader is require("args").
func ArgsLoader(L *lua.LState) int {
	L.Push(host.Module(L, argsFuncs))
	return 1
}

// Where help and usage errors go; tests swap them.
var (
	argsStdout io.Writer = os.Stdout
	argsStderr io.Writer = os.Stderr
)

type argSpec struct {
	name        string
	description string
	usage       string
	epilog      string
	noExit      bool
	options     []*optSpec
	positional  []*optSpec
}

// optSpec is an option (short/long set) or a positional argument (name set).
type optSpec struct {
	short    string
	long     string
	name     string // positional
	typ      string
	help     string
	metavar  string
	env      string
	def      lua.LValue
	required bool
	multiple bool
}

var argTypes = map[string]bool{"string": true, "number": true, "integer": true, "boolean": true, "size": true, "duration": true}

func (o *optSpec) key() string {
	k := o.long
	if o.name != "" {
		k = strings.ToLower(o.name)
	}
	if k == "" {
		k = o.short
	}
	return strings.ReplaceAll(k, "-", "_")
}

func (o *optSpec) flag() string {
	if o.long != "" {
		return "--" + o.long
	}
	return "-" + o.short
}

func (o *optSpec) meta() string {
	if o.metavar != "" {
		return o.metavar
	}
	switch o.typ {
	case "size":
		return "SIZE"
	case "duration":
		return "DURATION"
	case "number", "integer":
		return "N"
	}
	if o.long != "" {
		return strings.ToUpper(o.long)
	}
	return "VALUE"
}

// readSpec turns the Lua spec table into an argSpec, raising
// `bad argument #1 to 'fn'` for mistakes in it.
func readSpec(L *lua.LState, t *lua.LTable) *argSpec {
	str := func(v lua.LValue, what string) string {
		switch x := v.(type) {
		case *lua.LNilType:
			return ""
		case lua.LString:
			return string(x)
		}
		L.ArgError(1, what+": string expected, got "+host.TypeName(v))
		return ""
	}
	s := &argSpec{
		name:        str(t.RawGetString("name"), "name"),
		description: str(t.RawGetString("description"), "description"),
		usage:       str(t.RawGetString("usage"), "usage"),
		epilog:      str(t.RawGetString("epilog"), "epilog"),
		noExit:      t.RawGetString("exit") == lua.LFalse,
	}
	if s.name == "" {
		if a, ok := L.GetGlobal("arg").(*lua.LTable); ok {
			s.name = filepath.Base(lua.LVAsString(a.RawGetInt(0)))
		}
		if s.name == "" || s.name == "." {
			s.name = "script"
		}
	}
	entry := func(field string, i int, v lua.LValue) *optSpec {
		e, ok := v.(*lua.LTable)
		where := fmt.Sprintf("%s[%d]", field, i)
		if !ok {
			L.ArgError(1, where+": table expected, got "+host.TypeName(v))
		}
		o := &optSpec{
			typ:      str(e.RawGetString("type"), where+".type"),
			help:     str(e.RawGetString("help"), where+".help"),
			metavar:  str(e.RawGetString("metavar"), where+".metavar"),
			env:      str(e.RawGetString("env"), where+".env"),
			def:      e.RawGetString("default"),
			required: lua.LVAsBool(e.RawGetString("required")),
			multiple: lua.LVAsBool(e.RawGetString("multiple")),
		}
		if o.typ == "" {
			o.typ = "string"
		}
		if !argTypes[o.typ] {
			L.ArgError(1, fmt.Sprintf("%s: unknown type %q (string, number, integer, boolean, size, duration)", where, o.typ))
		}
		if field == "positional" {
			o.name = str(e.RawGetInt(1), where+"[1]")
			if o.name == "" {
				o.name = str(e.RawGetString("name"), where+".name")
			}
			if o.name == "" {
				L.ArgError(1, where+": a positional argument needs a name")
			}
			if o.typ == "boolean" {
				L.ArgError(1, where+": a positional argument cannot be a boolean")
			}
			return o
		}
		o.short = str(e.RawGetInt(1), where+"[1]")
		o.long = str(e.RawGetInt(2), where+"[2]")
		if o.short == "" {
			o.short = str(e.RawGetString("short"), where+".short")
		}
		if o.long == "" {
			o.long = str(e.RawGetString("long"), where+".long")
		}
		o.short = strings.TrimPrefix(o.short, "-")
		o.long = strings.TrimPrefix(o.long, "--")
		if o.short == "" && o.long == "" {
			L.ArgError(1, where+": an option needs a short or a long name")
		}
		if len(o.short) > 1 {
			L.ArgError(1, fmt.Sprintf("%s: short name %q must be one character", where, o.short))
		}
		return o
	}
	list := func(field string) []*optSpec {
		var out []*optSpec
		switch v := t.RawGetString(field).(type) {
		case *lua.LNilType:
		case *lua.LTable:
			for i := 1; i <= v.Len(); i++ {
				out = append(out, entry(field, i, v.RawGetInt(i)))
			}
		default:
			L.ArgError(1, field+": table expected, got "+host.TypeName(v))
		}
		return out
	}
	s.options = list("options")
	s.positional = list("positional")
	for i, p := range s.positional {
		if p.multiple && i != len(s.positional)-1 {
			L.ArgError(1, fmt.Sprintf("positional[%d]: only the last positional argument can be multiple", i+1))
		}
	}
	// Defaults must be valid values of their type: check them now, so a
	// typo in a script shows up on its first run rather than in a rare path.
	for _, o := range append(append([]*optSpec{}, s.options...), s.positional...) {
		if o.def == lua.LNil {
			continue
		}
		if _, err := defaultValue(o); err != nil {
			L.ArgError(1, err.Error())
		}
	}
	return s
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// parsed is the outcome of parsing: values by key (string, float64, bool,
// or []any for multiple), positionals in order, or help requested.
type parsed struct {
	values map[string]any
	order  []string // keys in spec order
	rest   []string
	help   bool
}

func (s *argSpec) parse(list []string, getenv func(string) string) (*parsed, error) {
	byShort, byLong := map[string]*optSpec{}, map[string]*optSpec{}
	for _, o := range s.options {
		if o.short != "" {
			byShort[o.short] = o
		}
		if o.long != "" {
			byLong[o.long] = o
		}
	}
	raw := map[*optSpec][]string{}
	var pos []string
	p := &parsed{values: map[string]any{}}
	endOpts := false
	for i := 0; i < len(list); i++ {
		a := list[i]
		switch {
		case endOpts || a == "-" || len(a) < 2 || a[0] != '-' || isNumber(a) && byShort[a[1:2]] == nil:
			pos = append(pos, a)
		case a == "--":
			endOpts = true
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			o, neg := byLong[name], false
			if o == nil && name == "help" {
				p.help = true
				continue
			}
			if o == nil && strings.HasPrefix(name, "no-") {
				if b := byLong[name[3:]]; b != nil && b.typ == "boolean" {
					o, neg = b, true
				}
			}
			if o == nil {
				return nil, usagef("unknown option '--%s'", name)
			}
			if o.typ == "boolean" {
				if !hasVal {
					val = strconv.FormatBool(!neg)
				} else if neg {
					return nil, usagef("option '--%s' takes no value", name)
				}
			} else if !hasVal {
				if i+1 >= len(list) {
					return nil, usagef("option '--%s' needs a value", name)
				}
				i++
				val = list[i]
			}
			raw[o] = append(raw[o], val)
		default:
			c := a[1:]
			for j := 0; j < len(c); j++ {
				o := byShort[c[j:j+1]]
				if o == nil && c[j] == 'h' {
					p.help = true
					continue
				}
				if o == nil {
					return nil, usagef("unknown option '-%c'", c[j])
				}
				if o.typ == "boolean" {
					raw[o] = append(raw[o], "true")
					continue
				}
				val := strings.TrimPrefix(c[j+1:], "=")
				if j+1 == len(c) {
					if i+1 >= len(list) {
						return nil, usagef("option '-%s' needs a value", o.short)
					}
					i++
					val = list[i]
				}
				raw[o] = append(raw[o], val)
				break
			}
		}
	}
	if p.help {
		return p, nil
	}
	for _, o := range s.options {
		var v any
		var err error
		vals, src := raw[o], "option '"+o.flag()+"'"
		if len(vals) == 0 && o.env != "" {
			if e := getenv(o.env); e != "" {
				vals, src = []string{e}, "environment variable "+o.env
				if o.multiple {
					vals = strings.Fields(e)
				}
			}
		}
		switch {
		case len(vals) > 0 && o.multiple:
			list := make([]any, len(vals))
			for i, s := range vals {
				if list[i], err = convert(o.typ, s); err != nil {
					return nil, usagef("%s: %v", src, err)
				}
			}
			v = list
		case len(vals) > 0:
			if v, err = convert(o.typ, vals[len(vals)-1]); err != nil {
				return nil, usagef("%s: %v", src, err)
			}
		case o.def != lua.LNil:
			v, _ = defaultValue(o)
		case o.required:
			return nil, usagef("missing required option '%s'", o.flag())
		case o.multiple:
			v = []any{}
		case o.typ == "boolean":
			v = false
		}
		p.values[o.key()] = v
		p.order = append(p.order, o.key())
	}
	p.rest = pos
	for i, o := range s.positional {
		var vals []string
		if i < len(pos) {
			vals = pos[i : i+1]
			if o.multiple {
				vals = pos[i:]
			}
		}
		var v any
		switch {
		case len(vals) == 0 && o.def != lua.LNil:
			v, _ = defaultValue(o)
		case len(vals) == 0 && o.required:
			return nil, usagef("missing argument %s", o.name)
		case len(vals) == 0 && o.multiple:
			v = []any{}
		case o.multiple:
			list := make([]any, len(vals))
			for j, s := range vals {
				c, err := convert(o.typ, s)
				if err != nil {
					return nil, usagef("argument %s: %v", o.name, err)
				}
				list[j] = c
			}
			v = list
		case len(vals) == 1:
			c, err := convert(o.typ, vals[0])
			if err != nil {
				return nil, usagef("argument %s: %v", o.name, err)
			}
			v = c
		}
		p.values[o.key()] = v
		p.order = append(p.order, o.key())
	}
	if len(pos) > len(s.positional) && (len(s.positional) == 0 || !s.positional[len(s.positional)-1].multiple) {
		return nil, usagef("unexpected argument '%s'", pos[len(s.positional)])
	}
	return p, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// defaultValue converts o's Lua default to the option's type: a string
// default is parsed like a command-line value ("10M"), a number is used as
// is, a table gives a multiple option's list.
func defaultValue(o *optSpec) (any, error) {
	one := func(v lua.LValue) (any, error) {
		switch x := v.(type) {
		case lua.LString:
			c, err := convert(o.typ, string(x))
			if err != nil {
				return nil, fmt.Errorf("default of '%s': %v", o.display(), err)
			}
			return c, nil
		case lua.LNumber:
			if o.typ == "string" || o.typ == "boolean" {
				break
			}
			return float64(x), nil
		case lua.LBool:
			if o.typ == "boolean" {
				return bool(x), nil
			}
		}
		return nil, fmt.Errorf("default of '%s': %s expected, got %s", o.display(), o.typ, host.TypeName(v))
	}
	if t, ok := o.def.(*lua.LTable); ok && o.multiple {
		var list []any
		for i := 1; i <= t.Len(); i++ {
			v, err := one(t.RawGetInt(i))
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, nil
	}
	v, err := one(o.def)
	if err == nil && o.multiple {
		return []any{v}, nil
	}
	return v, err
}

func (o *optSpec) display() string {
	if o.name != "" {
		return o.name
	}
	return o.flag()
}

// convert parses a command-line string as typ.
func convert(typ, s string) (any, error) {
	switch typ {
	case "number":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number '%s'", s)
		}
		return f, nil
	case "integer":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid integer '%s'", s)
		}
		return float64(n), nil
	case "boolean":
		switch strings.ToLower(s) {
		case "1", "true", "yes", "on":
			return true, nil
		case "0", "false", "no", "off", "":
			return false, nil
		}
		return nil, fmt.Errorf("invalid boolean '%s' (true/false, yes/no, 1/0)", s)
	case "size":
		n, err := ParseSize(s)
		if err != nil {
			return nil, err
		}
		return float64(n), nil
	case "duration":
		d, err := ParseDuration(s)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	return s, nil
}

// ParseSize reads a byte count: a number with an optional unit. K, M, G,
// T, P (and KiB, MiB, ...) are powers of 1024; KB, MB, GB, TB, PB are powers
// of 1000 (as dd reads them); B or nothing is bytes. "1.5G" is allowed.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("invalid size '%s' (e.g. 512K, 10M, 1G)", s)
	}
	mult := float64(1)
	u := strings.ToUpper(unit)
	if u != "" && u != "B" {
		p := strings.IndexByte("KMGTP", u[0])
		rest := u[1:]
		if p < 0 || !(rest == "" || rest == "IB" || rest == "B") {
			return 0, fmt.Errorf("invalid size '%s' (e.g. 512K, 10M, 1G)", s)
		}
		base := 1024.0
		if rest == "B" {
			base = 1000
		}
		mult = math.Pow(base, float64(p+1))
	}
	v := math.Round(f * mult)
	if v > math.MaxInt64/2 {
		return 0, fmt.Errorf("size '%s' is too large", s)
	}
	return int64(v), nil
}

// ParseDuration reads seconds from "90", "1.5", "500ms", "1m30s", "2h",
// "1d" (days).
func ParseDuration(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return f, nil
	}
	if strings.HasSuffix(t, "d") {
		if f, err := strconv.ParseFloat(t[:len(t)-1], 64); err == nil {
			return f * 86400, nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("invalid duration '%s' (e.g. 30s, 5m, 1h30m, 2d)", s)
	}
	return d.Seconds(), nil
}

// help renders the --help text.
func (s *argSpec) help() string {
	var b strings.Builder
	if s.usage != "" {
		lines := strings.Split(strings.TrimRight(s.usage, "\n"), "\n")
		for i, l := range lines {
			if i == 0 {
				fmt.Fprintf(&b, "usage: %s\n", l)
			} else {
				fmt.Fprintf(&b, "       %s\n", l)
			}
		}
	} else {
		b.WriteString("usage: " + s.name)
		if len(s.options) > 0 {
			b.WriteString(" [options]")
		}
		for _, p := range s.positional {
			b.WriteString(" " + p.synopsis())
		}
		b.WriteString("\n")
	}
	if s.description != "" {
		b.WriteString("\n" + strings.TrimRight(s.description, "\n") + "\n")
	}
	type row struct{ left, right string }
	var opts, pos []row
	hasH, hasHelp := false, false
	for _, o := range s.options {
		left := "    "
		if o.short != "" {
			left = "-" + o.short
			if o.long != "" {
				left += ", "
			} else {
				left += "  "
			}
		}
		if o.long != "" {
			left += "--" + o.long
		}
		if o.typ != "boolean" {
			left += " " + o.meta()
		}
		opts = append(opts, row{left, o.describe()})
		hasH = hasH || o.short == "h"
		hasHelp = hasHelp || o.long == "help"
	}
	if !hasHelp {
		l := "    --help"
		if !hasH {
			l = "-h, --help"
		}
		opts = append(opts, row{l, "show this help and exit"})
	}
	for _, p := range s.positional {
		pos = append(pos, row{p.synopsis(), p.describe()})
	}
	width := 0
	for _, r := range append(append([]row{}, opts...), pos...) {
		width = max(width, len(r.left))
	}
	section := func(title string, rows []row) {
		if len(rows) == 0 {
			return
		}
		b.WriteString("\n" + title + ":\n")
		for _, r := range rows {
			if r.right == "" {
				fmt.Fprintf(&b, "  %s\n", r.left)
			} else {
				fmt.Fprintf(&b, "  %-*s  %s\n", width, r.left, r.right)
			}
		}
	}
	section("arguments", pos)
	section("options", opts)
	if s.epilog != "" {
		b.WriteString("\n" + strings.TrimRight(s.epilog, "\n") + "\n")
	}
	return b.String()
}

func (o *optSpec) synopsis() string {
	n := o.name
	if o.multiple {
		n += "..."
	}
	if !o.required {
		n = "[" + n + "]"
	}
	return n
}

func (o *optSpec) describe() string {
	var notes []string
	if o.required && o.name == "" {
		notes = append(notes, "required")
	}
	if o.multiple && o.name == "" {
		notes = append(notes, "repeatable")
	}
	if o.def != lua.LNil && !(o.typ == "boolean" && o.def == lua.LFalse) {
		d := o.def.String()
		if s, ok := o.def.(lua.LString); ok {
			d = string(s)
		}
		notes = append(notes, "default "+d)
	}
	if o.env != "" {
		notes = append(notes, "env "+o.env)
	}
	if len(notes) == 0 {
		return o.help
	}
	if o.help == "" {
		return "(" + strings.Join(notes, ", ") + ")"
	}
	return o.help + " (" + strings.Join(notes, ", ") + ")"
}

// parse(spec [, list]) → the values; list defaults to the global arg.
// --help prints the help and exits 0; bad usage prints the problem and
// exits 2, unless spec.exit == false: then it returns nil, message, status.
func argsParse(L *lua.LState) int {
	spec := readSpec(L, L.CheckTable(1))
	var list []string
	switch v := L.Get(2).(type) {
	case *lua.LTable:
		for i := 1; i <= v.Len(); i++ {
			list = append(list, lua.LVAsString(v.RawGetInt(i)))
		}
	case *lua.LNilType:
		if a, ok := L.GetGlobal("arg").(*lua.LTable); ok {
			for i := 1; i <= a.Len(); i++ {
				list = append(list, lua.LVAsString(a.RawGetInt(i)))
			}
		}
	default:
		L.ArgError(2, "table expected, got "+host.TypeName(v))
	}
	p, err := spec.parse(list, os.Getenv)
	var msg string
	code := 0
	switch {
	case err != nil:
		msg = fmt.Sprintf("%s: %s\ntry %s --help\n", spec.name, err, spec.name)
		code = 2
	case p.help:
		msg = spec.help()
	default:
		t := L.NewTable()
		for i, s := range p.rest {
			t.RawSetInt(i+1, lua.LString(s))
		}
		for _, k := range p.order {
			if v := p.values[k]; v != nil {
				t.RawSetString(k, host.ToLua(L, v))
			}
		}
		L.Push(t)
		return 1
	}
	if spec.noExit {
		L.Push(lua.LNil)
		L.Push(lua.LString(strings.TrimRight(msg, "\n")))
		L.Push(lua.LNumber(code))
		return 3
	}
	// A few lines to a terminal or pipe, then the run ends: written
	// directly rather than suspending the task.
	if code == 0 {
		io.WriteString(argsStdout, msg)
	} else {
		io.WriteString(argsStderr, msg)
	}
	return exit(L, code)
}

// exit ends the run with status code through the host's os.exit, so that
// it unwinds like a script's own os.exit (pcall does not catch it).
func exit(L *lua.LState, code int) int {
	L.Push(L.GetField(L.GetGlobal("os"), "exit"))
	L.Push(lua.LNumber(code))
	L.Call(1, 0)
	return 0
}

func argsHelp(L *lua.LState) int {
	L.Push(lua.LString(readSpec(L, L.CheckTable(1)).help()))
	return 1
}

func argsSize(L *lua.LState) int {
	var s string
	switch v := L.Get(1).(type) {
	case lua.LNumber:
		L.Push(v)
		return 1
	case lua.LString:
		s = string(v)
	default:
		L.ArgError(1, "string expected, got "+host.TypeName(v))
	}
	n, err := ParseSize(s)
	if err != nil {
		return host.Raise(L, host.Errorf("EINVAL", "args.size: %v", err))
	}
	L.Push(lua.LNumber(n))
	return 1
}

func argsDuration(L *lua.LState) int {
	var s string
	switch v := L.Get(1).(type) {
	case lua.LNumber:
		L.Push(v)
		return 1
	case lua.LString:
		s = string(v)
	default:
		L.ArgError(1, "string expected, got "+host.TypeName(v))
	}
	d, err := ParseDuration(s)
	if err != nil {
		return host.Raise(L, host.Errorf("EINVAL", "args.duration: %v", err))
	}
	L.Push(lua.LNumber(d))
	return 1
}
