package fuse

import (
	"fmt"
	"math"
	"os"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
	lua "github.com/yuin/gopher-lua"
)

// attr is what getattr returns, read out of its Lua table.
type attr struct {
	typ     uint32 // S_IFREG, S_IFDIR, S_IFLNK
	perm    uint32 // permission bits, 0 for the default
	size    uint64
	atime   float64
	mtime   float64
	ctime   float64
	uid     int64 // -1: the mounting user
	gid     int64
	nlink   uint32
	ino     uint64
	target  string // a link's target, for readlink without a callback
	hasSize bool
}

var typeNames = map[string]uint32{
	"file": syscall.S_IFREG, "dir": syscall.S_IFDIR, "directory": syscall.S_IFDIR,
	"link": syscall.S_IFLNK, "symlink": syscall.S_IFLNK,
	"fifo": syscall.S_IFIFO, "socket": syscall.S_IFSOCK,
}

func typeName(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return "dir"
	case syscall.S_IFLNK:
		return "link"
	case syscall.S_IFIFO:
		return "fifo"
	case syscall.S_IFSOCK:
		return "socket"
	}
	return "file"
}

func num(t *lua.LTable, field string) (float64, bool, error) {
	switch v := t.RawGetString(field).(type) {
	case *lua.LNilType:
		return 0, false, nil
	case lua.LNumber:
		return float64(v), true, nil
	default:
		return 0, false, fmt.Errorf("field %s: number expected, got %s", field, v.Type())
	}
}

// readAttr reads a getattr table (or a readdir entry table). Unknown
// fields are ignored; wrong types are the user's bug, reported.
func readAttr(t *lua.LTable) (*attr, error) {
	a := &attr{uid: -1, gid: -1}
	modeV, hasMode, err := num(t, "mode")
	if err != nil {
		return nil, err
	}
	mode := uint32(modeV)
	switch v := t.RawGetString("type").(type) {
	case *lua.LNilType:
		a.typ = mode & syscall.S_IFMT
		if a.typ == 0 {
			a.typ = syscall.S_IFREG
		}
	case lua.LString:
		typ, ok := typeNames[string(v)]
		if !ok {
			return nil, fmt.Errorf("field type: %q is not one of file, dir, link", string(v))
		}
		a.typ = typ
	default:
		return nil, fmt.Errorf("field type: string expected, got %s", v.Type())
	}
	if hasMode {
		a.perm = mode & 07777
	}
	fields := []struct {
		name string
		set  func(float64)
	}{
		{"size", func(f float64) { a.size = uint64(math.Max(f, 0)); a.hasSize = true }},
		{"mtime", func(f float64) { a.mtime = f }},
		{"atime", func(f float64) { a.atime = f }},
		{"ctime", func(f float64) { a.ctime = f }},
		{"uid", func(f float64) { a.uid = int64(f) }},
		{"gid", func(f float64) { a.gid = int64(f) }},
		{"nlink", func(f float64) { a.nlink = uint32(f) }},
		{"ino", func(f float64) { a.ino = uint64(f) }},
	}
	for _, f := range fields {
		v, ok, err := num(t, f.name)
		if err != nil {
			return nil, err
		}
		if ok {
			f.set(v)
		}
	}
	if s, ok := t.RawGetString("target").(lua.LString); ok {
		a.target = string(s)
		if !a.hasSize {
			a.size = uint64(len(s))
		}
	}
	if a.ino <= 1 || a.ino == math.MaxUint64 {
		a.ino = 0 // reserved: let go-fuse number it
	}
	return a, nil
}

var (
	ownUID = uint32(os.Getuid())
	ownGID = uint32(os.Getgid())
)

// fill sets out from a; defaults: the mounting user, mode 0644/0755/0777,
// times of the mount, one link (two for directories).
func (a *attr) fill(out *fuse.Attr, m *mount) {
	perm := a.perm
	if perm == 0 {
		switch a.typ {
		case syscall.S_IFDIR:
			perm = 0755
		case syscall.S_IFLNK:
			perm = 0777
		default:
			perm = 0644
		}
	}
	out.Mode = a.typ | perm
	out.Size = a.size
	out.Blocks = (a.size + 511) / 512
	out.Blksize = 128 << 10
	out.Nlink = a.nlink
	if out.Nlink == 0 {
		out.Nlink = 1
		if a.typ == syscall.S_IFDIR {
			out.Nlink = 2
		}
	}
	out.Uid, out.Gid = ownUID, ownGID
	if a.uid >= 0 {
		out.Uid = uint32(a.uid)
	}
	if a.gid >= 0 {
		out.Gid = uint32(a.gid)
	}
	mt := a.mtime
	if mt == 0 {
		mt = m.started
	}
	at, ct := a.atime, a.ctime
	if at == 0 {
		at = mt
	}
	if ct == 0 {
		ct = mt
	}
	out.Mtime, out.Mtimensec = splitTime(mt)
	out.Atime, out.Atimensec = splitTime(at)
	out.Ctime, out.Ctimensec = splitTime(ct)
}

func splitTime(t float64) (uint64, uint32) {
	if t < 0 {
		return 0, 0
	}
	s := math.Floor(t)
	ns := uint32((t - s) * 1e9)
	if ns >= 1e9 {
		ns = 1e9 - 1
	}
	return uint64(s), ns
}

