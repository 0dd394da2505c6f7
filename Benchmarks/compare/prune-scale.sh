#!/bin/bash
# Prune at scale: a synthetic repository of N blobs in packs of 1,024 (index files, and each
# pack as a sparse file of its indexed size, so prune sees every pack stored; no snapshots,
# so every pack is unused), then peak RSS and time of `prune --dry-run` and of a real prune
# (on a sparse copy) that condemns and deletes every pack. Needs ~N/20 bytes of disk.
# Usage: Benchmarks/compare/prune-scale.sh [N] [SNAP_BINARY]
set -euo pipefail
N=${1:-2000000}
SNAP=$(realpath "${2:-.build/release/snap}")
WORK=${WORK:-/var/tmp/snap-prune-scale}
rm -rf "$WORK"; mkdir -p "$WORK"
export SNAP_REPOSITORY="$WORK/repo" SNAP_PASSWORD=bench XDG_CACHE_HOME="$WORK/cache"
"$SNAP" init -q >/dev/null
/usr/bin/time -f "generate: %e s, %M KiB" "$SNAP" index-benchmark --generate "$N" --per-pack 1024 --sparse-packs "$WORK/repo"
/usr/bin/time -f "stats (builds the table): %e s, %M KiB peak RSS" "$SNAP" stats --mode raw-data -q >/dev/null
/usr/bin/time -f "prune --dry-run: %e s, %M KiB peak RSS" "$SNAP" prune -n | tail -1
cp -a --sparse=always "$WORK/repo" "$WORK/copy"
SNAP_REPOSITORY="$WORK/copy" /usr/bin/time -f "prune: %e s, %M KiB peak RSS" "$SNAP" prune | tail -1
rm -rf "$WORK"
