package host

import (
	"os"
	"reflect"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// The generated prototypes must be what compiling the .lua files gives
// now (run `go generate ./host` after editing them).
func TestProtosUpToDate(t *testing.T) {
	for _, c := range []struct {
		file, name string
		proto      *lua.FunctionProto
	}{
		{"prelude.lua", "prelude", protoPrelude},
		{"stdio.lua", "host:stdio", protoStdio},
		{"stub.lua", "stub", protoStub},
	} {
		src, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		chunk, err := parse.Parse(strings.NewReader(string(src)), c.name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := lua.Compile(chunk, c.name)
		if err != nil {
			t.Fatal(err)
		}
		// DeepEqual sees the unexported string constants too, which
		// FinishProto must fill in as the compiler does.
		if got := hostProto(c.proto); !reflect.DeepEqual(got, want) {
			t.Errorf("protos_gen.go is stale for %s: run go generate ./host", c.file)
		}
	}
}
