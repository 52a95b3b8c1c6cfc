package store

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// copyBufs are the buffers bodies stream through: large, so a gigabyte
// takes few system calls, and pooled, so memory stays bounded by the
// number of requests in flight.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// copyBody streams src to dst through a pooled buffer.
func copyBody(dst *os.File, src io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	// Hide dst's ReadFrom: it would fall back to a 32 KiB buffer.
	return io.CopyBuffer(struct{ io.Writer }{dst}, src, *bp)
}

func (h *handler) objectOp(w http.ResponseWriter, r *http.Request, a *authResult, bucket, key string) *s3Error {
	if !h.fs.bucketExists(bucket) {
		return errNoSuchBucket
	}
	if code, msg := checkKey(key); code != "" {
		return &s3Error{400, code, msg}
	}
	q := r.URL.Query()
	switch r.Method {
	case http.MethodPut:
		switch {
		case q.Has("uploadId") || q.Has("partNumber"):
			return h.uploadPart(w, r, a, bucket, key)
		case q.Has("acl"), q.Has("tagging"):
			drain(r)
			if _, err := h.fs.stat(bucket, key); err != nil {
				return errNoSuchKey
			}
			w.WriteHeader(200)
			return nil
		case r.Header.Get("X-Amz-Copy-Source") != "":
			return h.copyObject(w, r, bucket, key)
		}
		return h.putObject(w, r, a, bucket, key)
	case http.MethodGet, http.MethodHead:
		switch {
		case q.Has("uploadId"):
			return h.listParts(w, r, bucket, key)
		case q.Has("acl"):
			if _, err := h.fs.stat(bucket, key); err != nil {
				return errNoSuchKey
			}
			writeXML(w, 200, aclXML())
			return nil
		case q.Has("tagging"):
			if _, err := h.fs.stat(bucket, key); err != nil {
				return errNoSuchKey
			}
			writeXML(w, 200, struct {
				XMLName xml.Name `xml:"Tagging"`
				NS      string   `xml:"xmlns,attr"`
				TagSet  string
			}{NS: s3NS})
			return nil
		}
		return h.getObject(w, r, bucket, key)
	case http.MethodDelete:
		if q.Has("uploadId") {
			return h.abortUpload(w, r, bucket, key)
		}
		if q.Has("tagging") {
			w.WriteHeader(204)
			return nil
		}
		if err := h.fs.remove(bucket, key); err != nil {
			return internal(err)
		}
		w.WriteHeader(204)
		return nil
	case http.MethodPost:
		switch {
		case q.Has("uploads"):
			return h.createUpload(w, r, bucket, key)
		case q.Has("uploadId"):
			return h.completeUpload(w, r, a, bucket, key)
		}
		return errNotImpl
	}
	return methodNotAllowed()
}

// storedHeaders are the standard headers kept with an object.
var storedHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// metaFromRequest collects an object's metadata from a PUT, POST or copy.
func metaFromRequest(r *http.Request) objMeta {
	m := objMeta{ContentType: r.Header.Get("Content-Type")}
	if m.ContentType == "" {
		m.ContentType = "binary/octet-stream"
	}
	for _, name := range storedHeaders {
		v := r.Header.Get(name)
		if name == "Content-Encoding" {
			var keep []string
			for _, e := range strings.Split(v, ",") {
				if e = strings.TrimSpace(e); e != "" && e != "aws-chunked" {
					keep = append(keep, e)
				}
			}
			v = strings.Join(keep, ",")
		}
		if v != "" {
			if m.Headers == nil {
				m.Headers = map[string]string{}
			}
			m.Headers[name] = v
		}
	}
	for name, vals := range r.Header {
		if n, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-meta-"); ok && n != "" {
			if m.User == nil {
				m.User = map[string]string{}
			}
			m.User[n] = strings.Join(vals, ",")
		}
	}
	return m
}

