#!/bin/bash
# Every command on a large snapshot: DIRS folders of PER small unique files (gen-small.py,
# seeded; 1,000 × 1,000 = a million files and blobs), backed up twice (the second after
# 1 % of the folders gained a file), then time and peak RSS of each command that reads the
# snapshots' trees, beside restic 0.14 doing the same where it has the command. Needs about
# 5 GB of disk for a million files (source, two repositories, a restore).
# Usage: Benchmarks/compare/scale-tree.sh [DIRS] [PER] [SNAP_BINARY]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIRS=${1:-1000} PER=${2:-1000}
SNAP=$(realpath "${3:-$HERE/../../.build/release/snap}")
WORK=${WORK:-/var/tmp/snap-scale-tree}
rm -rf "$WORK"; mkdir -p "$WORK"
export SNAP_PASSWORD=bench RESTIC_PASSWORD=bench XDG_CACHE_HOME="$WORK/cache"
SRC=$WORK/src
python3 "$HERE/gen-small.py" "$SRC" "$DIRS" "$PER"
"$SNAP" -r "$WORK/snap" init -q
restic -r "$WORK/restic" init -q 2>/dev/null || restic -r "$WORK/restic" init > /dev/null

run() { # tool, label, then the command
  local tool=$1 label=$2; shift 2
  /usr/bin/time -o "$WORK/time" -f "%e s, %M KiB" "$@" > "$WORK/stdout" 2> "$WORK/stderr" || echo "  (exit $?: $(tail -1 "$WORK/stderr"))"
  printf '%-7s %-34s %s\n' "$tool" "$label" "$(tail -1 "$WORK/time")"
}
both() { # label, snap's arguments, then --, then restic's
  local label=$1; shift
  local snap_args=() restic_args=()
  while [[ $1 != -- ]]; do snap_args+=("$1"); shift; done; shift
  restic_args=("$@")
  run snap "$label" "$SNAP" -r "$WORK/snap" "${snap_args[@]}"
  ((${#restic_args[@]})) && run restic "$label" restic -r "$WORK/restic" "${restic_args[@]}"
  return 0
}

both "backup (first)" backup -q "$SRC" -- backup -q "$SRC"
for d in $(seq 0 100 $((DIRS - 1))); do printf 'new %d\n' "$d" > "$SRC/$(printf 'd%04d' "$d")/new.txt"; done
both "backup (1 % of folders changed)" backup -q "$SRC" -- backup -q "$SRC"
both "snapshots" snapshots -- snapshots
both "ls latest" ls latest -- ls latest
both "find f00042" find f00042 -- find f00042
S1=$("$SNAP" -r "$WORK/snap" list snapshots | sed -n 1p) S2=$("$SNAP" -r "$WORK/snap" list snapshots | sed -n 2p)
R1=$(restic -r "$WORK/restic" list snapshots 2>/dev/null | sed -n 1p) R2=$(restic -r "$WORK/restic" list snapshots 2>/dev/null | sed -n 2p)
run snap "diff" "$SNAP" -r "$WORK/snap" diff "$S1" "$S2"
run restic "diff" restic -r "$WORK/restic" diff "$R1" "$R2"
both "stats (restore-size)" stats -- stats
both "stats --mode raw-data" stats --mode raw-data -- stats --mode raw-data
both "restore latest" restore latest --target "$WORK/out-snap" -- restore latest --target "$WORK/out-restic"
rm -rf "$WORK/out-snap" "$WORK/out-restic"
both "restore latest --include f00042" restore latest --include f00042 --target "$WORK/out-snap" -- restore latest --include f00042 --target "$WORK/out-restic"
rm -rf "$WORK/out-snap" "$WORK/out-restic"
both "dump latest (tar)" dump latest "$SRC" -- dump latest "$SRC"
both "check" check -- check
both "check --no-cache" check --no-cache -- check --no-cache
both "forget --keep-last 1" forget --keep-last 1 -- forget --keep-last 1
both "prune" prune -- prune
if command -v fusermount3 > /dev/null && [ -e /dev/fuse ]; then
  mkdir -p "$WORK/mnt"
  /usr/bin/time -o "$WORK/time" -f "%e s, %M KiB" "$SNAP" -r "$WORK/snap" mount "$WORK/mnt" > "$WORK/stdout" 2>&1 &
  for _ in $(seq 1 100); do [ -d "$WORK/mnt/snapshots/latest" ] && break; sleep 0.2; done
  find "$WORK/mnt/snapshots/latest/" | wc -l > /dev/null
  fusermount3 -u "$WORK/mnt"; wait
  printf '%-7s %-34s %s\n' snap "mount, find in latest, unmount" "$(tail -1 "$WORK/time")"
fi
rm -rf "$WORK"
