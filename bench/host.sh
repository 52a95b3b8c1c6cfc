#!/usr/bin/env bash
# Issue 2 benchmarks: start-up, scheduler round trips, CPU-bound Lua.
# Needs: hyperfine lua5.1 luajit python3 (Debian). Prints medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out; mkdir -p $out
# Built as the README installs it: static (CGO_ENABLED=0), which spares
# every start the dynamic loader and libc (about 3 ms here). The dynamic
# build `go build` makes when a C compiler is present is measured too.
CGO_ENABLED=0 go build -o $out/gos3lua ./cmd/gos3lua
CGO_ENABLED=1 go build -o $out/gos3lua-cgo ./cmd/gos3lua
# Bare gopher-lua, twice: built against the patched copy gos3lua uses
# (host/gopher-lua) and against stock v1.1.2 from the module proxy (a scratch
# module outside this one, so the replace directive does not apply).
go build -o $out/glua ./bench/glua
CGO_ENABLED=0 go build -o $out/linkfloor ./bench/linkfloor
go build -o $out/empty ./bench/empty
stock=$(mktemp -d); trap 'rm -rf "$stock"' EXIT
cp bench/glua/main.go "$stock/"
printf 'module stockglua\ngo 1.26\nrequire github.com/yuin/gopher-lua v1.1.2\n' >"$stock/go.mod"
(cd "$stock" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 && go build -o "$OLDPWD/$out/glua-stock" .)

echo "## start-up (hyperfine -N, 8 rounds x 30 runs, commands rotated each round; median of all runs)"
# In rounds rather than 200 runs of one command after the other: speed here
# drifts within a minute by more than the differences measured.
cmds=("$out/gos3lua -e ''" "$out/gos3lua-cgo -e ''" "$out/linkfloor" "$out/empty" "$out/glua-stock -e ''"
      "lua5.1 -e ''" "luajit -e ''" "python3 -c pass")
for round in 1 2 3 4 5 6 7 8; do
  hyperfine -N --warmup 3 --runs 30 --export-json $out/startup-$round.json "${cmds[@]}" >/dev/null 2>&1
  cmds=("${cmds[@]:1}" "${cmds[0]}")
done
python3 - $out <<'PY'
import glob, json, statistics, sys
times = {}
for f in sorted(glob.glob(sys.argv[1] + "/startup-*.json")):
    for x in json.load(open(f))["results"]:
        times.setdefault(x["command"], []).extend(x["times"])
med = {c: statistics.median(t) for c, t in times.items()}
order = sorted(med, key=lambda c: (not c.startswith(sys.argv[1] + "/gos3lua -e"), c))
base = med[order[0]]
for c in order:
    print(f'{c:<32} {med[c]*1000:7.2f} ms   ({med[c]/base:5.2f}x gos3lua)')
short = {c.split()[0].split("/")[-1]: v for c, v in med.items()}
print(f'gos3lua / lua5.1 = {base/short["lua5.1"]:.2f}   gos3lua / stock gopher-lua = {base/short["glua-stock"]:.2f}'
      f'   gos3lua - empty Go program = {(base-short["empty"])*1000:.2f} ms   gos3lua - linkfloor = {(base-short["linkfloor"])*1000:.2f} ms')
PY

echo; echo "## scheduler (go test -bench, 10,000 tasks x 10 round trips)"
go test ./host -run '^$' -bench 'RoundTrip' -benchtime 5x | grep -E 'Benchmark'

echo; echo "## CPU-bound Lua in process, no start-up (go test -bench: host vs bare patched gopher-lua, fib(27))"
go test ./host -run '^$' -bench 'Fib' -benchtime 20x -count 3 | grep -E 'Benchmark'

echo; echo "## CPU-bound Lua (whole process, runs interleaved, median of 9)"
cat > $out/fib.lua <<'LUA'
local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end
assert(fib(32) == 2178309)
LUA
cat > $out/str.lua <<'LUA'
local t = {}
for i = 1, 300000 do t[#t+1] = string.format("%d:%s", i, string.rep("x", i % 10)) end
local s = table.concat(t, ",")
local n = 0
for w in s:gmatch("[^,]+") do n = n + #w end
assert(n > 0)
LUA
# Interleaved (one run of each program in turn, nine rounds) rather than
# hyperfine's one program after the other: on this shared machine speed
# drifts over a minute by more than the 10% being checked.
python3 - "$out" <<'PY'
import statistics, subprocess, sys, time
out = sys.argv[1]
progs = [("gos3lua", f"{out}/gos3lua"), ("stock gopher-lua", f"{out}/glua-stock"),
         ("patched gopher-lua", f"{out}/glua"), ("lua5.1", "lua5.1"), ("luajit", "luajit")]
for prog in ("fib", "str"):
    times = {name: [] for name, _ in progs}
    for _ in range(9):
        for name, exe in progs:
            t0 = time.perf_counter()
            subprocess.run([exe, f"{out}/{prog}.lua"], check=True)
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) for name, v in times.items()}
    print(f"{prog}:")
    for name, _ in progs:
        print(f"  {name:<20} {med[name]*1000:8.1f} ms")
    g = med["gos3lua"]
    print(f"  gos3lua / stock gopher-lua = {g/med['stock gopher-lua']:.3f}   gos3lua / patched gopher-lua = "
          f"{g/med['patched gopher-lua']:.3f}   gos3lua / lua5.1 = {g/med['lua5.1']:.2f}")
PY
