package fuse

import (
	"context"
	"fmt"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	lua "github.com/yuin/gopher-lua"
)

// node is every file and directory: go-fuse keeps the tree of what the
// kernel knows, node turns each request into a path and a callback.
type node struct {
	fs.Inode
	m *mount
}

// handle is an open file: the value open (or create) returned, passed
// back to read, write, flush, fsync and release.
type handle struct {
	val lua.LValue
}

var (
	_ fs.NodeLookuper       = (*node)(nil)
	_ fs.NodeGetattrer      = (*node)(nil)
	_ fs.NodeSetattrer      = (*node)(nil)
	_ fs.NodeOpendirHandler = (*node)(nil)
	_ fs.NodeOpener         = (*node)(nil)
	_ fs.NodeReader         = (*node)(nil)
	_ fs.NodeWriter         = (*node)(nil)
	_ fs.NodeFlusher        = (*node)(nil)
	_ fs.NodeFsyncer        = (*node)(nil)
	_ fs.NodeReleaser       = (*node)(nil)
	_ fs.NodeCreater        = (*node)(nil)
	_ fs.NodeMkdirer        = (*node)(nil)
	_ fs.NodeUnlinker       = (*node)(nil)
	_ fs.NodeRmdirer        = (*node)(nil)
	_ fs.NodeRenamer        = (*node)(nil)
	_ fs.NodeSymlinker      = (*node)(nil)
	_ fs.NodeReadlinker     = (*node)(nil)
	_ fs.NodeStatfser       = (*node)(nil)
)

// path is the node's path as Lua sees it: "/" for the root, "/a/b".
func (n *node) path() string {
	return "/" + n.Path(nil)
}

func (n *node) child(name string) string {
	p := n.Path(nil)
	if p == "" {
		return "/" + name
	}
	return "/" + p + "/" + name
}

func str(s string) lua.LValue { return lua.LString(s) }

func num64[T int | int64 | uint32 | uint64](v T) lua.LValue { return lua.LNumber(v) }

func fhVal(f fs.FileHandle) lua.LValue {
	if h, ok := f.(*handle); ok && h.val != nil {
		return h.val
	}
	return lua.LNil
}

// getattr calls the getattr callback for path.
func (n *node) getattr(ctx context.Context, path string) (*attr, syscall.Errno) {
	v, errno := n.m.call(ctx, request{op: "getattr", path: path}, n.m.op("getattr"), []lua.LValue{str(path)}, convAttr)
	if errno != 0 {
		return nil, errno
	}
	return v.(*attr), 0
}

// newChild returns the inode for name with attributes a: the one the
// tree already has when it is the same kind of thing, so that inode
// numbers stay put while the kernel knows them.
func (n *node) newChild(ctx context.Context, name string, a *attr, fresh bool, out *fuse.EntryOut) *fs.Inode {
	var ch *fs.Inode
	if !fresh {
		if old := n.GetChild(name); old != nil && old.Mode() == a.typ && (a.ino == 0 || old.StableAttr().Ino == a.ino) {
			ch = old
		}
	}
	if ch == nil {
		ch = n.NewInode(ctx, &node{m: n.m}, fs.StableAttr{Mode: a.typ, Ino: a.ino})
	}
	a.fill(&out.Attr, n.m)
	return ch
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	a, errno := n.getattr(ctx, n.child(name))
	if errno != 0 {
		return nil, errno
	}
	return n.newChild(ctx, name, a, false, out), 0
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	a, errno := n.getattr(ctx, n.path())
	if errno != 0 {
		return errno
	}
	if a.typ != n.Mode() && !n.IsRoot() {
		// The path is now a different kind of thing: the kernel must
		// look it up again.
		return syscall.ESTALE
	}
	a.fill(&out.Attr, n.m)
	return 0
}

// readonly is the errno of a change the filesystem cannot make.
func (n *node) readonly(op string) syscall.Errno {
	if n.m.opts.readOnly || n.m.op(op) == nil {
		return syscall.EROFS
	}
	return 0
}