// receive streams a request body into a new temporary file, verified.
func (h *handler) receive(r *http.Request, a *authResult) (tmp string, b *body, e *s3Error) {
	b, e = h.newBody(r, a)
	if e != nil {
		return "", nil, e
	}
	f, err := h.fs.tempFile()
	if err != nil {
		return "", nil, internal(err)
	}
	_, err = copyBody(f, b)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		if e = b.finish(); e != nil {
			os.Remove(f.Name())
			return "", nil, e
		}
		return f.Name(), b, nil
	}
	os.Remove(f.Name())
	var se *s3Error
	if errors.As(err, &se) {
		return "", nil, se
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "request body") {
		return "", nil, &s3Error{400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header"}
	}
	return "", nil, internal(err)
}

func (h *handler) putObject(w http.ResponseWriter, r *http.Request, a *authResult, bucket, key string) *s3Error {
	if r.ContentLength < 0 && r.Header.Get("X-Amz-Decoded-Content-Length") == "" && len(r.TransferEncoding) == 0 {
		return &s3Error{411, "MissingContentLength", "You must provide the Content-Length HTTP header."}
	}
	tmp, b, e := h.receive(r, a)
	if e != nil {
		return e
	}
	m := metaFromRequest(r)
	m.ETag = b.etag()
	m.Checksums = b.checksums()
	if _, err := h.fs.commit(bucket, key, tmp, &m, condFromRequest(r.Header)); err != nil {
		os.Remove(tmp)
		return commitError(err)
	}
	w.Header().Set("ETag", `"`+m.ETag+`"`)
	setChecksumHeaders(w, m.Checksums)
	w.WriteHeader(200)
	return nil
}

// commitError maps a failed commit to its S3 error.
func commitError(err error) *s3Error {
	switch {
	case errors.Is(err, errPrecondition):
		return &s3Error{412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"}
	case errors.Is(err, errNoKey):
		return errNoSuchKey
	}
	return internal(err)
}

func setChecksumHeaders(w http.ResponseWriter, cks map[string]string) {
	for algo, v := range cks {
		w.Header().Set("X-Amz-Checksum-"+strings.ToUpper(algo), v)
	}
}

func (h *handler) getObject(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	o, err := h.fs.open(bucket, key)
	if err != nil {
		if errors.Is(err, errNoKey) {
			return errNoSuchKey
		}
		return internal(err)
	}
	defer o.f.Close()
	etag := `"` + o.meta.ETag + `"`
	mod := o.modTime.UTC().Truncate(time.Second)
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Set("Last-Modified", mod.Format(http.TimeFormat))
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("Content-Type", o.meta.ContentType)
	for k, v := range o.meta.Headers {
		hd.Set(k, v)
	}
	for k, v := range o.meta.User {
		hd["X-Amz-Meta-"+k] = []string{v}
	}
	if o.meta.Parts > 0 {
		hd.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(o.meta.Parts))
	}
	if done, e := checkConditions(w, r, etag, mod); e != nil || done {
		return e
	}
	q := r.URL.Query()
	for _, over := range []struct{ param, header string }{
		{"response-content-type", "Content-Type"}, {"response-content-language", "Content-Language"},
		{"response-expires", "Expires"}, {"response-cache-control", "Cache-Control"},
		{"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"},
	} {
		if v := q.Get(over.param); v != "" {
			hd.Set(over.header, v)
		}
	}
	size := o.meta.Size
	start, length, status := int64(0), size, 200
	if pn := q.Get("partNumber"); pn != "" {
		// One part of a multipart object (the whole of any other object as part 1).
		n, err := strconv.Atoi(pn)
		sizes := o.meta.PartSizes
		if len(sizes) == 0 {
			sizes = []int64{size}
		}
		if err != nil || n < 1 || n > len(sizes) {
			return &s3Error{416, "InvalidPartNumber", "The requested partnumber is not satisfiable"}
		}
		for _, ps := range sizes[:n-1] {
			start += ps
		}
		length, status = sizes[n-1], 206
		hd.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(len(sizes)))
		if length > 0 {
			hd.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, size))
		}
		if len(o.meta.PartSizes) == 0 {
			status = 200
			hd.Del("Content-Range")
			hd.Del("X-Amz-Mp-Parts-Count")
		}
	} else if rg := r.Header.Get("Range"); rg != "" {
		s, n, ok, valid := parseRange(rg, size)
		if !valid {
			hd.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			return &s3Error{416, "InvalidRange", "The requested range is not satisfiable"}
		}
		if ok {
			start, length, status = s, n, 206
			hd.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", s, s+n-1, size))
		}
	}
	if status == 200 && strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		setChecksumHeaders(w, o.meta.Checksums)
	}
	hd.Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead || length == 0 {
		return nil
	}
	if start > 0 {
		if _, err := o.f.Seek(start, io.SeekStart); err != nil {
			return nil
		}
	}
	// *io.LimitedReader over an *os.File: the kernel sends it (sendfile).
	io.Copy(w, &io.LimitedReader{R: o.f, N: length})
	return nil
}

