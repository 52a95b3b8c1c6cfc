package s3

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// The Lua glue: check arguments, hand the Go work to host.Go, push results.

const (
	clientClass = "s3.client"
	bucketClass = "s3.bucket"
	serverClass = "s3.server"
)

// defaultClient is the client of the module functions, per Lua state.
func defaultClient(L *lua.LState) *Client {
	if ud, ok := L.G.Registry.RawGetString("s3.default").(*lua.LUserData); ok {
		return ud.Value.(*Client)
	}
	c := NewClient(Config{Retries: -1})
	L.G.Registry.RawSetString("s3.default", host.NewObject(L, clientClass, c))
	return c
}

// s3.use(client) makes client the default of the module functions (and so
// of scripts run in this state); it returns the previous default.
func luaUse(L *lua.LState) int {
	host.Check[*Client](L, 1, clientClass)
	prev := defaultClient(L)
	L.G.Registry.RawSetString("s3.default", L.Get(1))
	L.Push(host.NewObject(L, clientClass, prev))
	return 1
}

// s3.server{dir=, addr=} starts a store of its own on loopback (random
// keys): for tests, or to serve a directory to other tools for a while.
func luaServer(L *lua.LState) int {
	o := opts{L, host.OptTable(L, 1), 1}
	dir, addr := o.str("dir"), o.str("addr")
	if dir == "" {
		L.ArgError(1, "dir: a directory is required")
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		s, err := StartServer(dir, addr)
		if err != nil {
			return nil, host.Wrap("s3: server", err)
		}
		return func(L *lua.LState) int { L.Push(host.NewObject(L, serverClass, s)); return 1 }, nil
	})
}

func checkServer(L *lua.LState) *Server { return host.Check[*Server](L, 1, serverClass) }

func serverURL(L *lua.LState) int {
	L.Push(lua.LString(checkServer(L).URL()))
	return 1
}

// client() → a client of this server (path-style, its keys).
func serverClient(L *lua.LState) int {
	s := checkServer(L)
	L.Push(host.NewObject(L, clientClass, s.Client()))
	return 1
}

func serverClose(L *lua.LState) int {
	s := checkServer(L)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		return nil, s.Close()
	})
}

func checkClient(L *lua.LState) *Client { return host.Check[*Client](L, 1, clientClass) }
func checkBucket(L *lua.LState) *Bucket { return host.Check[*Bucket](L, 1, bucketClass) }

// s3.client{endpoint=, region=, profile=, path_style=, retries=, timeout=,
// access_key=, secret_key=, session_token=}
func luaClient(L *lua.LState) int {
	t := host.OptTable(L, 1)
	o := opts{L, t, 1}
	cfg := Config{
		Endpoint:     o.str("endpoint"),
		Region:       o.str("region"),
		Profile:      o.str("profile"),
		AccessKey:    o.str("access_key"),
		SecretKey:    o.str("secret_key"),
		SessionToken: o.str("session_token"),
		Retries:      o.int("retries", -1),
		Timeout:      o.seconds("timeout"),
	}
	if v := t.RawGetString("path_style"); v != lua.LNil {
		b := o.bool("path_style")
		cfg.PathStyle = &b
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		L.ArgError(1, "access_key and secret_key go together")
	}
	if cfg.Retries < -1 {
		L.ArgError(1, "retries must not be negative")
	}
	L.Push(host.NewObject(L, clientClass, NewClient(cfg)))
	return 1
}

func clientClose(L *lua.LState) int {
	checkClient(L).Close()
	return 0
}

func clientBuckets(L *lua.LState, c *Client, n int) int {
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		bs, err := c.Buckets(ctx)
		if err != nil {
			return nil, err
		}
		return func(L *lua.LState) int {
			t := L.CreateTable(len(bs), 0)
			for i, b := range bs {
				e := L.CreateTable(0, 2)
				e.RawSetString("name", lua.LString(b.Name))
				e.RawSetString("created", timeValue(b.Created))
				t.RawSetInt(i+1, e)
			}
			L.Push(t)
			return 1
		}, nil
	})
}

func clientCreate(L *lua.LState, c *Client, n int) int {
	name := L.CheckString(n)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		return nil, c.CreateBucket(ctx, name)
	})
}

func clientDelete(L *lua.LState, c *Client, n int) int {
	name := L.CheckString(n)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		return nil, c.DeleteBucket(ctx, name)
	})
}

