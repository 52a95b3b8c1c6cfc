// Command randomfs-go is scripts/randomfs.lua written directly in Go on
// go-fuse: the same tree (same generator, same names, sizes and times) and
// the same kernel settings (no attribute or entry caching, listings that
// carry attributes), the ceiling bench/fuse.sh measures the Lua one against.
//
//	randomfs-go [-seed N] MOUNTPOINT
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

const modulus = 2147483647

var (
	seed  = flag.Int64("seed", 1, "seed of the tree")
	words = []string{
		"amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor",
		"iris", "juniper", "kestrel", "lagoon", "maple", "nimbus", "orchid", "pebble",
		"quartz", "raven", "saffron", "tundra", "umber", "violet", "willow", "xenon",
		"yarrow", "zephyr", "basalt", "comet", "dune", "glacier", "meadow", "spruce",
	}
	exts = []string{".txt", ".log", ".md", ".csv", ".conf", ".dat"}
)

const epoch = 1600000000

func hash(s string) int64 {
	h := *seed % modulus
	for i := 0; i < len(s); i++ {
		h = (h*31 + int64(s[i])) % modulus
	}
	if h == 0 {
		h = 1
	}
	return h
}

type gen struct{ x int64 }

func (g *gen) next(n int64) int64 {
	g.x = g.x * 16807 % modulus
	return g.x % n
}

type entry struct {
	name  string
	dir   bool
	size  uint64
	mtime uint64
}

type listing struct {
	ents   []entry
	byName map[string]*entry
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*listing{}
)

func list(dir string) *listing {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if l := cache[dir]; l != nil {
		return l
	}
	g := &gen{hash(dir)}
	l := &listing{byName: map[string]*entry{}}
	n := 3 + g.next(8)
	for i := int64(0); i < n; i++ {
		name := words[g.next(int64(len(words)))]
		if g.next(3) == 0 {
			name += "-" + strconv.FormatInt(g.next(100), 10)
		}
		e := entry{mtime: uint64(epoch + g.next(100000000))}
		if g.next(5) < 3 {
			e.dir = true
		} else {
			e.size = uint64(16 + g.next(4000))
			name += exts[g.next(int64(len(exts)))]
		}
		if l.byName[name] == nil {
			e.name = name
			l.ents = append(l.ents, e)
			l.byName[name] = &l.ents[len(l.ents)-1]
		}
	}
	// Re-point the index (append may have moved the slice).
	for i := range l.ents {
		l.byName[l.ents[i].name] = &l.ents[i]
	}
	if len(cache) >= 4096 {
		cache = map[string]*listing{}
	}
	cache[dir] = l
	return l
}

func content(path string, size uint64) []byte {
	g := &gen{hash(path + "#")}
	var b strings.Builder
	for uint64(b.Len()) < size {
		n := 3 + g.next(8)
		for i := int64(0); i < n; i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[g.next(int64(len(words)))])
		}
		b.WriteByte('\n')
	}
	return []byte(b.String()[:size])
}

type node struct{ fs.Inode }

func (n *node) path() string { return "/" + n.Path(nil) }

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

func (e *entry) fill(out *fuse.Attr) {
	if e.dir {
		out.Mode = syscall.S_IFDIR | 0755
		out.Nlink = 2
	} else {
		out.Mode = syscall.S_IFREG | 0644
		out.Nlink = 1
		out.Size = e.size
	}
	out.Mtime, out.Atime, out.Ctime = e.mtime, e.mtime, e.mtime
}

func (e *entry) mode() uint32 {
	if e.dir {
		return syscall.S_IFDIR
	}
	return syscall.S_IFREG
}

func (n *node) lookupEntry(path string) *entry {
	if path == "/" {
		return &entry{dir: true, mtime: epoch}
	}
	i := strings.LastIndexByte(path, '/')
	dir := path[:i]
	if dir == "" {
		dir = "/"
	}
	return list(dir).byName[path[i+1:]]
}

func (n *node) child(ctx context.Context, name string, e *entry, out *fuse.EntryOut) *fs.Inode {
	e.fill(&out.Attr)
	if old := n.GetChild(name); old != nil && old.Mode() == e.mode() {
		return old
	}
	return n.NewInode(ctx, &node{}, fs.StableAttr{Mode: e.mode()})
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	e := list(n.path()).byName[name]
	if e == nil {
		return nil, syscall.ENOENT
	}
	return n.child(ctx, name, e, out), 0
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	e := n.lookupEntry(n.path())
	if e == nil {
		return syscall.ENOENT
	}
	e.fill(&out.Attr)
	return 0
}

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return &dirHandle{n: n}, 0, 0
}

type dirHandle struct {
	n   *node
	l   *listing
	pos int
}

func (d *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if d.l == nil {
		d.l = list(d.n.path())
	}
	if d.pos >= len(d.l.ents) {
		return nil, 0
	}
	e := &d.l.ents[d.pos]
	d.pos++
	return &fuse.DirEntry{Name: e.name, Mode: e.mode(), Off: uint64(d.pos)}, 0
}

func (d *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off == 0 {
		d.l = nil
	}
	d.pos = int(off)
	return 0
}

func (d *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	e := d.l.byName[name]
	if e == nil {
		return nil, syscall.ENOENT
	}
	return d.n.child(ctx, name, e, out), 0
}

func (d *dirHandle) Releasedir(ctx context.Context, releaseFlags uint32) {}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EROFS
	}
	return nil, 0, 0
}

func (n *node) Read(ctx context.Context, f fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	path := n.path()
	e := n.lookupEntry(path)
	if e == nil || e.dir {
		return nil, syscall.ENOENT
	}
	data := content(path, e.size)
	if off >= int64(len(data)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(int(off)+len(dest), len(data))
	return fuse.ReadResultData(data[off:end]), 0
}

func main() {
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: randomfs-go [-seed N] MOUNTPOINT")
		os.Exit(2)
	}
	opts := &fs.Options{MountOptions: fuse.MountOptions{FsName: "randomfs-go", Name: "gos3lua", DirectMount: true,
		MaxWrite: 1 << 20, MaxReadAhead: 1 << 20, Options: []string{"ro"}}}
	srv, err := fs.Mount(flag.Arg(0), &node{}, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "randomfs-go:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		srv.Unmount()
	}()
	srv.Wait()
}
