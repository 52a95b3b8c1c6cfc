package store

// On-disk layout (Dir):
//
//	DIR/.tmp/ID/                  bodies being received by one process (ID.lock flocked
//	                              while it runs); renamed into place when whole
//	DIR/.uploads/ID/              multipart uploads: upload.json, parts p00001 + p00001.json
//	DIR/BUCKET/.%bucket.json      bucket record (creation date)
//	DIR/BUCKET/SEG/SEG/NAME       object data, one file per object, key split on "/"
//	DIR/BUCKET/SEG/.%m.NAME       its metadata sidecar (JSON)
//	DIR/BUCKET/SEG/NAME/.%self    data of key "SEG/NAME" when "SEG/NAME/..." keys exist too
//
// Each key segment is stored under its own name except for the bytes that
// cannot or should not be in a file name: "%", control bytes, the names "."
// and ".." and the empty segment ("a//b", "dir/") are %-escaped. An escaped
// name therefore never contains "%" followed by something other than two hex
// digits, so ".%m." and ".%self" can never be an object's name, and no key
// can name a path outside its bucket. The sidecar records the inode of the
// data file it describes: a reader that finds another inode (a writer is
// between its two renames, or crashed there) retries, then rebuilds it.

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

const (
	metaPrefix = ".%m."
	selfName   = ".%self"
	bucketFile = ".%bucket.json"
	maxKeyLen  = 1024
	maxSegLen  = 255
)

// objMeta is the sidecar of an object.
type objMeta struct {
	Ino         uint64            `json:"ino"`
	Size        int64             `json:"size"`
	ETag        string            `json:"etag"` // hex md5, or md5-of-md5s "-N"
	ContentType string            `json:"type,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"` // Content-Encoding, Cache-Control, ...
	User        map[string]string `json:"meta,omitempty"`    // x-amz-meta-* (lower-case names, without prefix)
	Checksums   map[string]string `json:"checksums,omitempty"`
	Parts       int               `json:"parts,omitempty"`
	PartSizes   []int64           `json:"part_sizes,omitempty"` // for GET ?partNumber=
}

// encodeSeg turns one key segment into a file name.
func encodeSeg(s string) string {
	switch s {
	case "":
		return "%"
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	need := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c < 0x20 || c == 0x7f {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' || c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// decodeSeg is the inverse of encodeSeg; ok is false for names it did not
// produce (files put there by hand), which are then not objects.
func decodeSeg(n string) (string, bool) {
	if n == "%" {
		return "", true
	}
	if !strings.Contains(n, "%") {
		return n, n != "." && n != ".."
	}
	var b strings.Builder
	for i := 0; i < len(n); i++ {
		if n[i] != '%' {
			b.WriteByte(n[i])
			continue
		}
		if i+2 >= len(n) || !isHex(n[i+1]) || !isHex(n[i+2]) {
			return "", false
		}
		v, _ := hex.DecodeString(n[i+1 : i+3])
		b.WriteByte(v[0])
		i += 2
	}
	// Only the one spelling encodeSeg produces names an object, so that
	// what a listing shows is what a GET finds.
	return b.String(), encodeSeg(b.String()) == n
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validBucket follows S3's naming rules (lower case, 3-63, no "..", not an IP).
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	first, last := b[0], b[len(b)-1]
	if first == '-' || first == '.' || last == '-' || last == '.' {
		return false
	}
	return !strings.Contains(b, "..")
}

// checkKey reports why a key cannot be stored, or "" when it can.
func checkKey(key string) (code, msg string) {
	if key == "" {
		return "InvalidArgument", "empty key"
	}
	if len(key) > maxKeyLen {
		return "KeyTooLongError", "Your key is too long"
	}
	if !utf8.ValidString(key) {
		return "InvalidArgument", "key is not valid UTF-8"
	}
	for _, s := range strings.Split(key, "/") {
		if len(encodeSeg(s)) > maxSegLen {
			return "KeyTooLongError", "a segment of the key between slashes is longer than 255 bytes (a limit of this store)"
		}
	}
	return "", ""
}

// fsStore is the directory behind a handler.
type fsStore struct {
	dir     string
	tmp     string   // this process's temporary directory
	tmpLock *os.File // flocked while this process lives
	uploads string

	mu          sync.Mutex
	buckets     map[string]*sync.RWMutex // structural lock per bucket
	uploadLocks sync.Map                 // upload ID -> *sync.Mutex
	keyLock     [256]sync.Mutex
}

func openFS(dir string) (*fsStore, error) {
	s := &fsStore{dir: dir, uploads: filepath.Join(dir, ".uploads"), buckets: map[string]*sync.RWMutex{}}
	tmpRoot := filepath.Join(dir, ".tmp")
	for _, d := range []string{dir, tmpRoot, s.uploads} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	removeAbandonedTemp(tmpRoot)
	s.sweepDone()
	// Several processes may serve one directory (`gos3lua serve s3` and a
	// script's embedded store): each receives into its own temporary
	// directory, and holds a lock on it for as long as it lives.
	// The lock exists and is held before the directory does, so no other
	// process can take the directory for abandoned.
	lf, err := os.CreateTemp(tmpRoot, "p*.lock")
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lf.Close()
		return nil, err
	}
	t := strings.TrimSuffix(lf.Name(), ".lock")
	if err := os.Mkdir(t, 0o700); err != nil {
		lf.Close()
		return nil, err
	}
	s.tmp, s.tmpLock = t, lf
	return s, nil
}

// removeAbandonedTemp deletes the temporary directories of processes that
// are gone (their lock is free): bodies a crash left half received.
func removeAbandonedTemp(root string) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok {
			continue
		}
		lf, err := os.OpenFile(filepath.Join(root, e.Name()), os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(filepath.Join(root, name))
			os.Remove(lf.Name())
		}
		lf.Close()
	}
}

