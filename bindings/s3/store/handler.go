package store

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

type handler struct {
	opts Options
	fs   *fsStore
}

func newHandler(opts Options) (*handler, error) {
	if opts.Dir == "" {
		return nil, errors.New("s3 store: no directory")
	}
	if opts.AccessKey == "" || opts.SecretKey == "" {
		return nil, errors.New("s3 store: access key and secret key are required")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.MinPartSize == 0 {
		opts.MinPartSize = 5 << 20
	}
	fs, err := openFS(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	return &handler{opts: opts, fs: fs}, nil
}

// Close releases the handler's temporary directory.
func (h *handler) Close() error {
	h.fs.close()
	return nil
}

func (h *handler) logf(format string, args ...any) {
	if h.opts.Logf != nil {
		h.opts.Logf(format, args...)
	}
}

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (h *handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	reqID := newID(8)
	rw.Header().Set("X-Amz-Request-Id", reqID)
	rw.Header().Set("Server", "gos3lua")
	var w http.ResponseWriter = rw
	var sw *statusWriter
	if h.opts.Logf != nil {
		start := time.Now()
		sw = &statusWriter{ResponseWriter: rw}
		w = rfWriter{sw}
		defer func() {
			st := sw.status
			if st == 0 {
				st = 200
			}
			h.logf("%s %s %d %s", r.Method, r.URL.RequestURI(), st, time.Since(start).Round(time.Microsecond))
		}()
	}
	a, e := h.authenticate(r)
	if e != nil {
		h.fail(w, r, e)
		return
	}
	bucket, key := splitPath(r.URL.Path)
	var err *s3Error
	switch {
	case bucket == "":
		err = h.serviceOp(w, r)
	case key == "":
		err = h.bucketOp(w, r, a, bucket)
	default:
		err = h.objectOp(w, r, a, bucket, key)
	}
	if err != nil {
		h.fail(w, r, err)
	}
}

// rfWriter exposes the underlying ResponseWriter's ReadFrom (sendfile).
type rfWriter struct{ *statusWriter }

func (w rfWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = 200
	}
	if rf, ok := w.statusWriter.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.statusWriter.ResponseWriter, r)
}

func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

func newID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

type errorXML struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string
	Message    string
	Resource   string `xml:",omitempty"`
	RequestID  string `xml:"RequestId"`
	BucketName string `xml:",omitempty"`
	Key        string `xml:",omitempty"`
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, e *s3Error) {
	if e.Status >= 500 {
		h.logf("s3 store: %s %s: %s", r.Method, r.URL.Path, e.Message)
	}
	w.Header().Del("Content-Length")
	w.Header().Del("ETag")
	w.Header().Del("Last-Modified")
	if r.Method == http.MethodHead {
		w.WriteHeader(e.Status)
		return
	}
	bucket, key := splitPath(r.URL.Path)
	writeXML(w, e.Status, errorXML{Code: e.Code, Message: e.Message, Resource: r.URL.Path,
		RequestID: w.Header().Get("X-Amz-Request-Id"), BucketName: bucket, Key: key})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", fmt.Sprint(len(xml.Header)+len(out)))
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(out)
}

func internal(err error) *s3Error {
	return &s3Error{500, "InternalError", err.Error()}
}

var (
	errNoSuchBucket = &s3Error{404, "NoSuchBucket", "The specified bucket does not exist"}
	errNoSuchKey    = &s3Error{404, "NoSuchKey", "The specified key does not exist."}
	errNotImpl      = &s3Error{501, "NotImplemented", "A header or query you provided implies functionality that is not implemented"}
)

func methodNotAllowed() *s3Error {
	return &s3Error{405, "MethodNotAllowed", "The specified method is not allowed against this resource."}
}

// s3Time is the ISO 8601 form S3 uses in XML.
func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// ---- service and bucket operations

type listAllMyBuckets struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	NS      string   `xml:"xmlns,attr"`
	Owner   owner
	Buckets []bucketXML `xml:"Buckets>Bucket"`
}

type owner struct {
	ID          string
	DisplayName string
}

var theOwner = owner{ID: "gos3lua", DisplayName: "gos3lua"}

type bucketXML struct {
	Name         string
	CreationDate string
}

func (h *handler) serviceOp(w http.ResponseWriter, r *http.Request) *s3Error {
	if r.Method != http.MethodGet {
		return methodNotAllowed()
	}
	bs, err := h.fs.listBuckets()
	if err != nil {
		return internal(err)
	}
	res := listAllMyBuckets{NS: s3NS, Owner: theOwner, Buckets: []bucketXML{}}
	for _, b := range bs {
		res.Buckets = append(res.Buckets, bucketXML{Name: b.Name, CreationDate: s3Time(b.Created)})
	}
	writeXML(w, 200, res)
	return nil
}

