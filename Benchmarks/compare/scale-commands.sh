#!/bin/bash
# Every command on a large repository: a synthetic repository of N blobs (index files, and
# each pack as a sparse file of its indexed size, 64 blobs a pack as at the default chunk and
# pack sizes), plus two real snapshots of a small folder, then time and peak RSS of each
# command that opens the index. Needs about N × 60 bytes of disk (index, cache table).
# Usage: Benchmarks/compare/scale-commands.sh [N] [SNAP_BINARY]
set -euo pipefail
N=${1:-2000000}
SNAP=$(realpath "${2:-.build/release/snap}")
WORK=${WORK:-/var/tmp/snap-scale-commands}
rm -rf "$WORK"; mkdir -p "$WORK/src/sub" "$WORK/out"
export SNAP_REPOSITORY="$WORK/repo" SNAP_PASSWORD=bench XDG_CACHE_HOME="$WORK/cache"
"$SNAP" init -q >/dev/null
/usr/bin/time -f "generate: %e s, %M KiB" "$SNAP" index-benchmark --generate "$N" --per-pack 64 --sparse-packs "$WORK/repo"
for i in $(seq 1 50); do head -c $((i * 997)) /dev/urandom > "$WORK/src/sub/f$i"; done
echo one > "$WORK/src/one.txt"

run() { # label, then the command's arguments
  local label=$1; shift
  /usr/bin/time -o "$WORK/time" -f "%e s, %M KiB" "$SNAP" "$@" > "$WORK/stdout" 2> "$WORK/stderr" || echo "  (exit $?: $(tail -1 "$WORK/stderr"))"
  printf '%-36s %s\n' "$label" "$(tail -1 "$WORK/time")"
}
run "backup (builds the table)" backup "$WORK/src"
echo two >> "$WORK/src/one.txt"
run "backup of one changed file" backup "$WORK/src"
run "snapshots" snapshots
run "ls latest" ls latest
run "find one.txt" find one.txt
run "diff (the two snapshots)" diff $("$SNAP" list snapshots | head -2 | tr '\n' ' ')
run "stats (restore-size)" stats
run "stats --mode raw-data" stats --mode raw-data
run "list packs" list packs
run "find --blob (a prefix; none matches)" find --blob 0123456789
run "restore latest" restore latest --target "$WORK/out/restore"
run "dump latest /one.txt" dump latest "$WORK/src/one.txt"
run "dump latest as tar" dump latest "$WORK/src" --archive tar
run "tag --add x" tag --add x
run "rewrite --exclude one.txt" rewrite latest --exclude one.txt
run "forget --keep-last 2" forget --keep-last 2
SNAP_REPOSITORY="$WORK/copy" "$SNAP" init -q >/dev/null
SNAP_REPOSITORY="$WORK/copy" SNAP_FROM_REPOSITORY="$WORK/repo" SNAP_FROM_PASSWORD=bench \
  run "copy latest (from the large one)" copy latest
SNAP_REPOSITORY="$WORK/repo" SNAP_FROM_REPOSITORY="$WORK/copy" SNAP_FROM_PASSWORD=bench \
  run "copy latest (into the large one)" copy latest
run "check" check
run "check --no-cache" check --no-cache
run "prune --dry-run" prune --dry-run
if command -v fusermount3 >/dev/null && [ -e /dev/fuse ]; then
  mkdir -p "$WORK/mnt"
  /usr/bin/time -o "$WORK/time" -f "%e s, %M KiB" "$SNAP" mount "$WORK/mnt" > "$WORK/stdout" 2>&1 &
  for _ in $(seq 1 100); do [ -d "$WORK/mnt/snapshots/latest" ] && break; sleep 0.2; done
  find "$WORK/mnt/snapshots/latest/" > /dev/null
  fusermount3 -u "$WORK/mnt"; wait
  printf '%-36s %s\n' "mount, walk latest, unmount" "$(tail -1 "$WORK/time")"
fi
cp -a --sparse=always "$WORK/repo" "$WORK/pruned"
SNAP_REPOSITORY="$WORK/pruned" run "prune (deletes every synthetic pack)" prune
rm -rf "$WORK"
