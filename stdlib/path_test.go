package stdlib

import (
	"os"
	"testing"
)

func TestPath(t *testing.T) {
	wd, _ := os.Getwd()
	run(t, "local wd = "+Quote(wd)+`
local path = require("path")
eq(path.join("a", "b/", "../c", "d.txt"), "a/c/d.txt")
eq(path.join(), "")
eq(path.base("a/b.txt"), "b.txt"); eq(path.base("/"), "/"); eq(path.base(""), ".")
eq(path.dir("a/b.txt"), "a"); eq(path.dir("b.txt"), ".")
eq(path.ext("a/b.tar.gz"), ".gz"); eq(path.ext("a/b"), "")
eq(path.stem("a/b.tar.gz"), "b.tar"); eq(path.stem(".bashrc"), "")
local d, f = path.split("a/b/c.txt"); eq(d, "a/b/"); eq(f, "c.txt")
eq(path.clean("a//b/./../c/"), "a/c")
eq(path.rel("/a/b", "/a/b/c/d"), "c/d"); eq(path.rel("/a/b", "/a/x"), "../x")
eq(path.abs("x/y"), wd .. "/x/y"); eq(path.abs("/z/../y"), "/y")
eq(path.isabs("/x"), true); eq(path.isabs("x"), false)
`)
	wantErr(t, map[string]string{
		`require("path").rel("/a", "b")`:   "path.rel: Rel: can't make b relative to /a",
		`require("path").join("a", 1, {})`: "bad argument #3 to 'join' (string expected, got table)",
		`require("path").base()`:           "bad argument #1 to 'base' (string expected, got nil)",
		`require("path").dir(true)`:        "bad argument #1 to 'dir' (string expected, got boolean)",
	})
}
