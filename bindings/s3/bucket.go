package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/gos3lua/gos3lua/host"
)

// Bucket is a bucket of a client; every method does network I/O and must
// run off the Lua thread.
type Bucket struct {
	c    *Client
	Name string
}

func (b *Bucket) String() string { return "s3.bucket(" + b.Name + ")" }

// ObjectInfo is one object (or, with Prefix set, one common prefix of a
// delimiter listing).
type ObjectInfo struct {
	Key          string
	Prefix       string
	Size         int64
	ETag         string
	MTime        time.Time
	ContentType  string
	Metadata     map[string]string
	StorageClass string
}

// PutOptions are the options of put, put_file and upload.
type PutOptions struct {
	ContentType string
	Metadata    map[string]string
	PartSize    int64 // multipart part size; 0 = default
	Concurrency int   // parts in flight; 0 = default
	SHA256      bool  // compute the sha256 of the content on the way
}

// Result is what a transfer returns.
type Result struct {
	Size   int64
	ETag   string
	SHA256 string
	Parts  int
	Sizes  []int64 // split and cat: the size of each chunk
}

// api returns the SDK client; on the embedded store it also makes sure
// the default bucket exists, so that `gos3lua backup.lua DIR` just works.
func (b *Bucket) api(ctx context.Context) (*s3.Client, error) {
	api, err := b.c.API(ctx)
	if err != nil {
		return nil, err
	}
	if b.c.embedded && b.Name == DefaultBucket {
		if err := b.c.ensureDefault(ctx, api); err != nil {
			return nil, err
		}
	}
	return api, nil
}

var defaultMade sync.Map // *Client -> true

func (c *Client) ensureDefault(ctx context.Context, api *s3.Client) error {
	if _, ok := defaultMade.Load(c); ok {
		return nil
	}
	_, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(DefaultBucket)})
	if err != nil {
		_, err = api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(DefaultBucket)})
		if err != nil && !isCode(err, "BucketAlreadyOwnedByYou", "BucketAlreadyExists") {
			return s3Error("create_bucket", DefaultBucket, "", err)
		}
	}
	defaultMade.Store(c, true)
	return nil
}

// ---- buckets ----

// Bucket returns the bucket name of c (no network).
func (c *Client) Bucket(name string) *Bucket { return &Bucket{c: c, Name: name} }

// BucketInfo is one entry of buckets().
type BucketInfo struct {
	Name    string
	Created time.Time
}

// Buckets lists the buckets of the account.
func (c *Client) Buckets(ctx context.Context) ([]BucketInfo, error) {
	api, err := c.API(ctx)
	if err != nil {
		return nil, err
	}
	var out []BucketInfo
	var token *string
	for {
		res, err := api.ListBuckets(ctx, &s3.ListBucketsInput{ContinuationToken: token})
		if err != nil {
			return nil, s3Error("buckets", "", "", err)
		}
		for _, b := range res.Buckets {
			out = append(out, BucketInfo{Name: aws.ToString(b.Name), Created: aws.ToTime(b.CreationDate)})
		}
		if aws.ToString(res.ContinuationToken) == "" {
			return out, nil
		}
		token = res.ContinuationToken
	}
}

// CreateBucket creates a bucket; one that already exists and is ours is fine.
func (c *Client) CreateBucket(ctx context.Context, name string) error {
	api, err := c.API(ctx)
	if err != nil {
		return err
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if r := api.Options().Region; r != "" && r != "us-east-1" && !c.embedded && c.endpoint == "" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(r)}
	}
	_, err = api.CreateBucket(ctx, in)
	if err != nil && !isCode(err, "BucketAlreadyOwnedByYou") {
		return s3Error("create_bucket", name, "", err)
	}
	return nil
}

// DeleteBucket deletes an empty bucket.
func (c *Client) DeleteBucket(ctx context.Context, name string) error {
	api, err := c.API(ctx)
	if err != nil {
		return err
	}
	_, err = api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	if err == nil && c.embedded && name == DefaultBucket {
		defaultMade.Delete(c)
	}
	return s3Error("delete_bucket", name, "", err)
}

// ---- objects ----

// Put stores data as key.
func (b *Bucket) Put(ctx context.Context, key string, data string, o PutOptions) (Result, error) {
	api, err := b.api(ctx)
	if err != nil {
		return Result{}, err
	}
	etag, err := b.putObject(ctx, api, key, strings.NewReader(data), int64(len(data)), o)
	if err != nil {
		return Result{}, err
	}
	return Result{Size: int64(len(data)), ETag: etag}, nil
}

