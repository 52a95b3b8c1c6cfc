package stdlib

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// fs: files and directories. Every call that touches the disk runs off the
// Lua thread (host.Go), so other tasks keep running; walk's iterator form,
// which gopher-lua cannot suspend, reads ahead on a goroutine instead.
var fsFuncs = map[string]lua.LGFunction{
	"stat":     fsStat,     // stat(p) → entry | nil when absent (follows links)
	"lstat":    fsLstat,    // lstat(p) → entry | nil (the link itself)
	"exists":   fsExists,   // exists(p) → bool
	"readdir":  fsReaddir,  // readdir(dir) → {entry...} sorted by name
	"walk":     fsWalk,     // walk(dir [, fn] [, opts]): see below
	"mkdir":    fsMkdir,    // mkdir(p, {parents=, mode=})
	"remove":   fsRemove,   // remove(p, {recursive=}) → true | false when absent
	"rename":   fsRename,   // rename(from, to)
	"read":     fsRead,     // read(p) → string
	"write":    fsWrite,    // write(p, string|stream, {mode=, append=, atomic=}) → bytes
	"open":     fsOpen,     // open(p, "r"|"w"|"a"|"r+"|"w+"|"a+"|"x") → stream
	"glob":     fsGlob,     // glob(pattern) → {path...} sorted
	"match":    fsMatch,    // match(pattern, name) → bool
	"symlink":  fsSymlink,  // symlink(target, link)
	"readlink": fsReadlink, // readlink(p) → target | nil when absent
	"chmod":    fsChmod,    // chmod(p, mode) (number or octal string "0644")
	"utime":    fsUtime,    // utime(p, atime, mtime) (float seconds; nil = now)
	"tmpdir":   fsTmpdir,   // tmpdir([prefix]) → a new private directory
}

// FSLoader is require("fs").
func FSLoader(L *lua.LState) int {
	host.NewClass(L, "walker", map[string]lua.LGFunction{
		"next":  walkerNext,
		"skip":  walkerSkip,
		"close": walkerClose,
	})
	m := host.Module(L, fsFuncs)
	// The callback form of walk calls Lua (which may suspend) between
	// batches, so it is a Lua loop over the walker.
	fn, err := L.Load(strings.NewReader(walkLua), "host:fs")
	if err != nil {
		panic(err)
	}
	L.Push(fn)
	L.Push(m.RawGetString("walk"))
	L.Call(1, 1)
	m.RawSetString("walk", L.Get(-1))
	L.Pop(1)
	L.Push(m)
	return 1
}

const walkLua = `local open = ...
return function(dir, fn, opts)
  local w = open(dir, fn, opts)
  if type(fn) ~= "function" then return w end
  local skipping
  while true do
    local batch = w:next()
    if not batch then return end
    for i = 1, #batch do
      local e = batch[i]
      if skipping and e.rel:sub(1, #skipping) == skipping then
        -- inside a directory the callback skipped
      else
        skipping = nil
        local r = fn(e)
        if r == false then w:close() return end
        if r == "skip" and e.type == "dir" then
          skipping = e.rel .. "/"
          w:skip(e.rel)
        end
      end
    end
  end
end`

// Entry is what stat, readdir and walk report about a file.
type Entry struct {
	Path  string
	Rel   string // relative to walk's root, with "/" (walk only)
	Name  string
	Type  string // "file", "dir", "link", "other"
	Size  int64
	Mode  uint32 // permission bits with setuid/setgid/sticky, as chmod takes them
	Mtime float64
	Atime float64
	UID   int
	GID   int
	Link  string // a symlink's target
	Err   error  // walk: this entry could not be read
	fatal bool   // walk: the root itself failed; raise
}

func newEntry(path string, fi fs.FileInfo) *Entry {
	mt := fi.ModTime()
	e := &Entry{Path: path, Name: fi.Name(), Size: fi.Size(), Mtime: float64(mt.Unix()) + float64(mt.Nanosecond())/1e9}
	m := fi.Mode()
	switch {
	case m.IsRegular():
		e.Type = "file"
	case m.IsDir():
		e.Type = "dir"
	case m&fs.ModeSymlink != 0:
		e.Type = "link"
		e.Link, _ = os.Readlink(path)
	default:
		e.Type = "other"
	}
	e.Mode = uint32(m.Perm())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.Mode = st.Mode & 07777
		e.UID, e.GID = int(st.Uid), int(st.Gid)
		e.Atime = float64(st.Atim.Sec) + float64(st.Atim.Nsec)/1e9
	}
	return e
}

