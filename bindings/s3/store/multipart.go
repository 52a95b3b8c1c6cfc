package store

// Multipart uploads live in DIR/.uploads/ID/: upload.json (bucket, key,
// metadata), and each part as a file pNNNNN with a pNNNNN.json sidecar.
// A completed upload keeps done.json (its ETag) for an hour, so that a
// Complete retried after a lost response succeeds again, as on S3.
// Complete concatenates the parts file to file (copy_file_range, so the
// kernel copies and nothing passes through this process) into a temporary
// file that is then committed like a PUT.

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type uploadInfo struct {
	ID        string    `json:"id"`
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	Initiated time.Time `json:"initiated"`
	Meta      objMeta   `json:"meta"`
	Algo      string    `json:"checksum_algorithm,omitempty"`

	done *doneInfo // set when completed (done.json)
}

type doneInfo struct {
	ETag string    `json:"etag"`
	At   time.Time `json:"at"`
}

// keepDone is how long a completed upload answers a repeated Complete.
const keepDone = time.Hour

type partInfo struct {
	Number    int               `json:"n"`
	ETag      string            `json:"etag"`
	Size      int64             `json:"size"`
	Modified  time.Time         `json:"modified"`
	Checksums map[string]string `json:"checksums,omitempty"`
}

var errNoUpload = &s3Error{404, "NoSuchUpload", "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed."}

func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

func (s *fsStore) uploadDir(id string) string { return filepath.Join(s.uploads, id) }

func (s *fsStore) loadUpload(bucket, key, id string) (*uploadInfo, *s3Error) {
	if !validUploadID(id) {
		return nil, errNoUpload
	}
	raw, err := os.ReadFile(filepath.Join(s.uploadDir(id), "upload.json"))
	if err != nil {
		return nil, errNoUpload
	}
	var u uploadInfo
	if json.Unmarshal(raw, &u) != nil || u.Bucket != bucket || u.Key != key {
		return nil, errNoUpload
	}
	u.done = readDone(s.uploadDir(id))
	return &u, nil
}

func readDone(dir string) *doneInfo {
	raw, err := os.ReadFile(filepath.Join(dir, "done.json"))
	if err != nil {
		return nil
	}
	var d doneInfo
	if json.Unmarshal(raw, &d) != nil {
		return nil
	}
	return &d
}

// uploadLock serializes Complete and Abort of one upload.
func (s *fsStore) uploadLock(id string) func() {
	v, _ := s.uploadLocks.LoadOrStore(id, &sync.Mutex{})
	m := v.(*sync.Mutex)
	m.Lock()
	return m.Unlock
}

// sweepDone removes completed uploads past keepDone.
func (s *fsStore) sweepDone() {
	ents, err := os.ReadDir(s.uploads)
	if err != nil {
		return
	}
	for _, e := range ents {
		d := filepath.Join(s.uploads, e.Name())
		if done := readDone(d); done != nil && time.Since(done.At) > keepDone {
			os.RemoveAll(d)
			s.uploadLocks.Delete(e.Name())
		}
	}
}

func (s *fsStore) listUploads(bucket string) ([]uploadInfo, error) {
	ents, err := os.ReadDir(s.uploads)
	if err != nil {
		return nil, err
	}
	var out []uploadInfo
	for _, e := range ents {
		raw, err := os.ReadFile(filepath.Join(s.uploads, e.Name(), "upload.json"))
		if err != nil {
			continue
		}
		var u uploadInfo
		if json.Unmarshal(raw, &u) == nil && u.Bucket == bucket && readDone(filepath.Join(s.uploads, e.Name())) == nil {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Initiated.Before(out[j].Initiated)
	})
	return out, nil
}

func partName(n int) string { return fmt.Sprintf("p%05d", n) }

func (s *fsStore) parts(id string) ([]partInfo, error) {
	ents, err := os.ReadDir(s.uploadDir(id))
	if err != nil {
		return nil, err
	}
	var out []partInfo
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") || !strings.HasPrefix(e.Name(), "p") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(s.uploadDir(id), e.Name()))
		if err != nil {
			continue
		}
		var p partInfo
		if json.Unmarshal(raw, &p) == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	NS       string   `xml:"xmlns,attr"`
	Bucket   string
	Key      string
	UploadID string `xml:"UploadId"`
}

