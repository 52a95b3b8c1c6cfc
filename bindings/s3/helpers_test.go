package s3

import (
	"context"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gos3lua/gos3lua/bindings/s3/store"
	"github.com/gos3lua/gos3lua/host/hosttest"
	"github.com/gos3lua/gos3lua/stdlib"
)

const (
	testAK     = "TESTACCESSKEY"
	testSK     = "TESTSECRETKEY0123456789"
	testBucket = "test-bucket"
)

// startStore runs the embedded store on loopback over a fresh directory.
func startStore(t testing.TB) *store.Server {
	t.Helper()
	srv, err := store.Start(store.Options{Dir: fastDir(t), Addr: "127.0.0.1:0", AccessKey: testAK, SecretKey: testSK})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// fastDir is a temporary directory on tmpfs when there is one: the store
// creates a file per object, and on a disk that dominates the tests' time.
func fastDir(t testing.TB) string {
	if d, err := os.MkdirTemp("/dev/shm", "gos3lua-test-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return t.TempDir()
}

// awsEnv points the AWS way of configuration (the environment) at
// endpoint, with nothing leaking in from the real home directory.
func awsEnv(t testing.TB, endpoint string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", home+"/data")
	for _, v := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3",
		"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_MAX_ATTEMPTS"} {
		unsetenv(t, v)
	}
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", testAK)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSK)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("GOS3LUA_BUCKET", testBucket)
}

// unsetenv removes v for the test (aws-cli takes AWS_PROFILE="" for a
// profile named ""); t.Setenv restores it afterwards.
func unsetenv(t testing.TB, v string) {
	t.Setenv(v, "")
	os.Unsetenv(v)
}

// testClient is a Go client on endpoint with testBucket created.
func testClient(t testing.TB, endpoint string) (*Client, *Bucket) {
	t.Helper()
	c := NewClient(Config{Endpoint: endpoint, AccessKey: testAK, SecretKey: testSK, Region: "us-east-1", Retries: -1})
	if err := c.CreateBucket(context.Background(), testBucket); err != nil {
		t.Fatal(err)
	}
	return c, c.Bucket(testBucket)
}

// runLua runs code with the stdlib and the s3 module and fails on error.
func runLua(t *testing.T, code string) {
	t.Helper()
	if err := hosttest.Run(t, code, stdlib.Register, Register); err != nil {
		t.Fatal(err)
	}
}

// faultProxy stands in front of a store and fails about rate of the
// requests: 500 InternalError, 503 SlowDown, a connection dropped before
// any answer, or (for GETs) a body cut off half-way.
type faultProxy struct {
	srv      *http.Server
	url      string
	rate     float64
	mu       sync.Mutex
	rnd      *rand.Rand
	requests atomic.Int64
	faults   atomic.Int64
	// only, when set, picks the requests that may fail; others pass.
	only func(*http.Request) bool
}

func startFaultProxy(t testing.TB, target string, rate float64, seed int64) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host // the signature covers the Host the client used
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	p := &faultProxy{rate: rate, rnd: rand.New(rand.NewSource(seed))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.url = "http://" + ln.Addr().String()
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		p.mu.Lock()
		roll, kind := p.rnd.Float64(), p.rnd.Intn(4)
		p.mu.Unlock()
		if roll >= p.rate || (p.only != nil && !p.only(r)) {
			rp.ServeHTTP(w, r)
			return
		}
		p.faults.Add(1)
		switch kind {
		case 0:
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(500)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected fault</Message></Error>`)
		case 1:
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(503)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>injected fault</Message></Error>`)
		case 2:
			if r.Method == http.MethodGet && !strings.Contains(r.URL.RawQuery, "list-type") && r.URL.Path != "/" {
				rp.ServeHTTP(&cutWriter{ResponseWriter: w, left: 4096}, r)
				return
			}
			fallthrough
		default:
			// Drop the connection without an answer (request half read).
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, err := hj.Hijack()
				if err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
	}), ErrorLog: log.New(io.Discard, "", 0)}
	go p.srv.Serve(ln)
	t.Cleanup(func() { p.srv.Close() })
	return p
}

// cutWriter passes left bytes of the body through, then drops the connection.
type cutWriter struct {
	http.ResponseWriter
	left int
}

func (c *cutWriter) Write(b []byte) (int, error) {
	if len(b) > c.left {
		if c.left > 0 {
			c.ResponseWriter.Write(b[:c.left])
			if f, ok := c.ResponseWriter.(http.Flusher); ok {
				f.Flush()
			}
		}
		panic(http.ErrAbortHandler)
	}
	c.left -= len(b)
	return c.ResponseWriter.Write(b)
}
