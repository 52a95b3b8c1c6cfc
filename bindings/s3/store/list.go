package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// listQuery is what ListObjects (V1 and V2) ask.
type listQuery struct {
	prefix, delimiter string
	after             string // marker / start-after / continuation: keys > after
	max               int
}

type listEntry struct {
	Key      string
	Size     int64
	ETag     string
	Modified time.Time
}

type listResult struct {
	Objects   []listEntry
	Prefixes  []string
	Truncated bool
	Next      string // last key or common prefix returned, when truncated
}

// lister walks a bucket's tree in key order, pruning what cannot match.
type lister struct {
	s      *fsStore
	bucket string
	q      listQuery
	res    listResult
	skip   string // common prefix already returned: skip keys under it
	count  int
	done   bool
}

func (s *fsStore) list(bucket string, q listQuery) (*listResult, error) {
	lt := &lister{s: s, bucket: bucket, q: q}
	if q.max <= 0 {
		return &lt.res, nil
	}
	if q.delimiter != "" && q.after != "" {
		if cp, ok := lt.commonPrefix(q.after); ok && cp == q.after {
			lt.skip = cp
		}
	}
	err := lt.walk(s.bucketDir(bucket), "")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return &lt.res, nil
}

// commonPrefix is the roll-up of key under the delimiter, if any.
func (lt *lister) commonPrefix(key string) (string, bool) {
	if lt.q.delimiter == "" || !strings.HasPrefix(key, lt.q.prefix) {
		return "", false
	}
	rest := key[len(lt.q.prefix):]
	if i := strings.Index(rest, lt.q.delimiter); i >= 0 {
		return key[:len(lt.q.prefix)+i+len(lt.q.delimiter)], true
	}
	return "", false
}

// wanted reports whether a directory holding keys that all start with dp
// can contribute anything.
func (lt *lister) wanted(dp string) bool {
	p := lt.q.prefix
	if !strings.HasPrefix(dp, p) && !strings.HasPrefix(p, dp) {
		return false
	}
	if a := lt.q.after; a != "" && dp <= a && !strings.HasPrefix(a, dp) {
		return false // every key under dp sorts before the marker
	}
	if lt.skip != "" && strings.HasPrefix(dp, lt.skip) {
		return false
	}
	return true
}

type dirItem struct {
	sortKey string // decoded name, with "/" for a directory
	name    string // on-disk name
	isDir   bool
	self    bool // the directory's own object (.%self), sorted by its bare key
}

func (lt *lister) walk(dir, dp string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	items := make([]dirItem, 0, len(ents))
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, metaPrefix) || n == bucketFile || n == selfName {
			continue
		}
		seg, ok := decodeSeg(n)
		if !ok {
			continue
		}
		if e.IsDir() {
			items = append(items, dirItem{sortKey: seg + "/", name: n, isDir: true})
			if _, err := os.Lstat(filepath.Join(dir, n, selfName)); err == nil {
				items = append(items, dirItem{sortKey: seg, name: n, self: true})
			}
		} else if e.Type().IsRegular() {
			items = append(items, dirItem{sortKey: seg, name: n})
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].sortKey < items[j].sortKey })
	for _, it := range items {
		if lt.done {
			return nil
		}
		key := dp + it.sortKey
		if it.isDir {
			if lt.wanted(key) {
				if err := lt.walk(filepath.Join(dir, it.name), key); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			continue
		}
		data := filepath.Join(dir, it.name)
		metaPath := filepath.Join(dir, metaPrefix+it.name)
		if it.self {
			data = filepath.Join(dir, it.name, selfName)
			metaPath = filepath.Join(dir, it.name, metaPrefix+selfName)
		}
		lt.visit(key, data, metaPath)
	}
	return nil
}

func (lt *lister) visit(key, data, metaPath string) {
	if !strings.HasPrefix(key, lt.q.prefix) || key <= lt.q.after {
		return
	}
	if lt.skip != "" && strings.HasPrefix(key, lt.skip) {
		return
	}
	if cp, ok := lt.commonPrefix(key); ok {
		if !lt.add() {
			return
		}
		lt.res.Prefixes = append(lt.res.Prefixes, cp)
		lt.res.Next = cp
		lt.skip = cp
		return
	}
	fi, err := os.Stat(data)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	m, ok := readMeta(metaPath, fi)
	if !ok {
		f, err := os.Open(data)
		if err != nil {
			return
		}
		m, err = rebuildMeta(lt.s.tmp, f, fi, metaPath)
		f.Close()
		if err != nil {
			return
		}
	}
	if !lt.add() {
		return
	}
	lt.res.Objects = append(lt.res.Objects, listEntry{Key: key, Size: fi.Size(), ETag: m.ETag, Modified: fi.ModTime()})
	lt.res.Next = key
}

// add counts one more result; past the maximum it marks the listing
// truncated and stops the walk.
func (lt *lister) add() bool {
	if lt.count >= lt.q.max {
		lt.res.Truncated = true
		lt.done = true
		return false
	}
	lt.count++
	return true
}