func (e *Entry) push(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 12)
	t.RawSetString("path", lua.LString(e.Path))
	if e.Rel != "" {
		t.RawSetString("rel", lua.LString(e.Rel))
	}
	if e.Name != "" {
		t.RawSetString("name", lua.LString(e.Name))
	}
	if e.Err != nil {
		he := host.Wrap("", e.Err)
		t.RawSetString("error", lua.LString(he.Message))
		t.RawSetString("kind", lua.LString(he.Kind))
		if e.Type != "" {
			t.RawSetString("type", lua.LString(e.Type))
		}
		if e.Link != "" {
			t.RawSetString("link", lua.LString(e.Link))
		}
		return t
	}
	t.RawSetString("type", lua.LString(e.Type))
	t.RawSetString("size", lua.LNumber(e.Size))
	t.RawSetString("mode", lua.LNumber(e.Mode))
	t.RawSetString("mtime", lua.LNumber(e.Mtime))
	t.RawSetString("atime", lua.LNumber(e.Atime))
	t.RawSetString("uid", lua.LNumber(e.UID))
	t.RawSetString("gid", lua.LNumber(e.GID))
	if e.Link != "" {
		t.RawSetString("link", lua.LString(e.Link))
	}
	return t
}

// absent reports errors that mean "there is nothing there".
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func fsErr(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is in our prefix already
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		err = le.Err
	}
	he := host.Wrap("fs: "+op+" "+path, err)
	he.Err = err
	return he.With("path", path)
}

func statCall(L *lua.LState, follow bool, name string) int {
	p := L.CheckString(1)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		var fi fs.FileInfo
		var err error
		if follow {
			fi, err = os.Stat(p)
		} else {
			fi, err = os.Lstat(p)
		}
		if absent(err) {
			return pushNil, nil
		}
		if err != nil {
			return nil, fsErr(name, p, err)
		}
		e := newEntry(p, fi)
		if follow && e.Link == "" {
			if li, err := os.Lstat(p); err == nil && li.Mode()&fs.ModeSymlink != 0 {
				e.Link, _ = os.Readlink(p)
			}
		}
		return func(L *lua.LState) int { L.Push(e.push(L)); return 1 }, nil
	})
}

var pushNil host.Push = func(L *lua.LState) int { L.Push(lua.LNil); return 1 }

func fsStat(L *lua.LState) int  { return statCall(L, true, "stat") }
func fsLstat(L *lua.LState) int { return statCall(L, false, "lstat") }

func fsExists(L *lua.LState) int {
	p := L.CheckString(1)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		_, err := os.Stat(p)
		return pushBool(err == nil), nil
	})
}

func pushBool(b bool) host.Push {
	return func(L *lua.LState) int { L.Push(lua.LBool(b)); return 1 }
}

func pushEntries(es []*Entry) host.Push {
	return func(L *lua.LState) int {
		t := L.CreateTable(len(es), 0)
		for i, e := range es {
			t.RawSetInt(i+1, e.push(L))
		}
		L.Push(t)
		return 1
	}
}

// readEntries lists dir sorted by name, lstat-ing each; an entry that
// vanished or cannot be stat-ed carries its error.
func readEntries(dir string) ([]*Entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil && len(des) == 0 {
		return nil, err
	}
	es := make([]*Entry, 0, len(des))
	for _, de := range des {
		p := filepath.Join(dir, de.Name())
		fi, ierr := de.Info()
		if ierr != nil {
			es = append(es, &Entry{Path: p, Name: de.Name(), Err: fsErr("lstat", p, ierr)})
			continue
		}
		es = append(es, newEntry(p, fi))
	}
	return es, err
}

func fsReaddir(L *lua.LState) int {
	dir := L.CheckString(1)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		es, err := readEntries(dir)
		if err != nil {
			return nil, fsErr("readdir", dir, err)
		}
		return pushEntries(es), nil
	})
}

