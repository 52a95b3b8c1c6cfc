package store

// Request bodies: plain, or aws-chunked (Content-Encoding: aws-chunked,
// x-amz-content-sha256 STREAMING-...), decoded while they stream, with the
// payload hash, chunk signatures, Content-MD5 and x-amz-checksum-* values
// verified when the body ends. Nothing is buffered beyond one read.

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// crc64nvme is built on first use: a table is 34 KB of start-up otherwise.
var crc64nvme = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(0x9a6c9329ac4bc9b5) })

// newChecksum returns the hash for an x-amz-checksum-ALGO name.
func newChecksum(algo string) hash.Hash {
	switch strings.ToLower(algo) {
	case "crc32":
		return crc32.NewIEEE()
	case "crc32c":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "crc64nvme":
		return crc64.New(crc64nvme())
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	}
	return nil
}

// body is a request body being received.
type body struct {
	src      io.Reader // decoded content
	raw      io.ReadCloser
	md5      hash.Hash
	sha      hash.Hash // payload hash to verify, if the client sent one
	wantSHA  string
	wantMD5  []byte
	ckAlgo   string // checksum algorithm (lower case), "" when none
	ck       hash.Hash
	ckWant   string // from a header; trailers fill it at the end
	chunked  *chunkReader
	declared int64 // x-amz-decoded-content-length or Content-Length, -1 unknown
	n        int64
}

func (h *handler) newBody(r *http.Request, a *authResult) (*body, *s3Error) {
	b := &body{raw: r.Body, md5: md5.New(), declared: r.ContentLength}
	switch p := a.payload; p {
	case unsignedPayload:
	case streamingSigned, streamingSignedTrail, streamingUnsignedTail, "STREAMING-UNSIGNED-PAYLOAD":
		cr := &chunkReader{br: bufio.NewReaderSize(r.Body, 64<<10), prev: a.seedSig}
		if p == streamingSigned || p == streamingSignedTrail {
			cr.auth = a
		}
		cr.trailerSigned = p == streamingSignedTrail
		b.chunked = cr
		b.declared = -1
		if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, &s3Error{400, "InvalidArgument", "bad x-amz-decoded-content-length"}
			}
			b.declared = n
		}
	default:
		if strings.HasPrefix(p, "STREAMING-") {
			return nil, &s3Error{400, "InvalidArgument", "unsupported x-amz-content-sha256 " + p}
		}
		if len(p) != 64 {
			return nil, &s3Error{400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a SHA-256 hex digest"}
		}
		b.sha, b.wantSHA = sha256.New(), strings.ToLower(p)
	}
	if v := r.Header.Get("Content-Md5"); v != "" {
		d, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(d) != md5.Size {
			return nil, &s3Error{400, "InvalidDigest", "The Content-MD5 you specified was invalid."}
		}
		b.wantMD5 = d
	}
	// A checksum announced as a header, as a trailer, or only by name.
	for name, vals := range r.Header {
		ln := strings.ToLower(name)
		if algo, ok := strings.CutPrefix(ln, "x-amz-checksum-"); ok && algo != "type" && algo != "algorithm" && newChecksum(algo) != nil {
			b.ckAlgo, b.ckWant = algo, vals[0]
		}
	}
	if t := strings.ToLower(r.Header.Get("X-Amz-Trailer")); t != "" {
		algo, ok := strings.CutPrefix(t, "x-amz-checksum-")
		if !ok || newChecksum(algo) == nil {
			return nil, &s3Error{400, "InvalidRequest", "The value specified in the x-amz-trailer header is not supported"}
		}
		if b.chunked == nil {
			return nil, &s3Error{400, "InvalidRequest", "x-amz-trailer needs an aws-chunked body"}
		}
		b.ckAlgo = algo
	}
	if b.ckAlgo == "" {
		if algo := strings.ToLower(r.Header.Get("X-Amz-Sdk-Checksum-Algorithm")); newChecksum(algo) != nil {
			b.ckAlgo = algo // value may come in a trailer; stored only if it does
		}
	}
	if b.ckAlgo != "" {
		b.ck = newChecksum(b.ckAlgo)
	}
	if b.chunked != nil {
		b.src = b.chunked
	} else {
		b.src = r.Body
	}
	return b, nil
}

// Read returns decoded content, feeding the hashes.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.src.Read(p)
	if n > 0 {
		b.md5.Write(p[:n])
		if b.sha != nil {
			b.sha.Write(p[:n])
		}
		if b.ck != nil {
			b.ck.Write(p[:n])
		}
		b.n += int64(n)
		if b.declared >= 0 && b.n > b.declared {
			return n, &s3Error{400, "IncompleteBody", "the body is longer than declared"}
		}
	}
	return n, err
}