type readSeeker interface {
	Read([]byte) (int, error)
	Seek(int64, int) (int64, error)
}

func (b *Bucket) putObject(ctx context.Context, api *s3.Client, key string, body readSeeker, size int64, o PutOptions) (string, error) {
	in := &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size)}
	if o.ContentType != "" {
		in.ContentType = aws.String(o.ContentType)
	}
	if len(o.Metadata) > 0 {
		in.Metadata = o.Metadata
	}
	res, err := api.PutObject(ctx, in)
	if err != nil {
		return "", s3Error("put", b.Name, key, err)
	}
	return trimETag(aws.ToString(res.ETag)), nil
}

func trimETag(s string) string { return strings.Trim(s, `"`) }

// Get returns the whole object (or the range "bytes=a-b").
func (b *Bucket) Get(ctx context.Context, key, rng string) ([]byte, error) {
	r, info, err := b.Open(ctx, key, rng)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := bytes.NewBuffer(make([]byte, 0, info.Size+bytes.MinRead))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, s3Error("get", b.Name, key, err)
	}
	return buf.Bytes(), nil
}

// Stat returns the object's metadata, or nil when it does not exist.
func (b *Bucket) Stat(ctx context.Context, key string) (*ObjectInfo, error) {
	api, err := b.api(ctx)
	if err != nil {
		return nil, err
	}
	res, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, s3Error("stat", b.Name, key, err)
	}
	return &ObjectInfo{Key: key, Size: aws.ToInt64(res.ContentLength), ETag: trimETag(aws.ToString(res.ETag)),
		MTime: aws.ToTime(res.LastModified), ContentType: aws.ToString(res.ContentType), Metadata: res.Metadata,
		StorageClass: string(res.StorageClass)}, nil
}

// Delete removes key (deleting a missing key is not an error in S3).
func (b *Bucket) Delete(ctx context.Context, key string) error {
	api, err := b.api(ctx)
	if err != nil {
		return err
	}
	_, err = api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	return s3Error("delete", b.Name, key, err)
}

// DeleteMany removes keys, 1,000 per request, a few requests at a time.
// It returns how many were deleted and the first failure.
func (b *Bucket) DeleteMany(ctx context.Context, keys []string) (int, error) {
	api, err := b.api(ctx)
	if err != nil {
		return 0, err
	}
	const batch = 1000
	var (
		mu       sync.Mutex
		deleted  int
		failed   int
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 4)
	)
	for i := 0; i < len(keys); i += batch {
		part := keys[i:min(i+batch, len(keys))]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			objs := make([]types.ObjectIdentifier, len(part))
			for j, k := range part {
				objs[j] = types.ObjectIdentifier{Key: aws.String(k)}
			}
			res, err := api.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b.Name),
				Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)}})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed += len(part)
				if firstErr == nil {
					firstErr = s3Error("delete_many", b.Name, "", err)
				}
				return
			}
			deleted += len(part) - len(res.Errors)
			failed += len(res.Errors)
			if len(res.Errors) > 0 && firstErr == nil {
				e := res.Errors[0]
				code, key := aws.ToString(e.Code), aws.ToString(e.Key)
				firstErr = &host.Error{Kind: code, Message: oneLine(fmt.Sprintf("s3: delete %s: %s: %s", key, code, aws.ToString(e.Message)))}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		var he *host.Error
		if errors.As(firstErr, &he) {
			he.With("failed", failed).With("deleted", deleted)
		}
	}
	return deleted, firstErr
}

// Copy copies srcBucket/src (srcBucket "" = this bucket) to dst on the server.
func (b *Bucket) Copy(ctx context.Context, src, dst, srcBucket string, o PutOptions) (Result, error) {
	api, err := b.api(ctx)
	if err != nil {
		return Result{}, err
	}
	if srcBucket == "" {
		srcBucket = b.Name
	}
	in := &s3.CopyObjectInput{Bucket: aws.String(b.Name), Key: aws.String(dst),
		CopySource: aws.String(url.PathEscape(srcBucket) + "/" + escapeKey(src))}
	if o.ContentType != "" || o.Metadata != nil {
		in.MetadataDirective = types.MetadataDirectiveReplace
		if o.ContentType != "" {
			in.ContentType = aws.String(o.ContentType)
		}
		in.Metadata = o.Metadata
	}
	res, err := api.CopyObject(ctx, in)
	if err != nil {
		return Result{}, s3Error("copy", b.Name, src, err)
	}
	r := Result{}
	if res.CopyObjectResult != nil {
		r.ETag = trimETag(aws.ToString(res.CopyObjectResult.ETag))
	}
	return r, nil
}

