#!/usr/bin/env bash
# Issue 2 benchmarks: start-up, scheduler round trips, CPU-bound Lua.
# Needs: hyperfine lua5.1 luajit python3 (Debian). Prints medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out; mkdir -p $out
go build -o $out/gos3lua ./cmd/gos3lua
go build -o $out/glua ./bench/glua

echo "## start-up (hyperfine, median)"
hyperfine -N --warmup 20 --runs 200 --export-json $out/startup.json \
  "$out/gos3lua -e ''" "$out/glua -e ''" "lua5.1 -e ''" "luajit -e ''" "python3 -c pass" >/dev/null
python3 - $out/startup.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["median"]
for x in r:
    print(f'{x["command"]:<28} {x["median"]*1000:7.2f} ms   ({x["median"]/base:5.2f}x gos3lua)')
PY

echo; echo "## scheduler (go test -bench, 10,000 tasks x 10 round trips)"
go test ./host -run '^$' -bench 'RoundTrip' -benchtime 5x | grep -E 'Benchmark'

echo; echo "## CPU-bound Lua (hyperfine, median)"
cat > $out/fib.lua <<'LUA'
local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end
assert(fib(30) == 832040)
LUA
cat > $out/str.lua <<'LUA'
local t = {}
for i = 1, 300000 do t[#t+1] = string.format("%d:%s", i, string.rep("x", i % 10)) end
local s = table.concat(t, ",")
local n = 0
for w in s:gmatch("[^,]+") do n = n + #w end
assert(n > 0)
LUA
for prog in fib str; do
  hyperfine -N --warmup 1 --runs 7 --export-json $out/$prog.json \
    "$out/gos3lua $out/$prog.lua" "$out/glua $out/$prog.lua" "lua5.1 $out/$prog.lua" "luajit $out/$prog.lua" >/dev/null
  python3 - $out/$prog.json $prog <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
g, bare = r[0]["median"], r[1]["median"]
print(f'{sys.argv[2]}:')
for x in r:
    print(f'  {x["command"]:<40} {x["median"]*1000:8.1f} ms')
print(f'  gos3lua / bare gopher-lua = {g/bare:.3f}   gos3lua / lua5.1 = {g/r[2]["median"]:.2f}')
PY
done
