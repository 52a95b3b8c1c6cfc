#!/usr/bin/env bash
# Issue 6 benchmarks (FUSE):
#  1. metadata: find over randomfs.lua to depth 4 (and 5), entries per second,
#     against the same tree written directly in Go on go-fuse (bench/randomfs-go).
#  2. throughput: sequential read of a 1 GiB s3pipe stream through s3fs.lua,
#     against the same bytes as one object through rclone mount and s3fs
#     (Debian's s3fs-fuse), all on one local `gos3lua serve s3`.
# Needs: root, /dev/fuse, fuse3, rclone, s3fs (Debian). Run as root:
#   bash bench/fuse.sh            (SIZE_MB=1024 RUNS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out/fuse; mkdir -p $out
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-3}
FIND_RUNS=${FIND_RUNS:-10}
go build -o $out/gos3lua ./cmd/gos3lua
go build -o $out/randomfs-go ./bench/randomfs-go
G=$PWD/$out/gos3lua

work=$(mktemp -d /tmp/fusebench.XXXXXX)
pids=()
mounts=()
cleanup() {
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

waitmount() { for _ in $(seq 100); do grep -q " $1 " /proc/mounts && return 0; sleep 0.1; done; echo "no mount on $1" >&2; exit 1; }
now() { date +%s.%N; }

# ---- 1. metadata ----
echo "## find over randomfs (entries/s; median of $FIND_RUNS runs)"
mkdir -p $work/lua $work/go
$G scripts/randomfs.lua $work/lua 2>/dev/null & pids+=($!); mounts+=($work/lua)
$out/randomfs-go $work/go & pids+=($!); mounts+=($work/go)
waitmount $work/lua; waitmount $work/go
for depth in 4 5; do
  nl=$(find $work/lua -maxdepth $depth | wc -l); ng=$(find $work/go -maxdepth $depth | wc -l)
  [ "$nl" = "$ng" ] || { echo "trees differ: $nl vs $ng entries"; exit 1; }
  for fs in lua go; do
    ts=()
    for _ in $(seq $FIND_RUNS); do
      t0=$(now); find $work/$fs -maxdepth $depth >/dev/null; t1=$(now)
      ts+=($(echo "$t1 - $t0" | bc -l))
    done
    med=$(printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf 'depth %d  %-12s %6d entries  %7.3f s  %8.0f entries/s\n' $depth "randomfs-$fs" $nl $med $(echo "$nl / $med" | bc -l)
  done
done

# ---- 2. throughput ----
echo
echo "## sequential read of ${SIZE_MB} MiB (MB/s; median of $RUNS runs, dd bs=1M and cat)"
export AWS_ACCESS_KEY_ID=BENCHKEY AWS_SECRET_ACCESS_KEY=BENCHSECRET0123456789 AWS_REGION=us-east-1
$G serve s3 --dir $work/s3 --addr 127.0.0.1:0 --access-key $AWS_ACCESS_KEY_ID --secret-key $AWS_SECRET_ACCESS_KEY > $work/serve.out 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "S3 store at" $work/serve.out 2>/dev/null && break; sleep 0.1; done
url=$(awk '/S3 store at/ {print $5}' $work/serve.out)
export AWS_ENDPOINT_URL=$url GOS3LUA_BUCKET=bench
echo "store: $url"
head -c $((SIZE_MB << 20)) /dev/urandom > $work/data
$G -e 's3 = require("s3"); s3.create_bucket("bench"); s3.bucket("bench"):put_file("one.bin", arg[1])' $work/data
have_pipe=0
if [ -f scripts/s3pipe.lua ]; then $G scripts/s3pipe.lua -w -t stream < $work/data; have_pipe=1; fi
rm -f $work/data # the store's copies are what is read; keep them in the page cache
cat $work/s3/bench/* > /dev/null 2>&1 || true

mkdir -p $work/s3fslua $work/rclone $work/s3fs
$G scripts/s3fs.lua -b bench $work/s3fslua 2>$work/s3fslua.log & pids+=($!); mounts+=($work/s3fslua)
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENDPOINT=$url \
  RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
  RCLONE_CONFIG_BENCH_REGION=us-east-1
env -u AWS_CA_BUNDLE rclone mount bench:bench $work/rclone --read-only 2>$work/rclone.log & pids+=($!); mounts+=($work/rclone)
echo "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" > $work/passwd; chmod 600 $work/passwd
s3fs bench $work/s3fs -o url=$url -o use_path_request_style -o passwd_file=$work/passwd -o ro -o endpoint=us-east-1
mounts+=($work/s3fs)
waitmount $work/s3fslua; waitmount $work/rclone; waitmount $work/s3fs

measure() { # name file
  for how in "dd bs=1M" "cat"; do
    ts=()
    for _ in $(seq $RUNS); do
      sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || true
      cat $work/s3/bench/* > /dev/null 2>&1 || true # warm the store, cold the mount
      t0=$(now)
      if [ "$how" = cat ]; then cat "$2" > /dev/null; else dd if="$2" of=/dev/null bs=1M status=none; fi
      t1=$(now)
      ts+=($(echo "$t1 - $t0" | bc -l))
    done
    med=$(printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-34s %-8s %7.2f s  %7.1f MB/s\n' "$1" "$how" $med $(echo "$SIZE_MB * 1048576 / $med / 1000000" | bc -l)
  done
}
[ $have_pipe = 1 ] && measure "s3fs.lua (s3pipe stream)" $work/s3fslua/stream
measure "s3fs.lua (one object)" $work/s3fslua/one.bin
measure "rclone mount (one object)" $work/rclone/one.bin
measure "s3fs-fuse (one object)" $work/s3fs/one.bin
