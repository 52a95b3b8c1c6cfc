package main

import (
	"context"
	"errors"
	"io"
	"sync"
)

// sharedStdin is the terminal REPL's one reader of stdin, shared by the
// line editor and the Lua code a line runs (io.read, a stream handed to
// Go). A read of a terminal cannot be interrupted, so a Lua read given up
// by Ctrl-C stays in flight; what it reads then goes to the next reader
// (the line editor) instead of to nobody, and readers still waiting when
// their line's run has ended are dropped (Abandon), so that only the line
// editor takes what is typed next.
type sharedStdin struct {
	r io.Reader

	mu        sync.Mutex
	reading   bool          // a read of r is in flight
	done      chan struct{} // closed when it ends
	buf       []byte        // read and not yet consumed
	err       error         // the error after buf
	abandoned chan struct{} // closed by Abandon (then replaced)
}

var errAbandoned = errors.New("stdin: read given up (its run ended)")

func newSharedStdin(r io.Reader) *sharedStdin {
	return &sharedStdin{r: r, abandoned: make(chan struct{})}
}

func (s *sharedStdin) Read(p []byte) (int, error) { return s.ReadContext(context.Background(), p) }

// ReadContext returns what is buffered, else waits for the read in flight
// (starting one if there is none), for ctx, or for Abandon.
func (s *sharedStdin) ReadContext(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	abandoned := s.abandoned
	for {
		select {
		case <-abandoned:
			s.mu.Unlock()
			return 0, errAbandoned
		default:
		}
		if n, err, ok := s.take(p); ok {
			s.mu.Unlock()
			return n, err
		}
		if !s.reading {
			s.reading = true
			s.done = make(chan struct{})
			go s.fill(s.done)
		}
		done := s.done
		s.mu.Unlock()
		select {
		case <-done:
		case <-abandoned:
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		}
		s.mu.Lock()
	}
}

// fill reads r once into the buffer and wakes every waiting reader.
func (s *sharedStdin) fill(done chan struct{}) {
	b := make([]byte, 4096)
	n, err := s.r.Read(b)
	s.mu.Lock()
	s.buf = append(s.buf, b[:n]...)
	if err != nil {
		s.err = err
	}
	s.reading = false
	s.mu.Unlock()
	close(done)
}

// take hands out buffered data, then a buffered error (with s.mu held).
func (s *sharedStdin) take(p []byte) (int, error, bool) {
	if len(s.buf) > 0 {
		n := copy(p, s.buf)
		s.buf = s.buf[n:]
		return n, nil, true
	}
	if s.err != nil {
		err := s.err
		s.err = nil
		return 0, err, true
	}
	return 0, nil, false
}

// Abandon makes every read waiting now return errAbandoned without
// consuming anything; later reads are not affected.
func (s *sharedStdin) Abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.abandoned)
	s.abandoned = make(chan struct{})
}

// Close leaves stdin open (the line editor closes its input on exit).
func (s *sharedStdin) Close() error { return nil }