// bucket(name): no network; name nil means GOS3LUA_BUCKET, else the
// default bucket of the embedded store.
func clientBucket(L *lua.LState, c *Client, n int) int {
	name := L.OptString(n, "")
	if name == "" {
		name = os.Getenv("GOS3LUA_BUCKET")
	}
	if name == "" {
		if !c.Embedded() {
			return host.Raise(L, host.Errorf("config", "s3: no bucket given: pass a name (-b BUCKET) or set GOS3LUA_BUCKET"))
		}
		name = DefaultBucket
	}
	L.Push(host.NewObject(L, bucketClass, &Bucket{c: c, Name: name}))
	return 1
}

func bucketName(L *lua.LState) int {
	L.Push(lua.LString(checkBucket(L).Name))
	return 1
}

// b:put(key, data, {content_type=, metadata=}) → {size=, etag=}
func bucketPut(L *lua.LState) int {
	b := checkBucket(L)
	key := L.CheckString(2)
	data := L.CheckString(3)
	po := putOpts(L, 4)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		res, err := b.Put(ctx, key, data, po)
		return pushResult(res), err
	})
}

// b:put_file(key, path, {sha256=, concurrency=, part_size=, ...}) → result
func bucketPutFile(L *lua.LState) int {
	b := checkBucket(L)
	key := L.CheckString(2)
	path := L.CheckString(3)
	po := putOpts(L, 4)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		res, err := b.PutFile(ctx, key, path, po)
		return pushResult(res), err
	})
}

// b:upload(key, stream, opts) → result
func bucketUpload(L *lua.LState) int {
	b := checkBucket(L)
	key := L.CheckString(2)
	s := host.StreamArg(L, 3)
	po := putOpts(L, 4)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		res, err := b.Upload(ctx, key, s, po)
		return pushResult(res), err
	})
}

// b:get(key, {range=}) → string
func bucketGet(L *lua.LState) int {
	b := checkBucket(L)
	key := L.CheckString(2)
	rng := rangeOpt(L, 3)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		data, err := b.Get(ctx, key, rng)
		if err != nil {
			return nil, err
		}
		return func(L *lua.LState) int { L.Push(lua.LString(data)); return 1 }, nil
	})
}

// b:get_file(key, path, {sha256=, concurrency=}) → result
func bucketGetFile(L *lua.LState) int {
	b := checkBucket(L)
	key := L.CheckString(2)
	path := L.CheckString(3)
	po := putOpts(L, 4)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		res, err := b.GetFile(ctx, key, path, po)
		return pushResult(res), err
	})
}

// b:open(key, {range=}) → stream
func bucketOpen(L *lua.LState) int {
	b := checkBucket(L)
	key := L.CheckString(2)
	rng := rangeOpt(L, 3)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		r, _, err := b.Open(ctx, key, rng)
		if err != nil {
			return nil, err
		}
		return func(L *lua.LState) int {
			L.Push(host.NewStream(L, "s3://"+b.Name+"/"+key, r, nil, r))
			return 1
		}, nil
	})
}

// b:download(key, stream, {sha256=, concurrency=}) → result
func bucketDownload(L *lua.LState) int {
	b := checkBucket(L)
	key := L.CheckString(2)
	s := host.StreamArg(L, 3)
	po := putOpts(L, 4)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		res, err := b.Download(ctx, key, s, po)
		return pushResult(res), err
	})
}

// b:stat(key) → {key=, size=, etag=, mtime=, content_type=, metadata=} or nil
func bucketStat(L *lua.LState) int {
	b := checkBucket(L)
	key := L.CheckString(2)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		info, err := b.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		return func(L *lua.LState) int {
			if info == nil {
				L.Push(lua.LNil)
			} else {
				L.Push(infoTable(L, *info))
			}
			return 1
		}, nil
	})
}

// b:list{prefix=, delimiter=, start_after=, page_size=} → iterator of
// {key=, size=, etag=, mtime=} (and {prefix=} with a delimiter). The first
// page is fetched here (the task suspends); a generic for cannot suspend in
// its iterator, so later pages are prefetched in the background and the
// iterator only waits (host.Block) when it outruns them.
func bucketList(L *lua.LState) int {
	b := checkBucket(L)
	o := opts{L, host.OptTable(L, 2), 2}
	lo := ListOptions{Prefix: o.str("prefix"), Delimiter: o.str("delimiter"), StartAfter: o.str("start_after"), PageSize: o.int("page_size", 0)}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		l, err := b.NewLister(ctx, lo)
		if err != nil {
			return nil, err
		}
		return func(L *lua.LState) int {
			L.Push(L.NewFunction(func(L *lua.LState) int {
				var (
					it  ObjectInfo
					ok  bool
					err error
				)
				if l.Buffered() {
					it, ok, err = l.Next(context.Background())
				} else {
					err = host.Block(L, func(ctx context.Context) error {
						it, ok, err = l.Next(ctx)
						return err
					})
				}
				if err != nil {
					return host.Raise(L, err)
				}
				if !ok {
					L.Push(lua.LNil)
					return 1
				}
				L.Push(infoTable(L, it))
				return 1
			}))
			return 1
		}, nil
	})
}

