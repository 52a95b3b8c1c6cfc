// Package store is the embedded S3 store: a real S3 HTTP server (path-style,
// SigV4) over a directory, used by the s3 module when nothing is configured
// and by `gos3lua serve s3`. Objects are streamed to temporary files and
// renamed into place; it must never hold an object body in memory and never
// write outside its directory, whatever the key.
package store

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options configure a store server.
type Options struct {
	Dir       string // data directory; created if missing
	Addr      string // listen address; "" means 127.0.0.1:0
	AccessKey string // required: requests must be signed with this key
	SecretKey string
	Region    string               // "" means us-east-1
	Logf      func(string, ...any) // access and error log; nil for none

	// MinPartSize is the least size of a multipart part but the last
	// (EntityTooSmall below it); 0 means S3's 5 MiB, negative means none.
	MinPartSize int64
}

// Server is a running store.
type Server struct {
	ln  net.Listener
	srv *http.Server
	h   *handler
	url string
}

// DefaultDir is $XDG_DATA_HOME/gos3lua/s3, else ~/.local/share/gos3lua/s3.
func DefaultDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "gos3lua", "s3")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = os.TempDir()
	}
	return filepath.Join(home, ".local", "share", "gos3lua", "s3")
}

// Handler returns the S3 handler over opts.Dir without listening. It also
// implements io.Closer, which releases its temporary directory (optional:
// the next store to open Dir sweeps what a gone process left).
func Handler(opts Options) (http.Handler, error) {
	return newHandler(opts)
}

// Start listens on opts.Addr and serves the store until Close.
func Start(opts Options) (*Server, error) {
	h, err := newHandler(opts)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		h.fs.close()
		return nil, err
	}
	s := &Server{ln: ln, h: h, url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		// net/http's own complaints (bad requests, panics) go to Logf, not
		// to the stderr of the script that embeds the store.
		ErrorLog: log.New(logWriter{opts.Logf}, "", 0)}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && opts.Logf != nil {
			opts.Logf("s3 store: %v", err)
		}
	}()
	return s, nil
}

type logWriter struct{ logf func(string, ...any) }

func (w logWriter) Write(p []byte) (int, error) {
	if w.logf != nil {
		w.logf("s3 store: %s", strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// URL is the endpoint, e.g. http://127.0.0.1:38123.
func (s *Server) URL() string { return s.url }

// Addr is the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server, waiting briefly for requests in flight.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	defer s.h.fs.close()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}
