package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/gos3lua/gos3lua/host"
)

// Transfer defaults: parts big enough for throughput, few enough in flight
// that memory stays bounded at about PartSize × (Concurrency+1).
const (
	DefaultPartSize    = 8 << 20
	MinPartSize        = 5 << 20
	DefaultConcurrency = 8
	maxParts           = 10000
)

// ---- buffers ----

// Part buffers are reused across transfers, on a free list, and live
// outside the Go heap (allocBuf: anonymous mmap where there is one). In the
// heap, 80 MiB of buffers would double the collector's goal, letting the
// SDK's per-request garbage pile up to that size; a sync.Pool would also
// lose them at every collection, so each chunk would pay page faults and
// zeroing again.
var free struct {
	sync.Mutex
	lists map[int][][]byte // by capacity (a multiple of 1 MiB)
	bytes int
}

// maxFree bounds what the free list keeps for later; beyond it buffers are
// released.
const maxFree = 96 << 20

func getBuf(n int) []byte {
	c := (n + (1<<20 - 1)) &^ (1<<20 - 1) // round up to 1 MiB so sizes share lists
	if c == 0 {
		c = 1 << 20
	}
	free.Lock()
	if l := free.lists[c]; len(l) > 0 {
		b := l[len(l)-1]
		free.lists[c] = l[:len(l)-1]
		free.bytes -= c
		free.Unlock()
		return b[:n]
	}
	free.Unlock()
	return allocBuf(c)[:n]
}

// putBuf returns b to the free list. b must not be used afterwards (nor
// put twice): its memory may be unmapped.
func putBuf(b []byte) {
	c := cap(b)
	if c == 0 || c&(1<<20-1) != 0 {
		return
	}
	b = b[:c]
	free.Lock()
	if free.bytes+c > maxFree {
		free.Unlock()
		releaseBuf(b)
		return
	}
	if free.lists == nil {
		free.lists = map[int][][]byte{}
	}
	free.lists[c] = append(free.lists[c], b)
	free.bytes += c
	free.Unlock()
}

func (o PutOptions) partSize() int64 {
	if o.PartSize >= MinPartSize {
		return o.PartSize
	}
	return DefaultPartSize
}

func (o PutOptions) concurrency() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return DefaultConcurrency
}

