package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

const (
	testAK = "AKIDGOS3LUATEST"
	testSK = "secret/test+key"
)

func startStore(t *testing.T, dir string) *Server {
	t.Helper()
	srv, err := Start(Options{Dir: dir, AccessKey: testAK, SecretKey: testSK, MinPartSize: -1,
		Logf: func(f string, a ...any) {
			if strings.HasPrefix(f, "s3 store:") {
				t.Logf(f, a...)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// client is an AWS SDK v2 client configured explicitly (no environment,
// so AWS_CA_BUNDLE or a user's profile cannot interfere).
func client(url, ak, sk string, opt ...func(*s3.Options)) *s3.Client {
	o := s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(ak, sk, ""),
		// Log nothing about skipped response checksums.
		DisableLogOutputChecksumValidationSkipped: true,
		// The 2025 defaults, as config.LoadDefaultConfig sets them.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	for _, f := range opt {
		f(&o)
	}
	return s3.New(o)
}

func newBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err == nil {
		return ""
	}
	return "not an API error: " + err.Error()
}

func put(t *testing.T, c *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

func get(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	return data
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestObjectRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv := startStore(t, t.TempDir())
	c := client(srv.URL(), testAK, testSK)
	newBucket(t, c, "photos")

	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")})
	if errCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("second create: %v", err)
	}
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
	if errCode(err) != "InvalidBucketName" {
		t.Errorf("bad name: %v", err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Errorf("head bucket: %v", err)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope-nope")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("head missing bucket: %v", err)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("photos")})
	if err != nil || loc.LocationConstraint != "" {
		t.Errorf("location: %v %v", loc, err)
	}

	data := []byte("hello, world\n")
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("a/b.txt"),
		Body: bytes.NewReader(data), ContentType: aws.String("text/plain"), CacheControl: aws.String("no-cache"),
		Metadata: map[string]string{"Mtime": "1700000000", "owner": "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `"` + md5hex(data) + `"`; aws.ToString(out.ETag) != want {
		t.Errorf("etag %s, want %s", aws.ToString(out.ETag), want)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("a/b.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.ContentType) != "text/plain" || aws.ToInt64(head.ContentLength) != int64(len(data)) ||
		head.Metadata["mtime"] != "1700000000" || head.Metadata["owner"] != "bob" || aws.ToString(head.CacheControl) != "no-cache" {
		t.Errorf("head: type %q len %d meta %v cache %q", aws.ToString(head.ContentType), aws.ToInt64(head.ContentLength), head.Metadata, aws.ToString(head.CacheControl))
	}
	if head.LastModified == nil || time.Since(*head.LastModified) > time.Minute {
		t.Errorf("last modified %v", head.LastModified)
	}
	if got := get(t, c, "photos", "a/b.txt"); !bytes.Equal(got, data) {
		t.Errorf("get %q", got)
	}
	// Empty object.
	put(t, c, "photos", "empty", nil)
	if got := get(t, c, "photos", "empty"); len(got) != 0 {
		t.Errorf("empty: %q", got)
	}
	// Overwrite.
	put(t, c, "photos", "a/b.txt", []byte("v2"))
	if got := get(t, c, "photos", "a/b.txt"); string(got) != "v2" {
		t.Errorf("overwrite: %q", got)
	}

	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("missing")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("missing key: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("x")})
	if errCode(err) != "NoSuchBucket" {
		t.Errorf("missing bucket: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("x"), Body: strings.NewReader("x")})
	if errCode(err) != "NoSuchBucket" {
		t.Errorf("put to missing bucket: %v", err)
	}

	// Copy, keeping and replacing metadata.
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("copy/é.txt"),
		CopySource: aws.String("photos/a/b.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cp.CopyObjectResult.ETag) != `"`+md5hex([]byte("v2"))+`"` {
		t.Errorf("copy etag %s", aws.ToString(cp.CopyObjectResult.ETag))
	}
	if got := get(t, c, "photos", "copy/é.txt"); string(got) != "v2" {
		t.Errorf("copy: %q", got)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("a/b.txt"), CopySource: aws.String("photos/a/b.txt")})
	if errCode(err) != "InvalidRequest" {
		t.Errorf("copy onto itself: %v", err)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("a/b.txt"), CopySource: aws.String("photos/a/b.txt"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/x-new"), Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("a/b.txt")})
	if err != nil || aws.ToString(head.ContentType) != "text/x-new" || head.Metadata["k"] != "v" || head.Metadata["owner"] != "" {
		t.Errorf("replace metadata: %v %v %v", err, aws.ToString(head.ContentType), head.Metadata)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("x"), CopySource: aws.String("photos/missing")})
	if errCode(err) != "NoSuchKey" {
		t.Errorf("copy missing: %v", err)
	}

	// Delete, delete-many, and a bucket that is not empty.
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("photos")})
	if errCode(err) != "BucketNotEmpty" {
		t.Errorf("delete non-empty bucket: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("a/b.txt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("never-there")}); err != nil {
		t.Errorf("deleting a missing key must succeed: %v", err)
	}
	del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("photos"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("copy/é.txt")}, {Key: aws.String("empty")}, {Key: aws.String("ghost")}}}})
	if err != nil || len(del.Deleted) != 3 || len(del.Errors) != 0 {
		t.Fatalf("delete objects: %v %+v", err, del)
	}
	del, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("photos"), Delete: &types.Delete{Quiet: aws.Bool(true),
		Objects: []types.ObjectIdentifier{{Key: aws.String("ghost")}}}})
	if err != nil || len(del.Deleted) != 0 {
		t.Fatalf("quiet delete objects: %v %+v", err, del)
	}
	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != "photos" || lb.Buckets[0].CreationDate == nil {
		t.Fatalf("list buckets: %v %+v", err, lb)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatalf("delete emptied bucket: %v", err)
	}
	lb, err = c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 0 {
		t.Fatalf("list buckets after delete: %v %+v", err, lb)
	}
}

// listAll pages through ListObjectsV2.
func listAll(t *testing.T, c *s3.Client, in *s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
	t.Helper()
	p := s3.NewListObjectsV2Paginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, cp := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(cp.Prefix))
		}
	}
	return keys, prefixes, pages
}