// escapeKey escapes a key for x-amz-copy-source, keeping the slashes.
func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// ---- listing ----

// ListOptions select what list returns.
type ListOptions struct {
	Prefix     string
	Delimiter  string
	StartAfter string
	PageSize   int
}

// Page is one ListObjectsV2 answer, objects and common prefixes merged in
// key order.
type Page struct {
	Items []ObjectInfo
	Next  string // continuation token; "" on the last page
}

// ListPage fetches one page; token "" starts at the beginning.
func (b *Bucket) ListPage(ctx context.Context, o ListOptions, token string) (Page, error) {
	api, err := b.api(ctx)
	if err != nil {
		return Page{}, err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.Name)}
	if o.Prefix != "" {
		in.Prefix = aws.String(o.Prefix)
	}
	if o.Delimiter != "" {
		in.Delimiter = aws.String(o.Delimiter)
	}
	if o.StartAfter != "" {
		in.StartAfter = aws.String(o.StartAfter)
	}
	if o.PageSize > 0 {
		in.MaxKeys = aws.Int32(int32(o.PageSize))
	}
	if token != "" {
		in.ContinuationToken = aws.String(token)
	}
	res, err := api.ListObjectsV2(ctx, in)
	if err != nil {
		return Page{}, s3Error("list", b.Name, "", err)
	}
	items := make([]ObjectInfo, 0, len(res.Contents)+len(res.CommonPrefixes))
	for _, c := range res.Contents {
		items = append(items, ObjectInfo{Key: aws.ToString(c.Key), Size: aws.ToInt64(c.Size), ETag: trimETag(aws.ToString(c.ETag)),
			MTime: aws.ToTime(c.LastModified), StorageClass: string(c.StorageClass)})
	}
	for _, p := range res.CommonPrefixes {
		items = append(items, ObjectInfo{Prefix: aws.ToString(p.Prefix)})
	}
	if len(res.CommonPrefixes) > 0 {
		name := func(i ObjectInfo) string {
			if i.Prefix != "" {
				return i.Prefix
			}
			return i.Key
		}
		sort.SliceStable(items, func(i, j int) bool { return name(items[i]) < name(items[j]) })
	}
	p := Page{Items: items}
	if aws.ToBool(res.IsTruncated) {
		p.Next = aws.ToString(res.NextContinuationToken)
		if p.Next == "" {
			return p, &host.Error{Kind: "InvalidResponse", Message: "s3: list " + b.Name + ": truncated listing without a continuation token"}
		}
	}
	return p, nil
}

// Lister pages through a listing, fetching the next page in the background
// while the current one is consumed.
type Lister struct {
	b     *Bucket
	o     ListOptions
	items []ObjectInfo
	i     int
	next  chan pageResult // the page being prefetched, nil when none
	done  bool
}

type pageResult struct {
	p   Page
	err error
}

// NewLister fetches the first page and starts prefetching the second.
func (b *Bucket) NewLister(ctx context.Context, o ListOptions) (*Lister, error) {
	p, err := b.ListPage(ctx, o, "")
	if err != nil {
		return nil, err
	}
	l := &Lister{b: b, o: o}
	l.take(ctx, p)
	return l, nil
}

func (l *Lister) take(ctx context.Context, p Page) {
	l.items, l.i = p.Items, 0
	if p.Next == "" {
		l.done = true
		l.next = nil
		return
	}
	ch := make(chan pageResult, 1)
	l.next = ch
	go func() {
		p, err := l.b.ListPage(ctx, l.o, p.Next)
		ch <- pageResult{p, err}
	}()
}

// Buffered reports whether Next can answer without waiting on the network.
func (l *Lister) Buffered() bool { return l.i < len(l.items) || l.next == nil }

// Next returns the next entry; ok is false at the end. It waits for the
// prefetched page when the current one is used up.
func (l *Lister) Next(ctx context.Context) (ObjectInfo, bool, error) {
	for l.i >= len(l.items) {
		if l.next == nil {
			return ObjectInfo{}, false, nil
		}
		var r pageResult
		select {
		case r = <-l.next:
		case <-ctx.Done():
			return ObjectInfo{}, false, s3Error("list", l.b.Name, "", ctx.Err())
		}
		if r.err != nil {
			l.next = nil
			return ObjectInfo{}, false, r.err
		}
		l.take(ctx, r.p)
	}
	it := l.items[l.i]
	l.items[l.i] = ObjectInfo{}
	l.i++
	return it, true, nil
}
