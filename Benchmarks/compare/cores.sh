#!/usr/bin/env bash
# Issue #19, "every core", on the 16-core device machine: first backups of a real tree and
# of one 2 GiB file from a warm page cache, snap (and an older snap, if bundled) beside
# restic, unpinned and pinned to CPUs 0 and 1 (timed.py --cpus, as taskset -c 0,1 does), the
# tools in turns, REPS rounds; it needs bash, python3, tar and coreutils there, nothing else.
# Reads what Benchmarks/compare/device-bundle.sh packed into .device/; writes the runs and
# the medians to $OUT/cores.txt (and stdout).
#
#   bash Benchmarks/compare/cores.sh [TREE]
#
# TREE defaults to the largest Python site-packages folder there (a real tree of ~2 GB);
# FILE (/tmp/cores/big.bin, SIZE_MIB MiB, 2048) is made by gen-big.py, as for bigfile.sh.
set -uo pipefail
START=$SECONDS
BUDGET=${BUDGET:-540}           # seconds: stop starting runs after this
REPS=${REPS:-3}
SIZE_MIB=${SIZE_MIB:-2048}
WORK=${WORK:-/tmp/cores}
REPOS=${REPOS:-/dev/shm/cores}
OUT=${OUT:-$WORK/out}
here=$(cd "$(dirname "$0")" && pwd)
bundle=$here/../../.device
mkdir -p "$WORK/bin" "$OUT"
report=$OUT/cores.txt
ERRORS=$OUT/errors.txt  # the tools' messages, for a run that failed
: >"$report"; : >"$ERRORS"
say() { echo "$*" | tee -a "$report"; }

# Unpacked with Python's lzma and tarfile: the device need not have xz.
python3 - "$bundle" "$WORK" <<'PY'
import lzma, os, shutil, sys, tarfile
bundle, work = sys.argv[1], sys.argv[2]
for name in ("snap", "snap-before", "restic"):
    source = os.path.join(bundle, name + ".xz")
    if os.path.exists(source):
        target = os.path.join(work, "bin", name)
        with lzma.open(source) as packed, open(target, "wb") as out:
            shutil.copyfileobj(packed, out)
        os.chmod(target, 0o755)
with tarfile.open(os.path.join(bundle, "lib.tar.xz")) as libs:
    libs.extractall(work)
PY
export LD_LIBRARY_PATH=$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export SNAP_PASSWORD=bench RESTIC_PASSWORD=bench
tools=("$WORK/bin/snap"); [[ -x $WORK/bin/snap-before ]] && tools+=("$WORK/bin/snap-before"); tools+=("$WORK/bin/restic")
say "commit $(cat "$bundle/commit" 2>/dev/null) | nproc $(nproc) | $(uname -r) | $("$WORK/bin/snap" version 2>&1 | head -1) | $("$WORK/bin/restic" version 2>&1)"

TREE=${1:-$(python3 - <<'PY'
import glob, os, site
candidates = set(site.getsitepackages() + glob.glob("/usr/lib/python3*/*-packages") + glob.glob("/usr/local/lib/python3*/*-packages"))
def size(p):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(p) for f in fs if os.path.isfile(os.path.join(r, f)))
best = max((c for c in candidates if os.path.isdir(c)), key=size, default="/usr")
print(best)
PY
)}
say "tree $TREE: $(du -sh "$TREE" 2>/dev/null | cut -f1), $(find "$TREE" | wc -l) entries"
FILE=$WORK/big.bin
python3 "$here/gen-big.py" "$FILE" "$SIZE_MIB"

declare -A walls
run() {  # LABEL SOURCE PIN TOOL
    local label=$1 source=$2 pin=$3 tool=$4 repo=$REPOS/$(basename "$4")
    rm -rf "$REPOS"; mkdir -p "$REPOS"
    "$tool" init -q -r "$repo" >/dev/null 2>&1 || "$tool" init -r "$repo" >/dev/null
    # Warm the page cache (GNU tar writing to /dev/null would skip the reads).
    tar -cf - "$source" 2>/dev/null | cat >/dev/null
    local line
    # shellcheck disable=SC2086  # pin is a pair of arguments or nothing
    line=$(python3 "$here/timed.py" $pin --errors "$ERRORS" "$tool" backup -q -r "$repo" "$source")
    say "$label $(basename "$tool") wall/user/sys/maxrss_kib: $line"
    walls["$label $(basename "$tool")"]+="${line%% *} "
}
for source in "$TREE" "$FILE"; do
    for pin in "" "--cpus 0,1"; do
        label="$( [[ $source == "$FILE" ]] && echo file || echo tree ) $( [[ -n $pin ]] && echo pinned-2 || echo unpinned )"
        for ((i = 1; i <= REPS; i++)); do
            for tool in "${tools[@]}"; do
                (( SECONDS - START > BUDGET )) && { say "budget of $BUDGET s spent: stopping"; break 4; }
                run "$label" "$source" "$pin" "$tool"
            done
        done
    done
done
rm -rf "$REPOS"
say "== medians (wall seconds), and snap's against restic's and the older snap's"
declare -A medians
for key in "${!walls[@]}"; do
    medians[$key]=$(tr ' ' '\n' <<<"${walls[$key]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
done
for key in $(printf '%s\n' "${!walls[@]}" | sed 's/ [^ ]*$//' | sort -u | tr ' ' '_'); do
    label=${key//_/ }
    snap=${medians["$label snap"]:-}; restic=${medians["$label restic"]:-}; before=${medians["$label snap-before"]:-}
    line="$label: snap $snap s, restic $restic s"
    [[ -n $snap && -n $restic ]] && line+=" (snap ÷ restic $(awk -v a="$snap" -v b="$restic" 'BEGIN {printf "%.2f", a / b}'))"
    [[ -n $snap && -n $before ]] && line+=", older snap $before s (now ÷ older $(awk -v a="$snap" -v b="$before" 'BEGIN {printf "%.2f", a / b}'))"
    say "$line"
done