func TestListingPagesPastAThousand(t *testing.T) {
	ctx := context.Background()
	srv := startStore(t, t.TempDir())
	c := client(srv.URL(), testAK, testSK)
	newBucket(t, c, "many")
	var want []string
	// 1,234 keys: a flat run (the s3pipe shape), and a tree.
	sem := make(chan struct{}, 16)
	errs := make(chan error, 2000)
	add := func(k string) {
		want = append(want, k)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("many"), Key: aws.String(k), Body: strings.NewReader(k)})
			errs <- err
		}()
	}
	for i := 0; i < 1100; i++ {
		add(fmt.Sprintf("bob-%010d", i))
	}
	for i := 0; i < 134; i++ {
		add(fmt.Sprintf("tree/d%d/f%03d", i%7, i))
	}
	for i := 0; i < len(want); i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(want)

	keys, _, pages := listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("many")})
	if pages != 2 || strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Fatalf("v2: %d pages, %d keys (want 2 pages, %d keys)", pages, len(keys), len(want))
	}
	keys, _, pages = listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("many"), Prefix: aws.String("bob-"), MaxKeys: aws.Int32(100)})
	if pages != 11 || len(keys) != 1100 || keys[0] != "bob-0000000000" || keys[1099] != "bob-0000001099" {
		t.Fatalf("v2 prefix, 100 a page: %d pages %d keys", pages, len(keys))
	}
	keys, prefixes, _ := listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("many"), Delimiter: aws.String("/"), StartAfter: aws.String("bob-0000001090")})
	if len(keys) != 9 || strings.Join(prefixes, ",") != "tree/" {
		t.Fatalf("delimiter + start-after: %d keys, prefixes %v", len(keys), prefixes)
	}
	// Common prefixes page too, without repeating.
	keys, prefixes, pages = listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("many"), Prefix: aws.String("tree/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	if len(keys) != 0 || strings.Join(prefixes, ",") != "tree/d0/,tree/d1/,tree/d2/,tree/d3/,tree/d4/,tree/d5/,tree/d6/" || pages != 4 {
		t.Fatalf("prefixes by two: %v in %d pages", prefixes, pages)
	}
	// Delimiter other than "/".
	_, prefixes, _ = listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("many"), Delimiter: aws.String("-")})
	if strings.Join(prefixes, ",") != "bob-" {
		t.Fatalf("delimiter -: %v", prefixes)
	}

	// V1 with markers, as s3cmd lists.
	var v1 []string
	marker := ""
	for n := 0; ; n++ {
		out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("many"), Marker: aws.String(marker)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			v1 = append(v1, aws.ToString(o.Key))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = aws.ToString(out.NextMarker)
		if n > 5 {
			t.Fatal("v1 does not end")
		}
	}
	if strings.Join(v1, ",") != strings.Join(want, ",") {
		t.Fatalf("v1: %d keys", len(v1))
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("many"), Prefix: aws.String("tree/d3/f010")})
	if err != nil || len(out.Contents) != 1 || aws.ToInt64(out.Contents[0].Size) != int64(len("tree/d3/f010")) ||
		aws.ToString(out.Contents[0].ETag) != `"`+md5hex([]byte("tree/d3/f010"))+`"` {
		t.Fatalf("entry fields: %v %+v", err, out)
	}
}