func bucketDelete(L *lua.LState) int {
	b := checkBucket(L)
	key := L.CheckString(2)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		return nil, b.Delete(ctx, key)
	})
}

// b:delete_many(keys) → number deleted
func bucketDeleteMany(L *lua.LState) int {
	b := checkBucket(L)
	keys := stringList(L, 2)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		n, err := b.DeleteMany(ctx, keys)
		if err != nil {
			return nil, err
		}
		return func(L *lua.LState) int { L.Push(lua.LNumber(n)); return 1 }, nil
	})
}

// b:copy(src, dst, {bucket=source bucket, content_type=, metadata=}) → {etag=}
func bucketCopy(L *lua.LState) int {
	b := checkBucket(L)
	src := L.CheckString(2)
	dst := L.CheckString(3)
	po := putOpts(L, 4)
	srcBucket := opts{L, host.OptTable(L, 4), 4}.str("bucket")
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		res, err := b.Copy(ctx, src, dst, srcBucket, po)
		return pushResult(res), err
	})
}

// b:split(stream, "tag-%010d", {chunk_size=, concurrency=, first=}) →
// {count=, size=, sizes={...}, sha256=}: the stream stored as numbered
// chunk objects, several uploaded at once.
func bucketSplit(L *lua.LState) int {
	b := checkBucket(L)
	s := host.StreamArg(L, 2)
	format := L.CheckString(3)
	if err := CheckChunkFormat(format); err != nil {
		L.ArgError(3, err.Error())
	}
	o := opts{L, host.OptTable(L, 4), 4}
	po := putOpts(L, 4)
	chunk := o.size("chunk_size", 10<<20)
	first := int64(o.int("first", 0))
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		res, err := b.Split(ctx, s, format, first, chunk, po)
		return pushResult(res), err
	})
}

// b:cat(keys, stream, {concurrency=}) → {count=, size=, sizes=, sha256=}:
// the objects written to stream in order, fetched ahead in parallel.
func bucketCat(L *lua.LState) int {
	b := checkBucket(L)
	keys := stringList(L, 2)
	s := host.StreamArg(L, 3)
	po := putOpts(L, 4)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		res, err := b.Cat(ctx, keys, s, po)
		if err != nil {
			return nil, err
		}
		return pushResult(res), nil
	})
}

// ---- conversions ----

func timeValue(t time.Time) lua.LValue {
	if t.IsZero() {
		return lua.LNil
	}
	return lua.LNumber(float64(t.UnixNano()) / 1e9)
}

func infoTable(L *lua.LState, it ObjectInfo) *lua.LTable {
	if it.Prefix != "" {
		t := L.CreateTable(0, 1)
		t.RawSetString("prefix", lua.LString(it.Prefix))
		return t
	}
	t := L.CreateTable(0, 4)
	t.RawSetString("key", lua.LString(it.Key))
	t.RawSetString("size", lua.LNumber(it.Size))
	t.RawSetString("etag", lua.LString(it.ETag))
	t.RawSetString("mtime", timeValue(it.MTime))
	if it.ContentType != "" {
		t.RawSetString("content_type", lua.LString(it.ContentType))
	}
	if it.Metadata != nil {
		m := L.CreateTable(0, len(it.Metadata))
		for k, v := range it.Metadata {
			m.RawSetString(k, lua.LString(v))
		}
		t.RawSetString("metadata", m)
	}
	return t
}

func pushResult(r Result) host.Push {
	return func(L *lua.LState) int {
		t := L.CreateTable(0, 5)
		t.RawSetString("size", lua.LNumber(r.Size))
		if r.ETag != "" {
			t.RawSetString("etag", lua.LString(r.ETag))
		}
		if r.SHA256 != "" {
			t.RawSetString("sha256", lua.LString(r.SHA256))
		}
		if r.Parts > 0 {
			t.RawSetString("parts", lua.LNumber(r.Parts))
		}
		if r.Sizes != nil {
			s := L.CreateTable(len(r.Sizes), 0)
			for i, n := range r.Sizes {
				s.RawSetInt(i+1, lua.LNumber(n))
			}
			t.RawSetString("sizes", s)
			t.RawSetString("count", lua.LNumber(len(r.Sizes)))
		}
		L.Push(t)
		return 1
	}
}