// checkConditions applies If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since as S3 does.
func checkConditions(w http.ResponseWriter, r *http.Request, etag string, mod time.Time) (done bool, e *s3Error) {
	matchETag := func(list string) bool {
		for _, t := range strings.Split(list, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.Trim(t, `"`) == strings.Trim(etag, `"`) {
				return true
			}
		}
		return false
	}
	if v := r.Header.Get("If-Match"); v != "" {
		if !matchETag(v) {
			return false, &s3Error{412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"}
		}
	} else if v := r.Header.Get("If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && mod.After(t) {
			return false, &s3Error{412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"}
		}
	}
	notModified := false
	if v := r.Header.Get("If-None-Match"); v != "" {
		notModified = matchETag(v)
	} else if v := r.Header.Get("If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !mod.After(t) {
			notModified = true
		}
	}
	if notModified {
		hd := w.Header()
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Disposition", "Content-Language", "Accept-Ranges"} {
			hd.Del(k)
		}
		w.WriteHeader(http.StatusNotModified)
		return true, nil
	}
	return false, nil
}

// parseRange reads a single "bytes=" range. ok is false for a header to
// ignore (S3 ignores multiple or malformed ranges and sends it all); valid
// is false for a range beyond the object (416).
func parseRange(h string, size int64) (start, length int64, ok, valid bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, true
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false, true
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false, true
		}
		if n == 0 {
			return 0, 0, false, false
		}
		if n > size {
			n = size
		}
		if size == 0 {
			return 0, 0, false, false
		}
		return size - n, n, true, true
	}
	s, err := strconv.ParseInt(a, 10, 64)
	if err != nil || s < 0 {
		return 0, 0, false, true
	}
	if s >= size {
		return 0, 0, false, false
	}
	e := size - 1
	if b != "" {
		e, err = strconv.ParseInt(b, 10, 64)
		if err != nil || e < s {
			return 0, 0, false, true
		}
		if e >= size {
			e = size - 1
		}
	}
	return s, e - s + 1, true, true
}

// ---- copy

// copySource parses x-amz-copy-source: [/]bucket/key[?versionId=...].
func copySource(v string) (bucket, key string, e *s3Error) {
	v, _, _ = strings.Cut(v, "?")
	u, err := url.PathUnescape(v)
	if err != nil {
		return "", "", &s3Error{400, "InvalidArgument", "bad x-amz-copy-source"}
	}
	bucket, key = splitPath("/" + strings.TrimPrefix(u, "/"))
	if bucket == "" || key == "" {
		return "", "", &s3Error{400, "InvalidArgument", "x-amz-copy-source must name bucket/key"}
	}
	return bucket, key, nil
}

type copyResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	NS           string   `xml:"xmlns,attr"`
	LastModified string
	ETag         string
}

