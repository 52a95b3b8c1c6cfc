package stdlib

import "testing"

func TestJSON(t *testing.T) {
	run(t, `
local json = require("json")
eq(json.encode({}), "{}")
eq(json.encode(json.array()), "[]")
eq(json.encode(json.array({})), "[]")
eq(json.encode({1, 2, "x"}), '[1,2,"x"]')
eq(json.encode({b = 1, a = {true, false}, c = json.null}), '{"a":[true,false],"b":1,"c":null}')
-- holes in an array are null (keys all positive integers, at most half holes or at most 10 long)
eq(json.encode({[1] = "a", [3] = "c"}), '["a",null,"c"]')
eq(json.encode({1, 2, nil, 4}), '[1,2,null,4]')
eq(json.encode({nil, nil, 3}), '[null,null,3]')
eq(json.encode({[10] = true}), '[null,null,null,null,null,null,null,null,null,true]')
eq(json.encode({[1] = 1, [2] = 2, [3] = 3, [6] = 6}), '[1,2,3,null,null,6]')
eq(json.encode(json.array({[2] = "b"})), '[null,"b"]')
local back = json.decode(json.encode({1, nil, 3}))
eq(back[1], 1); eq(back[2], json.null); eq(back[3], 3)
-- anything else is an object, number keys as strings
eq(json.encode({[1] = "a", x = "y"}), '{"1":"a","x":"y"}')
eq(json.encode({[0] = "z", [1] = "a"}), '{"0":"z","1":"a"}')
eq(json.encode({[1.5] = "h"}), '{"1.5":"h"}')
eq(json.encode({[-1] = "m"}), '{"-1":"m"}')
eq(json.encode({[2^40] = 1}), '{"1099511627776":1}')
eq(json.encode({1.5, -0.25, 1e20, 123456789012}), "[1.5,-0.25,1e+20,123456789012]")
eq(json.encode("q\"\\\n\t\1</>é\255"), '"q\\"\\\\\\n\\t\\u0001</>é\\ufffd"')
eq(json.encode(nil), "null")
eq(json.encode({a = {b = {}}}, {pretty = true}), '{\n  "a": {\n    "b": {}\n  }\n}')
eq(json.encode({1, {2}}, {indent = "\t"}), '[\n\t1,\n\t[\n\t\t2\n\t]\n]')

local v = json.decode(' {"a": [1, 2.5, null, "x\\u00e9\\n"], "b": {"c": null, "d": true}, "e": []} ')
eq(v.a[1], 1); eq(v.a[2], 2.5); eq(v.a[3], json.null); eq(v.a[4], "xé\n"); eq(#v.a, 4)
eq(v.b.c, nil); eq(v.b.d, true)
eq(json.encode(v.e), "[]")
eq(json.decode("3"), 3); eq(json.decode('"s"'), "s"); eq(json.decode("null"), json.null)
eq(tostring(json.null), "null")
-- round trip
local doc = {name = "backup", sizes = {1, 2, 3}, nested = {ok = true, list = {{k = "v"}}}}
eq(json.encode(json.decode(json.encode(doc))), json.encode(doc))
`)
	wantErr(t, map[string]string{
		`require("json").decode('{"a": 1,}')`:                            "json.decode: invalid character '}' looking for beginning of object key string at line 1, column 9 (byte 8)",
		`require("json").decode('[1, 2')`:                                "json.decode: unexpected end of input at line 1, column 6 (byte 5)",
		`require("json").decode('{}\n{}')`:                               "json.decode: unexpected data after the value at line 2, column 2 (byte 4)",
		`require("json").decode('')`:                                     "json.decode: unexpected end of input",
		`require("json").decode("[1,\n  x]")`:                            "at line 2, column 3",
		`local ok, e = pcall(require("json").decode, "[") error(e.kind)`: "json",
		`require("json").decode({})`:                                     "bad argument #1 to 'decode' (string expected, got table)",
		`require("json").encode()`:                                       "bad argument #1 to 'encode' (value expected)",
		`require("json").encode({f = print})`:                            "json.encode: $.f: cannot encode a function",
		`require("json").encode({a = {0/0}})`:                            "json.encode: $.a[1]: NaN cannot be represented in JSON",
		`local t = {} t.self = t require("json").encode(t)`:              "json.encode: $.self: table contains itself (a cycle)",
		`require("json").encode({[true] = 1})`:                           "object keys must be strings or numbers, not boolean",
		`require("json").encode({[11] = 1})`:                             "json.encode: $: sparse array (highest index 11, only 1 values)",
		`require("json").encode({a = {[1] = 1, [1000] = 2}})`:            "json.encode: $.a: sparse array (highest index 1000, only 2 values): fill the holes with json.null",
		`require("json").encode(1, 2)`:                                   "bad argument #2 to 'encode' (table expected, got number)",
		`require("json").array(5)`:                                       "bad argument #1 to 'array' (table expected, got number)",
	})
}