func stringList(L *lua.LState, n int) []string {
	t := L.CheckTable(n)
	out := make([]string, 0, t.Len())
	for i := 1; i <= t.Len(); i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok {
			L.ArgError(n, fmt.Sprintf("item %d: string expected, got %s", i, host.TypeName(t.RawGetInt(i))))
		}
		out = append(out, string(s))
	}
	return out
}

func putOpts(L *lua.LState, n int) PutOptions {
	o := opts{L, host.OptTable(L, n), n}
	po := PutOptions{
		ContentType: o.str("content_type"),
		PartSize:    o.size("part_size", 0),
		Concurrency: o.int("concurrency", 0),
		SHA256:      o.bool("sha256"),
	}
	if po.PartSize != 0 && po.PartSize < MinPartSize {
		L.ArgError(n, "part_size must be at least 5M")
	}
	if po.Concurrency < 0 {
		L.ArgError(n, "concurrency must be positive")
	}
	switch m := o.t.RawGetString("metadata").(type) {
	case *lua.LNilType:
	case *lua.LTable:
		po.Metadata = map[string]string{}
		m.ForEach(func(k, v lua.LValue) {
			po.Metadata[lua.LVAsString(k)] = lua.LVAsString(v)
		})
	default:
		L.ArgError(n, "metadata: table expected, got "+host.TypeName(m))
	}
	return po
}

// rangeOpt reads {range="bytes=0-99"} or {range={0, 99}}.
func rangeOpt(L *lua.LState, n int) string {
	t := host.OptTable(L, n)
	switch r := t.RawGetString("range").(type) {
	case *lua.LNilType:
		return ""
	case lua.LString:
		return string(r)
	case *lua.LTable:
		a, ok1 := r.RawGetInt(1).(lua.LNumber)
		b, ok2 := r.RawGetInt(2).(lua.LNumber)
		if !ok1 {
			L.ArgError(n, "range: {first, last} expected")
		}
		if !ok2 {
			return fmt.Sprintf("bytes=%d-", int64(a))
		}
		return fmt.Sprintf("bytes=%d-%d", int64(a), int64(b))
	default:
		L.ArgError(n, "range: string or table expected, got "+host.TypeName(r))
	}
	return ""
}

// opts reads fields of an options table, raising bad argument errors that
// name the field.
type opts struct {
	L *lua.LState
	t *lua.LTable
	n int
}

func (o opts) bad(field, want string, v lua.LValue) {
	o.L.ArgError(o.n, fmt.Sprintf("%s: %s expected, got %s", field, want, host.TypeName(v)))
}

func (o opts) str(field string) string {
	switch v := o.t.RawGetString(field).(type) {
	case *lua.LNilType:
		return ""
	case lua.LString:
		return string(v)
	default:
		o.bad(field, "string", v)
	}
	return ""
}

func (o opts) bool(field string) bool {
	switch v := o.t.RawGetString(field).(type) {
	case *lua.LNilType:
		return false
	case lua.LBool:
		return bool(v)
	default:
		o.bad(field, "boolean", v)
	}
	return false
}

func (o opts) int(field string, def int) int {
	switch v := o.t.RawGetString(field).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		return int(v)
	default:
		o.bad(field, "number", v)
	}
	return def
}

func (o opts) seconds(field string) time.Duration {
	switch v := o.t.RawGetString(field).(type) {
	case *lua.LNilType:
		return 0
	case lua.LNumber:
		return time.Duration(float64(v) * float64(time.Second))
	default:
		o.bad(field, "number (seconds)", v)
	}
	return 0
}

// size reads a byte count: a number, or a string like "10M", "512K", "1G".
func (o opts) size(field string, def int64) int64 {
	switch v := o.t.RawGetString(field).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		return int64(v)
	case lua.LString:
		n, err := ParseSize(string(v))
		if err != nil {
			o.L.ArgError(o.n, field+": "+err.Error())
		}
		return n
	default:
		o.bad(field, "size", v)
	}
	return def
}

// ParseSize reads "10M" (MiB), "512K", "1G", "1.5M" or a plain byte count.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := 1.0
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 10M, 512K, 1G)", s)
	}
	return int64(f * mult), nil
}