func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	path := n.path()
	m := n.m
	if m.opts.readOnly {
		return syscall.EROFS
	}
	if size, ok := in.GetSize(); ok {
		if e := n.readonly("truncate"); e != 0 {
			return e
		}
		if _, e := m.call(ctx, request{op: "truncate", path: path, detail: fmt.Sprint(size)}, m.op("truncate"),
			[]lua.LValue{str(path), num64(size), fhVal(f)}, nil); e != 0 {
			return e
		}
	}
	if mode, ok := in.GetMode(); ok {
		if m.op("chmod") != nil {
			if _, e := m.call(ctx, request{op: "chmod", path: path, detail: fmt.Sprintf("%o", mode&07777)}, m.op("chmod"),
				[]lua.LValue{str(path), num64(mode & 07777)}, nil); e != 0 {
				return e
			}
		} else if !m.writable() {
			return syscall.EROFS
		}
	}
	uid, uok := in.GetUID()
	gid, gok := in.GetGID()
	if uok || gok {
		if m.op("chown") != nil {
			u, g := lua.LValue(lua.LNil), lua.LValue(lua.LNil)
			if uok {
				u = num64(uid)
			}
			if gok {
				g = num64(gid)
			}
			if _, e := m.call(ctx, request{op: "chown", path: path}, m.op("chown"), []lua.LValue{str(path), u, g}, nil); e != 0 {
				return e
			}
		} else if !m.writable() {
			return syscall.EROFS
		}
	}
	mt, mok := in.GetMTime()
	at, aok := in.GetATime()
	if mok || aok {
		if m.op("utimens") != nil {
			a, mm := lua.LValue(lua.LNil), lua.LValue(lua.LNil)
			if aok {
				a = lua.LNumber(float64(at.UnixNano()) / 1e9)
			}
			if mok {
				mm = lua.LNumber(float64(mt.UnixNano()) / 1e9)
			}
			if _, e := m.call(ctx, request{op: "utimens", path: path}, m.op("utimens"), []lua.LValue{str(path), a, mm}, nil); e != 0 {
				return e
			}
		} else if !m.writable() {
			return syscall.EROFS
		}
	}
	return n.Getattr(ctx, f, out)
}

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	path := n.path()
	if fn := n.m.op("readlink"); fn != nil {
		v, errno := n.m.call(ctx, request{op: "readlink", path: path}, fn, []lua.LValue{str(path)}, convData)
		if errno != 0 {
			return nil, errno
		}
		return v.([]byte), 0
	}
	a, errno := n.getattr(ctx, path)
	if errno != 0 {
		return nil, errno
	}
	if a.target == "" {
		return nil, syscall.EINVAL
	}
	return []byte(a.target), 0
}

func (n *node) openFlags() uint32 {
	var fl uint32
	if n.m.opts.directIO {
		fl |= fuse.FOPEN_DIRECT_IO
	}
	if n.m.opts.keepCache {
		fl |= fuse.FOPEN_KEEP_CACHE
	}
	return fl
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		if e := n.readonly("write"); e != 0 {
			return nil, 0, e
		}
	}
	fn := n.m.op("open")
	if fn == nil {
		return &handle{}, n.openFlags(), 0
	}
	path := n.path()
	v, errno := n.m.call(ctx, request{op: "open", path: path, detail: openMode(flags)}, fn, []lua.LValue{str(path), num64(flags)}, convKeep)
	if errno != 0 {
		return nil, 0, errno
	}
	return &handle{val: v.(lua.LValue)}, n.openFlags(), 0
}

func openMode(flags uint32) string {
	switch flags & syscall.O_ACCMODE {
	case syscall.O_WRONLY:
		return "w"
	case syscall.O_RDWR:
		return "rw"
	}
	return "r"
}

func (n *node) Read(ctx context.Context, f fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	fn := n.m.op("read")
	if fn == nil {
		return fuse.ReadResultData(nil), 0
	}
	path := n.path()
	v, errno := n.m.call(ctx, request{op: "read", path: path, detail: fmt.Sprintf("%d@%d", len(dest), off)}, fn,
		[]lua.LValue{str(path), num64(len(dest)), num64(off), fhVal(f)}, convData)
	if errno != 0 {
		return nil, errno
	}
	b := v.([]byte)
	if len(b) > len(dest) {
		b = b[:len(dest)]
	}
	return fuse.ReadResultData(b), 0
}