// close releases the temporary directory (called when the server stops).
func (s *fsStore) close() {
	if s.tmpLock != nil {
		os.RemoveAll(s.tmp)
		os.Remove(s.tmp + ".lock")
		s.tmpLock.Close()
		s.tmpLock = nil
	}
}

// structLock guards the shape of a bucket's tree: writers hold it shared
// while they create directories and rename into them; turning a file into a
// directory and removing emptied directories hold it exclusively.
func (s *fsStore) structLock(bucket string) *sync.RWMutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.buckets[bucket]
	if l == nil {
		l = &sync.RWMutex{}
		s.buckets[bucket] = l
	}
	return l
}

func (s *fsStore) lockKey(bucket, key string) func() {
	h := uint32(2166136261)
	for i := 0; i < len(bucket); i++ {
		h = (h ^ uint32(bucket[i])) * 16777619
	}
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	m := &s.keyLock[h%uint32(len(s.keyLock))]
	m.Lock()
	return m.Unlock
}

func (s *fsStore) bucketDir(b string) string { return filepath.Join(s.dir, b) }

// objPaths gives the parent directory and file name of a key's data.
func (s *fsStore) objPaths(bucket, key string) (dir, name string) {
	segs := strings.Split(key, "/")
	parts := make([]string, 0, len(segs)+1)
	parts = append(parts, s.dir, bucket)
	for _, sg := range segs[:len(segs)-1] {
		parts = append(parts, encodeSeg(sg))
	}
	return filepath.Join(parts...), encodeSeg(segs[len(segs)-1])
}

// location resolves where key's data and sidecar are now: the plain file,
// or the .%self file inside a directory of the same name.
func (s *fsStore) location(bucket, key string) (data, meta string) {
	dir, name := s.objPaths(bucket, key)
	data = filepath.Join(dir, name)
	if fi, err := os.Lstat(data); err == nil && fi.IsDir() {
		return filepath.Join(data, selfName), filepath.Join(data, metaPrefix+selfName)
	}
	return data, filepath.Join(dir, metaPrefix+name)
}

func (s *fsStore) bucketExists(b string) bool {
	if !validBucket(b) {
		return false
	}
	_, err := os.Stat(filepath.Join(s.bucketDir(b), bucketFile))
	return err == nil
}

type bucketRecord struct {
	Created time.Time `json:"created"`
	Region  string    `json:"region,omitempty"`
}

func (s *fsStore) createBucket(b, region string) error {
	d := s.bucketDir(b)
	if err := os.Mkdir(d, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			if s.bucketExists(b) {
				return errBucketOwned
			}
		} else {
			return err
		}
	}
	rec, _ := json.Marshal(bucketRecord{Created: time.Now().UTC(), Region: region})
	return writeFileAtomic(s.tmp, filepath.Join(d, bucketFile), rec)
}

var (
	errBucketOwned    = errors.New("bucket exists")
	errBucketNotEmpty = errors.New("bucket not empty")
	errNoKey          = errors.New("no such key")
)

func (s *fsStore) deleteBucket(b string) error {
	l := s.structLock(b)
	l.Lock()
	defer l.Unlock()
	d := s.bucketDir(b)
	ents, err := os.ReadDir(d)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Name() != bucketFile {
			return errBucketNotEmpty
		}
	}
	// Pending multipart uploads die with their bucket.
	ups, _ := s.listUploads(b)
	for _, u := range ups {
		os.RemoveAll(filepath.Join(s.uploads, u.ID))
	}
	os.Remove(filepath.Join(d, bucketFile))
	return os.Remove(d)
}