func (h *handler) copyObject(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	sb, sk, e := copySource(r.Header.Get("X-Amz-Copy-Source"))
	if e != nil {
		return e
	}
	if !h.fs.bucketExists(sb) {
		return errNoSuchBucket
	}
	replace := strings.EqualFold(r.Header.Get("X-Amz-Metadata-Directive"), "REPLACE")
	if sb == bucket && sk == key && !replace {
		return &s3Error{400, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."}
	}
	src, err := h.fs.open(sb, sk)
	if err != nil {
		if errors.Is(err, errNoKey) {
			return errNoSuchKey
		}
		return internal(err)
	}
	defer src.f.Close()
	if e := copyConditions(r, `"`+src.meta.ETag+`"`, src.modTime); e != nil {
		return e
	}
	tmp, err := h.fs.tempFile()
	if err != nil {
		return internal(err)
	}
	// File to file: copy_file_range, no user-space copy.
	_, err = io.Copy(tmp, io.NewSectionReader(src.f, 0, src.meta.Size))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return internal(err)
	}
	m := src.meta
	if replace {
		nm := metaFromRequest(r)
		nm.ETag, nm.Parts, nm.Checksums = m.ETag, m.Parts, m.Checksums
		m = nm
	}
	mod, err := h.fs.commit(bucket, key, tmp.Name(), &m)
	if err != nil {
		os.Remove(tmp.Name())
		return internal(err)
	}
	writeXML(w, 200, copyResult{NS: s3NS, LastModified: s3Time(mod), ETag: `"` + m.ETag + `"`})
	return nil
}

func copyConditions(r *http.Request, etag string, mod time.Time) *s3Error {
	fail := &s3Error{412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"}
	if v := r.Header.Get("X-Amz-Copy-Source-If-Match"); v != "" && strings.Trim(v, `"`) != strings.Trim(etag, `"`) {
		return fail
	}
	if v := r.Header.Get("X-Amz-Copy-Source-If-None-Match"); v != "" && strings.Trim(v, `"`) == strings.Trim(etag, `"`) {
		return fail
	}
	if v := r.Header.Get("X-Amz-Copy-Source-If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !mod.After(t) {
			return fail
		}
	}
	if v := r.Header.Get("X-Amz-Copy-Source-If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && mod.After(t) {
			return fail
		}
	}
	return nil
}

// ---- multi-delete

