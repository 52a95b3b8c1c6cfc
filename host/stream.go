package host

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// Stream is the one stream type Lua sees (files, stdin/stdout, S3 bodies):
// read/write/close/lines/seek, each a Go call that suspends only its task.
// A binding that takes a stream gets the Go side with ReaderArg/WriterArg and
// does its I/O off the Lua thread.
type Stream struct {
	Name   string
	R      io.Reader
	W      io.Writer
	C      io.Closer
	br     *bufio.Reader
	closed bool
	// ctx is the context of the Lua read in progress (nil for Go's own
	// reads), for an R that is a ContextReader.
	ctx context.Context
	// mu serializes operations: tasks reading one stream concurrently get
	// whole reads each, never a torn buffer.
	mu sync.Mutex
}

func (s *Stream) String() string { return "stream(" + s.Name + ")" }

// Read implements io.Reader, so a binding can consume a Lua stream in Go.
func (s *Stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.br != nil {
		return s.br.Read(p)
	}
	if s.R == nil {
		return 0, errors.New(s.Name + ": not open for reading")
	}
	return s.R.Read(p)
}

// Write implements io.Writer.
func (s *Stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(p)
}

func (s *Stream) write(p []byte) (int, error) {
	if s.W == nil {
		return 0, errors.New(s.Name + ": not open for writing")
	}
	return s.W.Write(p)
}

// Close closes the underlying closer once.
func (s *Stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if f, ok := s.W.(interface{ Flush() error }); ok {
		f.Flush()
	}
	if s.C != nil {
		return s.C.Close()
	}
	return nil
}

const streamClass = "stream"

// NewStream wraps a Go reader/writer (either may be nil; c may be nil) as a
// Lua stream object.
func NewStream(L *lua.LState, name string, r io.Reader, w io.Writer, c io.Closer) *lua.LUserData {
	streamMeta(L)
	return NewObject(L, streamClass, &Stream{Name: name, R: r, W: w, C: c})
}

// StreamArg returns argument n as a *Stream.
func StreamArg(L *lua.LState, n int) *Stream { return Check[*Stream](L, n, streamClass) }

func streamMeta(L *lua.LState) *lua.LTable {
	return NewClass(L, streamClass, map[string]lua.LGFunction{
		"read":  streamRead,
		"write": streamWrite,
		"close": streamClose,
		"lines": streamLines,
		"seek":  streamSeek,
		"flush": func(L *lua.LState) int { StreamArg(L, 1); return 0 },
	})
}

func (s *Stream) reader() *bufio.Reader {
	if s.br == nil {
		s.br = bufio.NewReaderSize(readerOnly{s}, 64*1024)
	}
	return s.br
}

// ContextReader is a reader whose reads can be given up when ctx is done
// without losing what they would have read (see the REPL's stdin). A
// stream whose R is one passes each Lua read's context.
type ContextReader interface {
	ReadContext(ctx context.Context, p []byte) (int, error)
}

// readerOnly reads s.R (whatever it is at the time: SetStdin may change
// it) under s.mu, which the stream's readers hold.
type readerOnly struct{ s *Stream }

func (r readerOnly) Read(p []byte) (int, error) {
	s := r.s
	if s.R == nil {
		return 0, errors.New(s.Name + ": not open for reading")
	}
	if cr, ok := s.R.(ContextReader); ok && s.ctx != nil {
		return cr.ReadContext(s.ctx, p)
	}
	return s.R.Read(p)
}

// withContext makes the stream's reads under s.mu see ctx until the
// returned function is called.
func (s *Stream) withContext(ctx context.Context) func() {
	s.ctx = ctx
	return func() { s.ctx = nil }
}

// read(n) → up to n bytes (nil at end); read("l"|"*l") → a line without
// its newline; read("a"|"*a") → everything left ("" at end).
func streamRead(L *lua.LState) int {
	s := StreamArg(L, 1)
	format := L.Get(2)
	switch format.(type) {
	case lua.LNumber, lua.LString, *lua.LNilType:
	default:
		return ArgError(L, 2, "number or string expected, got "+TypeName(format))
	}
	return Go(L, func(ctx context.Context) (Push, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		defer s.withContext(ctx)()
		switch f := format.(type) {
		case lua.LNumber:
			n := int(f)
			if n < 0 {
				return nil, Errorf("EINVAL", "%s: read: negative size %d", s.Name, n)
			}
			buf := make([]byte, n)
			got, err := io.ReadFull(s.reader(), buf)
			if got == 0 && n > 0 {
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					return pushNil, nil
				}
				if err != nil {
					return nil, Wrap(s.Name+": read", err)
				}
			}
			if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
				return nil, Wrap(s.Name+": read", err)
			}
			return pushString(buf[:got]), nil
		case lua.LString, *lua.LNilType:
			mode := "l"
			if str, ok := f.(lua.LString); ok {
				mode = string(str)
				if len(mode) > 0 && mode[0] == '*' {
					mode = mode[1:]
				}
			}
			switch mode {
			case "a":
				b, err := io.ReadAll(s.reader())
				if err != nil {
					return nil, Wrap(s.Name+": read", err)
				}
				return pushString(b), nil
			case "l", "L":
				line, err := s.reader().ReadString('\n')
				if err != nil && err != io.EOF {
					return nil, Wrap(s.Name+": read", err)
				}
				if line == "" && err == io.EOF {
					return pushNil, nil
				}
				if mode == "l" && len(line) > 0 && line[len(line)-1] == '\n' {
					line = line[:len(line)-1]
				}
				return pushString([]byte(line)), nil
			}
		}
		return nil, Errorf("EINVAL", "%s: read: bad format %s (want a size, \"l\", \"L\" or \"a\")", s.Name, format.String())
	})
}

