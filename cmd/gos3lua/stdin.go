package main

import (
	"context"
	"errors"
	"io"
	"sync"
)

// sharedStdin is the terminal REPL's one reader of stdin, shared by the
// line editor (Editor) and the Lua code a line runs (io.read, a stream
// handed to Go). A read of a terminal cannot be interrupted, so a Lua read
// given up by Ctrl-C stays in flight; what it reads then goes to the next
// reader (the line editor) instead of to nobody. Between runs (EndRun ...
// BeginRun) only the line editor may read: readers a run left behind (Go
// work abandoned after Ctrl-C) are dropped, and any read they start later
// fails, so that what is typed next reaches the REPL.
type sharedStdin struct {
	r io.Reader

	mu        sync.Mutex
	running   bool          // a REPL line runs: its code may read
	reading   bool          // a read of r is in flight
	done      chan struct{} // closed when it ends
	buf       []byte        // read and not yet consumed
	err       error         // the error after buf
	abandoned chan struct{} // closed by EndRun (then replaced)
}

var errAbandoned = errors.New("stdin: read given up (its run ended)")

func newSharedStdin(r io.Reader) *sharedStdin {
	return &sharedStdin{r: r, abandoned: make(chan struct{})}
}

func (s *sharedStdin) Read(p []byte) (int, error) { return s.ReadContext(context.Background(), p) }

// ReadContext is a read by a REPL line's code: it returns what is
// buffered, else waits for the read in flight (starting one if there is
// none), for ctx, or for the end of the line's run.
func (s *sharedStdin) ReadContext(ctx context.Context, p []byte) (int, error) {
	return s.read(ctx, p, false)
}

// Editor is the line editor's reader: it may read between runs.
func (s *sharedStdin) Editor() io.ReadCloser { return editorStdin{s} }

type editorStdin struct{ s *sharedStdin }

func (e editorStdin) Read(p []byte) (int, error) { return e.s.read(context.Background(), p, true) }
func (e editorStdin) Close() error               { return nil } // stdin stays open

func (s *sharedStdin) read(ctx context.Context, p []byte, editor bool) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	if !editor && !s.running {
		s.mu.Unlock()
		return 0, errAbandoned
	}
	abandoned := s.abandoned
	for {
		if err := ctx.Err(); err != nil {
			s.mu.Unlock()
			return 0, context.Cause(ctx)
		}
		select {
		case <-abandoned:
			if !editor {
				s.mu.Unlock()
				return 0, errAbandoned
			}
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
		if editor {
			abandoned = nil // the editor outlives runs
		}
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

// BeginRun lets a REPL line's code read.
func (s *sharedStdin) BeginRun() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = true
}

// EndRun makes every read by the line's code that is still waiting return
// errAbandoned without consuming anything, and later ones fail at once
// until the next BeginRun.
func (s *sharedStdin) EndRun() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = false
	close(s.abandoned)
	s.abandoned = make(chan struct{})
}
