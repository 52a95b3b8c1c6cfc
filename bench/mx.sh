#!/usr/bin/env bash
# Issue 5 benchmark: mxtest.lua over N domains x 2 exchanges against a local
# DNS server and an SMTP sink that delays every reply by 50 ms, versus the
# sysadmin's loop (dig +short MX, dig +short A, then swaks per exchange).
#
#   bench/mx.sh [DOMAINS=500] [LOOP_DOMAINS=10] [JOBS=100]
#
# The loop is run over LOOP_DOMAINS domains only (it takes ~0.5 s an
# exchange) and extrapolated linearly to DOMAINS. Needs: dig (dnsutils),
# swaks. Prints the figures; paste them into bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DOMAINS=${1:-500}
LOOP_DOMAINS=${2:-10}
JOBS=${3:-100}
DELAY=0.05
REPLIES=7 # banner, EHLO, MAIL, RCPT, DATA (354), end of data (250), QUIT
out=bench/out/mx; mkdir -p $out
go build -o $out/gos3lua ./cmd/gos3lua

# The fixture: dns.server with d1..dN.bench.test, each with two MX
# exchanges on 127.0.0.1, and smtp.server{delay=0.05}; it writes its
# addresses and runs until killed.
cat > $out/fixture.lua <<'LUA'
local dns, smtp, task = require("dns"), require("smtp"), require("task")
local n, addr_file = tonumber(arg[1]), arg[2]
local records = {}
for i = 1, n do
  local d = "d" .. i .. ".bench.test."
  records[#records + 1] = d .. " 300 IN MX 10 mx1." .. d
  records[#records + 1] = d .. " 300 IN MX 20 mx2." .. d
  records[#records + 1] = "mx1." .. d .. " 300 IN A 127.0.0.1"
  records[#records + 1] = "mx2." .. d .. " 300 IN A 127.0.0.1"
end
local d = dns.server{records = table.concat(records, "\n")}
local s = smtp.server{delay = tonumber(arg[3])}
local f = assert(io.open(addr_file .. ".tmp", "w"))
f:write(d.addr, " ", s.port, "\n")
f:close()
os.rename(addr_file .. ".tmp", addr_file)
while true do task.sleep(3600) end
LUA
rm -f $out/addr
$out/gos3lua $out/fixture.lua "$DOMAINS" $out/addr "$DELAY" &
fixture=$!
trap 'kill $fixture 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s $out/addr ] && break; sleep 0.1; done
read -r dns_addr smtp_port < $out/addr
dns_host=${dns_addr%:*}; dns_port=${dns_addr##*:}

domains=()
for i in $(seq "$DOMAINS"); do domains+=("d$i.bench.test"); done
exchanges=$((DOMAINS * 2))

now() { date +%s.%N; }

echo "## mxtest.lua: $DOMAINS domains x 2 exchanges, every reply delayed ${DELAY}s, --jobs $JOBS"
t0=$(now)
set +e
$out/gos3lua scripts/mxtest.lua --dns "$dns_addr" --port "$smtp_port" --jobs "$JOBS" "${domains[@]}" > $out/mxtest.out
code=$?
set -e
t1=$(now)
ok=$(grep -c ' OK$' $out/mxtest.out || true)
mx_wall=$(echo "$t1 - $t0" | bc -l)
bound=$(echo "$exchanges * $REPLIES * $DELAY / $JOBS" | bc -l)
printf 'exit %d, %d/%d exchanges OK, wall %.2f s; latency bound %d x %d x %.0f ms / %d = %.2f s (%.2fx the bound)\n' \
  "$code" "$ok" "$exchanges" "$mx_wall" "$exchanges" "$REPLIES" "$(echo "$DELAY*1000" | bc -l)" "$JOBS" "$bound" "$(echo "$mx_wall / $bound" | bc -l)"

echo
echo "## loop: dig +short MX, dig +short A, swaks per exchange; $LOOP_DOMAINS domains"
t0=$(now)
n=0
for i in $(seq "$LOOP_DOMAINS"); do
  d="d$i.bench.test"
  for mx in $(dig @"$dns_host" -p "$dns_port" +short MX "$d" | sort -n | awk '{print $2}'); do
    addr=$(dig @"$dns_host" -p "$dns_port" +short A "$mx" | head -1)
    swaks --silent 2 --server "$addr" --port "$smtp_port" --from bench@example.org --to "postmaster@$d" \
      --header "Subject: Test via $mx for $d" >/dev/null
    n=$((n + 1))
  done
done
t1=$(now)
loop_wall=$(echo "$t1 - $t0" | bc -l)
per=$(echo "$loop_wall / $n" | bc -l)
loop_full=$(echo "$per * $exchanges" | bc -l)
printf '%d exchanges in %.2f s (%.0f ms each); extrapolated to %d exchanges: %.0f s\n' \
  "$n" "$loop_wall" "$(echo "$per*1000" | bc -l)" "$exchanges" "$loop_full"
echo
printf 'ratio: loop (extrapolated) / mxtest = %.0fx\n' "$(echo "$loop_full / $mx_wall" | bc -l)"