type deleteRequest struct {
	Quiet   bool
	Objects []struct {
		Key       string
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

type deleteResult struct {
	XMLName xml.Name      `xml:"DeleteResult"`
	NS      string        `xml:"xmlns,attr"`
	Deleted []deletedXML  `xml:"Deleted"`
	Errors  []deleteError `xml:"Error"`
}

type deletedXML struct{ Key string }

type deleteError struct {
	Key, Code, Message string
}

func (h *handler) deleteObjects(w http.ResponseWriter, r *http.Request, a *authResult, bucket string) *s3Error {
	b, e := h.newBody(r, a)
	if e != nil {
		return e
	}
	raw, e := b.readAll(4 << 20)
	if e != nil {
		return e
	}
	var req deleteRequest
	if err := xml.Unmarshal(raw, &req); err != nil || len(req.Objects) > 1000 {
		return &s3Error{400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"}
	}
	res := deleteResult{NS: s3NS}
	for _, o := range req.Objects {
		if code, msg := checkKey(o.Key); code != "" {
			res.Errors = append(res.Errors, deleteError{o.Key, code, msg})
			continue
		}
		if err := h.fs.remove(bucket, o.Key); err != nil {
			res.Errors = append(res.Errors, deleteError{o.Key, "InternalError", err.Error()})
			continue
		}
		if !req.Quiet {
			res.Deleted = append(res.Deleted, deletedXML{o.Key})
		}
	}
	writeXML(w, 200, res)
	return nil
}

// ---- listing

type listV1 struct {
	XMLName        xml.Name `xml:"ListBucketResult"`
	NS             string   `xml:"xmlns,attr"`
	Name           string
	Prefix         string
	Marker         string
	NextMarker     string `xml:",omitempty"`
	MaxKeys        int
	Delimiter      string `xml:",omitempty"`
	IsTruncated    bool
	EncodingType   string       `xml:",omitempty"`
	Contents       []contentXML `xml:"Contents"`
	CommonPrefixes []prefixXML  `xml:"CommonPrefixes"`
}

type listV2 struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	NS                    string   `xml:"xmlns,attr"`
	Name                  string
	Prefix                string
	KeyCount              int
	MaxKeys               int
	Delimiter             string `xml:",omitempty"`
	IsTruncated           bool
	ContinuationToken     string       `xml:",omitempty"`
	NextContinuationToken string       `xml:",omitempty"`
	StartAfter            string       `xml:",omitempty"`
	EncodingType          string       `xml:",omitempty"`
	Contents              []contentXML `xml:"Contents"`
	CommonPrefixes        []prefixXML  `xml:"CommonPrefixes"`
}

type contentXML struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	Owner        *owner `xml:",omitempty"`
	StorageClass string
}

type prefixXML struct{ Prefix string }

func (h *handler) listObjects(w http.ResponseWriter, r *http.Request, bucket string) *s3Error {
	q := r.URL.Query()
	v2 := q.Get("list-type") == "2"
	max := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return &s3Error{400, "InvalidArgument", "max-keys must be a non-negative integer"}
		}
		if n < max {
			max = n
		}
	}
	enc := func(s string) string { return s }
	encType := q.Get("encoding-type")
	if encType != "" && encType != "url" {
		return &s3Error{400, "InvalidArgument", "Invalid Encoding Method specified in Request"}
	}
	if encType == "url" {
		enc = func(s string) string { return awsEscape(s, false) }
	}
	lq := listQuery{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), max: max}
	token := q.Get("continuation-token")
	if v2 {
		lq.after = q.Get("start-after")
		if token != "" {
			t, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil {
				return &s3Error{400, "InvalidArgument", "The continuation token provided is incorrect"}
			}
			lq.after = string(t)
		}
	} else {
		lq.after = q.Get("marker")
	}
	res, err := h.fs.list(bucket, lq)
	if err != nil {
		return internal(err)
	}
	contents := make([]contentXML, 0, len(res.Objects))
	for _, o := range res.Objects {
		c := contentXML{Key: enc(o.Key), LastModified: s3Time(o.Modified), ETag: `"` + o.ETag + `"`, Size: o.Size, StorageClass: "STANDARD"}
		if !v2 || q.Get("fetch-owner") == "true" {
			ow := theOwner
			c.Owner = &ow
		}
		contents = append(contents, c)
	}
	prefixes := make([]prefixXML, 0, len(res.Prefixes))
	for _, p := range res.Prefixes {
		prefixes = append(prefixes, prefixXML{enc(p)})
	}
	if v2 {
		out := listV2{NS: s3NS, Name: bucket, Prefix: enc(lq.prefix), KeyCount: len(contents) + len(prefixes),
			MaxKeys: max, Delimiter: enc(lq.delimiter), IsTruncated: res.Truncated, ContinuationToken: token,
			StartAfter: enc(q.Get("start-after")), EncodingType: encType, Contents: contents, CommonPrefixes: prefixes}
		if res.Truncated {
			out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Next))
		}
		writeXML(w, 200, out)
		return nil
	}
	out := listV1{NS: s3NS, Name: bucket, Prefix: enc(lq.prefix), Marker: enc(lq.after), MaxKeys: max,
		Delimiter: enc(lq.delimiter), IsTruncated: res.Truncated, EncodingType: encType, Contents: contents, CommonPrefixes: prefixes}
	if res.Truncated {
		out.NextMarker = enc(res.Next)
	}
	writeXML(w, 200, out)
	return nil
}
