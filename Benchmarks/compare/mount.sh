#!/usr/bin/env bash
# `snap mount` beside restic 0.14's `restic mount` on the same data, in one run (issue #20).
#
#   bash Benchmarks/compare/mount.sh [SNAP_BINARY]
#
# Backs SOURCE up into a local snap and a local restic repository (untimed), then per
# repetition and tool, in turns (snap, restic, snap, …): mounts afresh, drops the page cache
# (unless WARM=1), and times over `snapshots/latest`: `find | wc -l`, `du -s`, and
# `tar -cf - | wc -c`, and `ls -R`; then unmounts. The same commands over SOURCE itself
# ("disk") and over snap's restore of it ("restored") are the references; for snap also
# `cat` of SOURCE's largest file through the mount beside `snap dump` of it. Prints every
# run, then medians, snap/restic and snap/restored ratios.
#
# SOURCE defaults to /var/tmp/linux/linux-source-6.1 or /tmp/linux/linux-source-6.1 when present (78,579 files), else
# /usr/lib/python3.11. REPS (3) repetitions; WORK (/var/tmp/snap-mount-bench) is removed at the end.
# BACKEND=s3 puts both repositories on a local Ceph radosgw (scripts/with-test-servers.sh
# starts it); both tools keep their metadata caches in WORK between repetitions.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SNAP=${1:-$ROOT/.build/release/snap}
BACKEND=${BACKEND:-local}
if [[ $BACKEND == s3 && -z ${S3_ENDPOINT:-} ]]; then
    exec "$ROOT/scripts/with-test-servers.sh" bash "${BASH_SOURCE[0]}" "$SNAP"
fi
RESTIC=${RESTIC:-/usr/bin/restic}
if [[ -z ${SOURCE:-} ]]; then
    SOURCE=/usr/lib/python3.11
    for candidate in /var/tmp/linux/linux-source-6.1 /tmp/linux/linux-source-6.1; do
        if [[ -d $candidate ]]; then SOURCE=$candidate; break; fi
    done
fi
REPS=${REPS:-3}
WARM=${WARM:-0}
WORK=${WORK:-/var/tmp/snap-mount-bench}
export SNAP_PASSWORD=bench RESTIC_PASSWORD=bench
rm -rf "$WORK"; mkdir -p "$WORK/mnt"
export XDG_CACHE_HOME=$WORK/cache
if [[ $BACKEND == s3 ]]; then
    SNAP_REPO="s3:$S3_ENDPOINT/snap-mount-bench/snap-$$"; RESTIC_REPO="s3:$S3_ENDPOINT/snap-mount-bench/restic-$$"
else
    SNAP_REPO=$WORK/snap; RESTIC_REPO=$WORK/restic
fi
RESULTS="$WORK/results.txt"; : > "$RESULTS"

"$SNAP" init -q -r "$SNAP_REPO" >/dev/null
"$RESTIC" init -q -r "$RESTIC_REPO" >/dev/null
"$SNAP" backup -q -r "$SNAP_REPO" "$SOURCE" >/dev/null
"$RESTIC" backup -q -r "$RESTIC_REPO" "$SOURCE" >/dev/null
"$SNAP" restore -q -r "$SNAP_REPO" latest --target "$WORK/restored" >/dev/null
RESTORED=$WORK/restored$SOURCE
BIG=$(find "$SOURCE" -type f -printf '%s %P\n' | sort -n | tail -1 | cut -d' ' -f2-)
echo "backend: $BACKEND; source: $SOURCE ($(find "$SOURCE" | wc -l) entries, $(du -sh "$SOURCE" | cut -f1))"

pid=""
mount_tool() {  # tool -> sets pid, waits for snapshots/latest
    case $1 in
        snap) "$SNAP" mount -q -r "$SNAP_REPO" "$WORK/mnt" >"$WORK/mount.log" 2>&1 & pid=$! ;;
        restic) "$RESTIC" -q -r "$RESTIC_REPO" mount "$WORK/mnt" >"$WORK/mount.log" 2>&1 & pid=$! ;;
    esac
    for _ in $(seq 600); do [[ -e "$WORK/mnt/snapshots/latest" ]] && return; sleep 0.1; done
    echo "$1 mount did not appear:"; cat "$WORK/mount.log"; exit 1
}
unmount_tool() {
    fusermount3 -u "$WORK/mnt" 2>/dev/null || umount "$WORK/mnt" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
trap 'unmount_tool; rm -rf "$WORK"' EXIT
drop() { sync; if [[ $WARM != 1 ]]; then echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; fi; }
timed() {  # tool step command...
    local tool=$1 step=$2; shift 2
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    echo "$tool $step $(echo "$end - $start" | bc)" | tee -a "$RESULTS"
}
run_steps() {  # tool root
    local tool=$1 root=$2
    timed "$tool" find bash -c "find '$root' | wc -l"
    timed "$tool" du bash -c "du -s '$root'"
    timed "$tool" tar bash -c "tar -C '$root' -cf - . | wc -c"
    timed "$tool" lsR bash -c "ls -R '$root' | wc -l"
}

for ((i = 1; i <= REPS; i++)); do
    for tool in snap restic; do
        mount_tool "$tool"
        root=$(readlink -f "$WORK/mnt/snapshots/latest")$SOURCE
        drop
        run_steps "$tool" "$root"
        if [[ $tool == snap ]]; then
            drop
            timed snap cat bash -c "cat '$root/$BIG' | wc -c"
            drop
            timed snap dump bash -c "'$SNAP' dump -q -r '$SNAP_REPO' latest '$SOURCE/$BIG' | wc -c"
        fi
        unmount_tool
    done
    drop
    run_steps disk "$SOURCE"
    drop
    run_steps restored "$RESTORED"
done

python3 - "$RESULTS" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    tool, step, seconds = line.split()
    runs.setdefault((tool, step), []).append(float(seconds))
print("\nstep   disk(s)  restored(s)  snap(s)  restic(s)  snap/restic  snap/restored   (medians [min-max])")
for step in ["find", "du", "tar", "lsR"]:
    m = {t: statistics.median(runs[(t, step)]) for t in ["disk", "restored", "snap", "restic"]}
    spread = " ".join(f"{t}[{min(runs[(t, step)]):.2f}-{max(runs[(t, step)]):.2f}]" for t in ["restored", "snap", "restic"])
    print(f"{step:5} {m['disk']:8.2f} {m['restored']:12.2f} {m['snap']:8.2f} {m['restic']:10.2f} {m['snap']/m['restic']:12.2f} {m['snap']/max(m['restored'],1e-3):14.2f}   {spread}")
c, d = statistics.median(runs[("snap", "cat")]), statistics.median(runs[("snap", "dump")])
print(f"cat of the largest file through the mount {c:.2f} s, snap dump {d:.2f} s: cat/dump time {c/d:.2f}")
PY
