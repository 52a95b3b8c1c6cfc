package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gos3lua/gos3lua/bindings/test"
)

// TestLuaTests runs the project's own Lua-side tests (*_test.lua anywhere
// in the repository, and the "-- >>>" examples in its .lua files) through
// the same runner as `gos3lua test --doc`, one subtest per file, so that
// their failures fail `go test ./...` and name the file.
func TestLuaTests(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	wire()
	items, err := test.Discover([]string{root}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) == 0 {
		t.Skip("no *_test.lua files and no doc examples in the repository yet")
	}
	for _, it := range items {
		rel, _ := filepath.Rel(root, it.Path)
		name := rel
		if it.Doc {
			name += " (doc)"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := test.RunItem(it, test.Options{Timeout: 120 * time.Second})
			shown := test.Item{Path: rel, Doc: it.Doc}
			if r.Failed() {
				t.Errorf("\n%s", test.Format(shown, r, false))
			} else if testing.Verbose() {
				t.Logf("\n%s", test.Format(shown, r, true))
			}
		})
	}
}
