package s3

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/aws/smithy-go/middleware"
	"github.com/gos3lua/gos3lua/bindings/s3/store"
)

// Config is what s3.client{...} accepts; zero values mean "the AWS way"
// (environment, ~/.aws files) or the embedded store when nothing is set.
type Config struct {
	Endpoint     string
	Region       string
	Profile      string
	AccessKey    string
	SecretKey    string
	SessionToken string
	PathStyle    *bool
	Retries      int           // retries after the first attempt; <0 means default
	Timeout      time.Duration // wait for each response's headers; 0 means default
}

const (
	defaultRetries = 5 // six attempts: transient faults rarely survive that
	defaultTimeout = 2 * time.Minute
	// DefaultBucket is the bucket s3.bucket() uses on the embedded store
	// when neither a name nor GOS3LUA_BUCKET is given; created on demand.
	DefaultBucket = "gos3lua"
)

// Client is one S3 endpoint with its credentials. The SDK client is built
// on first use (off the Lua thread), so start-up loads nothing AWS-related.
type Client struct {
	cfg Config

	mu       sync.Mutex
	api      *s3.Client
	embedded bool
	endpoint string
}

// NewClient returns a client for cfg; nothing is loaded until first use.
func NewClient(cfg Config) *Client { return &Client{cfg: cfg} }

func (c *Client) String() string {
	if c.endpoint != "" {
		return "s3.client(" + c.endpoint + ")"
	}
	return "s3.client"
}

// Embedded reports whether the client talks to the embedded store
// (decided from the environment alone, without loading anything).
func (c *Client) Embedded() bool { return wantsEmbedded(c.cfg) }

// wantsEmbedded: no endpoint and no credentials configured anywhere.
func wantsEmbedded(cfg Config) bool {
	if cfg.Endpoint != "" || cfg.AccessKey != "" || cfg.Profile != "" {
		return false
	}
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		if os.Getenv(v) != "" {
			return false
		}
	}
	files := []string{os.Getenv("AWS_CONFIG_FILE"), os.Getenv("AWS_SHARED_CREDENTIALS_FILE")}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		files = append(files, filepath.Join(home, ".aws", "config"), filepath.Join(home, ".aws", "credentials"))
	}
	for _, f := range files {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err == nil {
			return false
		}
	}
	return true
}

// embedded is the process's one embedded store, started on first need.
var embedded struct {
	sync.Mutex
	srv         *store.Server
	ak, sk, dir string
}

func startEmbedded() (url, ak, sk string, err error) {
	embedded.Lock()
	defer embedded.Unlock()
	if embedded.srv == nil {
		dir := store.DefaultDir()
		ak, sk := randomKey(10), randomKey(20)
		opts := store.Options{Dir: dir, Addr: "127.0.0.1:0", AccessKey: ak, SecretKey: sk, Region: "us-east-1"}
		if os.Getenv("GOS3LUA_S3_LOG") != "" {
			opts.Logf = func(f string, a ...any) { fmt.Fprintf(os.Stderr, "gos3lua: s3 store: "+f+"\n", a...) }
		}
		srv, err := store.Start(opts)
		if err != nil {
			return "", "", "", fmt.Errorf("s3: starting the embedded store at %s: %w", dir, err)
		}
		fmt.Fprintf(os.Stderr, "gos3lua: using the embedded S3 store at %s (%s)\n", dir, srv.URL())
		embedded.srv, embedded.ak, embedded.sk, embedded.dir = srv, ak, sk, dir
	}
	return embedded.srv.URL(), embedded.ak, embedded.sk, nil
}

