#!/usr/bin/env bash
# Issue 3 benchmark: 200 generated test files of 25 tests each, run by
#   gos3lua test -j 2                       (the runner)
#   busted -o TAP                           (Debian lua-busted, the same tests written for busted)
#   prove -j 2 --exec gos3lua -r --ext .lua (Perl's harness, one gos3lua process per file)
# Needs: hyperfine lua-busted perl (Debian). Prints medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
# Generated files go outside the repository (inside it, `gos3lua test` at
# the root would find them).
out=${TMPDIR:-/tmp}/gos3lua-bench-test; rm -rf $out; mkdir -p $out/g $out/b
go build -o $out/gos3lua ./cmd/gos3lua
runs=${RUNS:-5}

# The same 25 tests per file in both dialects: arithmetic, string
# building and matching, a table compared deeply, an expected error.
python3 - $out <<'PY'
import sys, os
out = sys.argv[1]
for f in range(200):
    g = ['local test = require("test")', '']
    b = [f'describe("file {f}", function()']
    for i in range(25):
        n = f * 25 + i
        common = f'''  local s = 0
  for k = 1, 100 do s = s + k * {i} end
  local parts = {{}}
  for k = 1, 20 do parts[#parts + 1] = ("item%d"):format(k) end
  local str = table.concat(parts, ",")'''
        # busted's assert.same/matches take (expected, actual).
        g += [f'test("test {i}", function(t)', common,
              f'  t:eq(s, {5050 * i})',
              '  t:match(str, "item20$")',
              f'  t:eq({{n = {n}, list = {{1, 2, 3}}, name = "t{n}"}}, {{n = {n}, list = {{1, 2, 3}}, name = "t" .. {n}}})',
              f'  t:err(function() error("bad {n}") end, "bad {n}")',
              'end)', '']
        b += [f'  it("test {i}", function()', common,
              f'  assert.same({5050 * i}, s)',
              '  assert.matches("item20$", str)',
              f'  assert.same({{n = {n}, list = {{1, 2, 3}}, name = "t{n}"}}, {{n = {n}, list = {{1, 2, 3}}, name = "t" .. {n}}})',
              f'  assert.has_error(function() error("bad {n}", 0) end, "bad {n}")',
              '  end)']
    b += ['end)']
    open(os.path.join(out, "g", f"f{f:03d}_test.lua"), "w").write("\n".join(g) + "\n")
    open(os.path.join(out, "b", f"f{f:03d}_spec.lua"), "w").write("\n".join(b) + "\n")
PY

# Sanity: both suites pass, 5000 tests each (hyperfine also fails on a non-zero exit).
$out/gos3lua test -j 2 $out/g | tail -1
busted -o TAP $out/b | grep -c "^ok" | sed "s/$/ ok (busted)/"

hyperfine -N --warmup 1 --runs $runs --export-json $out/test.json \
  "$out/gos3lua test -j 2 $out/g" \
  "busted -o TAP $out/b" \
  "prove -j 2 --exec $out/gos3lua -r --ext .lua $out/g" >/dev/null
python3 - $out/test.json $out <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
g = r[0]["median"]
for x in r:
    name = x["command"].replace(sys.argv[2] + "/", "")
    print(f'{name:<52} median {x["median"]:7.2f} s  (min {x["min"]:6.2f}, max {x["max"]:6.2f})  user {x["user"]:6.2f} s  sys {x["system"]:5.2f} s  {x["median"]/g:5.2f}x')
b = r[1]
print(f'gos3lua test / busted: wall (median) {g / b["median"]:.2f}, CPU (user+sys) {(r[0]["user"] + r[0]["system"]) / (b["user"] + b["system"]):.2f}  (target <= 0.5)')
PY
