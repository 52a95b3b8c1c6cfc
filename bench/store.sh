#!/usr/bin/env bash
# The embedded S3 store (`gos3lua serve s3`) storing and serving 1 GiB:
# wall time and the server's peak RSS (VmHWM) for
#   - one PUT by curl (UNSIGNED-PAYLOAD, the raw limit),
#   - one PUT by aws-cli s3api put-object (signed payload: the store verifies SHA-256),
#   - a multipart upload by aws-cli `s3 cp` (8 MiB parts, 10 at a time),
#   - a multipart upload by rclone (64 MiB parts, 8 at a time),
#   - a GET by curl to /dev/null, and 8 parallel ranged GETs.
# Each case runs on a fresh server process so VmHWM is that case's peak.
# Usage: bench/store.sh [SIZE_MB]   (default 1024; tools missing are skipped)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-1024}
work=$(mktemp -d /tmp/gos3lua-bench-store.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
AK=benchkey SK=benchsecret
go build -o "$work/gos3lua" ./cmd/gos3lua
head -c "${SIZE_MB}M" /dev/urandom > "$work/data"
bytes=$((SIZE_MB * 1048576))

start() {
  rm -rf "$work/store"
  "$work/gos3lua" serve s3 --dir "$work/store" --addr 127.0.0.1:0 --access-key $AK --secret-key $SK > "$work/serve.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "S3 store at" "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
  url=$(sed -n 's/.*S3 store at \(http[^ ]*\).*/\1/p' "$work/serve.out")
  curl -sf -X PUT -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 aws:amz:us-east-1:s3 --user $AK:$SK "$url/bench" >/dev/null
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
peak() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$pid/status"; }
scurl() { curl -sSf -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 aws:amz:us-east-1:s3 --user $AK:$SK "$@"; }
awsenv() { env AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent "$@"; }
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; } # server user+sys, clock ticks
report() { # name seconds cpu-ticks-before
  local ticks=$(( $(cpu) - $3 )) hz; hz=$(getconf CLK_TCK)
  printf '%-44s %6.2f s %6.0f MB/s  server: CPU %5.2f s, peak RSS %3s MiB\n' "$1" "$2" \
    "$(echo "$bytes / $2 / 1000000" | bc -l)" "$(echo "$ticks / $hz" | bc -l)" "$(peak)"
}
timed() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null || { echo "FAILED: $*" >&2; exit 1; }; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
verify() { # key: the stored file must equal the data
  cmp -s "$work/data" "$work/store/bench/$1" || { echo "MISMATCH for $1" >&2; exit 1; }
}

echo "store benchmark: ${SIZE_MB} MiB, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
start; c0=$(cpu); s=$(timed scurl -T "$work/data" "$url/bench/put"); report "PUT (curl, unsigned payload)" "$s" "$c0"; verify put
c0=$(cpu); s=$(timed scurl -o /dev/null "$url/bench/put"); report "GET (curl to /dev/null)" "$s" "$c0"
ranged() {
  local part=$((bytes / 8)) i
  for i in 0 1 2 3 4 5 6 7; do
    scurl -o /dev/null -H "Range: bytes=$((i * part))-$(((i + 1) * part - 1))" "$url/bench/put" &
  done
  wait
}
c0=$(cpu); s=$(timed ranged); report "GET (8 ranged GETs in parallel, curl)" "$s" "$c0"; stop

if command -v aws >/dev/null; then
  start; c0=$(cpu); s=$(timed awsenv aws --endpoint-url "$url" s3api put-object --bucket bench --key signed --body "$work/data")
  report "PUT (aws s3api put-object, signed SHA-256)" "$s" "$c0"; verify signed; stop
  start; c0=$(cpu); s=$(timed awsenv aws --endpoint-url "$url" s3 cp --only-show-errors "$work/data" s3://bench/mp)
  report "multipart (aws s3 cp, 8 MiB parts x10)" "$s" "$c0"; verify mp; stop
fi
if command -v rclone >/dev/null; then
  start; c0=$(cpu)
  # rclone 1.60 refuses to start when AWS_CA_BUNDLE is set ("HTTPClient's transport unsupported type").
  s=$(timed env -u AWS_CA_BUNDLE RCLONE_CONFIG=/nonexistent RCLONE_CONFIG_S_TYPE=s3 RCLONE_CONFIG_S_PROVIDER=Other RCLONE_CONFIG_S_ACCESS_KEY_ID=$AK \
    RCLONE_CONFIG_S_SECRET_ACCESS_KEY=$SK RCLONE_CONFIG_S_ENDPOINT="$url" RCLONE_CONFIG_S_REGION=us-east-1 \
    rclone -q copyto --s3-upload-cutoff 64M --s3-chunk-size 64M --s3-upload-concurrency 8 "$work/data" s:bench/rc)
  report "multipart (rclone, 64 MiB parts x8)" "$s" "$c0"; verify rc; stop
fi
