#!/bin/bash
# Import cost: a restic 0.14 repository holding N snapshots of an evolving real tree is
# imported with `snap copy --from-repo restic:…`, and compared with a plain `snap backup`
# of the newest state of the tree (both into fresh repositories), in turns, REPS times.
# Prints medians, the repositories' sizes, and checks that the newest imported snapshot
# restores identical to `restic restore` of its original.
# Usage: Benchmarks/compare/restic-import.sh   (SOURCE, SNAPSHOTS, REPS, WORK, SNAP to override;
# BASELINE=/path/to/an/older/snap also times that binary's import in the same turns)
set -euo pipefail
SOURCE=${SOURCE:-/usr/share/doc}
SNAPSHOTS=${SNAPSHOTS:-5}
REPS=${REPS:-3}
WORK=${WORK:-/var/tmp/snap-restic-import}
SNAP=${SNAP:-$PWD/.build/release/snap}
command -v restic >/dev/null || { echo "restic is not installed (scripts/install-deps.sh)" >&2; exit 1; }
rm -rf "$WORK"; mkdir -p "$WORK/old"
export RESTIC_REPOSITORY="$WORK/restic" RESTIC_PASSWORD=bench RESTIC_CACHE_DIR="$WORK/restic-cache"
export SNAP_PASSWORD=bench SNAP_FROM_PASSWORD=bench XDG_CACHE_HOME="$WORK/cache"
cp -a "$SOURCE" "$WORK/src"
restic init -q
# Snapshot 1 is the tree as copied; each later one changes ~1 % of the files (appends a
# line), deletes ~0.2 % and adds a few, as a slowly changing home folder would.
for n in $(seq 1 "$SNAPSHOTS"); do
  if [ "$n" -gt 1 ]; then
    find "$WORK/src" -type f | awk -v n="$n" 'NR % 97 == n' | while read -r f; do echo "change $n" >>"$f"; done
    find "$WORK/src" -type f | awk -v n="$n" 'NR % 503 == n' | while read -r f; do mv "$f" "$WORK/old/$n-$(basename "$f")-$RANDOM"; done
    mkdir -p "$WORK/src/added-$n"; for i in 1 2 3; do head -c 200000 /dev/urandom >"$WORK/src/added-$n/f$i"; done
  fi
  (cd "$WORK" && restic backup -q --host "host$((n % 2))" --tag "n$n" src)
done
files=$(find "$WORK/src" -type f | wc -l); bytes=$(du -sb "$WORK/src" | cut -f1)
echo "tree: $SOURCE, newest state $files files, $((bytes / 1048576)) MiB; $SNAPSHOTS restic snapshots, restic repository $(du -sm "$WORK/restic" | cut -f1) MiB"
warm() { cat "$@" >/dev/null 2>&1 || true; find "$1" -type f -exec cat {} + >/dev/null; }
import_times=(); backup_times=(); baseline_times=()
for rep in $(seq 1 "$REPS"); do
  rm -rf "$WORK/snap-import" "$WORK/snap-backup" "$WORK/snap-baseline"
  if [ -n "${BASELINE:-}" ]; then
    SNAP_REPOSITORY="$WORK/snap-baseline" "$BASELINE" init -q >/dev/null
    warm "$WORK/restic"
    s=$(date +%s.%N); SNAP_REPOSITORY="$WORK/snap-baseline" "$BASELINE" copy -q --from-repo "restic:$WORK/restic"; e=$(date +%s.%N)
    baseline_times+=("$(echo "$e - $s" | bc)")
  fi
  SNAP_REPOSITORY="$WORK/snap-import" "$SNAP" init -q >/dev/null
  SNAP_REPOSITORY="$WORK/snap-backup" "$SNAP" init -q >/dev/null
  warm "$WORK/restic"
  s=$(date +%s.%N); SNAP_REPOSITORY="$WORK/snap-import" "$SNAP" copy -q --from-repo "restic:$WORK/restic"; e=$(date +%s.%N)
  import_times+=("$(echo "$e - $s" | bc)")
  warm "$WORK/src"
  s=$(date +%s.%N); (cd "$WORK" && SNAP_REPOSITORY="$WORK/snap-backup" "$SNAP" backup -q src); e=$(date +%s.%N)
  backup_times+=("$(echo "$e - $s" | bc)")
  echo "rep $rep: import ${import_times[-1]} s, backup ${backup_times[-1]} s${BASELINE:+, baseline import ${baseline_times[-1]} s}"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mi=$(median "${import_times[@]}"); mb=$(median "${backup_times[@]}")
echo "median: import of $SNAPSHOTS snapshots ${mi} s, plain backup of the newest ${mb} s, ratio $(echo "scale=2; $mi / $mb" | bc)"
[ -z "${BASELINE:-}" ] || echo "baseline ($BASELINE): import $(median "${baseline_times[@]}") s, ratio to the plain backup $(echo "scale=2; $(median "${baseline_times[@]}") / $mb" | bc)"
echo "sizes: snap after import $(du -sm "$WORK/snap-import" | cut -f1) MiB, snap after one backup $(du -sm "$WORK/snap-backup" | cut -f1) MiB"
echo "second run (nothing new):"; /usr/bin/time -f "  %e s" env SNAP_REPOSITORY="$WORK/snap-import" "$SNAP" copy -q --from-repo "restic:$WORK/restic"
# The newest snapshot, restored by each tool, must be the same tree.
newest=$(restic snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
copy=$(SNAP_REPOSITORY="$WORK/snap-import" "$SNAP" snapshots --json | python3 -c "import json,sys; print([s['id'] for s in json.load(sys.stdin) if s.get('imported_from',{}).get('id')=='$newest'][0])")
restic restore -q "$newest" --target "$WORK/by-restic"
SNAP_REPOSITORY="$WORK/snap-import" "$SNAP" restore -q "$copy" --target "$WORK/by-snap"
diff -r --no-dereference "$WORK/by-restic/src" "$WORK/by-snap/src" && echo "newest snapshot: restores identical (diff -r)"
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