func TestRangesAndConditions(t *testing.T) {
	ctx := context.Background()
	srv := startStore(t, t.TempDir())
	c := client(srv.URL(), testAK, testSK)
	newBucket(t, c, "r-bucket")
	data := []byte("0123456789abcdefghij")
	put(t, c, "r-bucket", "k", data)
	for _, tc := range []struct {
		rng, want, code string
	}{
		{"bytes=0-3", "0123", ""},
		{"bytes=5-", "56789abcdefghij", ""},
		{"bytes=-4", "ghij", ""},
		{"bytes=18-100", "ij", ""},
		{"bytes=-100", string(data), ""},
		{"bytes=20-", "", "InvalidRange"},
		{"bytes=100-200", "", "InvalidRange"},
	} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("r-bucket"), Key: aws.String("k"), Range: aws.String(tc.rng)})
		if tc.code != "" {
			if errCode(err) != tc.code {
				t.Errorf("%s: %v, want %s", tc.rng, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.rng, err)
			continue
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(got) != tc.want {
			t.Errorf("%s: %q, want %q (content-range %s)", tc.rng, got, tc.want, aws.ToString(out.ContentRange))
		}
	}
	head, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("r-bucket"), Key: aws.String("k")})
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("r-bucket"), Key: aws.String("k"), IfNoneMatch: head.ETag})
	if errCode(err) != "NotModified" {
		t.Errorf("if-none-match: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("r-bucket"), Key: aws.String("k"), IfMatch: aws.String(`"nope"`)})
	if errCode(err) != "PreconditionFailed" {
		t.Errorf("if-match: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("r-bucket"), Key: aws.String("k"), IfModifiedSince: aws.Time(time.Now().Add(time.Hour))})
	if errCode(err) != "NotModified" {
		t.Errorf("if-modified-since: %v", err)
	}
}

func TestMultipart(t *testing.T) {
	ctx := context.Background()
	srv, err := Start(Options{Dir: t.TempDir(), AccessKey: testAK, SecretKey: testSK}) // S3's 5 MiB minimum
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := client(srv.URL(), testAK, testSK)
	newBucket(t, c, "mpu")
	b, k := aws.String("mpu"), aws.String("dir/big.bin")
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k, ContentType: aws.String("application/x-big"),
		Metadata: map[string]string{"who": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{bytes.Repeat([]byte("a"), 5<<20), bytes.Repeat([]byte("b"), 5<<20), []byte("tail")}
	var done []types.CompletedPart
	var sums []byte
	// Upload out of order; part 2 twice (the last one wins).
	for _, i := range []int{2, 0, 1, 1} {
		data := parts[i]
		if i == 1 && len(done) < 2 {
			data = []byte("overwritten later")
		}
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(up.ETag) != `"`+md5hex(data)+`"` {
			t.Errorf("part etag %s", aws.ToString(up.ETag))
		}
		if len(done) < 2 || i == 1 && len(done) == 2 {
			done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag})
		}
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: b, Key: k, UploadId: cr.UploadId})
	if err != nil || len(lp.Parts) != 3 || aws.ToInt64(lp.Parts[0].Size) != 5<<20 {
		t.Fatalf("list parts: %v %+v", err, lp)
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(cr.UploadId) {
		t.Fatalf("list uploads: %v %+v", err, lu)
	}
	sort.Slice(done, func(i, j int) bool { return *done[i].PartNumber < *done[j].PartNumber })
	for _, p := range parts {
		s := md5.Sum(p)
		sums = append(sums, s[:]...)
	}
	// Parts out of order are refused.
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[1], done[0]}}})
	if errCode(err) != "InvalidPartOrder" {
		t.Errorf("out of order: %v", err)
	}
	// A small part but the last is refused.
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[2], {PartNumber: aws.Int32(4), ETag: done[2].ETag}}}})
	if errCode(err) != "InvalidPart" && errCode(err) != "EntityTooSmall" {
		t.Errorf("small part: %v", err)
	}
	comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`"%s-3"`, md5hex(sums)); aws.ToString(comp.ETag) != want {
		t.Errorf("etag %s, want %s", aws.ToString(comp.ETag), want)
	}
	got := get(t, c, "mpu", "dir/big.bin")
	if !bytes.Equal(got, bytes.Join(parts, nil)) {
		t.Errorf("content differs (%d bytes)", len(got))
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k})
	if err != nil || aws.ToString(head.ContentType) != "application/x-big" || head.Metadata["who"] != "test" {
		t.Errorf("head: %v %+v", err, head)
	}
	lu, _ = c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b})
	if len(lu.Uploads) != 0 {
		t.Errorf("upload still listed after complete")
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	if errCode(err) != "NoSuchUpload" {
		t.Errorf("part after complete: %v", err)
	}
	// A Complete retried after its answer was lost succeeds again.
	again, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil || aws.ToString(again.ETag) != aws.ToString(comp.ETag) {
		t.Errorf("repeated complete: %v %v", err, again)
	}
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: b, Key: k, UploadId: cr.UploadId})
	if errCode(err) != "NoSuchUpload" {
		t.Errorf("list parts after complete: %v", err)
	}
	// Abort.
	cr2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: cr2.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: k, UploadId: cr2.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: k, UploadId: cr2.UploadId})
	if errCode(err) != "NoSuchUpload" {
		t.Errorf("second abort: %v", err)
	}
	// UploadPartCopy of a range.
	cr3, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("copied")})
	pc, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: b, Key: aws.String("copied"), UploadId: cr3.UploadId, PartNumber: aws.Int32(1),
		CopySource: aws.String("mpu/dir/big.bin"), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", 10<<20, 10<<20+3))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("copied"), UploadId: cr3.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: pc.CopyPartResult.ETag}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "mpu", "copied"); string(got) != "tail" {
		t.Errorf("part copy: %q", got)
	}
}

func TestPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	srv := startStore(t, dir)
	c := client(srv.URL(), testAK, testSK)
	newBucket(t, c, "keep")
	put(t, c, "keep", "x/y", []byte("still here"))
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv = startStore(t, dir)
	c = client(srv.URL(), testAK, testSK)
	if got := get(t, c, "keep", "x/y"); string(got) != "still here" {
		t.Fatalf("after restart: %q", got)
	}
	keys, _, _ := listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("keep")})
	if strings.Join(keys, ",") != "x/y" {
		t.Fatalf("list after restart: %v", keys)
	}
	// The data is an ordinary file under DIR/BUCKET/KEY.
	raw, err := os.ReadFile(filepath.Join(dir, "keep", "x", "y"))
	if err != nil || string(raw) != "still here" {
		t.Fatalf("file on disk: %q %v", raw, err)
	}
	// A file dropped in by hand is an object, its ETag computed.
	os.MkdirAll(filepath.Join(dir, "keep", "by hand"), 0o755)
	os.WriteFile(filepath.Join(dir, "keep", "by hand", "f.txt"), []byte("dropped"), 0o644)
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("keep")})
	if err != nil || len(out.Contents) != 2 || aws.ToString(out.Contents[0].Key) != "by hand/f.txt" ||
		aws.ToString(out.Contents[0].ETag) != `"`+md5hex([]byte("dropped"))+`"` {
		t.Fatalf("hand-made file listed: %v %+v", err, out)
	}
	if got := get(t, c, "keep", "by hand/f.txt"); string(got) != "dropped" {
		t.Fatalf("hand-made file: %q", got)
	}
}

