#!/usr/bin/env bash
# Requests and time of snap and restic against S3 on a local Ceph radosgw (issue #19,
# deliverable 3): backup, check with and without the local cache, and restore of a
# generated tree with thousands of folders, and a second backup after one file changed,
# with and without the cache, and a copy of the snapshots into a second repository on the
# same server. Requests are counted by radosgw itself (its `rgw.req` performance counter,
# read through the admin socket before and after each command), so every tool is counted
# the same way. The first restores follow the backup by about a second; the one "3 s later"
# restores a snapshot stored more than 2 s before it began (snap lists `snapshots/` and
# `index/` of S3 in one listing, and `index/` once more when the snapshot may be newer than
# that listing's start).
#
#   bash Benchmarks/compare/requests.sh       # starts the servers itself (scripts/with-test-servers.sh)
#
# Environment:
#   SNAP=.build/release/snap     the snap to measure
#   SNAP_BEFORE=                 another snap binary to measure beside it (e.g. the one before a change)
#   FOLDERS=4000 FILES=15        the generated tree: FOLDERS folders (in groups of 100) of FILES files of 1–2 KiB
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [[ -z ${S3_ENDPOINT:-} ]]; then exec "$ROOT/scripts/with-test-servers.sh" bash "${BASH_SOURCE[0]}" "$@"; fi
SNAP=${SNAP:-$ROOT/.build/release/snap}
SNAP_BEFORE=${SNAP_BEFORE:-}
FOLDERS=${FOLDERS:-4000} FILES=${FILES:-15}
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

RUN=$(mktemp -d /tmp/snap-requests.XXXXXX)
RUNID=$(date +%s)
trap 'rm -rf "$RUN"' EXIT
export SNAP_PASSWORD=requests-pw RESTIC_PASSWORD=requests-pw XDG_CACHE_HOME=$RUN/cache
export SNAP_FROM_PASSWORD=requests-pw RESTIC_FROM_PASSWORD=requests-pw
ASOK=$(ls "$(dirname "$CEPH_CONF")"/run/*rgw*.asok | head -n1)
requests() { timeout 20 ceph --conf "$CEPH_CONF" --admin-daemon "$ASOK" perf dump 2>/dev/null \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["rgw"]["req"])'; }

SRC=$RUN/src
python3 - "$SRC" "$FOLDERS" "$FILES" <<'PY'
import os, random, sys
src, folders, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(19)
for f in range(folders):
    d = os.path.join(src, f"g{f // 100:03d}", f"d{f:05d}")
    os.makedirs(d)
    for i in range(files):
        with open(os.path.join(d, f"f{i:02d}.txt"), "wb") as out:
            out.write(rnd.randbytes(rnd.randint(1024, 2048)))
PY
log "source: $(find "$SRC" -type d | wc -l) folders, $(find "$SRC" -type f | wc -l) files, $(du -sb "$SRC" | cut -f1) bytes"

measure() {  # TOOL STEP COMMAND...
    local tool=$1 step=$2; shift 2
    local before after t0 t1 rc=0
    before=$(requests); t0=$(date +%s.%N)
    "$@" >"$RUN/last.log" 2>&1 || rc=$?
    t1=$(date +%s.%N); after=$(requests)
    ((rc == 0)) || { log "warning: $tool $step exited with $rc"; tail -n3 "$RUN/last.log" >&2; }
    printf '| %s | %s | %.2f | %d |\n' "$tool" "$step" "$(python3 -c "print($t1-$t0)")" "$((after - before))"
}

# A second backup after one file changed (each tool's own text, so each sees a change).
change() { printf '%s\n' "$1" >"$SRC/g000/d00000/f00.txt"; }

echo "| tool | step | seconds | requests |"
echo "|---|---|---|---|"
tools=(snap restic)
[[ -n $SNAP_BEFORE ]] && tools=(snap-before snap restic)
for tool in "${tools[@]}"; do
    repo="s3:$S3_ENDPOINT/requests-$tool-$RUNID/repo"  # fresh buckets: servers may be reused
    case $tool in
        snap) bin=$SNAP ;;
        snap-before) bin=$SNAP_BEFORE ;;
    esac
    if [[ $tool == restic ]]; then
        restic -r "$repo" init -q >/dev/null
        measure restic backup restic -r "$repo" backup -q "$SRC"
        measure restic "check (cache)" restic -r "$repo" check --with-cache
        measure restic "check (no cache)" restic -r "$repo" check
        measure restic "restore" restic -r "$repo" restore latest -q --target "$RUN/out-$tool"
        measure restic "restore (no cache)" restic -r "$repo" --no-cache restore latest -q --target "$RUN/out2-$tool"
        sleep 3; measure restic "restore, 3 s later" restic -r "$repo" restore latest -q --target "$RUN/out3-$tool"
        change "$tool 1"; measure restic "backup, 1 file changed" restic -r "$repo" backup -q "$SRC"
        change "$tool 2"; measure restic "backup, 1 file changed (no cache)" restic -r "$repo" --no-cache backup -q "$SRC"
        restic -r "$repo-copy" init -q >/dev/null
        measure restic "copy to a second repository" restic -r "$repo-copy" copy -q --from-repo "$repo"
    else
        "$bin" -r "$repo" init -q >/dev/null
        measure "$tool" backup "$bin" -r "$repo" backup -q "$SRC"
        measure "$tool" "check (cache)" "$bin" -r "$repo" check -q
        measure "$tool" "check (no cache)" "$bin" -r "$repo" check -q --no-cache
        measure "$tool" "restore" "$bin" -r "$repo" restore latest -q --target "$RUN/out-$tool"
        measure "$tool" "restore (no cache)" "$bin" -r "$repo" restore latest -q --no-cache --target "$RUN/out2-$tool"
        sleep 3; measure "$tool" "restore, 3 s later" "$bin" -r "$repo" restore latest -q --target "$RUN/out3-$tool"
        change "$tool 1"; measure "$tool" "backup, 1 file changed" "$bin" -r "$repo" backup -q "$SRC"
        change "$tool 2"; measure "$tool" "backup, 1 file changed (no cache)" "$bin" -r "$repo" backup -q --no-cache "$SRC"
        "$bin" -r "$repo-copy" init -q >/dev/null
        measure "$tool" "copy to a second repository" "$bin" -r "$repo-copy" copy -q --from-repo "$repo"
    fi
done
