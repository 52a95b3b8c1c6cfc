package stdlib

import "testing"

func TestHash(t *testing.T) {
	runIn(t, `
local hash, fs = require("hash"), require("fs")
eq(hash.md5(""), "d41d8cd98f00b204e9800998ecf8427e")
eq(hash.sha1("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
eq(hash.sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
eq(hash.sha512(""):sub(1, 16), "cf83e1357eefb8bd")
eq(hash.crc32("123456789"), "cbf43926")
local big = string.rep("x", 1000000)
local want = hash.sha256(big)  -- hashed off the Lua thread
eq(want, "1b977e9f84f1b26b6ed7f68b0498faee2385ea4125bd29adce4a7d9106ba3134")
fs.write(dir .. "/f", big)
local hex, n = hash.file("sha256", dir .. "/f")
eq(hex, want); eq(n, 1000000)
hex, n = hash.stream("SHA256", fs.open(dir .. "/f"))
eq(hex, want); eq(n, 1000000)
local h = hash.new("sha256")
for i = 1, 10 do h:update(string.rep("x", 100000)) end
eq(h:hex(), want); eq(h:size(), 1000000); eq(#h:digest(), 32)
eq(hash.new("md5"):update("a", "b"):update("c"):hex(), hash.md5("abc"))
eq(tostring(hash.new("md5")), "hasher(md5)")
`)
	wantErr(t, map[string]string{
		`require("hash").sha256()`:                                 "bad argument #1 to 'sha256' (string expected, got nil)",
		`require("hash").md5({})`:                                  "bad argument #1 to 'md5' (string expected, got table)",
		`require("hash").new("rot13")`:                             `bad argument #1 to 'new' (unknown hash "rot13" (crc32, md5, sha1, sha256, sha512))`,
		`require("hash").file("md5", "/nonexistent")`:              "fs: hash /nonexistent: no such file or directory",
		`require("hash").stream("md5", "text")`:                    "bad argument #2 to 'stream' (stream expected, got string)",
		`require("hash").new("md5"):update({})`:                    "bad argument #1 to 'update' (string expected, got table)",
		`local h = require("hash").new("md5") h.update(h, {})`:     "bad argument #2 to 'update' (string expected, got table)",
		`require("hash").new("md5").update({})`:                    "bad argument #1 to 'update' (hasher expected, got table)",
		`local h = require("hash").new("md5") h.hex({})`:           "bad argument #1 to 'hex' (hasher expected, got table)",
		`local h = {hex = require("hash").new("md5").hex} h:hex()`: "calling 'hex' on bad self (hasher expected, got table)",
		`require("hash").new("md5").hex()`:                         "bad argument #1 to 'hex' (hasher expected, got nil)",
	})
}
