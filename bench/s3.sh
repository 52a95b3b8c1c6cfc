#!/usr/bin/env bash
# S3 benchmark: gos3lua's s3pipe.lua and backup.lua against the tools users
# would pick instead (aws-cli, s3cmd, rclone, curl), all against the same
# local S3 server (`gos3lua serve s3` over a tmpfs directory), side by side in
# one run. Prints a Markdown table per benchmark: median seconds, MB/s, peak
# RSS (from /usr/bin/time), and each tool's time as a ratio of gos3lua's.
# gos3lua is also run against its in-process embedded store ("embedded").
#
#   bench/s3.sh                  # 1 GiB streams, 10,000-file tree, 3 runs each
#   RUNS=1 SIZE_MB=256 bench/s3.sh
#   SKIP="aws s3cmd" bench/s3.sh # leave peers out
#
# Needs: go, curl, /usr/bin/time; peers are skipped when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

RUNS=${RUNS:-3}
SIZE_MB=${SIZE_MB:-1024}
SKIP=${SKIP:-}
WORK=${WORK:-$(mktemp -d /dev/shm/gos3lua-bench.XXXXXX 2>/dev/null || mktemp -d)}
PORT=${PORT:-19321}
AK=benchaccesskey
SK=benchsecretkey0123456789
BUCKET=bench
URL=http://127.0.0.1:$PORT
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

skip() { [[ " $SKIP " == *" $1 "* ]] || ! command -v "$1" >/dev/null; }

go build -o "$WORK/gos3lua" ./cmd/gos3lua
G="$WORK/gos3lua"
mkdir -p "$WORK/home" "$WORK/data"
"$G" serve s3 --dir "$WORK/store" --addr "127.0.0.1:$PORT" --access-key $AK --secret-key $SK >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -s -o /dev/null "$URL" && break; sleep 0.1; done

# The peers get the server and keys from the environment and config files
# of a scratch home; AWS_CA_BUNDLE is dropped (rclone refuses it for http).
export HOME="$WORK/home" XDG_DATA_HOME="$WORK/data"
unset AWS_CA_BUNDLE AWS_PROFILE AWS_DEFAULT_PROFILE || true
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export GOS3LUA_PROGRESS=0
export RCLONE_CONFIG_B_TYPE=s3 RCLONE_CONFIG_B_PROVIDER=Other RCLONE_CONFIG_B_ENDPOINT=$URL \
  RCLONE_CONFIG_B_ACCESS_KEY_ID=$AK RCLONE_CONFIG_B_SECRET_ACCESS_KEY=$SK RCLONE_CONFIG_B_FORCE_PATH_STYLE=true
cat >"$WORK/s3cfg" <<EOF
[default]
access_key = $AK
secret_key = $SK
host_base = 127.0.0.1:$PORT
host_bucket = 127.0.0.1:$PORT
use_https = False
signature_v2 = False
bucket_location = us-east-1
EOF
S3CMD="s3cmd -c $WORK/s3cfg --no-progress"
AWS="aws --endpoint-url $URL"
CURL="curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user $AK:$SK -H x-amz-content-sha256:UNSIGNED-PAYLOAD"
# gos3lua against the server (gs), and against its own embedded store (ge).
printf '#!/bin/sh\nAWS_ENDPOINT_URL=%s GOS3LUA_BUCKET=%s exec %s "$@"\n' "$URL" "$BUCKET" "$G" >"$WORK/gs"
printf '#!/bin/sh\nexec env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY %s "$@"\n' "$G" >"$WORK/ge"
chmod +x "$WORK/gs" "$WORK/ge"
GS=$WORK/gs GE=$WORK/ge

$CURL -X PUT "$URL/$BUCKET" -o /dev/null
head -c $((SIZE_MB << 20)) /dev/urandom >"$WORK/big.bin"
BYTES=$((SIZE_MB << 20))

# measure NAME BYTES CMD [AFTER]: runs CMD $RUNS times (CMD may use $RUN),
# records the median wall time and the largest peak RSS. AFTER (untimed)
# runs after every run, to delete what it stored: the store is on tmpfs,
# in memory.
declare -A SECS RSS MBS
ORDER=()
measure() {
  local name=$1 bytes=$2 cmd=$3 after=${4:-} times=() rss=0
  for RUN in $(seq "$RUNS"); do
    export RUN
    /usr/bin/time -f "%e %M" -o "$WORK/time" bash -c "$cmd" >/dev/null 2>"$WORK/err" || {
      echo "FAILED: $name" >&2; cat "$WORK/err" >&2; return 0; }
    read -r t m <"$WORK/time"
    times+=("$t"); ((m > rss)) && rss=$m
    if [[ -n "$after" ]]; then bash -c "$after" >/dev/null 2>&1 || true; fi
  done
  SECS[$name]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  RSS[$name]=$((rss / 1024))
  MBS[$name]=$(awk -v b="$bytes" -v s="${SECS[$name]}" 'BEGIN {if (b > 0 && s > 0) printf "%.0f", b / 1e6 / s; else print "-"}')
  ORDER+=("$name")
  echo "  $name: ${SECS[$name]} s, ${MBS[$name]} MB/s, ${RSS[$name]} MiB" >&2
}

