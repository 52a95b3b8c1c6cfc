package stdlib

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/gos3lua/gos3lua/host"
	"github.com/gos3lua/gos3lua/host/hosttest"
)

const s3pipeSpec = `
local args = require("args")
local spec = {
  name = "s3pipe.lua", description = "Pipe a stream to and from S3.",
  options = {
    {"w", "write", type = "boolean", help = "write stdin to the stream"},
    {"t", "tag", type = "string", required = true, help = "stream name"},
    {nil, "chunk-size", type = "size", default = "10M"},
    {"j", "concurrency", type = "integer", default = 8},
    {nil, "exclude", multiple = true, metavar = "GLOB"},
    {nil, "timeout", type = "duration", default = "30s"},
    {"v", "verbose", type = "boolean"},
    {nil, "bucket", env = "ARGS_TEST_BUCKET", default = "backups"},
  },
  positional = { {"DIR", multiple = true, help = "directories"} },
  exit = false,
}
local function p(...) return args.parse(spec, {...}) end
`

func TestArgsParse(t *testing.T) {
	run(t, s3pipeSpec+`
local a = p("-w", "-t", "TAG", "--chunk-size", "512K", "a", "b")
eq(a.write, true); eq(a.tag, "TAG"); eq(a.chunk_size, 512 * 1024)
eq(a.concurrency, 8); eq(a.timeout, 30); eq(a.verbose, false)
eq(#a.exclude, 0); eq(a.bucket, "backups")
eq(#a.dir, 2); eq(a.dir[2], "b"); eq(a[1], "a"); eq(#a, 2)

a = p("-wvtX", "--exclude=*.o", "--exclude", "*.tmp", "-j16", "--timeout=1m30s", "--", "-notopt")
eq(a.write, true); eq(a.verbose, true); eq(a.tag, "X")
eq(a.exclude[1], "*.o"); eq(a.exclude[2], "*.tmp"); eq(a.concurrency, 16)
eq(a.timeout, 90); eq(a.dir[1], "-notopt")

a = p("--tag=T", "--write=false", "--no-verbose", "--chunk-size", "1G", "-")
eq(a.write, false); eq(a.verbose, false); eq(a.chunk_size, 1024^3); eq(a.dir[1], "-")

a = p("-t", "T", "-j", "-3", "-5")
eq(a.concurrency, -3); eq(a.dir[1], "-5")
`)
}

func TestArgsUsageErrors(t *testing.T) {
	run(t, s3pipeSpec+`
local function bad(want, ...)
  local a, msg, code = p(...)
  eq(a, nil, "result")
  eq(code, 2, "status")
  assert(msg:find(want, 1, true), msg)
  assert(msg:find("try s3pipe.lua --help", 1, true), msg)
end
bad("s3pipe.lua: missing required option '--tag'")
bad("unknown option '--nope'", "-t", "x", "--nope")
bad("unknown option '-z'", "-t", "x", "-wz")
bad("option '--tag' needs a value", "--tag")
bad("option '-t' needs a value", "-t")
bad("option '--chunk-size': invalid size '10Q'", "-t", "x", "--chunk-size", "10Q")
bad("option '--concurrency': invalid integer '1.5'", "-t", "x", "-j", "1.5")
`)
}

func TestArgsPositional(t *testing.T) {
	run(t, `
local args = require("args")
local spec = {name = "cp.lua", exit = false,
  positional = { {"SRC", required = true}, {"DEST", required = true}, {"N", type = "number", default = 3} }}
local a = args.parse(spec, {"x", "y"})
eq(a.src, "x"); eq(a.dest, "y"); eq(a.n, 3)
a = args.parse(spec, {"x", "y", "7"})
eq(a.n, 7)
local _, msg = args.parse(spec, {"x"})
assert(msg:find("cp.lua: missing argument DEST", 1, true), msg)
_, msg = args.parse(spec, {"x", "y", "1", "extra"})
assert(msg:find("unexpected argument 'extra'", 1, true), msg)
_, msg = args.parse(spec, {"x", "y", "many"})
assert(msg:find("argument N: invalid number 'many'", 1, true), msg)
eq(args.size("10M"), 10485760); eq(args.size("1.5K"), 1536); eq(args.size("2MB"), 2000000)
eq(args.size("7"), 7); eq(args.size("1GiB"), 1024^3); eq(args.size(5), 5)
eq(args.duration("500ms"), 0.5); eq(args.duration("2d"), 172800); eq(args.duration("12"), 12)
`)
	wantErr(t, map[string]string{
		`require("args").size("ten")`:                                                      "invalid size 'ten'",
		`require("args").size({})`:                                                         "bad argument #1 to 'size' (string expected, got table)",
		`require("args").duration("soon")`:                                                 "invalid duration 'soon'",
		`require("args").parse("x")`:                                                       "bad argument #1 to 'parse' (table expected, got string)",
		`require("args").parse({}, 3)`:                                                     "bad argument #2 to 'parse' (table expected, got number)",
		`require("args").parse({options = {{"x", type = "float"}}})`:                       `options[1]: unknown type "float"`,
		`require("args").parse({options = {{"xy"}}})`:                                      `short name "xy" must be one character`,
		`require("args").parse({options = {{nil, "n", type = "size", default = "lots"}}})`: "default of '--n': invalid size 'lots'",
		`require("args").parse({positional = {{"A", multiple = true}, {"B"}}})`:            "only the last positional argument can be multiple",
		`require("args").parse({options = "no"})`:                                          "options: table expected, got string",
	})
}

func TestArgsEnv(t *testing.T) {
	t.Setenv("ARGS_TEST_BUCKET", "from-env")
	run(t, s3pipeSpec+`
eq(p("-t", "x").bucket, "from-env")
eq(p("-t", "x", "--bucket", "cli").bucket, "cli")
`)
}

func TestArgsHelpAndExit(t *testing.T) {
	var out, errOut bytes.Buffer
	argsStdout, argsStderr = &out, &errOut
	defer func() { argsStdout, argsStderr = os.Stdout, os.Stderr }()
	spec := strings.Replace(s3pipeSpec, "exit = false,", "", 1)

	err := hosttest.Run(t, spec+`p("--help") error("not reached")`, Register)
	var ee *host.ExitError
	if !errors.As(err, &ee) || ee.Code != 0 {
		t.Fatalf("--help: err %v, want exit 0", err)
	}
	help := out.String()
	for _, want := range []string{
		"usage: s3pipe.lua [options] [DIR...]\n",
		"\nPipe a stream to and from S3.\n",
		"  -w, --write             write stdin to the stream\n",
		"  -t, --tag TAG           stream name (required)\n",
		"      --chunk-size SIZE   (default 10M)\n",
		"      --exclude GLOB      (repeatable)\n",
		"      --bucket BUCKET     (default backups, env ARGS_TEST_BUCKET)\n",
		"  -h, --help              show this help and exit\n",
		"  [DIR...]                directories\n",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}

	// Bad usage exits 2 even from inside pcall.
	err = hosttest.Run(t, spec+`pcall(p, "--bogus") error("not reached")`, Register)
	if !errors.As(err, &ee) || ee.Code != 2 {
		t.Fatalf("bad usage: err %v, want exit 2", err)
	}
	if got, want := errOut.String(), "s3pipe.lua: unknown option '--bogus'\ntry s3pipe.lua --help\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if out.Len() != len(help) {
		t.Errorf("bad usage wrote to stdout")
	}
}
