package main

import (
	"context"
	"io"
	"sync"
)

// sharedStdin is the terminal REPL's one reader of stdin, shared by the
// line editor and the Lua code a line runs (io.read). A read of a terminal
// cannot be interrupted, so a Lua read given up by Ctrl-C stays in flight;
// what it reads then goes to the next reader (the line editor) instead of
// to nobody: the line typed after Ctrl-C reaches the REPL.
type sharedStdin struct {
	r io.Reader

	mu      sync.Mutex
	pending chan readResult // the read in flight, if any
	buf     []byte          // read and not yet consumed
	err     error           // the error after buf
}

type readResult struct {
	data []byte
	err  error
}

func newSharedStdin(r io.Reader) *sharedStdin { return &sharedStdin{r: r} }

func (s *sharedStdin) Read(p []byte) (int, error) { return s.ReadContext(context.Background(), p) }

// ReadContext returns what is buffered, else waits for the read in flight
// (starting one if there is none) or for ctx.
func (s *sharedStdin) ReadContext(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	if n, err, ok := s.take(p); ok {
		s.mu.Unlock()
		return n, err
	}
	if s.pending == nil {
		ch := make(chan readResult, 1)
		s.pending = ch
		go func() {
			b := make([]byte, 4096)
			n, err := s.r.Read(b)
			ch <- readResult{b[:n], err}
		}()
	}
	ch := s.pending
	s.mu.Unlock()
	select {
	case res := <-ch:
		s.mu.Lock()
		defer s.mu.Unlock()
		s.pending = nil
		s.buf = append(s.buf, res.data...)
		s.err = res.err
		n, err, _ := s.take(p)
		return n, err
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
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

// Close leaves stdin open (the line editor closes its input on exit).
func (s *sharedStdin) Close() error { return nil }