var pushNil Push = func(L *lua.LState) int { L.Push(lua.LNil); return 1 }

func pushString(b []byte) Push {
	return func(L *lua.LState) int { L.Push(lua.LString(b)); return 1 }
}

// write(s, ...) → the stream (for chaining), like Lua's file:write.
func streamWrite(L *lua.LState) int {
	s := StreamArg(L, 1)
	self := L.Get(1)
	n := L.GetTop()
	parts := make([]string, 0, n-1)
	for i := 2; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			parts = append(parts, string(v))
		case lua.LNumber:
			parts = append(parts, v.String())
		default:
			L.ArgError(i, "string expected, got "+TypeName(v))
		}
	}
	return Go(L, func(ctx context.Context) (Push, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range parts {
			if _, err := s.write([]byte(p)); err != nil {
				return nil, Wrap(s.Name+": write", err)
			}
		}
		return func(L *lua.LState) int { L.Push(self); return 1 }, nil
	})
}

func streamClose(L *lua.LState) int {
	s := StreamArg(L, 1)
	return Go(L, func(ctx context.Context) (Push, error) {
		if err := s.Close(); err != nil {
			return nil, Wrap(s.Name+": close", err)
		}
		return nil, nil
	})
}

func streamSeek(L *lua.LState) int {
	s := StreamArg(L, 1)
	whence := L.OptString(2, "cur")
	off := L.OptInt64(3, 0)
	sk, ok := s.R.(io.Seeker)
	if !ok {
		sk, ok = s.W.(io.Seeker)
	}
	if !ok {
		return Raise(L, Errorf("ESPIPE", "%s: seek: not seekable", s.Name))
	}
	w, ok := map[string]int{"set": io.SeekStart, "cur": io.SeekCurrent, "end": io.SeekEnd}[whence]
	if !ok {
		return ArgError(L, 2, `"set", "cur" or "end" expected, got "`+whence+`"`)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if whence == "cur" && s.br != nil {
		off -= int64(s.br.Buffered())
	}
	pos, err := sk.Seek(off, w)
	if err != nil {
		return Raise(L, Wrap(s.Name+": seek", err))
	}
	s.br = nil
	L.Push(lua.LNumber(pos))
	return 1
}

// lines() returns an iterator over lines; each call is a Go read.
func streamLines(L *lua.LState) int {
	StreamArg(L, 1)
	// The generic for calls its iterator in a nested VM loop that cannot be
	// suspended, so lines() reads ahead with Block (see Block).
	s := StreamArg(L, 1)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		var line string
		var eof bool
		err := Block(L, func(ctx context.Context) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			defer s.withContext(ctx)()
			l, err := s.reader().ReadString('\n')
			if err == io.EOF && l == "" {
				eof = true
				return nil
			}
			if err != nil && err != io.EOF {
				return Wrap(s.Name+": read", err)
			}
			line = l
			return nil
		})
		if err != nil {
			return Raise(L, err)
		}
		if eof {
			L.Push(lua.LNil)
			return 1
		}
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1]
		}
		L.Push(lua.LString(line))
		return 1
	}))
	return 1
}

// SetStdin makes io.stdin (and io.read, io.lines) read r from now on; what
// io.stdin had buffered is read first. Call it between runs.
func (h *Host) SetStdin(r io.Reader) {
	if h.stdin == nil {
		return
	}
	h.stdin.mu.Lock()
	h.stdin.R = r
	h.stdin.mu.Unlock()
}

// InstallStdio replaces io.stdin/io.stdout/io.stderr (and io.read/io.write)
// with streams whose reads and writes suspend only the calling task.
func (h *Host) InstallStdio() {
	L := h.L
	ioT, ok := L.GetGlobal("io").(*lua.LTable)
	if !ok {
		return
	}
	stdin := NewStream(L, "stdin", os.Stdin, nil, nil)
	h.stdin = stdin.Value.(*Stream)
	stdout := NewStream(L, "stdout", nil, os.Stdout, nil)
	stderr := NewStream(L, "stderr", nil, os.Stderr, nil)
	ioT.RawSetString("stdin", stdin)
	ioT.RawSetString("stdout", stdout)
	ioT.RawSetString("stderr", stderr)
	// io.read, io.write, io.lines on them: stdio.lua.
	L.Push(L.NewFunctionFromProto(hostProto(protoStdio)))
	L.Push(ioT)
	L.Push(stdin)
	L.Push(stdout)
	L.Call(3, 0)
}