// Keys that look like paths must round-trip exactly and never escape DIR.
func TestAwkwardKeysStayInside(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "store")
	srv := startStore(t, dir)
	c := client(srv.URL(), testAK, testSK)
	newBucket(t, c, "keys")
	keys := []string{
		"../escape", "../../etc/passwd", "a/../../b", "./x", ".", "..", "x/./y", "x/../y", "x/..",
		"/abs/path", "//double", "a//b", "dir/", "dir", "dir/file", "dir/sub/", "a", "a/b", "a/b/c", "a-b",
		"spaces in name", "unicode/日本語/ファイル", "émoji 🎉", "100%", "%2e%2e", "%", "%%", "tab\there", "new\nline",
		".%m.x", ".%self", "x/.%self", ".%bucket.json", "~user", "q?x=1&y", "hash#frag", "plus+sign", "back\\slash",
	}
	for _, k := range keys {
		put(t, c, "keys", k, []byte("v:"+k))
	}
	for _, k := range keys {
		if got := string(get(t, c, "keys", k)); got != "v:"+k {
			t.Errorf("key %q: got %q", k, got)
		}
	}
	got, _, _ := listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("keys")})
	want := append([]string(nil), keys...)
	sort.Strings(want)
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("listing:\n got %q\nwant %q", got, want)
	}
	// Nothing outside DIR.
	ents, _ := os.ReadDir(root)
	if len(ents) != 1 || ents[0].Name() != "store" {
		t.Errorf("files outside the store: %v", ents)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
		}
		if d != nil && d.Type()&os.ModeSymlink != 0 {
			t.Errorf("symlink %s", p)
		}
		return nil
	})
	// Deleting them all leaves only the bucket record.
	for _, k := range keys {
		if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("keys"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ = os.ReadDir(filepath.Join(dir, "keys"))
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("left after deleting everything: %q", names)
	}
	if _, err := c.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String("keys")}); err != nil {
		t.Error(err)
	}
	// Too long a key.
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("nokeys"), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("")})
	if err == nil {
		t.Error("1025-byte key accepted")
	}
}

func TestAuthentication(t *testing.T) {
	ctx := context.Background()
	srv := startStore(t, t.TempDir())
	good := client(srv.URL(), testAK, testSK)
	newBucket(t, good, "auth")
	put(t, good, "auth", "k", []byte("v"))
	for _, tc := range []struct {
		name, ak, sk, code string
	}{
		{"wrong secret", testAK, "wrong", "SignatureDoesNotMatch"},
		{"unknown key", "AKIDNOBODY", testSK, "InvalidAccessKeyId"},
	} {
		c := client(srv.URL(), tc.ak, tc.sk, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("auth"), Key: aws.String("k")})
		if errCode(err) != tc.code {
			t.Errorf("%s: get: %v", tc.name, err)
		}
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("auth"), Key: aws.String("k"), Body: strings.NewReader("evil")})
		if errCode(err) != tc.code {
			t.Errorf("%s: put: %v", tc.name, err)
		}
	}
	// Anonymous.
	resp, err := http.Get(srv.URL() + "/auth/k")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
		t.Errorf("anonymous: %d %s", resp.StatusCode, body)
	}
	if got := get(t, good, "auth", "k"); string(got) != "v" {
		t.Errorf("object changed by a rejected put: %q", got)
	}
	// A body that does not match the signed payload hash.
	req, _ := http.NewRequest("PUT", srv.URL()+"/auth/k", strings.NewReader("tampered"))
	signForTest(req, emptySHA256, time.Now())
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "XAmzContentSHA256Mismatch") {
		t.Errorf("payload hash mismatch: %d %s", resp.StatusCode, body)
	}
	// Presigned URLs.
	ps := s3.NewPresignClient(good)
	pg, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("auth"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "v" {
		t.Errorf("presigned get: %d %q", resp.StatusCode, body)
	}
	resp, _ = http.Get(strings.Replace(pg.URL, "/auth/k", "/auth/other", 1))
	if resp.StatusCode != 403 {
		t.Errorf("presigned URL for another key: %d", resp.StatusCode)
	}
	resp.Body.Close()
	pp, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("auth"), Key: aws.String("up")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("PUT", pp.URL, strings.NewReader("via presigned"))
	for k, v := range pp.SignedHeader {
		req.Header[k] = v
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || string(get(t, good, "auth", "up")) != "via presigned" {
		t.Errorf("presigned put: %d", resp.StatusCode)
	}
}

// signForTest signs req with the test keys (a minimal SigV4 signer for
// requests the SDK would not send).
func signForTest(req *http.Request, payload string, t time.Time) {
	amzDate := t.UTC().Format(amzDateFormat)
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payload)
	signed := "host;x-amz-content-sha256;x-amz-date"
	creq := strings.Join([]string{req.Method, awsEscape(req.URL.Path, false), canonicalQuery(req.URL.Query()),
		"host:" + req.URL.Host + "\nx-amz-content-sha256:" + payload + "\nx-amz-date:" + amzDate + "\n", signed, payload}, "\n")
	scope := amzDate[:8] + "/us-east-1/s3/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(creq))
	sig := hex.EncodeToString(hmacSHA256(signingKey(testSK, amzDate[:8], "us-east-1"), sts))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAK+"/"+scope+", SignedHeaders="+signed+", Signature="+sig)
}