func randomKey(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// API returns the SDK client, building it on first use. It may read files
// and start the embedded store: call it off the Lua thread.
func (c *Client) API(ctx context.Context) (*s3.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.api != nil {
		return c.api, nil
	}
	cfg := c.cfg
	if wantsEmbedded(cfg) {
		u, ak, sk, err := startEmbedded()
		if err != nil {
			return nil, err
		}
		cfg.Endpoint, cfg.AccessKey, cfg.SecretKey = u, ak, sk
		if cfg.Region == "" {
			cfg.Region = "us-east-1"
		}
		c.embedded = true
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 64
		tr.ResponseHeaderTimeout = timeout
		tr.WriteBufferSize = 64 << 10
		tr.ReadBufferSize = 64 << 10
		// Bodies are already compressed or binary; Go's transparent gzip
		// would also hide Content-Length from ranged reads.
		tr.DisableCompression = true
	}).WithDialerOptions(func(d *net.Dialer) {
		d.Timeout = min(timeout, 30*time.Second)
	})
	// A server that stops answering mid-body (or stops reading ours)
	// would hang a transfer forever: ResponseHeaderTimeout covers only the
	// wait for headers. Every connection fails once idle for the timeout.
	hc = hc.WithTransportOptions(func(tr *http.Transport) {
		dial := tr.DialContext
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return newIdleConn(c, timeout), nil
		}
	})
	setup, err := resolveAWS(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("s3: configuration: %w", err)
	}
	awsCfg := aws.Config{
		Region:      setup.Region,
		Credentials: setup.Creds,
		HTTPClient:  setup.HTTPClient,
		Retryer:     func() aws.Retryer { return newRetryer(cfg.Retries, setup.Profile["max_attempts"]) },
	}
	if setup.Endpoint != "" {
		awsCfg.BaseEndpoint = aws.String(setup.Endpoint)
	}
	switch strings.ToLower(cmp.Or(os.Getenv("AWS_REQUEST_CHECKSUM_CALCULATION"), setup.Profile["request_checksum_calculation"])) {
	case "when_required":
		awsCfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	}
	switch strings.ToLower(cmp.Or(os.Getenv("AWS_RESPONSE_CHECKSUM_VALIDATION"), setup.Profile["response_checksum_validation"])) {
	case "when_required":
		awsCfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	api := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		custom := o.BaseEndpoint != nil && *o.BaseEndpoint != ""
		if custom {
			c.endpoint = *o.BaseEndpoint
			// S3-compatible servers want path-style and choke on the
			// 2025 default checksums (CRC32 trailers on every PUT).
			o.UsePathStyle = true
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
			// No "Expect: 100-continue" (a round trip before every body
			// over 2 MB), and none of the per-request decorations only
			// AWS reads (user agent, invocation id, retry metrics,
			// recursion detection): each allocates on every request.
			o.ContinueHeaderThresholdBytes = -1
			o.APIOptions = append(o.APIOptions, trimStack)
			if isLoopback(c.endpoint) {
				// Nobody can tamper with loopback: skip hashing every
				// body for the signature.
				o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
					if _, ok := s.Finalize.Get("ComputePayloadHash"); !ok {
						return nil
					}
					return v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware(s)
				})
			}
		}
		switch {
		case cfg.PathStyle != nil:
			o.UsePathStyle = *cfg.PathStyle
		case setup.Profile["s3.addressing_style"] == "path":
			o.UsePathStyle = true // as aws-cli reads it; "auto" keeps the default
		case setup.Profile["s3.addressing_style"] == "virtual":
			o.UsePathStyle = false
		}
		o.EndpointResolverV2 = &cachedResolver{next: s3.NewDefaultEndpointResolverV2(), m: map[string]smithyendpoints.Endpoint{}}
	})
	c.api = api
	return api, nil
}

// cachedResolver remembers the endpoint rules' answers: the rules engine
// costs about a tenth of a millisecond of CPU per request, as much as the
// rest of a small PUT. The answer depends on the bucket and the client's
// settings, never on the key, so keys are left out of the cache key.
type cachedResolver struct {
	next s3.EndpointResolverV2
	mu   sync.Mutex
	m    map[string]smithyendpoints.Endpoint
}

func (r *cachedResolver) ResolveEndpoint(ctx context.Context, p s3.EndpointParameters) (smithyendpoints.Endpoint, error) {
	str := func(v *string) string {
		if v == nil {
			return "\x00"
		}
		return *v
	}
	flag := func(v *bool) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprint(*v)
	}
	k := strings.Join([]string{str(p.Bucket), str(p.Region), str(p.Endpoint), flag(p.UseFIPS), flag(p.UseDualStack),
		flag(p.ForcePathStyle), flag(p.Accelerate), flag(p.UseGlobalEndpoint), flag(p.UseObjectLambdaEndpoint),
		flag(p.DisableAccessPoints), flag(p.DisableMultiRegionAccessPoints), flag(p.UseArnRegion),
		flag(p.UseS3ExpressControlEndpoint), flag(p.DisableS3ExpressSessionAuth)}, "\x00")
	if strings.HasPrefix(str(p.Bucket), "arn:") {
		return r.next.ResolveEndpoint(ctx, p) // access points: let the rules see everything
	}
	r.mu.Lock()
	e, ok := r.m[k]
	r.mu.Unlock()
	if ok {
		return cloneEndpoint(e), nil
	}
	e, err := r.next.ResolveEndpoint(ctx, p)
	if err != nil {
		return e, err
	}
	r.mu.Lock()
	if len(r.m) < 1000 {
		r.m[k] = cloneEndpoint(e)
	}
	r.mu.Unlock()
	return e, nil
}

