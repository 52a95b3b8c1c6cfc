package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The example of AWS's "Transferring payload in multiple chunks" page
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): 66,560 bytes of 'a' in chunks of
// 64 KiB and 1 KiB, each signed, chained from the seed signature.
func TestSignedChunksAWSExample(t *testing.T) {
	defer func(f func() time.Time) { now = f }(now)
	now = func() time.Time { return time.Date(2013, 5, 24, 0, 1, 0, 0, time.UTC) }
	h, err := newHandler(Options{Dir: t.TempDir(), AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.fs.createBucket("examplebucket", ""); err != nil {
		t.Fatal(err)
	}
	chunk := func(data []byte, sig string) string {
		return fmt.Sprintf("%x;chunk-signature=%s\r\n%s\r\n", len(data), sig, data)
	}
	a64, a1 := bytes.Repeat([]byte("a"), 65536), bytes.Repeat([]byte("a"), 1024)
	body := chunk(a64, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648") +
		chunk(a1, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497") +
		chunk(nil, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")
	send := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", strings.NewReader(body))
		req.Host = "s3.amazonaws.com"
		req.Header.Set("X-Amz-Date", "20130524T000000Z")
		req.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
		req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", "66560")
		req.Header.Set("Content-Length", "66824")
		req.ContentLength = int64(len(body))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"+
			"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"+
			"Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if len(body) != 66824 {
		t.Fatalf("body is %d bytes", len(body))
	}
	if rec := send(body); rec.Code != 200 {
		t.Fatalf("AWS example refused: %d %s", rec.Code, rec.Body)
	}
	o, err := h.fs.open("examplebucket", "chunkObject.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(o.f)
	o.f.Close()
	if !bytes.Equal(got, append(a64, a1...)) || o.meta.ETag != md5hex(got) {
		t.Fatalf("stored %d bytes, etag %s", len(got), o.meta.ETag)
	}
	// One byte changed in the second chunk: its signature no longer holds,
	// and the object stays as it was.
	bad := []byte(body)
	bad[len(bad)-200] = 'b'
	if rec := send(string(bad)); rec.Code != 403 || !strings.Contains(rec.Body.String(), "SignatureDoesNotMatch") {
		t.Fatalf("tampered chunk: %d %s", rec.Code, rec.Body)
	}
	o, _ = h.fs.open("examplebucket", "chunkObject.txt")
	got, _ = io.ReadAll(o.f)
	o.f.Close()
	if !bytes.Equal(got, append(a64, a1...)) {
		t.Fatal("a refused PUT changed the object")
	}
}

// Over HTTPS the SDK sends unseekable bodies as aws-chunked with a CRC32
// trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER), and the upload manager does
// so for every part.
func TestSDKTrailingChecksumsOverTLS(t *testing.T) {
	ctx := context.Background()
	h, err := Handler(Options{Dir: t.TempDir(), AccessKey: testAK, SecretKey: testSK})
	if err != nil {
		t.Fatal(err)
	}
	var sawTrailer bool
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Content-Sha256") == streamingUnsignedTail && r.Header.Get("X-Amz-Trailer") != "" {
			sawTrailer = true
		}
		h.ServeHTTP(w, r)
	}))
	defer ts.Close()
	c := client(ts.URL, testAK, testSK, func(o *s3.Options) {
		o.HTTPClient = ts.Client()
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported // as LoadDefaultConfig sets it
	})
	newBucket(t, c, "tls-bucket")
	data := bytes.Repeat([]byte("0123456789abcdef"), 300000) // 4.8 MB
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("stream"),
		Body: io.MultiReader(bytes.NewReader(data)), ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		t.Fatal(err)
	}
	if !sawTrailer {
		t.Fatal("the SDK did not send a trailing checksum; the test tests nothing")
	}
	if got := get(t, c, "tls-bucket", "stream"); !bytes.Equal(got, data) {
		t.Fatalf("stream: %d bytes back", len(got))
	}
	// With checksum mode on, the stored CRC32 comes back and the SDK checks it.
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("stream"), ChecksumMode: "ENABLED"})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, out.Body)
	out.Body.Close()
	crc := crc32.ChecksumIEEE(data)
	want := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	if aws.ToString(out.ChecksumCRC32) != want {
		t.Errorf("checksum %q, want %q", aws.ToString(out.ChecksumCRC32), want)
	}

	big := bytes.Repeat([]byte("xyz"), 6<<20) // 18 MiB: 4 parts of 5 MiB
	up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = 5 << 20 })
	res, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("multi"), Body: io.MultiReader(bytes.NewReader(big))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(res.ETag), `-4"`) {
		t.Errorf("etag %s", aws.ToString(res.ETag))
	}
	if got := get(t, c, "tls-bucket", "multi"); !bytes.Equal(got, big) {
		t.Fatalf("multipart: %d bytes back", len(got))
	}
}

