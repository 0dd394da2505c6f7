#!/bin/bash
# Commands that print or archive a line per entry, on a large snapshot: DIRS folders of PER
# small unique files (gen-small.py, seeded), backed up, rewritten without one name (every
# tree new) and beside a snapshot of an empty folder; then time and peak RSS of ls, find,
# diff (with and without --json), a dry-run restore listing every entry as JSON, dump as
# zip, check, repair snapshots, stats --mode raw-data and a tar import, beside restic 0.14
# (ls --json, find --json, dump as zip) and borg (import-tar) where they have the command.
# Needs about 7 GB of disk for a million files (source, repositories, a 2 GB tar).
# Usage: Benchmarks/compare/scale-output.sh [DIRS] [PER] [SNAP_BINARY]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIRS=${1:-1000} PER=${2:-1000}
SNAP=$(realpath "${3:-$HERE/../../.build/release/snap}")
WORK=${WORK:-/var/tmp/snap-scale-output}
rm -rf "$WORK"; mkdir -p "$WORK/empty"
export SNAP_PASSWORD=bench RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench XDG_CACHE_HOME="$WORK/cache"
python3 "$HERE/gen-small.py" "$WORK/src" "$DIRS" "$PER"
"$SNAP" -r "$WORK/snap" init -q
"$SNAP" -r "$WORK/snap" backup -q "$WORK/src"
TREE=$("$SNAP" -r "$WORK/snap" list snapshots | head -1)
"$SNAP" -r "$WORK/snap" rewrite -q "$TREE" --exclude f00042
"$SNAP" -r "$WORK/snap" backup -q "$WORK/empty"
EMPTY=$("$SNAP" -r "$WORK/snap" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
restic -r "$WORK/restic" init >/dev/null 2>&1
restic -r "$WORK/restic" backup -q "$WORK/src" >/dev/null 2>&1

run() { # label, then the command
  local label=$1; shift
  /usr/bin/time -o "$WORK/time" -f "%e s, %M KiB" "$@" > /dev/null 2> "$WORK/stderr" || echo "  (exit $?: $(tail -1 "$WORK/stderr"))"
  printf '%-44s %s\n' "$label" "$(tail -1 "$WORK/time")"
}
S=("$SNAP" -r "$WORK/snap")
run "snap ls" "${S[@]}" ls "$TREE"
run "snap ls --json" "${S[@]}" ls --json "$TREE"
run "restic ls --json" restic -r "$WORK/restic" ls --json latest
run "snap find '*'" "${S[@]}" find '*' -s "$TREE"
run "snap find --json '*'" "${S[@]}" find --json '*' -s "$TREE"
run "restic find --json '*'" restic -r "$WORK/restic" find --json '*'
run "snap diff (empty -> tree)" "${S[@]}" diff "$EMPTY" "$TREE"
run "snap diff --json" "${S[@]}" diff --json "$EMPTY" "$TREE"
run "snap restore --dry-run -vv --json" "${S[@]}" restore "$TREE" --target "$WORK/out" --dry-run --json -vv
run "snap dump --archive zip" "${S[@]}" dump --archive zip "$TREE" /
run "restic dump --archive zip" restic -r "$WORK/restic" dump --archive zip latest /
run "snap check" "${S[@]}" check
run "snap repair snapshots --dry-run" "${S[@]}" repair snapshots --dry-run
run "snap stats --mode raw-data" "${S[@]}" stats --mode raw-data
"${S[@]}" dump "$TREE" / > "$WORK/tree.tar"
rm -rf "$WORK/restic" "$WORK/src"
"$SNAP" -r "$WORK/imported" init -q
run "snap backup --stdin-tar" "$SNAP" -r "$WORK/imported" backup -q --stdin-tar --stdin-from-command -- cat "$WORK/tree.tar"
if command -v borg >/dev/null; then
  borg init -e repokey "$WORK/borg" >/dev/null 2>&1
  run "borg import-tar" borg import-tar --compression zstd,3 "$WORK/borg::a" "$WORK/tree.tar"
fi
rm -rf "$WORK"
