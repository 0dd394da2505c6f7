#!/usr/bin/env bash
# Many small files backed up from a cold page cache, snap beside restic (issue #19).
#
#   sudo bash Benchmarks/compare/small-cold.sh SNAP_BINARY [SNAP_BINARY...]
#
# TREE defaults to /var/tmp/walkbench/tree (make it with gen-small.py). Each run gets a
# fresh repository in $REPOS (tmpfs by default, so that only the source is read from disk);
# `sync; echo 3 > /proc/sys/vm/drop_caches` comes before every timed run unless WARM=1
# (then one untimed `find -ls` warms the cache first). Tools take turns: snap, restic, ...
# Output: one line per run, "tool wall user sys maxrss_kib" (snap binaries by their path).
set -euo pipefail
SNAPS=("${@:?snap binary}")
TREE=${TREE:-/var/tmp/walkbench/tree}
REPS=${REPS:-3}
REPOS=${REPOS:-/dev/shm/walkbench}
WARM=${WARM:-0}
RESTIC=${RESTIC:-/usr/bin/restic}
export SNAP_PASSWORD=bench RESTIC_PASSWORD=bench
prepare() {
    rm -rf "$REPOS"; mkdir -p "$REPOS"
    "${SNAPS[0]}" init -r "$REPOS/snap" >/dev/null
    "$RESTIC" init -r "$REPOS/restic" >/dev/null
    sync
    if [[ $WARM == 1 ]]; then tar cf - "$TREE" 2>/dev/null | cat >/dev/null
    else echo 3 > /proc/sys/vm/drop_caches; fi
}
for ((i = 1; i <= REPS; i++)); do
    for snap in "${SNAPS[@]}"; do
        prepare
        /usr/bin/time -f "$snap %e %U %S %M" "$snap" backup -q -r "$REPOS/snap" "$TREE" >/dev/null
    done
    prepare
    /usr/bin/time -f "restic %e %U %S %M" "$RESTIC" backup -q -r "$REPOS/restic" "$TREE" >/dev/null
done
rm -rf "$REPOS"
