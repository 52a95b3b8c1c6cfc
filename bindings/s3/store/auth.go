package store

// AWS Signature Version 4, as S3 checks it: the Authorization header or a
// presigned URL's query, the x-amz-content-sha256 payload hash (verified as
// the body streams in), and the signed chunks of aws-chunked bodies.

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	unsignedPayload       = "UNSIGNED-PAYLOAD"
	streamingSigned       = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrail  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTail = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	emptySHA256           = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	amzDateFormat         = "20060102T150405Z"
	maxSkew               = 15 * time.Minute
)

// authResult is what a verified request carries on to body handling.
// now is the clock requests are checked against (tests replay old vectors).
var now = time.Now

type authResult struct {
	payload string // x-amz-content-sha256 (or UNSIGNED-PAYLOAD for presigned)
	signKey []byte // derived signing key, for chunk signatures
	seedSig string // the request signature, previous signature of the first chunk
	amzDate string
	scope   string
}

type s3Error struct {
	Status  int
	Code    string
	Message string
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

func errAccessDenied(msg string) *s3Error { return &s3Error{403, "AccessDenied", msg} }

func (h *handler) authenticate(r *http.Request) (*authResult, *s3Error) {
	q := r.URL.Query()
	if auth := r.Header.Get("Authorization"); auth != "" {
		return h.authHeader(r, auth)
	}
	if q.Get("X-Amz-Algorithm") != "" {
		return h.authPresigned(r, q)
	}
	if q.Get("AWSAccessKeyId") != "" || strings.HasPrefix(r.Header.Get("Authorization"), "AWS ") {
		return nil, errAccessDenied("signature version 2 is not supported; use SigV4")
	}
	return nil, errAccessDenied("Anonymous access is not allowed; sign requests with the store's keys")
}

func (h *handler) authHeader(r *http.Request, auth string) (*authResult, *s3Error) {
	if strings.HasPrefix(auth, "AWS ") {
		return nil, &s3Error{400, "InvalidRequest", "signature version 2 is not supported; use AWS4-HMAC-SHA256"}
	}
	const algo = "AWS4-HMAC-SHA256"
	if !strings.HasPrefix(auth, algo+" ") {
		return nil, &s3Error{400, "InvalidArgument", "unsupported authorization type"}
	}
	var cred, signed, sig string
	for _, f := range strings.Split(auth[len(algo)+1:], ",") {
		f = strings.TrimSpace(f)
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	if cred == "" || signed == "" || sig == "" {
		return nil, &s3Error{400, "AuthorizationHeaderMalformed", "the authorization header is malformed"}
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		return nil, &s3Error{400, "InvalidRequest", "missing required header for this request: x-amz-content-sha256"}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		if d, err := http.ParseTime(r.Header.Get("Date")); err == nil {
			amzDate = d.UTC().Format(amzDateFormat)
		}
	}
	return h.verify(r, r.URL.Query(), cred, signed, sig, amzDate, payload, false)
}

func (h *handler) authPresigned(r *http.Request, q url.Values) (*authResult, *s3Error) {
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return nil, &s3Error{400, "AuthorizationQueryParametersError", "X-Amz-Algorithm must be AWS4-HMAC-SHA256"}
	}
	amzDate := q.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return nil, &s3Error{400, "AuthorizationQueryParametersError", "bad X-Amz-Date"}
	}
	exp, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || exp < 0 || exp > 7*24*3600 {
		return nil, &s3Error{400, "AuthorizationQueryParametersError", "bad X-Amz-Expires"}
	}
	if now().After(t.Add(time.Duration(exp) * time.Second)) {
		return nil, errAccessDenied("Request has expired")
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = unsignedPayload
	}
	cq := url.Values{}
	for k, v := range q {
		if k != "X-Amz-Signature" {
			cq[k] = v
		}
	}
	return h.verify(r, cq, q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"), amzDate, payload, true)
}

func (h *handler) verify(r *http.Request, query url.Values, cred, signed, sig, amzDate, payload string, presigned bool) (*authResult, *s3Error) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[3] != "s3" || parts[4] != "aws4_request" {
		return nil, &s3Error{400, "AuthorizationHeaderMalformed", "bad credential scope " + strconv.Quote(cred)}
	}
	if subtle.ConstantTimeCompare([]byte(parts[0]), []byte(h.opts.AccessKey)) != 1 {
		return nil, &s3Error{403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."}
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return nil, errAccessDenied("missing or bad X-Amz-Date")
	}
	if !presigned {
		if d := now().Sub(t); d > maxSkew || d < -maxSkew {
			return nil, &s3Error{403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."}
		}
	}
	if parts[1] != amzDate[:8] {
		return nil, &s3Error{400, "AuthorizationHeaderMalformed", "credential date does not match X-Amz-Date"}
	}
	scope := strings.Join(parts[1:], "/")
	key := signingKey(h.opts.SecretKey, parts[1], parts[2])
	headers := canonicalHeaders(r, signed)
	cquery := canonicalQuery(query)
	// Clients disagree on escaping the path; accept the path as sent and
	// as S3 would escape it.
	paths := []string{rawPath(r)}
	if p := escapePath(r.URL.Path); p != paths[0] {
		paths = append(paths, p)
	}
	for _, p := range paths {
		creq := strings.Join([]string{r.Method, p, cquery, headers, signed, payload}, "\n")
		sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(creq))
		want := hex.EncodeToString(hmacSHA256(key, sts))
		if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) == 1 {
			return &authResult{payload: payload, signKey: key, seedSig: sig, amzDate: amzDate, scope: scope}, nil
		}
	}
	return nil, &s3Error{403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
}

func rawPath(r *http.Request) string {
	p := r.RequestURI
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		if u, err := url.Parse(p); err == nil {
			p = u.EscapedPath()
		}
	}
	if p == "" {
		p = "/"
	}
	return p
}

func signingKey(secret, date, region string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, "s3")
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func canonicalHeaders(r *http.Request, signed string) string {
	var b strings.Builder
	for _, name := range strings.Split(signed, ";") {
		var v string
		switch name {
		case "host":
			v = r.Host
		case "content-length":
			v = r.Header.Get("Content-Length")
			if v == "" && r.ContentLength >= 0 {
				v = strconv.FormatInt(r.ContentLength, 10)
			}
		case "transfer-encoding":
			v = strings.Join(r.TransferEncoding, ",")
		default:
			vals := r.Header.Values(name)
			for i := range vals {
				vals[i] = strings.Join(strings.Fields(vals[i]), " ")
			}
			v = strings.Join(vals, ",")
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(v))
		b.WriteByte('\n')
	}
	return b.String()
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			parts = append(parts, awsEscape(k, true)+"="+awsEscape(v, true))
		}
	}
	return strings.Join(parts, "&")
}

func escapePath(p string) string {
	if p == "" {
		return "/"
	}
	return awsEscape(p, false)
}

// awsEscape is SigV4's URI encoding: everything but unreserved characters,
// and "/" too unless escaping a path.
func awsEscape(s string, slash bool) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !slash) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
		}
	}
	return b.String()
}

// chunkSignature is the expected signature of one aws-chunked chunk.
func (a *authResult) chunkSignature(prev string, chunkHash []byte) string {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + a.amzDate + "\n" + a.scope + "\n" + prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(chunkHash)
	return hex.EncodeToString(hmacSHA256(a.signKey, sts))
}

func (a *authResult) trailerSignature(prev string, trailer string) string {
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + a.amzDate + "\n" + a.scope + "\n" + prev + "\n" + hexSHA256([]byte(trailer))
	return hex.EncodeToString(hmacSHA256(a.signKey, sts))
}