// cloneEndpoint copies what the request pipeline writes into (headers,
// properties and the auth options' property sets): each request gets its own.
func cloneEndpoint(e smithyendpoints.Endpoint) smithyendpoints.Endpoint {
	c := smithyendpoints.Endpoint{URI: e.URI, Headers: e.Headers.Clone()}
	for k, v := range e.Properties.Values() {
		if opts, ok := v.([]*smithyauth.Option); ok {
			cp := make([]*smithyauth.Option, len(opts))
			for i, o := range opts {
				n := &smithyauth.Option{SchemeID: o.SchemeID}
				n.IdentityProperties.SetAll(&o.IdentityProperties)
				n.SignerProperties.SetAll(&o.SignerProperties)
				cp[i] = n
			}
			v = cp
		}
		c.Properties.Set(k, v)
	}
	return c
}

// Close forgets the SDK client (and with it its connection pool); the
// next call builds a new one.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.api = nil
}

func isLoopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// newRetryer: the SDK's standard retryer (exponential backoff with
// jitter) without its retry quota, which a burst of faults would exhaust,
// and with dropped connections mid-answer counted as transient.
func newRetryer(retries int, profileMax string) aws.Retryer {
	attempts := retries + 1
	if retries < 0 {
		attempts = defaultRetries + 1
		if v := cmp.Or(os.Getenv("AWS_MAX_ATTEMPTS"), profileMax); v != "" {
			var n int
			if _, err := fmt.Sscan(v, &n); err == nil && n > 0 {
				attempts = n
			}
		}
	}
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.MaxBackoff = 5 * time.Second
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
				errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
				return aws.TrueTernary
			}
			return aws.UnknownTernary
		}))
	})
}

// Server is a store started for a script (s3.server): its own directory,
// address and random keys.
type Server struct {
	srv    *store.Server
	ak, sk string
}

// StartServer starts a store over dir listening on addr (loopback).
func StartServer(dir, addr string) (*Server, error) {
	s := &Server{ak: randomKey(10), sk: randomKey(20)}
	srv, err := store.Start(store.Options{Dir: dir, Addr: addr, AccessKey: s.ak, SecretKey: s.sk, Region: "us-east-1"})
	if err != nil {
		return nil, err
	}
	s.srv = srv
	return s, nil
}

func (s *Server) String() string { return "s3.server(" + s.srv.URL() + ")" }

// URL is the server's endpoint.
func (s *Server) URL() string { return s.srv.URL() }

// Client returns a client of the server.
func (s *Server) Client() *Client {
	return NewClient(Config{Endpoint: s.srv.URL(), AccessKey: s.ak, SecretKey: s.sk, Region: "us-east-1", Retries: -1})
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// idleConn fails a connection that makes no progress, in either
// direction, for d. Progress either way pushes both deadlines (a long
// upload is no reason to give up waiting for its answer), at most every
// d/8, so a busy connection costs a clock read per call, not a timer
// update. Once a deadline has fired, every later error of the connection
// (such as "use of closed network connection" when the transport closed
// it) is reported as the timeout it is.
type idleConn struct {
	net.Conn
	d        time.Duration
	last     atomic.Int64 // UnixNano of the last push
	timedOut atomic.Bool
}

func newIdleConn(c net.Conn, d time.Duration) *idleConn { return &idleConn{Conn: c, d: d} }

func (c *idleConn) push() {
	now := time.Now()
	if last := c.last.Load(); now.UnixNano()-last > int64(c.d/8) && c.last.CompareAndSwap(last, now.UnixNano()) {
		c.Conn.SetDeadline(now.Add(c.d))
	}
}

func (c *idleConn) check(err error) error {
	if err == nil {
		return nil
	}
	if isTimeout(err) {
		c.timedOut.Store(true)
	}
	if c.timedOut.Load() {
		return &idleTimeout{d: c.d, err: err}
	}
	return err
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.push()
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.push()
	}
	return n, c.check(err)
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.push()
	n, err := c.Conn.Write(p)
	return n, c.check(err)
}

// idleTimeout is a net.Error with Timeout() true: host.Wrap makes it kind
// "timeout".
type idleTimeout struct {
	d   time.Duration
	err error
}

func (e *idleTimeout) Error() string {
	return fmt.Sprintf("timeout: no progress for %v (%v)", e.d, e.err)
}
func (e *idleTimeout) Unwrap() error   { return e.err }
func (e *idleTimeout) Timeout() bool   { return true }
func (e *idleTimeout) Temporary() bool { return true }

// trimStack drops middlewares that only decorate requests for AWS's own
// telemetry; custom endpoints have no use for them.
func trimStack(s *middleware.Stack) error {
	for _, id := range []string{"UserAgent", "RecursionDetection", "ClientRequestID"} {
		s.Build.Remove(id)
	}
	s.Finalize.Remove("RetryMetricsHeader")
	return nil
}