func (h *handler) createUpload(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	drain(r)
	id := strings.ToLower(newID(16))
	u := uploadInfo{ID: id, Bucket: bucket, Key: key, Initiated: time.Now().UTC(), Meta: metaFromRequest(r),
		Algo: strings.ToLower(r.Header.Get("X-Amz-Checksum-Algorithm"))}
	raw, _ := json.Marshal(u)
	d := h.fs.uploadDir(id)
	if err := os.Mkdir(d, 0o700); err != nil {
		return internal(err)
	}
	if err := writeFileAtomic(h.fs.tmp, filepath.Join(d, "upload.json"), raw); err != nil {
		os.RemoveAll(d)
		return internal(err)
	}
	if u.Algo != "" {
		w.Header().Set("X-Amz-Checksum-Algorithm", strings.ToUpper(u.Algo))
	}
	writeXML(w, 200, initiateResult{NS: s3NS, Bucket: bucket, Key: key, UploadID: id})
	return nil
}

func partNumber(r *http.Request) (int, *s3Error) {
	n, err := strconv.Atoi(r.URL.Query().Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return 0, &s3Error{400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"}
	}
	return n, nil
}

func (h *handler) uploadPart(w http.ResponseWriter, r *http.Request, a *authResult, bucket, key string) *s3Error {
	u, e := h.fs.loadUpload(bucket, key, r.URL.Query().Get("uploadId"))
	if e != nil {
		return e
	}
	if u.done != nil {
		return errNoUpload
	}
	n, e := partNumber(r)
	if e != nil {
		return e
	}
	var p partInfo
	var tmp string
	if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
		tmp, p, e = h.copyPart(r, src)
		if e != nil {
			return e
		}
	} else {
		var b *body
		tmp, b, e = h.receive(r, a)
		if e != nil {
			return e
		}
		fi, err := os.Stat(tmp)
		if err != nil {
			os.Remove(tmp)
			return internal(err)
		}
		p = partInfo{ETag: b.etag(), Size: fi.Size(), Checksums: b.checksums()}
	}
	p.Number, p.Modified = n, time.Now().UTC()
	d := h.fs.uploadDir(u.ID)
	raw, _ := json.Marshal(p)
	if err := os.Rename(tmp, filepath.Join(d, partName(n))); err != nil {
		os.Remove(tmp)
		if errors.Is(err, fs.ErrNotExist) {
			return errNoUpload // aborted meanwhile
		}
		return internal(err)
	}
	if err := writeFileAtomic(h.fs.tmp, filepath.Join(d, partName(n)+".json"), raw); err != nil {
		return internal(err)
	}
	if _, ok := r.URL.Query()["uploadId"]; ok && r.Header.Get("X-Amz-Copy-Source") != "" {
		writeXML(w, 200, struct {
			XMLName      xml.Name `xml:"CopyPartResult"`
			NS           string   `xml:"xmlns,attr"`
			LastModified string
			ETag         string
		}{NS: s3NS, LastModified: s3Time(p.Modified), ETag: `"` + p.ETag + `"`})
		return nil
	}
	w.Header().Set("ETag", `"`+p.ETag+`"`)
	setChecksumHeaders(w, p.Checksums)
	w.WriteHeader(200)
	return nil
}

// copyPart is UploadPartCopy: a range of an existing object as a part.
func (h *handler) copyPart(r *http.Request, src string) (string, partInfo, *s3Error) {
	sb, sk, e := copySource(src)
	if e != nil {
		return "", partInfo{}, e
	}
	if !h.fs.bucketExists(sb) {
		return "", partInfo{}, errNoSuchBucket
	}
	o, err := h.fs.open(sb, sk)
	if err != nil {
		if errors.Is(err, errNoKey) {
			return "", partInfo{}, errNoSuchKey
		}
		return "", partInfo{}, internal(err)
	}
	defer o.f.Close()
	if e := copyConditions(r, `"`+o.meta.ETag+`"`, o.modTime); e != nil {
		return "", partInfo{}, e
	}
	start, length := int64(0), o.meta.Size
	if rg := r.Header.Get("X-Amz-Copy-Source-Range"); rg != "" {
		s, n, ok, valid := parseRange(rg, o.meta.Size)
		if !ok || !valid {
			return "", partInfo{}, &s3Error{400, "InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"}
		}
		start, length = s, n
	}
	f, err := h.fs.tempFile()
	if err != nil {
		return "", partInfo{}, internal(err)
	}
	sum := md5.New()
	_, err = copyBody(f, io.TeeReader(io.NewSectionReader(o.f, start, length), sum))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", partInfo{}, internal(err)
	}
	return f.Name(), partInfo{ETag: hex.EncodeToString(sum.Sum(nil)), Size: length}, nil
}