// convAttr is the conv of getattr: a table, or nil for ENOENT.
func convAttr(L *lua.LState, rets []lua.LValue) (any, syscall.Errno) {
	if len(rets) == 0 || rets[0] == lua.LNil || rets[0] == lua.LFalse {
		return nil, syscall.ENOENT
	}
	t, ok := rets[0].(*lua.LTable)
	if !ok {
		return badReturn(fmt.Sprintf("getattr must return a table or nil, got %s", rets[0].Type())), 0
	}
	a, err := readAttr(t)
	if err != nil {
		return badReturn("getattr: " + err.Error()), 0
	}
	return a, 0
}

// dirEnt is one readdir entry; attr is set when the entry carries more
// than its name and type (then the lookups that follow a listing need no
// getattr call).
type dirEnt struct {
	name string
	mode uint32
	attr *attr
}

// convList is the conv of readdir: a list of names or entry tables.
func convList(L *lua.LState, rets []lua.LValue) (any, syscall.Errno) {
	if len(rets) == 0 || rets[0] == lua.LNil {
		return []dirEnt{}, 0
	}
	t, ok := rets[0].(*lua.LTable)
	if !ok {
		return badReturn(fmt.Sprintf("readdir must return a list, got %s", rets[0].Type())), 0
	}
	n := t.Len()
	out := make([]dirEnt, 0, n)
	for i := 1; i <= n; i++ {
		switch v := t.RawGetInt(i).(type) {
		case lua.LString:
			out = append(out, dirEnt{name: string(v)})
		case *lua.LTable:
			name, ok := v.RawGetString("name").(lua.LString)
			if !ok || name == "" {
				return badReturn(fmt.Sprintf("readdir: entry %d has no name", i)), 0
			}
			e := dirEnt{name: string(name)}
			a, err := readAttr(v)
			if err != nil {
				return badReturn(fmt.Sprintf("readdir: entry %d (%s): %s", i, name, err)), 0
			}
			if v.RawGetString("type") != lua.LNil || v.RawGetString("mode") != lua.LNil {
				e.mode = a.typ
			}
			full := false
			v.ForEach(func(k, _ lua.LValue) {
				if s, ok := k.(lua.LString); ok && s != "name" && s != "type" {
					full = true
				}
			})
			if full {
				e.attr = a
			}
			out = append(out, e)
		default:
			return badReturn(fmt.Sprintf("readdir: entry %d: string or table expected, got %s", i, v.Type())), 0
		}
		if nm := out[len(out)-1].name; nm == "." || nm == ".." || nm == "" || containsSlash(nm) {
			return badReturn(fmt.Sprintf("readdir: entry %d: bad name %q", i, nm)), 0
		}
	}
	return out, 0
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' || s[i] == 0 {
			return true
		}
	}
	return false
}

// convData is the conv of read and readlink: a string (nil is empty).
func convData(L *lua.LState, rets []lua.LValue) (any, syscall.Errno) {
	if len(rets) == 0 || rets[0] == lua.LNil {
		return []byte{}, 0
	}
	switch v := rets[0].(type) {
	case lua.LString:
		return []byte(v), 0
	case lua.LNumber:
		return []byte(v.String()), 0
	}
	return badReturn(fmt.Sprintf("must return a string, got %s", rets[0].Type())), 0
}

// convKeep keeps the first return value as is (a file handle for open
// and create). Lua values stay alive while Go holds them.
func convKeep(L *lua.LState, rets []lua.LValue) (any, syscall.Errno) {
	if len(rets) == 0 {
		return lua.LValue(lua.LNil), 0
	}
	return rets[0], 0
}

// convCount is the conv of write: the bytes written (nil: all of them).
func convCount(L *lua.LState, rets []lua.LValue) (any, syscall.Errno) {
	if len(rets) == 0 || rets[0] == lua.LNil {
		return -1, 0
	}
	if n, ok := rets[0].(lua.LNumber); ok {
		return int(n), 0
	}
	return badReturn(fmt.Sprintf("write must return a count or nil, got %s", rets[0].Type())), 0
}

// convStatfs reads statfs's table.
func convStatfs(L *lua.LState, rets []lua.LValue) (any, syscall.Errno) {
	out := &fuse.StatfsOut{Bsize: 4096, Frsize: 4096, NameLen: 255}
	if len(rets) == 0 || rets[0] == lua.LNil {
		return out, 0
	}
	t, ok := rets[0].(*lua.LTable)
	if !ok {
		return badReturn(fmt.Sprintf("statfs must return a table, got %s", rets[0].Type())), 0
	}
	set64 := map[string]*uint64{"blocks": &out.Blocks, "bfree": &out.Bfree, "bavail": &out.Bavail, "files": &out.Files, "ffree": &out.Ffree}
	for k, p := range set64 {
		if v, ok, err := num(t, k); err != nil {
			return badReturn("statfs: " + err.Error()), 0
		} else if ok {
			*p = uint64(v)
		}
	}
	set32 := map[string]*uint32{"bsize": &out.Bsize, "frsize": &out.Frsize, "namelen": &out.NameLen}
	for k, p := range set32 {
		if v, ok, err := num(t, k); err != nil {
			return badReturn("statfs: " + err.Error()), 0
		} else if ok {
			*p = uint32(v)
		}
	}
	if _, ok := t.RawGetString("bavail").(lua.LNumber); !ok {
		out.Bavail = out.Bfree
	}
	return out, 0
}