func hexSum(h hash.Hash) string {
	if h == nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ---- uploads ----

// group runs functions concurrently, at most n at a time; the first error
// cancels the rest.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

func newGroup(ctx context.Context, n int) *group {
	g := &group{sem: make(chan struct{}, n)}
	g.ctx, g.cancel = context.WithCancel(ctx)
	return g
}

// acquire waits for a free slot; false when the group failed or ctx ended.
func (g *group) acquire() bool {
	select {
	case g.sem <- struct{}{}:
		if g.ctx.Err() != nil {
			<-g.sem
			return false
		}
		return true
	case <-g.ctx.Done():
		return false
	}
}

// goAcquired runs fn in the slot taken by acquire.
func (g *group) goAcquired(fn func(ctx context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer func() { <-g.sem; g.wg.Done() }()
		if err := fn(g.ctx); err != nil {
			g.fail(err)
		}
	}()
}

func (g *group) fail(err error) {
	g.mu.Lock()
	if g.err == nil {
		g.err = err
	}
	g.mu.Unlock()
	g.cancel()
}

func (g *group) wait() error {
	g.wg.Wait()
	g.cancel()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Upload stores what r yields as key: one PUT when it fits in a part,
// else a multipart upload with parts in parallel. Memory is bounded by the
// part size × (concurrency + 1) whatever the length of r, which need not
// be known.
func (b *Bucket) Upload(ctx context.Context, key string, r io.Reader, o PutOptions) (Result, error) {
	api, err := b.api(ctx)
	if err != nil {
		return Result{}, err
	}
	var h hash.Hash
	if o.SHA256 {
		h = sha256.New()
	}
	ps := o.partSize()
	buf := getBuf(int(ps))
	n, rerr := io.ReadFull(r, buf)
	if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
		defer putBuf(buf)
		if h != nil {
			h.Write(buf[:n])
		}
		etag, err := b.putObject(ctx, api, key, bytes.NewReader(buf[:n]), int64(n), o)
		return Result{Size: int64(n), ETag: etag, SHA256: hexSum(h), Parts: 1}, err
	}
	if rerr != nil {
		putBuf(buf)
		return Result{}, s3Error("upload", b.Name, key, readErr(rerr))
	}
	mu, err := b.createMultipart(ctx, api, key, o)
	if err != nil {
		putBuf(buf)
		return Result{}, err
	}
	var (
		partsMu sync.Mutex
		parts   []types.CompletedPart
		total   int64
	)
	g := newGroup(ctx, o.concurrency())
	num := int32(0)
	for {
		num++
		if h != nil {
			h.Write(buf[:n])
		}
		total += int64(n)
		data, pn := buf[:n], num
		if !g.acquire() {
			putBuf(buf)
			break
		}
		g.goAcquired(func(ctx context.Context) error {
			defer putBuf(data)
			etag, err := mu.uploadPart(ctx, pn, bytes.NewReader(data), int64(len(data)))
			if err != nil {
				return err
			}
			partsMu.Lock()
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(pn), ETag: aws.String(etag)})
			partsMu.Unlock()
			return nil
		})
		if int(num) >= maxParts {
			g.fail(&host.Error{Kind: "EFBIG", Message: fmt.Sprintf("s3: upload %s: more than %d parts; use a bigger part_size", key, maxParts)})
			break
		}
		// Unknown sizes: grow the parts as the stream goes on, so that
		// 10,000 parts reach terabytes.
		if num%1000 == 0 && ps < 1<<30 {
			ps *= 2
		}
		buf = getBuf(int(ps))
		n, rerr = io.ReadFull(r, buf)
		if rerr == io.EOF {
			putBuf(buf)
			break
		}
		if rerr != nil && rerr != io.ErrUnexpectedEOF {
			putBuf(buf)
			g.fail(s3Error("upload", b.Name, key, readErr(rerr)))
			break
		}
	}
	if err := g.wait(); err != nil {
		mu.abort()
		return Result{}, err
	}
	etag, err := mu.complete(ctx, parts)
	if err != nil {
		return Result{}, err
	}
	return Result{Size: total, ETag: etag, SHA256: hexSum(h), Parts: len(parts)}, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readErr marks a failure to read the source as such, not as an S3 error.
func readErr(err error) error {
	return host.Wrap("reading the source", err)
}

// multipart is one multipart upload. From its creation until it is
// completed or aborted the process will not exit without aborting it
// (host.Linger), and a cancelled run aborts it at once (not when the
// source, perhaps a pipe that stays open, next returns).
type multipart struct {
	b     *Bucket
	api   *s3.Client
	key   string
	id    string
	once  sync.Once
	stop  func() bool // stops the abort-on-cancel
	ended func()      // releases the process's wait
}

func (b *Bucket) createMultipart(ctx context.Context, api *s3.Client, key string, o PutOptions) (*multipart, error) {
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(key)}
	if o.ContentType != "" {
		in.ContentType = aws.String(o.ContentType)
	}
	if len(o.Metadata) > 0 {
		in.Metadata = o.Metadata
	}
	res, err := api.CreateMultipartUpload(ctx, in)
	if err != nil {
		return nil, s3Error("upload", b.Name, key, err)
	}
	m := &multipart{b: b, api: api, key: key, id: aws.ToString(res.UploadId)}
	m.ended = host.Linger("aborting the upload of " + key)
	m.stop = context.AfterFunc(ctx, m.abort)
	return m, nil
}

func (m *multipart) uploadPart(ctx context.Context, num int32, body readSeeker, size int64) (string, error) {
	res, err := m.api.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(m.b.Name), Key: aws.String(m.key),
		UploadId: aws.String(m.id), PartNumber: aws.Int32(num), Body: body, ContentLength: aws.Int64(size)})
	if err != nil {
		return "", s3Error("upload", m.b.Name, m.key, err)
	}
	return aws.ToString(res.ETag), nil
}

func (m *multipart) complete(ctx context.Context, parts []types.CompletedPart) (string, error) {
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	res, err := m.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(m.b.Name),
		Key: aws.String(m.key), UploadId: aws.String(m.id), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		m.abort()
		return "", s3Error("upload", m.b.Name, m.key, err)
	}
	m.once.Do(func() { m.stop(); m.ended() })
	return trimETag(aws.ToString(res.ETag)), nil
}