// ---- walk ----

// walker walks a tree depth-first in name order on its own goroutine,
// reading ahead into ch; the Lua side takes entries in batches.
type walker struct {
	root    string
	follow  bool
	depth   int
	exclude []string
	ch      chan *Entry
	cancel  context.CancelFunc
	mu      sync.Mutex
	skipped map[string]bool
	buf     []*Entry
	done    bool
}

func (w *walker) String() string { return "walker(" + w.root + ")" }

// fsWalk is the Go half of walk: walk(dir [, fn] [, opts]) returns a walker
// that is also the iterator of `for e in fs.walk(dir) do`.
func fsWalk(L *lua.LState) int {
	dir := L.CheckString(1)
	var opts *lua.LTable
	switch v := L.Get(2).(type) {
	case *lua.LFunction:
		opts = host.OptTable(L, 3)
	case *lua.LTable:
		opts = v
	case *lua.LNilType:
		opts = host.OptTable(L, 3)
	default:
		L.ArgError(2, "function or table expected, got "+host.TypeName(v))
	}
	w := &walker{root: dir, ch: make(chan *Entry, 256), skipped: map[string]bool{}}
	w.follow = lua.LVAsBool(opts.RawGetString("follow"))
	if d, ok := opts.RawGetString("depth").(lua.LNumber); ok {
		w.depth = int(d)
	}
	switch ex := opts.RawGetString("exclude").(type) {
	case lua.LString:
		w.exclude = []string{string(ex)}
	case *lua.LTable:
		for i := 1; i <= ex.Len(); i++ {
			w.exclude = append(w.exclude, lua.LVAsString(ex.RawGetInt(i)))
		}
	case *lua.LNilType:
	default:
		L.ArgError(3, "exclude: string or table expected, got "+host.TypeName(ex))
	}
	for _, g := range w.exclude {
		if _, err := filepath.Match(g, ""); err != nil {
			L.ArgError(3, fmt.Sprintf("exclude: bad pattern %q", g))
		}
	}
	ctx, cancel := context.WithCancel(host.From(L).Context())
	w.cancel = cancel
	go w.run(ctx)
	if _, ok := L.Get(2).(*lua.LFunction); ok {
		L.Push(host.NewObject(L, "walker", w))
		return 1
	}
	// Iterator form: a function the generic for can call; it cannot
	// suspend, so it waits with Block when the read-ahead runs dry.
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if len(w.buf) == 0 && !w.done {
			var err error
			berr := host.Block(L, func(ctx context.Context) error {
				err = w.fill(ctx)
				return nil
			})
			if berr != nil {
				return host.Raise(L, berr)
			}
			if err != nil {
				return host.Raise(L, err)
			}
		}
		if len(w.buf) == 0 {
			L.Push(lua.LNil)
			return 1
		}
		e := w.buf[0]
		w.buf = w.buf[1:]
		L.Push(e.push(L))
		return 1
	}))
	return 1
}

// fill waits for at least one entry, then takes whatever else is ready.
func (w *walker) fill(ctx context.Context) error {
	select {
	case e, ok := <-w.ch:
		if !ok {
			w.done = true
			return nil
		}
		if e.fatal {
			w.done = true
			return e.Err
		}
		w.buf = append(w.buf, e)
	case <-ctx.Done():
		return ctx.Err()
	}
	for len(w.buf) < cap(w.ch) {
		select {
		case e, ok := <-w.ch:
			if !ok {
				w.done = true
				return nil
			}
			w.buf = append(w.buf, e)
		default:
			return nil
		}
	}
	return nil
}

// next() → a list of entries, or nil when the walk is over.
func walkerNext(L *lua.LState) int {
	w := host.Check[*walker](L, 1, "walker")
	if w.done && len(w.buf) == 0 {
		L.Push(lua.LNil)
		return 1
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		if err := w.fill(ctx); err != nil {
			return nil, err
		}
		batch := w.buf
		w.buf = nil
		if len(batch) == 0 {
			return pushNil, nil
		}
		return pushEntries(batch), nil
	})
}

// skip(rel): do not descend into the directory rel.
func walkerSkip(L *lua.LState) int {
	w := host.Check[*walker](L, 1, "walker")
	rel := L.CheckString(2)
	w.mu.Lock()
	w.skipped[rel] = true
	w.mu.Unlock()
	return 0
}