// A trailing checksum that does not match the data is refused.
func TestBadTrailingChecksum(t *testing.T) {
	srv := startStore(t, t.TempDir())
	newBucket(t, client(srv.URL(), testAK, testSK), "trailer")
	for _, tc := range []struct {
		name, crc string
		status    int
	}{
		{"good", "DUoRhQ==", 200}, // crc32("hello world")
		{"bad", "AAAAAA==", 400},
	} {
		body := "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:" + tc.crc + "\r\n\r\n"
		req, _ := http.NewRequest("PUT", srv.URL()+"/trailer/"+tc.name, strings.NewReader(body))
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", "11")
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		signForTest(req, streamingUnsignedTail, time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, msg)
		}
	}
}

// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: signed chunks, then a CRC32
// trailer with its own signature chained to the last chunk's. (Signatures
// computed here with the chunk-signing formula the AWS example above checks.)
func TestSignedChunksWithTrailer(t *testing.T) {
	srv := startStore(t, t.TempDir())
	newBucket(t, client(srv.URL(), testAK, testSK), "strailer")
	data := bytes.Repeat([]byte("trailer!"), 10000) // 80,000 bytes: chunks of 65,536 and 14,464
	crc := crc32.ChecksumIEEE(data)
	crcB64 := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	for _, tc := range []struct {
		name       string
		breakTrail bool
		status     int
	}{{"good", false, 200}, {"bad-trailer-signature", true, 403}} {
		req, _ := http.NewRequest("PUT", srv.URL()+"/strailer/"+tc.name, nil)
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		signForTest(req, streamingSignedTrail, time.Now())
		auth := req.Header.Get("Authorization")
		seed := auth[strings.LastIndex(auth, "=")+1:]
		amzDate := req.Header.Get("X-Amz-Date")
		a := &authResult{signKey: signingKey(testSK, amzDate[:8], "us-east-1"), amzDate: amzDate, scope: amzDate[:8] + "/us-east-1/s3/aws4_request"}
		var body strings.Builder
		prev := seed
		for _, ch := range [][]byte{data[:65536], data[65536:], nil} {
			sum := sha256.Sum256(ch)
			sig := a.chunkSignature(prev, sum[:])
			fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", len(ch), sig)
			if len(ch) > 0 {
				body.Write(ch)
				body.WriteString("\r\n")
			}
			prev = sig
		}
		trailer := "x-amz-checksum-crc32:" + crcB64 + "\n"
		tsig := a.trailerSignature(prev, trailer)
		if tc.breakTrail {
			tsig = strings.Repeat("0", 64)
		}
		fmt.Fprintf(&body, "x-amz-checksum-crc32:%s\r\nx-amz-trailer-signature:%s\r\n\r\n", crcB64, tsig)
		req.Body = io.NopCloser(strings.NewReader(body.String()))
		req.ContentLength = int64(body.Len())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, msg)
		}
	}
	if got := get(t, client(srv.URL(), testAK, testSK), "strailer", "good"); !bytes.Equal(got, data) {
		t.Errorf("stored %d bytes", len(got))
	}
}