type bucketInfo struct {
	Name    string
	Created time.Time
}

func (s *fsStore) listBuckets() ([]bucketInfo, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []bucketInfo
	for _, e := range ents {
		if !e.IsDir() || !validBucket(e.Name()) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(s.dir, e.Name(), bucketFile))
		if err != nil {
			continue
		}
		var rec bucketRecord
		json.Unmarshal(raw, &rec)
		out = append(out, bucketInfo{Name: e.Name(), Created: rec.Created})
	}
	return out, nil
}

// tempFile creates a file for an incoming body.
func (s *fsStore) tempFile() (*os.File, error) {
	return os.CreateTemp(s.tmp, "put-")
}

func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// commit moves a complete temporary data file into place as key, with m as
// its metadata (m.Ino and m.Size are filled in here).
// writeCond is a conditional write: If-None-Match: * (only if absent) or
// If-Match: ETAG (only over that version), checked under the key's lock.
type writeCond struct {
	ifNoneMatch, ifMatch string
}

var errPrecondition = errors.New("precondition failed")

func condFromRequest(h interface{ Get(string) string }) *writeCond {
	c := &writeCond{ifNoneMatch: h.Get("If-None-Match"), ifMatch: h.Get("If-Match")}
	if c.ifNoneMatch == "" && c.ifMatch == "" {
		return nil
	}
	return c
}

func (c *writeCond) check(data, meta string) error {
	fi, err := os.Stat(data)
	exists := err == nil && fi.Mode().IsRegular()
	if c.ifNoneMatch != "" && exists {
		return errPrecondition
	}
	if c.ifMatch != "" {
		if !exists {
			return errNoKey
		}
		m, _ := readMeta(meta, fi)
		if want := strings.Trim(c.ifMatch, `" `); want != "*" && want != m.ETag {
			return errPrecondition
		}
	}
	return nil
}

func (s *fsStore) commit(bucket, key, tmpData string, m *objMeta, cond ...*writeCond) (time.Time, error) {
	fi, err := os.Stat(tmpData)
	if err != nil {
		return time.Time{}, err
	}
	m.Ino, m.Size = inode(fi), fi.Size()
	raw, err := json.Marshal(m)
	if err != nil {
		return time.Time{}, err
	}
	tmpMeta, err := writeTemp(s.tmp, raw)
	if err != nil {
		return time.Time{}, err
	}
	l := s.structLock(bucket)
	for attempt := 0; ; attempt++ {
		l.RLock()
		err = s.place(bucket, key, tmpData, tmpMeta, cond...)
		l.RUnlock()
		if err == nil {
			return fi.ModTime(), nil
		}
		if attempt == 0 {
			defer os.Remove(tmpMeta) // not renamed into place (yet)
		}
		var conflict *fileInTheWay
		if errors.As(err, &conflict) && attempt < 8 {
			l.Lock()
			cerr := s.toDirectory(conflict.path)
			l.Unlock()
			if cerr != nil {
				return time.Time{}, cerr
			}
			continue
		}
		if errors.Is(err, fs.ErrNotExist) && attempt < 8 {
			continue // a delete removed the emptied parent meanwhile
		}
		return time.Time{}, err
	}
}

type fileInTheWay struct{ path string }

func (e *fileInTheWay) Error() string { return e.path + ": object where a directory is needed" }

// place renames the temporaries into key's location (structural lock held shared).
func (s *fsStore) place(bucket, key, tmpData, tmpMeta string, cond ...*writeCond) error {
	dir, name := s.objPaths(bucket, key)
	if err := s.mkdirs(bucket, dir); err != nil {
		return err
	}
	unlock := s.lockKey(bucket, key)
	defer unlock()
	data, meta := filepath.Join(dir, name), filepath.Join(dir, metaPrefix+name)
	if fi, err := os.Lstat(data); err == nil && fi.IsDir() {
		data, meta = filepath.Join(data, selfName), filepath.Join(data, metaPrefix+selfName)
	}
	for _, c := range cond {
		if c != nil {
			if err := c.check(data, meta); err != nil {
				return err
			}
		}
	}
	if err := os.Rename(tmpMeta, meta); err != nil {
		return err
	}
	return os.Rename(tmpData, data)
}

// mkdirs creates dir below the bucket directory, reporting an object file
// that stands where a directory must go.
func (s *fsStore) mkdirs(bucket, dir string) error {
	bd := s.bucketDir(bucket)
	if dir == bd {
		return nil
	}
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	rel, err := filepath.Rel(bd, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("store: %s outside bucket", dir)
	}
	cur := bd
	for _, seg := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, seg)
		err := os.Mkdir(cur, 0o700)
		if err == nil || errors.Is(err, fs.ErrExist) {
			fi, serr := os.Lstat(cur)
			if serr != nil {
				return serr
			}
			if !fi.IsDir() {
				return &fileInTheWay{path: cur}
			}
			continue
		}
		return err
	}
	return nil
}