func walkerClose(L *lua.LState) int {
	w := host.Check[*walker](L, 1, "walker")
	w.cancel()
	w.done = true
	w.buf = nil
	return 0
}

func (w *walker) isSkipped(rel string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for r := rel; r != "." && r != ""; r = pathDir(r) {
		if w.skipped[r] {
			return true
		}
	}
	return false
}

func pathDir(rel string) string {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return ""
	}
	return rel[:i]
}

func (w *walker) excluded(rel, name string) bool {
	for _, g := range w.exclude {
		target := name
		if strings.Contains(g, "/") {
			target = rel
		}
		if ok, _ := filepath.Match(g, target); ok {
			return true
		}
	}
	return false
}

type fileID struct{ dev, ino uint64 }

func idOf(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), st.Ino}, true
}

func (w *walker) send(ctx context.Context, e *Entry) bool {
	select {
	case w.ch <- e:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *walker) run(ctx context.Context) {
	defer close(w.ch)
	fi, err := os.Lstat(w.root)
	if err == nil && w.follow && fi.Mode()&fs.ModeSymlink != 0 {
		fi, err = os.Stat(w.root)
	}
	if err != nil {
		w.send(ctx, &Entry{Path: w.root, fatal: true, Err: fsErr("walk", w.root, err)})
		return
	}
	if !fi.IsDir() {
		e := newEntry(w.root, fi)
		e.Rel = e.Name
		w.send(ctx, e)
		return
	}
	var ancestors []fileID
	if id, ok := idOf(fi); ok {
		ancestors = append(ancestors, id)
	}
	w.dir(ctx, w.root, "", 1, ancestors)
}

// dir sends the entries of path (rel to the root) and descends into its
// subdirectories; false means stop (cancelled).
func (w *walker) dir(ctx context.Context, path, rel string, depth int, ancestors []fileID) bool {
	es, err := readEntries(path)
	if err != nil {
		r := rel
		if r == "" {
			r = "."
		}
		if !w.send(ctx, &Entry{Path: path, Rel: r, Name: filepath.Base(path), Type: "dir", Err: fsErr("readdir", path, err)}) {
			return false
		}
	}
	for _, e := range es {
		e.Rel = e.Name
		if rel != "" {
			e.Rel = rel + "/" + e.Name
		}
		if w.excluded(e.Rel, e.Name) {
			continue
		}
		sub := e.Type == "dir" && e.Err == nil
		var id fileID
		if w.follow && e.Err == nil {
			if fi, err := os.Lstat(e.Path); err == nil {
				id, _ = idOf(fi)
			}
		}
		if w.follow && e.Type == "link" {
			fi, err := os.Stat(e.Path)
			switch {
			case err != nil:
				e.Err = fsErr("walk: follow", e.Path, err)
			default:
				target := newEntry(e.Path, fi)
				target.Rel, target.Link = e.Rel, e.Link
				e = target
				id, _ = idOf(fi)
				if fi.IsDir() {
					sub = true
					for _, a := range ancestors {
						if a == id {
							e.Err = host.Errorf("ELOOP", "fs: walk %s: symlink loop (%s points to an ancestor)", e.Path, e.Link).With("path", e.Path)
							sub = false
						}
					}
				}
			}
		}
		if !w.send(ctx, e) {
			return false
		}
		if sub && (w.depth <= 0 || depth < w.depth) && !w.isSkipped(e.Rel) {
			if !w.dir(ctx, e.Path, e.Rel, depth+1, append(ancestors[:len(ancestors):len(ancestors)], id)) {
				return false
			}
		}
	}
	return true
}

// ---- changing things ----

// modeArg reads a permission mode: a number, or an octal string ("0644").
func modeArg(L *lua.LState, v lua.LValue, n int, what string) (os.FileMode, bool) {
	switch x := v.(type) {
	case *lua.LNilType:
		return 0, false
	case lua.LNumber:
		return os.FileMode(x), true
	case lua.LString:
		m, err := strconv.ParseUint(string(x), 8, 32)
		if err == nil {
			return os.FileMode(m), true
		}
		L.ArgError(n, fmt.Sprintf("%sbad mode %q (octal like \"0644\")", what, string(x)))
	default:
		L.ArgError(n, what+"mode: number or octal string expected, got "+host.TypeName(v))
	}
	return 0, false
}

// unixMode turns chmod-style bits (04000 setuid...) into an os.FileMode.
func unixMode(m os.FileMode) os.FileMode {
	out := m & 0777
	if m&04000 != 0 {
		out |= os.ModeSetuid
	}
	if m&02000 != 0 {
		out |= os.ModeSetgid
	}
	if m&01000 != 0 {
		out |= os.ModeSticky
	}
	return out
}

func fsMkdir(L *lua.LState) int {
	p := L.CheckString(1)
	o := host.OptTable(L, 2)
	parents := lua.LVAsBool(o.RawGetString("parents"))
	mode, ok := modeArg(L, o.RawGetString("mode"), 2, "mode: ")
	if !ok {
		mode = 0777
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		var err error
		if parents {
			err = os.MkdirAll(p, unixMode(mode))
		} else {
			err = os.Mkdir(p, unixMode(mode))
		}
		if err != nil {
			return nil, fsErr("mkdir", p, err)
		}
		return nil, nil
	})
}

