package stdlib

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// hash: digests as lowercase hex, of strings, files, streams, or fed
// piece by piece through a hasher object.
var hashFuncs = map[string]lua.LGFunction{
	"md5":    hashString("md5"),    // md5(s) → hex
	"sha1":   hashString("sha1"),   // sha1(s) → hex
	"sha256": hashString("sha256"), // sha256(s) → hex
	"sha512": hashString("sha512"), // sha512(s) → hex
	"crc32":  hashString("crc32"),  // crc32(s) → hex (IEEE)
	"file":   hashFile,             // file(algo, path) → hex, size
	"stream": hashStream,           // stream(algo, stream) → hex, size (reads to the end)
	"new":    hashNew,              // new(algo) → hasher with update(s), hex(), digest(), size()
}

// HashLoader is require("hash").
func HashLoader(L *lua.LState) int {
	host.NewClass(L, "hasher", map[string]lua.LGFunction{
		"update": hasherUpdate,
		"hex":    hasherHex,
		"digest": hasherDigest,
		"size":   hasherSize,
	})
	L.Push(host.Module(L, hashFuncs))
	return 1
}

var hashAlgos = map[string]func() hash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha512": sha512.New,
	"crc32":  func() hash.Hash { return crc32.NewIEEE() },
}

// NewHash returns the named hash (md5, sha1, sha256, sha512, crc32).
func NewHash(algo string) (hash.Hash, bool) {
	f, ok := hashAlgos[strings.ToLower(algo)]
	if !ok {
		return nil, false
	}
	return f(), true
}

func algoArg(L *lua.LState, n int) hash.Hash {
	name := L.CheckString(n)
	h, ok := NewHash(name)
	if !ok {
		names := make([]string, 0, len(hashAlgos))
		for k := range hashAlgos {
			names = append(names, k)
		}
		sort.Strings(names)
		L.ArgError(n, fmt.Sprintf("unknown hash %q (%s)", name, strings.Join(names, ", ")))
	}
	return h
}

// Strings above this size are hashed off the Lua thread.
const hashInline = 64 << 10

func hashString(algo string) lua.LGFunction {
	return func(L *lua.LState) int {
		s := L.CheckString(1)
		h, _ := NewHash(algo)
		if len(s) <= hashInline {
			io.WriteString(h, s)
			return pushStr(L, hex.EncodeToString(h.Sum(nil)))
		}
		return host.Go(L, func(ctx context.Context) (host.Push, error) {
			io.WriteString(h, s)
			sum := hex.EncodeToString(h.Sum(nil))
			return func(L *lua.LState) int { return pushStr(L, sum) }, nil
		})
	}
}

func pushSum(h hash.Hash, n int64) host.Push {
	sum := hex.EncodeToString(h.Sum(nil))
	return func(L *lua.LState) int {
		L.Push(lua.LString(sum))
		L.Push(lua.LNumber(n))
		return 2
	}
}

func hashFile(L *lua.LState) int {
	h := algoArg(L, 1)
	p := L.CheckString(2)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, fsErr("hash", p, err)
		}
		defer f.Close()
		n, err := io.Copy(h, ctxReader{ctx, f})
		if err != nil {
			return nil, fsErr("hash", p, err)
		}
		return pushSum(h, n), nil
	})
}

func hashStream(L *lua.LState) int {
	h := algoArg(L, 1)
	s := host.StreamArg(L, 2)
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		n, err := io.Copy(h, ctxReader{ctx, s})
		if err != nil {
			return nil, host.Wrap("hash: "+s.Name, err)
		}
		return pushSum(h, n), nil
	})
}

type hasher struct {
	mu   sync.Mutex
	algo string
	h    hash.Hash
	n    int64
}

func (h *hasher) String() string { return "hasher(" + h.algo + ")" }

func hashNew(L *lua.LState) int {
	h := algoArg(L, 1)
	L.Push(host.NewObject(L, "hasher", &hasher{algo: strings.ToLower(L.CheckString(1)), h: h}))
	return 1
}

// update(s, ...) → the hasher (for chaining); large pieces are hashed off
// the Lua thread.
func hasherUpdate(L *lua.LState) int {
	h := host.Check[*hasher](L, 1, "hasher")
	self := L.Get(1)
	var parts []string
	total := 0
	for i := 2; i <= L.GetTop(); i++ {
		s := L.CheckString(i)
		parts = append(parts, s)
		total += len(s)
	}
	feed := func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, p := range parts {
			io.WriteString(h.h, p)
			h.n += int64(len(p))
		}
	}
	if total <= hashInline {
		feed()
		L.Push(self)
		return 1
	}
	return host.Go(L, func(ctx context.Context) (host.Push, error) {
		feed()
		return func(L *lua.LState) int { L.Push(self); return 1 }, nil
	})
}

func (h *hasher) sum() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.h.Sum(nil)
}

// hex() → the digest so far, as hex (more updates may follow).
func hasherHex(L *lua.LState) int {
	h := host.Check[*hasher](L, 1, "hasher")
	return pushStr(L, hex.EncodeToString(h.sum()))
}

// digest() → the digest so far as raw bytes.
func hasherDigest(L *lua.LState) int {
	h := host.Check[*hasher](L, 1, "hasher")
	return pushStr(L, string(h.sum()))
}

// size() → bytes hashed so far.
func hasherSize(L *lua.LState) int {
	h := host.Check[*hasher](L, 1, "hasher")
	h.mu.Lock()
	defer h.mu.Unlock()
	L.Push(lua.LNumber(h.n))
	return 1
}