// toDirectory turns the object file p into a directory holding it as
// .%self (structural lock held exclusively).
func (s *fsStore) toDirectory(p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if fi.IsDir() {
		return nil
	}
	dir, name := filepath.Split(p)
	hold := filepath.Join(s.tmp, fmt.Sprintf("conv-%d", time.Now().UnixNano()))
	if err := os.Rename(p, hold); err != nil {
		return err
	}
	if err := os.Mkdir(p, 0o700); err != nil {
		os.Rename(hold, p)
		return err
	}
	if err := os.Rename(hold, filepath.Join(p, selfName)); err != nil {
		return err
	}
	os.Rename(filepath.Join(dir, metaPrefix+name), filepath.Join(p, metaPrefix+selfName))
	return nil
}

// object is an open object, ready to serve.
type object struct {
	f       *os.File
	meta    objMeta
	modTime time.Time
}

// open opens key's data and its matching metadata. Unlocked first; a miss
// or a mismatch is settled under the locks, which writers and conversions
// hold while they move files (and, still mismatched, the sidecar is rebuilt).
func (s *fsStore) open(bucket, key string) (*object, error) {
	for attempt := 0; attempt < 3; attempt++ {
		o, err := s.openOnce(bucket, key, false)
		if err == nil {
			return o, nil
		}
		if errors.Is(err, errNoKey) {
			break
		}
		if !errors.Is(err, errRetry) {
			return nil, err
		}
		time.Sleep(time.Duration(attempt+1) * time.Millisecond)
	}
	l := s.structLock(bucket)
	l.RLock()
	defer l.RUnlock()
	unlock := s.lockKey(bucket, key)
	defer unlock()
	return s.openOnce(bucket, key, true)
}

var errRetry = errors.New("retry")

func (s *fsStore) openOnce(bucket, key string, repair bool) (*object, error) {
	data, metaPath := s.location(bucket, key)
	f, err := os.Open(data)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, errNoKey
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		f.Close()
		return nil, errRetry
	}
	m, ok := readMeta(metaPath, fi)
	if !ok {
		if !repair {
			f.Close()
			return nil, errRetry
		}
		m, err = rebuildMeta(s.tmp, f, fi, metaPath)
		if err != nil {
			f.Close()
			return nil, err
		}
	}
	return &object{f: f, meta: m, modTime: fi.ModTime()}, nil
}

func readMeta(path string, fi os.FileInfo) (objMeta, bool) {
	var m objMeta
	raw, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(raw, &m) != nil {
		return m, false
	}
	return m, m.Ino == inode(fi) && m.Size == fi.Size()
}

// rebuildMeta recomputes the sidecar of a data file that has none (a crash
// between the renames, or a file dropped in by hand).
func rebuildMeta(tmpDir string, f *os.File, fi os.FileInfo, path string) (objMeta, error) {
	m := objMeta{Ino: inode(fi), Size: fi.Size()}
	if old, err := os.ReadFile(path); err == nil {
		var prev objMeta
		if json.Unmarshal(old, &prev) == nil {
			m.ContentType, m.Headers, m.User = prev.ContentType, prev.Headers, prev.User
		}
	}
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		return m, err
	}
	m.ETag = hex.EncodeToString(h.Sum(nil))
	raw, _ := json.Marshal(&m)
	writeFileAtomic(tmpDir, path, raw)
	return m, nil
}

// stat is open without keeping the file.
func (s *fsStore) stat(bucket, key string) (*object, error) {
	o, err := s.open(bucket, key)
	if err != nil {
		return nil, err
	}
	o.f.Close()
	o.f = nil
	return o, nil
}

// remove deletes key; deleting a missing key is not an error (as in S3).
func (s *fsStore) remove(bucket, key string) error {
	l := s.structLock(bucket)
	l.RLock()
	unlock := s.lockKey(bucket, key)
	data, meta := s.location(bucket, key)
	err := os.Remove(data)
	os.Remove(meta)
	unlock()
	l.RUnlock()
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return err
	}
	// Remove the directories the delete emptied.
	l.Lock()
	defer l.Unlock()
	bd := s.bucketDir(bucket)
	for d := filepath.Dir(data); d != bd && strings.HasPrefix(d, bd); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
	return nil
}

func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "meta-")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func writeFileAtomic(tmpDir, path string, data []byte) error {
	t, err := writeTemp(tmpDir, data)
	if err != nil {
		return err
	}
	if err := os.Rename(t, path); err != nil {
		os.Remove(t)
		return err
	}
	return nil
}