func TestGetByPartNumber(t *testing.T) {
	ctx := context.Background()
	srv := startStore(t, t.TempDir())
	c := client(srv.URL(), testAK, testSK)
	newBucket(t, c, "parts")
	b, k := aws.String("parts"), aws.String("mp")
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	var done []types.CompletedPart
	for i, p := range []string{"first-", "second-", "third"} {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, PartNumber: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "second-" || aws.ToInt32(out.PartsCount) != 3 || aws.ToString(out.ContentRange) != "bytes 6-12/18" {
		t.Errorf("part 2: %q parts %d range %s", got, aws.ToInt32(out.PartsCount), aws.ToString(out.ContentRange))
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, PartNumber: aws.Int32(4)})
	if errCode(err) != "InvalidPartNumber" {
		t.Errorf("part 4: %v", err)
	}
	put(t, c, "parts", "single", []byte("whole"))
	out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("single"), PartNumber: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "whole" {
		t.Errorf("part 1 of a single-part object: %q", got)
	}
}

// Check values of the CRC catalogue and the digests: x-amz-checksum-* are
// base64 of the big-endian value.
func TestChecksumAlgorithms(t *testing.T) {
	for algo, want := range map[string]string{
		"crc32":     "cbf43926",
		"crc32c":    "e3069283",
		"crc64nvme": "ae8b14860a799888",
		"sha1":      "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
		"sha256":    "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
	} {
		h := newChecksum(algo)
		h.Write([]byte("123456789"))
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("%s: %s, want %s", algo, got, want)
		}
	}
}

// Two stores on one directory (serve s3 and a script's embedded store):
// neither may remove the other's bodies in flight; a dead one's are swept.
func TestTwoProcessesShareADirectory(t *testing.T) {
	dir := t.TempDir()
	a, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := a.tempFile()
	f.WriteString("half a body")
	f.Close()
	b, err := openFS(dir) // starts while a receives
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Name()); err != nil {
		t.Fatalf("second store removed the first one's upload in flight: %v", err)
	}
	if a.tmp == b.tmp {
		t.Fatal("shared temporary directory")
	}
	// a dies without closing: its lock goes with its file descriptor.
	a.tmpLock.Close()
	c, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Name()); err == nil {
		t.Error("abandoned body not swept")
	}
	if _, err := os.Stat(b.tmp); err != nil {
		t.Error("live store's temporary directory swept")
	}
	b.close()
	c.close()
	if ents, _ := os.ReadDir(filepath.Join(dir, ".tmp")); len(ents) != 0 {
		t.Errorf("left in .tmp after close: %v", ents)
	}
}