type completeRequest struct {
	Parts []struct {
		PartNumber int
		ETag       string
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	NS       string   `xml:"xmlns,attr"`
	Location string
	Bucket   string
	Key      string
	ETag     string
}

func (h *handler) completeUpload(w http.ResponseWriter, r *http.Request, a *authResult, bucket, key string) *s3Error {
	id := r.URL.Query().Get("uploadId")
	if !validUploadID(id) {
		return errNoUpload
	}
	unlock := h.fs.uploadLock(id)
	defer unlock()
	u, e := h.fs.loadUpload(bucket, key, id)
	if e != nil {
		return e
	}
	if u.done != nil {
		// Completed already: a retry whose first answer was lost.
		drain(r)
		writeXML(w, 200, completeResult{NS: s3NS, Location: "/" + bucket + "/" + key, Bucket: bucket, Key: key, ETag: `"` + u.done.ETag + `"`})
		return nil
	}
	b, e := h.newBody(r, a)
	if e != nil {
		return e
	}
	raw, e := b.readAll(4 << 20)
	if e != nil {
		return e
	}
	var req completeRequest
	if err := xml.Unmarshal(raw, &req); err != nil || len(req.Parts) == 0 {
		return &s3Error{400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"}
	}
	have, err := h.fs.parts(u.ID)
	if err != nil {
		return errNoUpload
	}
	byNum := map[int]partInfo{}
	for _, p := range have {
		byNum[p.Number] = p
	}
	d := h.fs.uploadDir(u.ID)
	sums := md5.New()
	prev := 0
	var chosen []partInfo
	for i, rp := range req.Parts {
		if rp.PartNumber <= prev {
			return &s3Error{400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number."}
		}
		prev = rp.PartNumber
		p, ok := byNum[rp.PartNumber]
		if !ok || strings.Trim(rp.ETag, `" `) != p.ETag {
			return &s3Error{400, "InvalidPart", fmt.Sprintf("One or more of the specified parts could not be found (part %d). The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.", rp.PartNumber)}
		}
		if i < len(req.Parts)-1 && h.opts.MinPartSize > 0 && p.Size < h.opts.MinPartSize {
			return &s3Error{400, "EntityTooSmall", fmt.Sprintf("Your proposed upload is smaller than the minimum allowed size (part %d is %d bytes)", rp.PartNumber, p.Size)}
		}
		bin, _ := hex.DecodeString(p.ETag)
		sums.Write(bin)
		chosen = append(chosen, p)
	}
	out, err := h.fs.tempFile()
	if err != nil {
		return internal(err)
	}
	for _, p := range chosen {
		if err = appendFile(out, filepath.Join(d, partName(p.Number)), p.Size); err != nil {
			break
		}
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		if errors.Is(err, fs.ErrNotExist) {
			return errNoUpload
		}
		return internal(err)
	}
	m := u.Meta
	m.ETag = fmt.Sprintf("%s-%d", hex.EncodeToString(sums.Sum(nil)), len(chosen))
	m.Parts = len(chosen)
	for _, p := range chosen {
		m.PartSizes = append(m.PartSizes, p.Size)
	}
	if _, err := h.fs.commit(bucket, key, out.Name(), &m, condFromRequest(r.Header)); err != nil {
		os.Remove(out.Name())
		return commitError(err)
	}
	// Keep a record for retries; the parts can go.
	rec, _ := json.Marshal(doneInfo{ETag: m.ETag, At: time.Now().UTC()})
	writeFileAtomic(h.fs.tmp, filepath.Join(d, "done.json"), rec)
	for _, p := range have {
		os.Remove(filepath.Join(d, partName(p.Number)))
		os.Remove(filepath.Join(d, partName(p.Number)+".json"))
	}
	h.fs.sweepDone()
	writeXML(w, 200, completeResult{NS: s3NS, Location: "/" + bucket + "/" + key, Bucket: bucket, Key: key, ETag: `"` + m.ETag + `"`})
	return nil
}

func appendFile(dst *os.File, path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(dst, f) // copy_file_range
	if err == nil && n != size {
		err = fmt.Errorf("part %s: size %d, expected %d", path, n, size)
	}
	return err
}

func (h *handler) abortUpload(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	id := r.URL.Query().Get("uploadId")
	if !validUploadID(id) {
		return errNoUpload
	}
	unlock := h.fs.uploadLock(id)
	defer unlock()
	u, e := h.fs.loadUpload(bucket, key, id)
	if e != nil {
		return e
	}
	if u.done != nil {
		return errNoUpload
	}
	if err := os.RemoveAll(h.fs.uploadDir(u.ID)); err != nil {
		return internal(err)
	}
	w.WriteHeader(204)
	return nil
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	NS                   string   `xml:"xmlns,attr"`
	Bucket               string
	Key                  string
	UploadID             string `xml:"UploadId"`
	Initiator            owner
	Owner                owner
	StorageClass         string
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	Parts                []partXML `xml:"Part"`
}

type partXML struct {
	PartNumber   int
	LastModified string
	ETag         string
	Size         int64
}

func (h *handler) listParts(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	q := r.URL.Query()
	u, e := h.fs.loadUpload(bucket, key, q.Get("uploadId"))
	if e != nil {
		return e
	}
	if u.done != nil {
		return errNoUpload
	}
	max := 1000
	if v := q.Get("max-parts"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < max {
			max = n
		}
	}
	marker, _ := strconv.Atoi(q.Get("part-number-marker"))
	ps, err := h.fs.parts(u.ID)
	if err != nil {
		return errNoUpload
	}
	res := listPartsResult{NS: s3NS, Bucket: bucket, Key: key, UploadID: u.ID, Initiator: theOwner, Owner: theOwner,
		StorageClass: "STANDARD", PartNumberMarker: marker, MaxParts: max}
	for _, p := range ps {
		if p.Number <= marker {
			continue
		}
		if len(res.Parts) >= max {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, partXML{p.Number, s3Time(p.Modified), `"` + p.ETag + `"`, p.Size})
		res.NextPartNumberMarker = p.Number
	}
	writeXML(w, 200, res)
	return nil
}

type listUploadsResult struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	NS                 string   `xml:"xmlns,attr"`
	Bucket             string
	KeyMarker          string
	UploadIDMarker     string `xml:"UploadIdMarker"`
	NextKeyMarker      string
	NextUploadIDMarker string `xml:"NextUploadIdMarker"`
	Prefix             string
	MaxUploads         int
	IsTruncated        bool
	Uploads            []uploadXML `xml:"Upload"`
}

type uploadXML struct {
	Key          string
	UploadID     string `xml:"UploadId"`
	Initiator    owner
	Owner        owner
	StorageClass string
	Initiated    string
}

func (h *handler) listUploads(w http.ResponseWriter, r *http.Request, bucket string) *s3Error {
	q := r.URL.Query()
	ups, err := h.fs.listUploads(bucket)
	if err != nil {
		return internal(err)
	}
	max := 1000
	if v := q.Get("max-uploads"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < max {
			max = n
		}
	}
	prefix, keyMarker, idMarker := q.Get("prefix"), q.Get("key-marker"), q.Get("upload-id-marker")
	res := listUploadsResult{NS: s3NS, Bucket: bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker, Prefix: prefix, MaxUploads: max}
	past := keyMarker == ""
	for _, u := range ups {
		if !strings.HasPrefix(u.Key, prefix) {
			continue
		}
		if !past {
			if u.Key < keyMarker || (u.Key == keyMarker && (idMarker == "" || u.ID != idMarker)) {
				continue
			}
			if u.Key == keyMarker && u.ID == idMarker {
				past = true
				continue
			}
			past = true
		}
		if len(res.Uploads) >= max {
			res.IsTruncated = true
			break
		}
		res.Uploads = append(res.Uploads, uploadXML{u.Key, u.ID, theOwner, theOwner, "STANDARD", s3Time(u.Initiated)})
		res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.ID
	}
	writeXML(w, 200, res)
	return nil
}