// abort runs even when the run is being cancelled, so that no parts
// linger; once per upload, and never after it completed.
func (m *multipart) abort() {
	m.once.Do(func() {
		defer m.ended()
		m.stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(m.b.Name),
			Key: aws.String(m.key), UploadId: aws.String(m.id)})
	})
}

// PutFile stores the file at path as key; big files go up as parallel
// parts read straight from the file (no buffers).
func (b *Bucket) PutFile(ctx context.Context, key, path string, o PutOptions) (Result, error) {
	api, err := b.api(ctx)
	if err != nil {
		return Result{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Result{}, host.Wrap("s3: put_file "+key, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Result{}, host.Wrap("s3: put_file "+key, err)
	}
	if !st.Mode().IsRegular() {
		return Result{}, host.Errorf("EINVAL", "s3: put_file %s: %s is not a regular file", key, path)
	}
	size := st.Size()
	ps := o.partSize()
	if size <= ps {
		// One read into a reused buffer: hashed and sent from memory.
		buf := getBuf(int(size))
		defer putBuf(buf)
		if _, err := io.ReadFull(f, buf); err != nil {
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				err = fmt.Errorf("%s shrank while being read", path)
			}
			return Result{}, host.Wrap("s3: put_file "+key, err)
		}
		var sum string
		if o.SHA256 {
			s := sha256.Sum256(buf)
			sum = hex.EncodeToString(s[:])
		}
		etag, err := b.putObject(ctx, api, key, bytes.NewReader(buf), size, o)
		return Result{Size: size, ETag: etag, SHA256: sum, Parts: 1}, err
	}
	var sum string
	if o.SHA256 {
		// A second read of a file is served from the page cache.
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, size)); err != nil {
			return Result{}, host.Wrap("s3: put_file "+key, err)
		}
		sum = hexSum(h)
	}
	for size/ps >= maxParts {
		ps *= 2
	}
	mu, err := b.createMultipart(ctx, api, key, o)
	if err != nil {
		return Result{}, err
	}
	g := newGroup(ctx, o.concurrency())
	var partsMu sync.Mutex
	var parts []types.CompletedPart
	for off, num := int64(0), int32(1); off < size; off, num = off+ps, num+1 {
		sec := io.NewSectionReader(f, off, min(ps, size-off))
		pn := num
		if !g.acquire() {
			break
		}
		g.goAcquired(func(ctx context.Context) error {
			etag, err := mu.uploadPart(ctx, pn, sec, sec.Size())
			if err != nil {
				return err
			}
			partsMu.Lock()
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(pn), ETag: aws.String(etag)})
			partsMu.Unlock()
			return nil
		})
	}
	if err := g.wait(); err != nil {
		mu.abort()
		return Result{}, err
	}
	etag, err := mu.complete(ctx, parts)
	if err != nil {
		return Result{}, err
	}
	return Result{Size: size, ETag: etag, SHA256: sum, Parts: len(parts)}, nil
}

// ChunkKey formats the key of chunk i from a format with one integer verb
// (e.g. "bob-%010d").
func ChunkKey(format string, i int64) string { return fmt.Sprintf(format, i) }

// CheckChunkFormat accepts formats with exactly one integer verb.
func CheckChunkFormat(format string) error {
	k := fmt.Sprintf(format, int64(1))
	if strings.Contains(k, "%!") || fmt.Sprintf(format, int64(2)) == k {
		return fmt.Errorf("bad chunk key format %q: want one integer verb such as %%010d", format)
	}
	return nil
}