table() { # table TITLE REFERENCE NAMES...
  local title=$1 ref=$2; shift 2
  echo
  echo "$title"
  echo
  echo "| tool | median s | MB/s | peak RSS MiB | time / gos3lua |"
  echo "|---|---:|---:|---:|---:|"
  for n in "$@"; do
    [[ -n "${SECS[$n]:-}" ]] || continue
    echo "| $n | ${SECS[$n]} | ${MBS[$n]} | ${RSS[$n]} | $(awk -v a="${SECS[$n]}" -v b="${SECS[$ref]}" 'BEGIN {printf "%.2f", a / b}') |"
  done
}

echo "== stream write, $SIZE_MB MiB from stdin" >&2
# The peers read back the one object curl stores (a plain single object).
W=("gos3lua s3pipe.lua -w" "gos3lua s3pipe.lua -w (embedded)")
measure "gos3lua s3pipe.lua -w" $BYTES "$GS s3pipe.lua -w -t w\$RUN <$WORK/big.bin" "[ \$RUN = 1 ] || $GS s3pipe.lua -d -t w\$RUN"
measure "gos3lua s3pipe.lua -w (embedded)" $BYTES "$GE s3pipe.lua -w -t w\$RUN <$WORK/big.bin" "[ \$RUN = 1 ] || $GE s3pipe.lua -d -t w\$RUN"
# The default holds at most 48M of chunks (four 10M chunks in flight); the
# previous default, eight in flight, for comparison.
W+=("gos3lua s3pipe.lua -w --memory 80M")
measure "gos3lua s3pipe.lua -w --memory 80M" $BYTES "$GS s3pipe.lua -w --memory 80M -t j\$RUN <$WORK/big.bin" "$GS s3pipe.lua -d -t j\$RUN"
W+=("gos3lua s3pipe.lua -w (from a pipe)")
measure "gos3lua s3pipe.lua -w (from a pipe)" $BYTES "cat $WORK/big.bin | $GS s3pipe.lua -w -t p\$RUN" "$GS s3pipe.lua -d -t p\$RUN"
if ! skip aws; then W+=("aws s3 cp -"); measure "aws s3 cp -" $BYTES "$AWS s3 cp - s3://$BUCKET/aws\$RUN <$WORK/big.bin" "$GS purge.lua --yes -p aws\$RUN"; fi
if ! skip s3cmd; then W+=("s3cmd put -"); measure "s3cmd put -" $BYTES "$S3CMD put - s3://$BUCKET/s3cmd\$RUN <$WORK/big.bin" "$GS purge.lua --yes -p s3cmd\$RUN"; fi
if ! skip rclone; then
  W+=("rclone rcat" "rclone rcat (8 x 16M)")
  measure "rclone rcat" $BYTES "rclone rcat b:$BUCKET/rclone\$RUN <$WORK/big.bin" "$GS purge.lua --yes -p rclone\$RUN"
  measure "rclone rcat (8 x 16M)" $BYTES "rclone rcat --s3-upload-concurrency 8 --s3-chunk-size 16M b:$BUCKET/rclone8\$RUN <$WORK/big.bin" "$GS purge.lua --yes -p rclone8\$RUN"
fi
W+=("curl PUT (one unsigned request)")
measure "curl PUT (one unsigned request)" $BYTES "$CURL -T $WORK/big.bin $URL/$BUCKET/curl -o /dev/null"

echo "== stream read, $SIZE_MB MiB to stdout" >&2
R=("gos3lua s3pipe.lua -r" "gos3lua s3pipe.lua -r (embedded)")
measure "gos3lua s3pipe.lua -r" $BYTES "$GS s3pipe.lua -r -t w1 | cat >/dev/null"
measure "gos3lua s3pipe.lua -r (embedded)" $BYTES "$GE s3pipe.lua -r -t w1 | cat >/dev/null"
R+=("gos3lua s3pipe.lua -r --memory 80M")
measure "gos3lua s3pipe.lua -r --memory 80M" $BYTES "$GS s3pipe.lua -r --memory 80M -t w1 | cat >/dev/null"
if ! skip aws; then R+=("aws s3 cp s3://... -"); measure "aws s3 cp s3://... -" $BYTES "$AWS s3 cp s3://$BUCKET/curl - | cat >/dev/null"; fi
if ! skip s3cmd; then R+=("s3cmd get ... -"); measure "s3cmd get ... -" $BYTES "$S3CMD get s3://$BUCKET/curl - | cat >/dev/null"; fi
if ! skip rclone; then R+=("rclone cat"); measure "rclone cat" $BYTES "rclone cat b:$BUCKET/curl | cat >/dev/null"; fi
R+=("curl GET (raw)")
measure "curl GET (raw)" $BYTES "$CURL $URL/$BUCKET/curl | cat >/dev/null"