func (n *node) Write(ctx context.Context, f fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	if e := n.readonly("write"); e != 0 {
		return 0, e
	}
	path := n.path()
	v, errno := n.m.call(ctx, request{op: "write", path: path, detail: fmt.Sprintf("%d@%d", len(data), off)}, n.m.op("write"),
		[]lua.LValue{str(path), lua.LString(string(data)), num64(off), fhVal(f)}, convCount)
	if errno != 0 {
		return 0, errno
	}
	c := v.(int)
	if c < 0 || c > len(data) {
		c = len(data)
	}
	return uint32(c), 0
}

func (n *node) Flush(ctx context.Context, f fs.FileHandle) syscall.Errno {
	fn := n.m.op("flush")
	if fn == nil {
		return 0
	}
	path := n.path()
	_, errno := n.m.call(ctx, request{op: "flush", path: path}, fn, []lua.LValue{str(path), fhVal(f)}, nil)
	return errno
}

func (n *node) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	fn := n.m.op("fsync")
	if fn == nil {
		return 0
	}
	path := n.path()
	_, errno := n.m.call(ctx, request{op: "fsync", path: path}, fn, []lua.LValue{str(path), fhVal(f)}, nil)
	return errno
}

func (n *node) Release(ctx context.Context, f fs.FileHandle) syscall.Errno {
	fn := n.m.op("release")
	if fn == nil {
		return 0
	}
	path := n.path()
	// The kernel does not wait for release; neither does a closed run.
	_, errno := n.m.call(context.Background(), request{op: "release", path: path}, fn, []lua.LValue{str(path), fhVal(f)}, nil)
	return errno
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if e := n.readonly("create"); e != 0 {
		return nil, nil, 0, e
	}
	path := n.child(name)
	v, errno := n.m.call(ctx, request{op: "create", path: path, detail: fmt.Sprintf("%o", mode&07777)}, n.m.op("create"),
		[]lua.LValue{str(path), num64(mode & 07777), num64(flags)}, convKeep)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	a := n.attrAfter(ctx, path, &attr{typ: syscall.S_IFREG, perm: mode & 07777, uid: -1, gid: -1})
	if a.typ != syscall.S_IFREG {
		return nil, nil, 0, syscall.EIO
	}
	return n.newChild(ctx, name, a, true, out), &handle{val: v.(lua.LValue)}, n.openFlags(), 0
}

// attrAfter is the attributes of a path just made: getattr's, or def when
// getattr does not know it (yet).
func (n *node) attrAfter(ctx context.Context, path string, def *attr) *attr {
	a, errno := n.getattr(ctx, path)
	if errno != 0 {
		return def
	}
	return a
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if e := n.readonly("mkdir"); e != 0 {
		return nil, e
	}
	path := n.child(name)
	if _, errno := n.m.call(ctx, request{op: "mkdir", path: path, detail: fmt.Sprintf("%o", mode&07777)}, n.m.op("mkdir"),
		[]lua.LValue{str(path), num64(mode & 07777)}, nil); errno != 0 {
		return nil, errno
	}
	a := n.attrAfter(ctx, path, &attr{typ: syscall.S_IFDIR, perm: mode & 07777, uid: -1, gid: -1})
	if a.typ != syscall.S_IFDIR {
		return nil, syscall.EIO
	}
	return n.newChild(ctx, name, a, false, out), 0
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if e := n.readonly("symlink"); e != 0 {
		return nil, e
	}
	path := n.child(name)
	if _, errno := n.m.call(ctx, request{op: "symlink", path: path, detail: "-> " + target}, n.m.op("symlink"),
		[]lua.LValue{str(target), str(path)}, nil); errno != 0 {
		return nil, errno
	}
	a := n.attrAfter(ctx, path, &attr{typ: syscall.S_IFLNK, uid: -1, gid: -1, target: target, size: uint64(len(target))})
	if a.typ != syscall.S_IFLNK {
		return nil, syscall.EIO
	}
	return n.newChild(ctx, name, a, false, out), 0
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	if e := n.readonly("unlink"); e != 0 {
		return e
	}
	path := n.child(name)
	_, errno := n.m.call(ctx, request{op: "unlink", path: path}, n.m.op("unlink"), []lua.LValue{str(path)}, nil)
	return errno
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	if e := n.readonly("rmdir"); e != 0 {
		return e
	}
	path := n.child(name)
	_, errno := n.m.call(ctx, request{op: "rmdir", path: path}, n.m.op("rmdir"), []lua.LValue{str(path)}, nil)
	return errno
}

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if e := n.readonly("rename"); e != 0 {
		return e
	}
	if flags != 0 {
		// RENAME_NOREPLACE/EXCHANGE: not offered; callers fall back.
		return syscall.EINVAL
	}
	np, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	from, to := n.child(name), np.child(newName)
	_, errno := n.m.call(ctx, request{op: "rename", path: from, detail: "-> " + to}, n.m.op("rename"),
		[]lua.LValue{str(from), str(to)}, nil)
	return errno
}