func (h *handler) bucketOp(w http.ResponseWriter, r *http.Request, a *authResult, bucket string) *s3Error {
	q := r.URL.Query()
	if r.Method == http.MethodPut && len(q) == 0 {
		return h.createBucket(w, r, a, bucket)
	}
	if !validBucket(bucket) {
		if r.Method == http.MethodPut {
			return &s3Error{400, "InvalidBucketName", "The specified bucket is not valid."}
		}
		return errNoSuchBucket
	}
	if !h.fs.bucketExists(bucket) {
		return errNoSuchBucket
	}
	switch r.Method {
	case http.MethodHead:
		w.Header().Set("X-Amz-Bucket-Region", h.opts.Region)
		w.WriteHeader(200)
		return nil
	case http.MethodDelete:
		if len(q) > 0 {
			if q.Has("cors") || q.Has("lifecycle") || q.Has("policy") || q.Has("tagging") || q.Has("website") || q.Has("encryption") {
				w.WriteHeader(204)
				return nil
			}
			return errNotImpl
		}
		switch err := h.fs.deleteBucket(bucket); {
		case err == nil:
			w.WriteHeader(204)
			return nil
		case errors.Is(err, errBucketNotEmpty):
			return &s3Error{409, "BucketNotEmpty", "The bucket you tried to delete is not empty"}
		case errors.Is(err, os.ErrNotExist):
			return errNoSuchBucket
		default:
			return internal(err)
		}
	case http.MethodPost:
		if q.Has("delete") {
			return h.deleteObjects(w, r, a, bucket)
		}
		return errNotImpl
	case http.MethodPut:
		// Accept the configuration calls tools make, without effect.
		if q.Has("acl") || q.Has("versioning") || q.Has("tagging") || q.Has("cors") || q.Has("lifecycle") || q.Has("policy") {
			drain(r)
			w.WriteHeader(200)
			return nil
		}
		return errNotImpl
	case http.MethodGet:
	default:
		return methodNotAllowed()
	}
	switch {
	case q.Has("location"):
		loc := h.opts.Region
		if loc == "us-east-1" {
			loc = ""
		}
		writeXML(w, 200, struct {
			XMLName xml.Name `xml:"LocationConstraint"`
			NS      string   `xml:"xmlns,attr"`
			Value   string   `xml:",chardata"`
		}{NS: s3NS, Value: loc})
	case q.Has("uploads"):
		return h.listUploads(w, r, bucket)
	case q.Has("versioning"):
		writeXML(w, 200, struct {
			XMLName xml.Name `xml:"VersioningConfiguration"`
			NS      string   `xml:"xmlns,attr"`
		}{NS: s3NS})
	case q.Has("acl"):
		writeXML(w, 200, aclXML())
	case q.Has("policy"):
		return &s3Error{404, "NoSuchBucketPolicy", "The bucket policy does not exist"}
	case q.Has("cors"):
		return &s3Error{404, "NoSuchCORSConfiguration", "The CORS configuration does not exist"}
	case q.Has("lifecycle"):
		return &s3Error{404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"}
	case q.Has("tagging"):
		return &s3Error{404, "NoSuchTagSet", "The TagSet does not exist"}
	case q.Has("encryption"):
		return &s3Error{404, "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found"}
	case q.Has("object-lock"):
		return &s3Error{404, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket"}
	case q.Has("versions"), q.Has("website"), q.Has("logging"), q.Has("notification"), q.Has("replication"):
		return errNotImpl
	default:
		return h.listObjects(w, r, bucket)
	}
	return nil
}

func drain(r *http.Request) {
	buf := make([]byte, 4096)
	for i := 0; i < 256; i++ {
		if _, err := r.Body.Read(buf); err != nil {
			return
		}
	}
}

type aclPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	NS      string   `xml:"xmlns,attr"`
	Owner   owner
	Grants  []grant `xml:"AccessControlList>Grant"`
}

type grant struct {
	Grantee struct {
		XMLNS       string `xml:"xmlns:xsi,attr"`
		Type        string `xml:"xsi:type,attr"`
		ID          string
		DisplayName string
	}
	Permission string
}

func aclXML() aclPolicy {
	var g grant
	g.Grantee.XMLNS = "http://www.w3.org/2001/XMLSchema-instance"
	g.Grantee.Type = "CanonicalUser"
	g.Grantee.ID, g.Grantee.DisplayName = theOwner.ID, theOwner.DisplayName
	g.Permission = "FULL_CONTROL"
	return aclPolicy{NS: s3NS, Owner: theOwner, Grants: []grant{g}}
}

type createBucketConfig struct {
	LocationConstraint string
}

func (h *handler) createBucket(w http.ResponseWriter, r *http.Request, a *authResult, bucket string) *s3Error {
	if !validBucket(bucket) {
		return &s3Error{400, "InvalidBucketName", "The specified bucket is not valid."}
	}
	b, e := h.newBody(r, a)
	if e != nil {
		return e
	}
	raw, e := b.readAll(64 << 10)
	if e != nil {
		return e
	}
	if len(strings.TrimSpace(string(raw))) > 0 {
		var cfg createBucketConfig
		if err := xml.Unmarshal(raw, &cfg); err != nil {
			return &s3Error{400, "MalformedXML", "The XML you provided was not well-formed"}
		}
	}
	switch err := h.fs.createBucket(bucket, h.opts.Region); {
	case err == nil:
	case errors.Is(err, errBucketOwned):
		return &s3Error{409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it."}
	default:
		return internal(err)
	}
	w.Header().Set("Location", "/"+bucket)
	w.WriteHeader(200)
	return nil
}