func fsRemove(L *lua.LState) int {
	p := L.CheckString(1)
	o := host.OptTable(L, 2)
	recursive := lua.LVAsBool(o.RawGetString("recursive"))
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		if _, err := os.Lstat(p); absent(err) {
			return pushBool(false), nil
		}
		var err error
		if recursive {
			err = os.RemoveAll(p)
		} else {
			err = os.Remove(p)
		}
		if err != nil {
			return nil, fsErr("remove", p, err)
		}
		return pushBool(true), nil
	})
}

func fsRename(L *lua.LState) int {
	from, to := L.CheckString(1), L.CheckString(2)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		if err := os.Rename(from, to); err != nil {
			return nil, fsErr("rename", from+" to "+to, err)
		}
		return nil, nil
	})
}

func fsRead(L *lua.LState) int {
	p := L.CheckString(1)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fsErr("read", p, err)
		}
		return func(L *lua.LState) int { L.Push(lua.LString(b)); return 1 }, nil
	})
}

// write(p, data, {mode=, append=, atomic=}): data is a string or a stream
// (copied to the end). atomic writes a temporary file beside p and renames
// it over p, so readers see the old or the new content, never half.
func fsWrite(L *lua.LState) int {
	p := L.CheckString(1)
	var data string
	var src io.Reader
	switch v := L.Get(2).(type) {
	case lua.LString:
		data = string(v)
	case lua.LNumber:
		data = v.String()
	case *lua.LUserData:
		src = host.StreamArg(L, 2)
	default:
		L.ArgError(2, "string or stream expected, got "+host.TypeName(v))
	}
	o := host.OptTable(L, 3)
	mode, ok := modeArg(L, o.RawGetString("mode"), 3, "mode: ")
	if !ok {
		mode = 0666
	}
	appendMode := lua.LVAsBool(o.RawGetString("append"))
	atomic := lua.LVAsBool(o.RawGetString("atomic"))
	if appendMode && atomic {
		L.ArgError(3, "append and atomic cannot be combined")
	}
	if src == nil {
		src = strings.NewReader(data)
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		n, err := writeFile(ctx, p, src, unixMode(mode), appendMode, atomic)
		if err != nil {
			return nil, fsErr("write", p, err)
		}
		return func(L *lua.LState) int { L.Push(lua.LNumber(n)); return 1 }, nil
	})
}

func writeFile(ctx context.Context, p string, src io.Reader, mode os.FileMode, appendMode, atomic bool) (int64, error) {
	var f *os.File
	var err error
	switch {
	case atomic:
		f, err = os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp*")
		if err == nil {
			err = f.Chmod(mode)
		}
	case appendMode:
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, mode)
	default:
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	}
	if err != nil {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
		return 0, err
	}
	n, err := io.Copy(f, ctxReader{ctx, src})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if atomic {
		if err == nil {
			err = os.Rename(f.Name(), p)
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}
	return n, err
}

// ctxReader stops a long copy when the run is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