// finish verifies the whole body once it has been read to EOF.
func (b *body) finish() *s3Error {
	if b.declared >= 0 && b.n != b.declared {
		return &s3Error{400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header"}
	}
	if b.sha != nil && hex.EncodeToString(b.sha.Sum(nil)) != b.wantSHA {
		return &s3Error{400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	if b.wantMD5 != nil && !bytes.Equal(b.wantMD5, b.md5.Sum(nil)) {
		return &s3Error{400, "BadDigest", "The Content-MD5 you specified did not match what we received."}
	}
	if b.chunked != nil {
		if v, ok := b.chunked.trailers["x-amz-checksum-"+b.ckAlgo]; ok && b.ckAlgo != "" {
			b.ckWant = v
		}
	}
	if b.ck != nil && b.ckWant != "" {
		got := base64.StdEncoding.EncodeToString(b.ck.Sum(nil))
		if got != b.ckWant {
			return &s3Error{400, "BadDigest", "The " + strings.ToUpper(b.ckAlgo) + " you specified did not match the calculated checksum."}
		}
	}
	return nil
}

// checksums are the verified x-amz-checksum values, to store and return.
func (b *body) checksums() map[string]string {
	if b.ck == nil || b.ckWant == "" {
		return nil
	}
	return map[string]string{b.ckAlgo: b.ckWant}
}

func (b *body) etag() string { return hex.EncodeToString(b.md5.Sum(nil)) }

// readAll reads a small body (XML requests) whole, verified.
func (b *body) readAll(limit int64) ([]byte, *s3Error) {
	data, err := io.ReadAll(io.LimitReader(b, limit+1))
	if err != nil {
		return nil, asS3Error(err)
	}
	if int64(len(data)) > limit {
		return nil, &s3Error{400, "MaxMessageLengthExceeded", "Your request was too big."}
	}
	if e := b.finish(); e != nil {
		return nil, e
	}
	return data, nil
}

func asS3Error(err error) *s3Error {
	if e, ok := err.(*s3Error); ok {
		return e
	}
	return &s3Error{400, "IncompleteBody", "reading the request body: " + err.Error()}
}

// chunkReader decodes aws-chunked framing:
//
//	hex-size[;chunk-signature=SIG]\r\n DATA \r\n ... 0[;chunk-signature=SIG]\r\n [trailer: v\r\n]* \r\n
type chunkReader struct {
	br            *bufio.Reader
	auth          *authResult // non-nil: chunk signatures are checked
	trailerSigned bool
	prev          string // previous signature in the chain
	left          int64  // bytes left in the current chunk
	sig           string // signature claimed for the current chunk
	hash          hash.Hash
	trailers      map[string]string
	eof           bool
	err           error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		if c.err != nil {
			return total, c.err
		}
		if c.eof {
			return total, io.EOF
		}
		if c.left == 0 {
			if total > 0 && c.br.Buffered() == 0 {
				return total, nil // don't block for the next chunk with data in hand
			}
			if err := c.nextChunk(); err != nil {
				c.err = err
				continue
			}
			continue
		}
		want := int64(len(p) - total)
		if want > c.left {
			want = c.left
		}
		n, err := c.br.Read(p[total : total+int(want)])
		if n > 0 {
			if c.hash != nil {
				c.hash.Write(p[total : total+n])
			}
			c.left -= int64(n)
			total += n
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.err = err
			continue
		}
		if c.left == 0 {
			if err := c.endChunk(); err != nil {
				c.err = err
			}
		}
	}
	return total, nil
}

func (c *chunkReader) line() (string, error) {
	s, err := c.br.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(s) == 0 {
			return "", io.EOF
		}
		if err == bufio.ErrBufferFull {
			return "", &s3Error{400, "IncompleteBody", "aws-chunked: line too long"}
		}
		if err != io.EOF {
			return "", err
		}
	}
	return strings.TrimRight(string(s), "\r\n"), nil
}

func (c *chunkReader) nextChunk() error {
	ln, err := c.line()
	if err == nil && ln == "" {
		ln, err = c.line() // the CRLF that ends the previous chunk's data
	}
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	sizeStr, ext, _ := strings.Cut(ln, ";")
	size, perr := strconv.ParseInt(strings.TrimSpace(sizeStr), 16, 64)
	if perr != nil || size < 0 {
		return &s3Error{400, "IncompleteBody", "aws-chunked: bad chunk header " + strconv.Quote(ln)}
	}
	c.sig = ""
	if k, v, ok := strings.Cut(ext, "="); ok && strings.TrimSpace(k) == "chunk-signature" {
		c.sig = strings.TrimSpace(v)
	}
	if c.auth != nil {
		if c.sig == "" {
			return &s3Error{403, "SignatureDoesNotMatch", "aws-chunked: chunk without signature"}
		}
		c.hash = sha256.New()
	}
	c.left = size
	if size == 0 {
		if err := c.endChunk(); err != nil {
			return err
		}
		return c.readTrailers()
	}
	return nil
}

// endChunk checks the signature of the chunk just read and its CRLF.
func (c *chunkReader) endChunk() error {
	if c.auth != nil {
		want := c.auth.chunkSignature(c.prev, c.hash.Sum(nil))
		if want != c.sig {
			return &s3Error{403, "SignatureDoesNotMatch", "aws-chunked: chunk signature does not match"}
		}
		c.prev = c.sig
	}
	c.hash = nil
	return nil
}

func (c *chunkReader) readTrailers() error {
	// After the data of a non-final chunk comes CRLF; nextChunk consumed the
	// final chunk's header. Trailer lines follow until an empty line or EOF.
	c.trailers = map[string]string{}
	var signed strings.Builder
	trailerSig := ""
	for {
		ln, err := c.line()
		if err == io.EOF || (err == nil && ln == "") {
			break
		}
		if err != nil {
			return err
		}
		k, v, ok := strings.Cut(ln, ":")
		if !ok {
			return &s3Error{400, "MalformedTrailerError", "aws-chunked: bad trailer " + strconv.Quote(ln)}
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if k == "x-amz-trailer-signature" {
			trailerSig = v
			continue
		}
		c.trailers[k] = v
		signed.WriteString(k + ":" + v + "\n")
	}
	if c.trailerSigned && c.auth != nil {
		if trailerSig == "" || c.auth.trailerSignature(c.prev, signed.String()) != trailerSig {
			return &s3Error{403, "SignatureDoesNotMatch", "aws-chunked: trailer signature does not match"}
		}
	}
	c.eof = true
	return nil
}