// Split reads r to its end and stores it as objects of chunkSize bytes
// named format(first), format(first+1), ..., several in flight at once. It
// returns the total size, each chunk's size and the sha256 of the whole
// stream. At most `concurrency` chunk buffers exist at any time.
func (b *Bucket) Split(ctx context.Context, r io.Reader, format string, first int64, chunkSize int64, o PutOptions) (Result, error) {
	api, err := b.api(ctx)
	if err != nil {
		return Result{}, err
	}
	if chunkSize <= 0 {
		return Result{}, host.Errorf("EINVAL", "s3: split: chunk size must be positive")
	}
	h := sha256.New()
	res := Result{Sizes: []int64{}}
	g := newGroup(ctx, o.concurrency())
	// The buffers are the slots: a chunk is read only into a free one.
	for i := first; ; i++ {
		if !g.acquire() {
			break
		}
		buf := getBuf(int(chunkSize))
		n, rerr := io.ReadFull(r, buf)
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			putBuf(buf)
			<-g.sem
			g.fail(s3Error("split", b.Name, "", readErr(rerr)))
			break
		}
		if n == 0 {
			putBuf(buf)
			<-g.sem
			break
		}
		h.Write(buf[:n])
		res.Sizes = append(res.Sizes, int64(n))
		res.Size += int64(n)
		key, data := ChunkKey(format, i), buf[:n]
		g.goAcquired(func(ctx context.Context) error {
			defer putBuf(data)
			_, err := b.putObject(ctx, api, key, bytes.NewReader(data), int64(len(data)), o)
			return err
		})
		if n < int(chunkSize) {
			break
		}
	}
	if err := g.wait(); err != nil {
		return Result{}, err
	}
	res.SHA256 = hexSum(h)
	res.Parts = len(res.Sizes)
	return res, nil
}

// ---- downloads ----

// objReader reads an object (or a range of it) and, when the connection
// breaks mid-body, resumes with a ranged GET from where it stopped (pinned
// to the same version by If-Match).
type objReader struct {
	ctx      context.Context
	b        *Bucket
	api      *s3.Client
	key      string
	etag     string
	pos, end int64 // next absolute offset; last offset wanted (-1: to the end)
	body     io.ReadCloser
	failures int
}

const maxResumes = 8

func (b *Bucket) openAt(ctx context.Context, api *s3.Client, key, etag string, pos, end int64) (*s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)}
	if etag != "" {
		in.IfMatch = aws.String(`"` + etag + `"`)
	}
	if pos > 0 || end >= 0 {
		if end >= 0 {
			in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", pos, end))
		} else {
			in.Range = aws.String(fmt.Sprintf("bytes=%d-", pos))
		}
	}
	res, err := api.GetObject(ctx, in)
	if err != nil {
		if isCode(err, "PreconditionFailed") {
			return nil, &host.Error{Kind: "changed", Message: "s3: get " + key + ": the object changed while it was being read", Err: err}
		}
		return nil, s3Error("get", b.Name, key, err)
	}
	return res, nil
}

// Open starts reading key; rng is "" or an HTTP range ("bytes=0-99",
// "0-99", "100-", "-100"). The reader resumes after dropped connections.
func (b *Bucket) Open(ctx context.Context, key, rng string) (io.ReadCloser, ObjectInfo, error) {
	api, err := b.api(ctx)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	in := &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)}
	if rng != "" {
		if !strings.HasPrefix(rng, "bytes=") {
			rng = "bytes=" + rng
		}
		in.Range = aws.String(rng)
	}
	res, err := api.GetObject(ctx, in)
	if err != nil {
		return nil, ObjectInfo{}, s3Error("get", b.Name, key, err)
	}
	info := ObjectInfo{Key: key, Size: aws.ToInt64(res.ContentLength), ETag: trimETag(aws.ToString(res.ETag)),
		MTime: aws.ToTime(res.LastModified), ContentType: aws.ToString(res.ContentType), Metadata: res.Metadata}
	start, end := int64(0), info.Size-1
	if cr := aws.ToString(res.ContentRange); cr != "" {
		var total int64
		if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &start, &end, &total); err != nil {
			start, end = 0, -1
		}
	}
	return &objReader{ctx: ctx, b: b, api: api, key: key, etag: info.ETag, pos: start, end: end, body: res.Body}, info, nil
}