var openFlags = map[string]int{
	"r":  os.O_RDONLY,
	"w":  os.O_WRONLY | os.O_CREATE | os.O_TRUNC,
	"a":  os.O_WRONLY | os.O_CREATE | os.O_APPEND,
	"r+": os.O_RDWR,
	"w+": os.O_RDWR | os.O_CREATE | os.O_TRUNC,
	"a+": os.O_RDWR | os.O_CREATE | os.O_APPEND,
	"x":  os.O_WRONLY | os.O_CREATE | os.O_EXCL,
}

func fsOpen(L *lua.LState) int {
	p := L.CheckString(1)
	m := strings.ReplaceAll(L.OptString(2, "r"), "b", "")
	flag, ok := openFlags[m]
	if !ok {
		L.ArgError(2, fmt.Sprintf("bad mode %q (r, w, a, r+, w+, a+, x)", m))
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		f, err := os.OpenFile(p, flag, 0666)
		if err != nil {
			return nil, fsErr("open", p, err)
		}
		return func(L *lua.LState) int {
			var r io.Reader
			var w io.Writer
			if flag&(os.O_WRONLY) == 0 {
				r = f
			}
			if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
				w = f
			}
			L.Push(host.NewStream(L, p, r, w, f))
			return 1
		}, nil
	})
}

func fsGlob(L *lua.LState) int {
	pat := L.CheckString(1)
	if _, err := filepath.Match(pat, ""); err != nil {
		L.ArgError(1, fmt.Sprintf("bad pattern %q", pat))
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		ms, err := filepath.Glob(pat)
		if err != nil {
			return nil, fsErr("glob", pat, err)
		}
		sort.Strings(ms)
		return func(L *lua.LState) int { L.Push(host.ToLua(L, ms)); return 1 }, nil
	})
}

// match(pattern, name): shell-style * ? [a-z] (a * does not cross "/").
func fsMatch(L *lua.LState) int {
	pat, name := L.CheckString(1), L.CheckString(2)
	ok, err := filepath.Match(pat, name)
	if err != nil {
		L.ArgError(1, fmt.Sprintf("bad pattern %q", pat))
	}
	L.Push(lua.LBool(ok))
	return 1
}

func fsSymlink(L *lua.LState) int {
	target, link := L.CheckString(1), L.CheckString(2)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		if err := os.Symlink(target, link); err != nil {
			return nil, fsErr("symlink", link, err)
		}
		return nil, nil
	})
}

func fsReadlink(L *lua.LState) int {
	p := L.CheckString(1)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		t, err := os.Readlink(p)
		if absent(err) {
			return pushNil, nil
		}
		if err != nil {
			return nil, fsErr("readlink", p, err)
		}
		return func(L *lua.LState) int { L.Push(lua.LString(t)); return 1 }, nil
	})
}

func fsChmod(L *lua.LState) int {
	p := L.CheckString(1)
	mode, ok := modeArg(L, L.Get(2), 2, "")
	if !ok {
		L.ArgError(2, "mode expected")
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		if err := os.Chmod(p, unixMode(mode)); err != nil {
			return nil, fsErr("chmod", p, err)
		}
		return nil, nil
	})
}

func secondsTime(s float64) time.Time {
	sec := int64(s)
	return time.Unix(sec, int64((s-float64(sec))*1e9))
}

// utime(p, atime, mtime): seconds since the epoch; a nil atime is now, a
// nil mtime is atime.
func fsUtime(L *lua.LState) int {
	p := L.CheckString(1)
	now := float64(time.Now().UnixNano()) / 1e9
	at := float64(L.OptNumber(2, lua.LNumber(now)))
	mt := float64(L.OptNumber(3, lua.LNumber(at)))
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		if err := os.Chtimes(p, secondsTime(at), secondsTime(mt)); err != nil {
			return nil, fsErr("utime", p, err)
		}
		return nil, nil
	})
}

func fsTmpdir(L *lua.LState) int {
	prefix := L.OptString(1, "gos3lua-")
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		d, err := os.MkdirTemp("", prefix)
		if err != nil {
			return nil, fsErr("tmpdir", os.TempDir(), err)
		}
		return func(L *lua.LState) int { L.Push(lua.LString(d)); return 1 }, nil
	})
}
