package main

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

type readOut struct {
	s   string
	err error
}

func readAsync(s *sharedStdin, ctx context.Context) chan readOut {
	return readWith(func(b []byte) (int, error) { return s.ReadContext(ctx, b) })
}

func readWith(read func([]byte) (int, error)) chan readOut {
	ch := make(chan readOut, 1)
	go func() {
		b := make([]byte, 64)
		n, err := read(b)
		ch <- readOut{string(b[:n]), err}
	}()
	return ch
}

func waitRead(t *testing.T, ch chan readOut) readOut {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("read never returned")
		return readOut{}
	}
}

// What a given-up read reads goes to the next reader; readers waiting
// together are all woken (each takes what is there or waits for more);
// the end of a run drops its waiting readers without losing data and
// fails its later ones, while the line editor reads on; EOF reaches a
// reader.
func TestSharedStdin(t *testing.T) {
	pr, pw := io.Pipe()
	s := newSharedStdin(pr)
	s.BeginRun()

	ctx, cancel := context.WithCancel(context.Background())
	given := readAsync(s, ctx)
	time.Sleep(20 * time.Millisecond)
	cancel()
	if r := waitRead(t, given); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled read: %+v", r)
	}
	next := readAsync(s, context.Background())
	pw.Write([]byte("line after ctrl-c\n"))
	if r := waitRead(t, next); r.s != "line after ctrl-c\n" {
		t.Fatalf("next reader got %+v", r)
	}

	a, b := readAsync(s, context.Background()), readAsync(s, context.Background())
	time.Sleep(20 * time.Millisecond)
	either := func(why string) readOut {
		select {
		case r := <-a:
			return r
		case r := <-b:
			return r
		case <-time.After(5 * time.Second):
			t.Fatal(why)
			return readOut{}
		}
	}
	pw.Write([]byte("one"))
	first := either("no reader woke")
	pw.Write([]byte("two"))
	second := either("the second waiting reader never woke: it waits on a read that already ended")
	if first.s+second.s != "onetwo" {
		t.Fatalf("readers got %+v, %+v", first, second)
	}

	stale := readAsync(s, context.Background())
	time.Sleep(20 * time.Millisecond)
	s.EndRun()
	if r := waitRead(t, stale); !errors.Is(r.err, errAbandoned) {
		t.Fatalf("read left waiting by the run: %+v", r)
	}
	if r := waitRead(t, readAsync(s, context.Background())); !errors.Is(r.err, errAbandoned) {
		t.Fatalf("read started after the run: %+v", r)
	}
	editor := s.Editor()
	fresh := readWith(editor.Read)
	pw.Write([]byte("for the editor"))
	if r := waitRead(t, fresh); r.s != "for the editor" {
		t.Fatalf("the editor got %+v", r)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	s.BeginRun()
	pending := readWith(func(b []byte) (int, error) { return editor.Read(b[:2]) })
	pw.Write([]byte("buffered"))
	if r := waitRead(t, pending); r.s != "bu" {
		t.Fatalf("short read: %+v", r)
	}
	if r := waitRead(t, readAsync(s, ctx)); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("a cancelled read took data: %+v", r)
	}
	if r := waitRead(t, readWith(editor.Read)); r.s != "ffered" {
		t.Fatalf("what was buffered: %+v", r)
	}

	last := readAsync(s, context.Background())
	pw.Close()
	if r := waitRead(t, last); r.err != io.EOF {
		t.Fatalf("at end: %+v", r)
	}
}