func (r *objReader) Read(p []byte) (int, error) {
	for {
		if r.body == nil {
			if r.end >= 0 && r.pos > r.end {
				return 0, io.EOF
			}
			res, err := r.b.openAt(r.ctx, r.api, r.key, r.etag, r.pos, r.end)
			if err != nil {
				return 0, err
			}
			// A server that ignores the range would send the object from
			// its start again: the stream would repeat itself.
			if cr := aws.ToString(res.ContentRange); r.pos > 0 && !strings.HasPrefix(cr, fmt.Sprintf("bytes %d-", r.pos)) {
				res.Body.Close()
				return 0, &host.Error{Kind: "InvalidResponse", Message: fmt.Sprintf("s3: get %s: resuming at byte %d, the server answered with range %q", r.key, r.pos, cr)}
			}
			r.body = res.Body
		}
		n, err := r.body.Read(p)
		r.pos += int64(n)
		if err == nil {
			return n, nil
		}
		if err == io.EOF && (r.end < 0 || r.pos > r.end) {
			return n, io.EOF
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		r.body.Close()
		r.body = nil
		// A dropped connection is resumed; a server that stopped sending
		// for the client's whole timeout is not asked again.
		if r.ctx.Err() != nil || r.failures >= maxResumes || isTimeout(err) {
			return n, s3Error("get", r.b.Name, r.key, err)
		}
		r.failures++
		if n > 0 {
			return n, nil
		}
		select {
		case <-time.After(time.Duration(r.failures*r.failures) * 50 * time.Millisecond):
		case <-r.ctx.Done():
			return 0, s3Error("get", r.b.Name, r.key, r.ctx.Err())
		}
	}
}

func (r *objReader) Close() error {
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}

// piece is one thing to fetch for an ordered download: a whole object, or
// a range of one.
type piece struct {
	key      string
	etag     string
	off, end int64 // end = -1: the whole object
	pre      *objReader
	preSize  int64
}

// fetchOrdered fetches pieces, up to conc at a time, and writes them to w
// in order; the sha256 is computed beside the writes.
func (b *Bucket) fetchOrdered(ctx context.Context, api *s3.Client, pieces []piece, w io.Writer, conc int, h hash.Hash) ([]int64, int64, error) {
	type slot struct {
		done chan struct{}
		buf  []byte
		err  error
	}
	slots := make([]*slot, len(pieces))
	for i := range slots {
		slots[i] = &slot{done: make(chan struct{})}
	}
	g := newGroup(ctx, conc)
	g.wg.Add(1) // the launcher, so that Add below never races with Wait
	go func() {
		defer g.wg.Done()
		for i, p := range pieces {
			if !g.acquire() {
				return
			}
			s := slots[i]
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				s.buf, s.err = b.fetchPiece(g.ctx, api, p)
				close(s.done)
			}()
		}
	}()
	// The hasher runs beside the writer; a buffer goes back to the pool
	// (and its slot is freed) once both have used it.
	hch := make(chan []byte, conc)
	hdone := make(chan struct{})
	go func() {
		defer close(hdone)
		for buf := range hch {
			if h != nil {
				h.Write(buf)
			}
			putBuf(buf)
			<-g.sem
		}
	}()
	sizes := make([]int64, 0, len(pieces))
	var total int64
	var err error
	for i, s := range slots {
		select {
		case <-s.done:
		case <-ctx.Done():
			err = s3Error("get", b.Name, pieces[i].key, ctx.Err())
		}
		if err == nil && s.err != nil {
			err = s.err
		}
		if err != nil {
			break
		}
		buf := s.buf
		s.buf = nil // from here on the hasher (or this loop) owns it
		if _, werr := w.Write(buf); werr != nil {
			err = host.Wrap("s3: writing "+pieces[i].key, werr)
			putBuf(buf)
			<-g.sem
			break
		}
		sizes = append(sizes, int64(len(buf)))
		total += int64(len(buf))
		hch <- buf
	}
	close(hch)
	<-hdone
	if err != nil {
		g.fail(err)
		// Release the buffers of pieces fetched but never written (each
		// buffer goes back to the pool once: a second Put would hand it
		// to two transfers at the same time).
		go func() {
			g.wg.Wait()
			for _, s := range slots {
				select {
				case <-s.done:
					if s.buf != nil {
						putBuf(s.buf)
					}
				default:
				}
			}
		}()
		return sizes, total, err
	}
	g.wait()
	return sizes, total, nil
}