# The streams are done with: free their memory before the tree goes in.
"$GS" purge.lua --yes >/dev/null 2>&1 || true
"$GE" purge.lua --yes >/dev/null 2>&1 || true
rm -f "$WORK/big.bin"

echo "== backup of a 10,000-file tree" >&2
python3 - "$WORK/tree" <<'EOF'
import os, random, sys
root, rnd = sys.argv[1], random.Random(42)
junk = os.urandom(8 << 20)
i = 0
for count, lo, hi in [(9000, 1 << 10, 16 << 10), (900, 64 << 10, 1 << 20), (100, 1 << 20, 8 << 20)]:
    for _ in range(count):
        n = rnd.randint(lo, hi)
        p = os.path.join(root, "d%02d" % (i % 50), "s%02d" % (i % 7), "f%05d.bin" % i)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        off = rnd.randrange(0, len(junk) - n + 1)
        open(p, "wb").write(junk[off:off + n])
        i += 1
EOF
TREE=$WORK/tree
TBYTES=$(du -sb "$TREE" | cut -f1)
B=("gos3lua backup.lua" "gos3lua backup.lua (embedded)")
measure "gos3lua backup.lua" $TBYTES "$GS backup.lua -q --prefix g\$RUN/ $TREE" "[ \$RUN = 1 ] || $GS purge.lua --yes -p g\$RUN/"
measure "gos3lua backup.lua (embedded)" $TBYTES "$GE backup.lua -q --prefix g\$RUN/ $TREE" "[ \$RUN = 1 ] || $GE purge.lua --yes -p g\$RUN/"
if ! skip rclone; then
  B+=("rclone copy --transfers 16" "rclone copy")
  measure "rclone copy --transfers 16" $TBYTES "rclone copy --transfers 16 $TREE b:$BUCKET/r16-\$RUN/" "[ \$RUN = 1 ] || $GS purge.lua --yes -p r16-\$RUN/"
  measure "rclone copy" $TBYTES "rclone copy $TREE b:$BUCKET/r-\$RUN/" "$GS purge.lua --yes -p r-\$RUN/"
fi
if ! skip s3cmd; then B+=("s3cmd sync"); measure "s3cmd sync" $TBYTES "$S3CMD -q sync $TREE/ s3://$BUCKET/s3cmd-\$RUN/" "[ \$RUN = 1 ] || $GS purge.lua --yes -p s3cmd-\$RUN/"; fi
if ! skip aws; then B+=("aws s3 sync"); measure "aws s3 sync" $TBYTES "$AWS s3 sync --only-show-errors $TREE s3://$BUCKET/aws-\$RUN/" "[ \$RUN = 1 ] || $GS purge.lua --yes -p aws-\$RUN/"; fi

echo "== the same again, nothing changed" >&2
U=("gos3lua backup.lua (unchanged)" "gos3lua backup.lua (embedded, unchanged)")
measure "gos3lua backup.lua (unchanged)" 0 "$GS backup.lua -q --prefix g1/ $TREE"
measure "gos3lua backup.lua (embedded, unchanged)" 0 "$GE backup.lua -q --prefix g1/ $TREE"
if ! skip rclone; then
  U+=("rclone copy --transfers 16 (unchanged)")
  measure "rclone copy --transfers 16 (unchanged)" 0 "rclone copy --transfers 16 $TREE b:$BUCKET/r16-1/"
fi
if ! skip s3cmd; then U+=("s3cmd sync (unchanged)"); measure "s3cmd sync (unchanged)" 0 "$S3CMD -q sync $TREE/ s3://$BUCKET/s3cmd-1/"; fi
if ! skip aws; then U+=("aws s3 sync (unchanged)"); measure "aws s3 sync (unchanged)" 0 "$AWS s3 sync --only-show-errors $TREE s3://$BUCKET/aws-1/"; fi

echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Server: gos3lua serve s3 over $WORK (tmpfs when /dev/shm exists); $RUNS runs each, medians; $SIZE_MB MiB streams; tree $((TBYTES / 1000000)) MB."
table "Stream write, $SIZE_MB MiB from stdin (target: aws-cli's ratio >= 1.5, s3pipe's peak RSS <= 100 MiB)" "gos3lua s3pipe.lua -w" "${W[@]}"
table "Stream read, $SIZE_MB MiB to stdout (target: the raw curl GET's ratio >= 0.9)" "gos3lua s3pipe.lua -r" "${R[@]}"
table "Backup of 10,000 files, first run (target: rclone --transfers 16's ratio >= 1.5)" "gos3lua backup.lua" "${B[@]}"
table "Backup re-run, nothing changed (target: <= 1.0 s)" "gos3lua backup.lua (unchanged)" "${U[@]}"