func TestConditionalWrites(t *testing.T) {
	ctx := context.Background()
	srv := startStore(t, t.TempDir())
	c := client(srv.URL(), testAK, testSK)
	newBucket(t, c, "cond")
	b, k := aws.String("cond"), aws.String("manifest")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("v1"), IfNoneMatch: aws.String("*")}); err != nil {
		t.Fatalf("create if absent: %v", err)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("v2"), IfNoneMatch: aws.String("*")})
	if errCode(err) != "PreconditionFailed" {
		t.Errorf("create over an existing key: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("v2"), IfMatch: aws.String(`"` + md5hex([]byte("other")) + `"`)})
	if errCode(err) != "PreconditionFailed" {
		t.Errorf("replace with a wrong etag: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("v2"), IfMatch: aws.String(`"` + md5hex([]byte("v1")) + `"`)}); err != nil {
		t.Errorf("replace with the right etag: %v", err)
	}
	if got := get(t, c, "cond", "manifest"); string(got) != "v2" {
		t.Errorf("content %q", got)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("absent"), Body: strings.NewReader("x"), IfMatch: aws.String(`"abc"`)})
	if errCode(err) != "NoSuchKey" {
		t.Errorf("if-match on a missing key: %v", err)
	}
}

// A client that dies in the middle of a PUT leaves the previous version in
// place and nothing behind in the temporary directory.
func TestInterruptedPut(t *testing.T) {
	dir := t.TempDir()
	srv := startStore(t, dir)
	c := client(srv.URL(), testAK, testSK)
	newBucket(t, c, "cut")
	put(t, c, "cut", "obj", []byte("old version"))

	req, _ := http.NewRequest("PUT", srv.URL()+"/cut/obj", nil)
	signForTest(req, unsignedPayload, time.Now())
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /cut/obj HTTP/1.1\r\nHost: %s\r\nContent-Length: 10000000\r\n", req.Host)
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256"} {
		fmt.Fprintf(conn, "%s: %s\r\n", h, req.Header.Get(h))
	}
	fmt.Fprintf(conn, "\r\n")
	conn.Write(bytes.Repeat([]byte("n"), 1<<20))
	time.Sleep(100 * time.Millisecond)
	conn.Close()

	deadline := time.Now().Add(5 * time.Second)
	for {
		left, _ := filepath.Glob(filepath.Join(dir, ".tmp", "*", "*"))
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("temporary files left: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := get(t, c, "cut", "obj"); string(got) != "old version" {
		t.Fatalf("after an interrupted PUT: %q", got)
	}
}

// The way users configure clients: environment variables through
// config.LoadDefaultConfig (AWS_CA_BUNDLE, set on some machines, must not
// get in the way of a plain-HTTP endpoint).
func TestSDKFromEnvironment(t *testing.T) {
	srv := startStore(t, t.TempDir())
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": testAK, "AWS_SECRET_ACCESS_KEY": testSK, "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": srv.URL(), "AWS_ENDPOINT_URL": "",
		"AWS_CONFIG_FILE": filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	newBucket(t, c, "from-env")
	put(t, c, "from-env", "k", []byte("configured from the environment"))
	if got := get(t, c, "from-env", "k"); string(got) != "configured from the environment" {
		t.Fatalf("got %q", got)
	}
}

func TestSegmentEncoding(t *testing.T) {
	for _, tc := range []struct{ seg, name string }{
		{"", "%"}, {".", "%2E"}, {"..", "%2E%2E"}, {"...", "..."}, {"a%b", "a%25b"}, {"%", "%25"},
		{"tab\t", "tab%09"}, {"é ü", "é ü"}, {".%m.x", ".%25m.x"}, {".%self", ".%25self"},
	} {
		if got := encodeSeg(tc.seg); got != tc.name {
			t.Errorf("encode %q: %q, want %q", tc.seg, got, tc.name)
		}
		if got, ok := decodeSeg(tc.name); !ok || got != tc.seg {
			t.Errorf("decode %q: %q %v", tc.name, got, ok)
		}
	}
	for _, bad := range []string{"%2e", "%zz", "a%", "%25%", ".", "..", "%41"} {
		if got, ok := decodeSeg(bad); ok {
			t.Errorf("decode %q accepted as %q", bad, got)
		}
	}
}