func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	fn := n.m.op("statfs")
	if fn == nil {
		*out = fuse.StatfsOut{Bsize: 4096, Frsize: 4096, NameLen: 255}
		return 0
	}
	path := n.path()
	v, errno := n.m.call(ctx, request{op: "statfs", path: path}, fn, []lua.LValue{str(path)}, convStatfs)
	if errno != 0 {
		return errno
	}
	*out = *v.(*fuse.StatfsOut)
	return 0
}

// ---- directories ----

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return &dirHandle{n: n}, 0, 0
}

// dirHandle is an open directory: the listing is fetched on the first
// read (and again after a rewind), so that ls sees a fresh one each time.
type dirHandle struct {
	n      *node
	ents   []dirEnt
	byName map[string]*dirEnt
	loaded bool
	pos    int
}

var (
	_ fs.FileReaddirenter = (*dirHandle)(nil)
	_ fs.FileSeekdirer    = (*dirHandle)(nil)
	_ fs.FileLookuper     = (*dirHandle)(nil)
	_ fs.FileReleasedirer = (*dirHandle)(nil)
)

func (d *dirHandle) load(ctx context.Context) syscall.Errno {
	if d.loaded {
		return 0
	}
	fn := d.n.m.op("readdir")
	if fn == nil {
		d.loaded = true
		return 0
	}
	path := d.n.path()
	v, errno := d.n.m.call(ctx, request{op: "readdir", path: path}, fn, []lua.LValue{str(path)}, convList)
	if errno != 0 {
		return errno
	}
	d.ents = v.([]dirEnt)
	d.byName = make(map[string]*dirEnt, len(d.ents))
	for i := range d.ents {
		d.byName[d.ents[i].name] = &d.ents[i]
	}
	d.loaded = true
	return 0
}

func (d *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if errno := d.load(ctx); errno != 0 {
		return nil, errno
	}
	if d.pos >= len(d.ents) {
		return nil, 0
	}
	e := &d.ents[d.pos]
	d.pos++
	mode := e.mode
	if e.attr != nil {
		mode = e.attr.typ
	}
	return &fuse.DirEntry{Name: e.name, Mode: mode, Off: uint64(d.pos)}, 0
}

func (d *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off == 0 {
		d.loaded, d.ents, d.byName = false, nil, nil
	}
	d.pos = int(off)
	return 0
}

// Lookup answers the lookups of READDIRPLUS from the listing when its
// entries carry attributes; for bare names it declines (the kernel then
// lists the name and looks it up when it is used).
func (d *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	e := d.byName[name]
	if e == nil || e.attr == nil {
		return nil, syscall.ENOENT
	}
	a := *e.attr
	return d.n.newChild(ctx, name, &a, false, out), 0
}

func (d *dirHandle) Releasedir(ctx context.Context, releaseFlags uint32) {}
