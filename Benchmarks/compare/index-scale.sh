#!/bin/bash
# Index at scale: a synthetic repository of N blobs (index files only, no pack data), then
# peak RSS and time of loading the index (in memory with --no-cache; the mapped table cold,
# i.e. built, and warm) and the cost of `contains` for present and absent IDs.
# Usage: Benchmarks/compare/index-scale.sh [N] [SNAP_BINARY]
set -euo pipefail
N=${1:-2000000}
SNAP=${2:-.build/release/snap}
WORK=${WORK:-/tmp/snap-index-scale}
rm -rf "$WORK"; mkdir -p "$WORK"
export SNAP_REPOSITORY="$WORK/repo" SNAP_PASSWORD=bench XDG_CACHE_HOME="$WORK/cache"
"$SNAP" init -q >/dev/null
/usr/bin/time -f "generate: %e s, %M KiB" "$SNAP" index-benchmark --generate "$N"
du -sh "$WORK/repo/index"
run() {
  echo "== $1"; shift
  /usr/bin/time -f "%e s wall, %M KiB peak RSS" "$SNAP" index-benchmark --blobs "$N" --lookups 1000000 "$@"
}
run "in memory (--no-cache)" --no-cache
run "mapped, cold (builds the table)"
ls -l "$WORK"/cache/snap/*/blob-index/
run "mapped, warm"
run "mapped, warm again"