func (b *Bucket) fetchPiece(ctx context.Context, api *s3.Client, p piece) ([]byte, error) {
	r := p.pre
	size := p.preSize
	if r == nil {
		res, err := b.openAt(ctx, api, p.key, p.etag, p.off, p.end)
		if err != nil {
			return nil, err
		}
		size = aws.ToInt64(res.ContentLength)
		etag := p.etag
		if etag == "" {
			etag = trimETag(aws.ToString(res.ETag))
		}
		end := p.end
		if end < 0 {
			end = p.off + size - 1
		}
		r = &objReader{ctx: ctx, b: b, api: api, key: p.key, etag: etag, pos: p.off, end: end, body: res.Body}
	} else {
		r.ctx = ctx
	}
	defer r.Close()
	buf := getBuf(int(size))
	if _, err := io.ReadFull(r, buf); err != nil {
		putBuf(buf)
		return nil, s3Error("get", b.Name, p.key, err)
	}
	return buf, nil
}

// Download writes the object to w. Big objects are fetched as parallel
// ranged GETs (written in order); small ones stream through.
func (b *Bucket) Download(ctx context.Context, key string, w io.Writer, o PutOptions) (Result, error) {
	r, info, err := b.Open(ctx, key, "")
	if err != nil {
		return Result{}, err
	}
	return b.writeObject(ctx, r.(*objReader), info, w, o)
}

// GetFile downloads key into the file at path (created or truncated). The
// GET is made first, so that a missing key leaves no empty file behind.
func (b *Bucket) GetFile(ctx context.Context, key, path string, o PutOptions) (Result, error) {
	r, info, err := b.Open(ctx, key, "")
	if err != nil {
		return Result{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		r.Close()
		return Result{}, host.Wrap("s3: get_file "+key, err)
	}
	res, err := b.writeObject(ctx, r.(*objReader), info, f, o)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = host.Wrap("s3: get_file "+key, cerr)
	}
	return res, err
}

func (b *Bucket) writeObject(ctx context.Context, r *objReader, info ObjectInfo, w io.Writer, o PutOptions) (Result, error) {
	var h hash.Hash
	if o.SHA256 {
		h = sha256.New()
	}
	ps := o.partSize()
	if info.Size <= 2*ps || o.concurrency() <= 1 {
		defer r.Close()
		dst := w
		if h != nil {
			dst = io.MultiWriter(w, h)
		}
		buf := getBuf(256 << 10)
		defer putBuf(buf)
		n, err := io.CopyBuffer(onlyWriter{dst}, onlyReader{r}, buf)
		if err != nil {
			var he *host.Error
			if !errors.As(err, &he) {
				err = s3Error("get", b.Name, info.Key, err)
			}
			return Result{}, err
		}
		return Result{Size: n, ETag: info.ETag, SHA256: hexSum(h)}, nil
	}
	// The first part comes from the GET already open; the rest in parallel.
	r.end = ps - 1
	pieces := []piece{{key: info.Key, etag: info.ETag, off: 0, end: ps - 1, pre: r, preSize: ps}}
	for off := ps; off < info.Size; off += ps {
		pieces = append(pieces, piece{key: info.Key, etag: info.ETag, off: off, end: min(off+ps, info.Size) - 1})
	}
	_, n, err := b.fetchOrdered(ctx, r.api, pieces, w, o.concurrency(), h)
	if err != nil {
		return Result{}, err
	}
	return Result{Size: n, ETag: info.ETag, SHA256: hexSum(h), Parts: len(pieces)}, nil
}

// onlyWriter/onlyReader hide ReaderFrom/WriterTo so CopyBuffer uses our buffer.
type onlyWriter struct{ io.Writer }
type onlyReader struct{ io.Reader }

// Cat writes the objects keys to w in order, fetching up to concurrency of
// them ahead, and returns each one's size and the sha256 of the whole.
func (b *Bucket) Cat(ctx context.Context, keys []string, w io.Writer, o PutOptions) (Result, error) {
	api, err := b.api(ctx)
	if err != nil {
		return Result{}, err
	}
	pieces := make([]piece, len(keys))
	for i, k := range keys {
		pieces[i] = piece{key: k, end: -1}
	}
	h := sha256.New()
	sizes, n, err := b.fetchOrdered(ctx, api, pieces, w, o.concurrency(), h)
	res := Result{Size: n, Sizes: sizes, Parts: len(sizes)}
	if err != nil {
		return res, err
	}
	res.SHA256 = hexSum(h)
	return res, nil
}
