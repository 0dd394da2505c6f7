#!/usr/bin/env bash
# One large file backed up from a warm page cache, snap beside restic (issue #19, "every core").
#
#   bash Benchmarks/compare/bigfile.sh SNAP_BINARY [SNAP_BINARY...]
#
# FILE defaults to /var/tmp/big.bin, made if missing: SIZE_MIB MiB (2048) of 4 MiB blocks,
# seeded, every other one half zeros (gen-big.py). Each run gets a fresh
# repository in $REPOS (tmpfs by default, so that the run measures reading, chunking,
# hashing, compressing and encrypting, not a disk). Tools take turns, REPS rounds (3).
# PIN="taskset -c 0,1" runs every tool under that prefix. Output: one line per run,
# "tool wall user sys maxrss_kib".
set -euo pipefail
SNAPS=("${@:?snap binary}")
FILE=${FILE:-/var/tmp/big.bin}
SIZE_MIB=${SIZE_MIB:-2048}
REPS=${REPS:-3}
REPOS=${REPOS:-/dev/shm/bigfile}
RESTIC=${RESTIC:-/usr/bin/restic}
PIN=${PIN:-}
export SNAP_PASSWORD=bench RESTIC_PASSWORD=bench
if [[ ! -f $FILE ]]; then
    python3 "$(dirname "$0")/gen-big.py" "$FILE" "$SIZE_MIB"
fi
run() {  # NAME COMMAND...
    local name=$1; shift
    cat "$FILE" >/dev/null
    # shellcheck disable=SC2086  # PIN is a command prefix
    /usr/bin/time -f "$name %e %U %S %M" $PIN "$@" >/dev/null
}
for ((i = 1; i <= REPS; i++)); do
    for snap in "${SNAPS[@]}"; do
        rm -rf "$REPOS"; mkdir -p "$REPOS"
        "$snap" init -q -r "$REPOS/snap" >/dev/null
        run "$snap" "$snap" backup -q -r "$REPOS/snap" "$FILE"
    done
    rm -rf "$REPOS"; mkdir -p "$REPOS"
    "$RESTIC" init -q -r "$REPOS/restic" >/dev/null
    run restic "$RESTIC" backup -q -r "$REPOS/restic" "$FILE"
done
rm -rf "$REPOS"
