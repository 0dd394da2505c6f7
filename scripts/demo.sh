#!/usr/bin/env bash
# Demo: back up a real tree, change it, back up again, restore both snapshots, and compare.
set -euo pipefail
snap="$(cd "$(dirname "$0")/.." && pwd)/.build/release/snap"
source_tree="${1:-/usr/share/doc}"
work="$(mktemp -d /tmp/snap-demo.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export SNAP_REPOSITORY="$work/repo" SNAP_PASSWORD="demo password"

echo "== snap init"
"$snap" init
echo "== copy $source_tree and back it up"
mkdir -p "$work/data"
cp -a "$source_tree" "$work/data/tree"
"$snap" backup "$work/data" --tag demo --time 2024-01-01T10:00:00Z
echo "== change a file, add one, back up again (unchanged files are not read)"
echo "a new file" > "$work/data/new.txt"
first_file="$(find "$work/data/tree" -type f -print -quit)"
echo "changed" >> "$first_file"
"$snap" backup "$work/data" --tag demo --time 2024-01-02T10:00:00Z
echo "== snapshots"
"$snap" snapshots
echo "== restore the latest snapshot and compare"
"$snap" restore latest --target "$work/restore-latest"
if ! diff -r --no-dereference "$work/data" "$work/restore-latest$work/data"; then
  echo "demo FAILED: the restored tree differs" >&2
  exit 1
fi
echo "latest snapshot restored identical"
echo "== restore the state as of 2024-01-01 12:00 and check the new file is absent"
"$snap" restore --at 2024-01-01T12:00:00Z --target "$work/restore-old"
if [ -e "$work/restore-old$work/data/new.txt" ]; then
  echo "demo FAILED: --at restored the wrong snapshot" >&2
  exit 1
fi
echo "point-in-time restore is the first snapshot"
echo "== repository size: $(du -sh "$work/repo" | cut -f1) for $(du -sh "$work/data" | cut -f1) of data"
