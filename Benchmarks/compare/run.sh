#!/usr/bin/env bash
# Side-by-side benchmark of snap, restic and borg on the same data (issue #5).
#
#   bash Benchmarks/compare/run.sh                 # full run: Linux 6.1 source, REPS=3
#   QUICK=1 REPS=1 bash Benchmarks/compare/run.sh  # smoke test on a small generated tree
#
# Environment:
#   REPS=3               repetitions of every step (medians and min–max are reported)
#   SMALL_REPS=$REPS     repetitions of the 500,000-small-files steps
#   SMALL_FILES=500000   files in the generated small-file tree
#   WORK=/tmp/snap-compare   work folder (data is kept for reuse, runs are deleted at the end)
#   SOURCE=/tmp/linux/linux-source-6.1  tree to back up (extracted from linux-source-6.1 if missing)
#   QUICK=1              use a small generated tree instead of SOURCE (and 5,000 small files)
#   STEPS=a,b,...        run only these steps (prerequisites are added); see ALL_STEPS below
#   OUT=docs/benchmarks  where results.md, results.json and chart.png go
#   SNAP_BUILD=0         do not run `swift build` (use the existing .build/release/snap)
#   KEEP=1               keep the repositories and restores of this run
#   VERIFY=0             skip comparing the first repetition's restores with the source
#
# Each timed command runs under `/usr/bin/time -f '%e %U %S %M'`; repository size is `du -sb`.
# Tools take turns inside every step: snap, restic, borg, snap, restic, borg, ...
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

REPS=${REPS:-3}
SMALL_REPS=${SMALL_REPS:-$REPS}
QUICK=${QUICK:-0}
WORK=${WORK:-/tmp/snap-compare}
OUT=${OUT:-$ROOT/docs/benchmarks}
SNAP_BUILD=${SNAP_BUILD:-1}
KEEP=${KEEP:-0}
VERIFY=${VERIFY:-1}
if [[ $QUICK == 1 ]]; then
    SMALL_FILES=${SMALL_FILES:-5000}
    SOURCE=$WORK/quick-src/snap-quick-tree
else
    SMALL_FILES=${SMALL_FILES:-500000}
    SOURCE=${SOURCE:-/tmp/linux/linux-source-6.1}
fi
ALL_STEPS=(backup1 backup2 backup_edit restore prune check check_read_data
           bigfile bigfile_insert small_backup small_backup2 small_restore snap_benchmark)
STEPS=${STEPS:-$(IFS=,; echo "${ALL_STEPS[*]}")}
TOOLS=(snap restic borg)

export SNAP_PASSWORD=snap-compare-password
export RESTIC_PASSWORD=snap-compare-password
export BORG_PASSPHRASE=snap-compare-password
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
unset SNAP_REPOSITORY RESTIC_REPOSITORY BORG_REPO SNAP_PASSWORD_FILE SNAP_PASSWORD_COMMAND || true

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- steps and prerequisites
declare -A WANT=()
IFS=, read -r -a _req <<<"$STEPS"
for s in "${_req[@]}"; do
    s=${s// /}
    [[ -z $s ]] && continue
    [[ " ${ALL_STEPS[*]} " == *" $s "* ]] || die "unknown step '$s' (steps: ${ALL_STEPS[*]})"
    WANT[$s]=1
done
for s in backup2 backup_edit restore check check_read_data prune; do
    if [[ -n ${WANT[$s]:-} ]]; then WANT[backup1]=1; fi
done
if [[ -n ${WANT[prune]:-} ]]; then WANT[backup2]=1; WANT[backup_edit]=1; fi
if [[ -n ${WANT[bigfile_insert]:-} ]]; then WANT[bigfile]=1; fi
for s in small_backup2 small_restore; do
    if [[ -n ${WANT[$s]:-} ]]; then WANT[small_backup]=1; fi
done
want() { [[ -n ${WANT[$1]:-} ]]; }

# ---------------------------------------------------------------- dependencies
apt_install() {
    log "installing Debian packages: $*"
    if [[ -z ${_APT_UPDATED:-} ]]; then apt-get -o DPkg::Lock::Timeout=600 update -qq; _APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
}
need=()
command -v restic >/dev/null || need+=(restic)
command -v borg >/dev/null || need+=(borgbackup)
[[ -x /usr/bin/time ]] || need+=(time)
command -v python3 >/dev/null || need+=(python3)
if [[ $QUICK != 1 && ! -d $SOURCE && ! -f /usr/src/linux-source-6.1.tar.xz ]]; then need+=(linux-source-6.1); fi
if ((${#need[@]})); then apt_install "${need[@]}"; fi

# A python3 with matplotlib for the chart: the first python3 on PATH, then Debian's.
PY=""
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import matplotlib' 2>/dev/null; then PY=$p; break; fi
done
if [[ -z $PY ]]; then
    apt_install python3-matplotlib || true
    if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then PY=/usr/bin/python3
    else python3 -m pip install -q matplotlib && PY=python3; fi
fi
GEN=(python3 "$HERE/gen.py")

# ---------------------------------------------------------------- snap binary
if [[ $SNAP_BUILD == 1 ]]; then
    log "building snap (release)"
    "$ROOT/scripts/install-deps.sh" >&2 || die "could not install snap's build dependencies (scripts/install-deps.sh)"
    if ! (cd "$ROOT" && swift build -c release --product snap --static-swift-stdlib --disable-local-rpath >&2); then
        [[ -x $ROOT/.build/release/snap ]] || die "swift build failed"
        log "warning: swift build failed (the tree may be mid-edit); using the existing binary"
        BUILD_NOTE="swift build failed; the existing .build/release/snap was used"
    fi
fi
[[ -x $ROOT/.build/release/snap ]] || die "no $ROOT/.build/release/snap"

# ---------------------------------------------------------------- work folders
mkdir -p "$WORK"
DATA=$WORK/data$([[ $QUICK == 1 ]] && echo -quick || true)
RUN=$WORK/run
if [[ -e $RUN ]]; then
    # Left over from an interrupted run. Deleting a large tree makes file creation on this
    # ext4 slow for minutes (shared/guide/FACTS.md), so delete it first and let it settle.
    log "deleting the leftovers of an earlier run ($RUN) and waiting 120 s for the file system"
    mv "$RUN" "$WORK/trash.$$"; rm -rf "$WORK/trash.$$"
    if [[ $QUICK != 1 ]]; then sleep 120; fi
fi
mkdir -p "$RUN"/{repos,restores,logs,bin} "$DATA"
RECORDS=$RUN/records.jsonl
: >"$RECORDS"
export XDG_CACHE_HOME=$RUN/cache XDG_CONFIG_HOME=$RUN/config   # restic, borg and snap caches
mkdir -p "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME"

# Other engineers rebuild .build/release/snap while this runs: time one fixed copy.
SNAP=$RUN/bin/snap
cp "$ROOT/.build/release/snap" "$SNAP"
SNAP_HELP=$("$SNAP" --help 2>&1)
has_snap() { grep -qE "^ +$1( |$)" <<<"$SNAP_HELP"; }
SNAP_HAS_FORGET=0; has_snap forget && SNAP_HAS_FORGET=1
SNAP_HAS_CHECK=0; has_snap check && SNAP_HAS_CHECK=1
SNAP_HAS_BENCHMARK=0; has_snap benchmark && SNAP_HAS_BENCHMARK=1
log "snap: forget=$SNAP_HAS_FORGET check=$SNAP_HAS_CHECK benchmark=$SNAP_HAS_BENCHMARK"

# ---------------------------------------------------------------- data (prepared once, reused)
if [[ $QUICK == 1 && ! -d $SOURCE ]]; then
    log "generating the QUICK source tree"
    mkdir -p "$(dirname "$SOURCE")"
    "${GEN[@]}" quick-tree "$SOURCE" >&2
fi
if [[ ! -d $SOURCE ]]; then
    [[ $SOURCE == /tmp/linux/linux-source-6.1 ]] || die "SOURCE $SOURCE does not exist"
    [[ -f /usr/src/linux-source-6.1.tar.xz ]] || apt_install linux-source-6.1
    log "extracting /usr/src/linux-source-6.1.tar.xz into /tmp/linux"
    mkdir -p /tmp/linux && tar xf /usr/src/linux-source-6.1.tar.xz -C /tmp/linux
fi
NAME=$(basename "$SOURCE")
CUR=$DATA/cur            # the backed-up path is always $CUR/$NAME: base tree, then changed tree

# The changed tree shares every unchanged file with the base tree through hard links, so
# each tool sees the same inode, size, mtime and ctime for them in both. Making the links
# and the changes alters the originals' ctimes (link counts), so it all happens here, before
# the first timed backup, and the two trees then swap places by rename only.
if [[ ! -f $DATA/trees.ready || $(cat "$DATA/trees.ready") != "$SOURCE" ]]; then
    log "preparing the base and changed trees from $SOURCE"
    chmod -R u+w "$DATA" 2>/dev/null || true
    rm -rf "$DATA/tree-base" "$DATA/tree-mod" "$CUR" "$DATA/cur.which"
    mkdir -p "$CUR"
    cp -a "$SOURCE" "$DATA/tree-base"     # a private copy: never touch the shared SOURCE's ctimes
    cp -al "$DATA/tree-base" "$DATA/tree-mod"
    "${GEN[@]}" mutate "$DATA/tree-mod" --seed 3 | tee "$DATA/mutate.txt" >&2
    echo base >"$DATA/cur.which"; mv "$DATA/tree-base" "$CUR/$NAME"
    echo "$SOURCE" >"$DATA/trees.ready"
fi
use_tree() {  # base | mod: put that tree at $CUR/$NAME
    local have; have=$(cat "$DATA/cur.which")
    [[ $have == "$1" ]] && return 0
    mv "$CUR/$NAME" "$DATA/tree-$have"
    mv "$DATA/tree-$1" "$CUR/$NAME"
    echo "$1" >"$DATA/cur.which"
}
base_tree_path() { if [[ $(cat "$DATA/cur.which") == base ]]; then echo "$CUR/$NAME"; else echo "$DATA/tree-base"; fi; }

BIG=$DATA/big
# `ready` alone is not enough: files emptied to free disk space must be made again.
if (want bigfile || want bigfile_insert) && [[ ! -f $BIG/ready || ! -s $BIG/orig.tar || ! -s $BIG/ins.tar ]]; then
    log "making the single large file (tar of $SOURCE) and its 50-insertion variant"
    mkdir -p "$BIG/cur"
    tar cf "$BIG/orig.tar" -C "$(dirname "$SOURCE")" "$NAME"
    "${GEN[@]}" insert "$BIG/orig.tar" "$BIG/ins.tar" --seed 4 >&2
    touch "$BIG/ready"
fi
SMALL=$DATA/small
if (want small_backup) && [[ ! -f $SMALL.ready || $(cat "$SMALL.ready") != "$SMALL_FILES" ]]; then
    log "generating $SMALL_FILES small files (seeded)"
    rm -rf "$SMALL"; mkdir -p "$SMALL"
    "${GEN[@]}" small-tree "$SMALL/smallfiles" --files "$SMALL_FILES" --seed 2 >&2
    echo "$SMALL_FILES" >"$SMALL.ready"
fi

# ---------------------------------------------------------------- measurement helpers
warm() {  # read trees (file data and metadata) into the page cache just before a timed step
    local p
    for p in "$@"; do tar cf - -C "$(dirname "$p")" "$(basename "$p")" 2>/dev/null | cat >/dev/null || true; done
}
repo_bytes() { if [[ -e $1 ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }
busy_count() {  # other engineers' builds, tests and storage servers running now
    ps -eo comm= | grep -cE '^(swift-frontend|swift-build|swift-test|swiftc|swift-driver|swift-autolink|clang|ld|ld\.gold|ld\.lld|.*xctest|.*PackageTest.*|ceph-.*|radosgw)$' || true
}
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

# measure STEP PART TOOL REP REPO -- COMMAND...   (REPO may be "-")
measure() {
    local step=$1 part=$2 tool=$3 rep=$4 repo=$5; shift 6
    local tf=$RUN/logs/time.tmp lf=$RUN/logs/$step.$part.$tool.$rep.log rc=0 before=0 after=0
    [[ $repo != - ]] && before=$(repo_bytes "$repo")
    # Earlier commands' writes (1.3 GB per restore) are flushed first, so that no tool is
    # throttled by the kernel's writeback of another tool's files.
    sync
    local load busy; load=$(cut -d' ' -f1 /proc/loadavg); busy=$(busy_count)
    /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$lf" 2>&1 || rc=$?
    local wall user sys rss; read -r wall user sys rss < <(tail -n1 "$tf")
    [[ $repo != - ]] && after=$(repo_bytes "$repo")
    ((rc == 0)) || log "warning: $tool $step/$part rep $rep exited with $rc (see $lf)"
    printf '{"step":"%s","part":"%s","tool":"%s","rep":%d,"wall":%s,"user":%s,"sys":%s,"rss_kib":%s,"repo_before":%s,"repo_after":%s,"rc":%d,"load1":%s,"busy_procs":%s,"cmd":%s}\n' \
        "$step" "$part" "$tool" "$rep" "$wall" "$user" "$sys" "$rss" "$before" "$after" "$rc" "$load" "$busy" \
        "$(json_str "$*")" >>"$RECORDS"
    log "  $step/$part $tool #$rep: ${wall}s wall, $(python3 -c "print(round($user+$sys,2))") CPU-s, $((rss / 1024)) MiB$([[ $repo != - ]] && echo ", repo $after B" || true)"
}
note() { printf '{"note":%s}\n' "$(json_str "$*")" >>"$RECORDS"; log "note: $*"; }

# Per-tool commands. Repositories: $RUN/repos/GROUP/TOOL-REP.
repo_of() { echo "$RUN/repos/$1/$2-$3"; }
init_repo() {  # GROUP TOOL REP (untimed)
    local r; r=$(repo_of "$1" "$2" "$3"); mkdir -p "$(dirname "$r")"
    case $2 in
        snap) "$SNAP" init -r "$r" -q >/dev/null ;;
        restic) restic init -r "$r" -q >/dev/null ;;
        borg) borg init --encryption=repokey "$r" >/dev/null 2>&1 ;;
    esac
}
backup_cmd() {  # TOOL REPO ARCHIVE PATH -> command words in CMD
    case $1 in
        snap) CMD=("$SNAP" backup -r "$2" -q "$4") ;;
        restic) CMD=(restic backup -r "$2" -q "$4") ;;
        borg) CMD=(borg create --compression zstd,3 --files-cache=ctime,size,inode "$2::$3" "$4") ;;
    esac
}
first_snapshot() {  # TOOL REPO -> ID of the oldest snapshot (borg: archive name "first")
    case $1 in
        snap) "$SNAP" snapshots -r "$2" --json ;;
        restic) restic snapshots -r "$2" --json ;;
        borg) echo '[{"id":"first","time":"0"}]' ;;
    esac | python3 -c 'import json,sys; s=sorted(json.load(sys.stdin), key=lambda x: x["time"]); print(s[0]["id"])'
}
restore_cmd() {  # TOOL REPO ID TARGET
    case $1 in
        snap) CMD=("$SNAP" restore "$3" -r "$2" --target "$4" -q) ;;
        restic) CMD=(restic restore "$3" -r "$2" --target "$4" -q) ;;
        borg) CMD=(env -C "$4" borg extract "$2::$3") ;;
    esac
}
verify_restore() {  # STEP TOOL ORIGINAL RESTORED  (untimed; first repetition only)
    [[ $VERIFY == 1 ]] || return 0
    local ok=true
    diff -r -q --no-dereference "$3" "$4" >"$RUN/logs/$1.verify.$2.log" 2>&1 || ok=false
    printf '{"verify":"%s","tool":"%s","identical":%s}\n' "$1" "$2" "$ok" >>"$RECORDS"
    $ok || log "warning: $2 restore differs from the original (see $RUN/logs/$1.verify.$2.log)"
}

# ---------------------------------------------------------------- machine description
meta() {
    local snap_commit snap_dirty
    snap_commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    snap_dirty=$(git -C "$ROOT" status --porcelain -- Sources Package.swift 2>/dev/null | wc -l)
    python3 - "$@" <<EOF
import json, os, platform, subprocess
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
cpu = next((l.split(":",1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
m = {
  "nproc": int(sh("nproc") or 0), "cpu_model": cpu, "mem_total_gib": round(mem/1024/1024, 1),
  "kernel": platform.release(), "os": sh(". /etc/os-release && echo \$PRETTY_NAME"),
  "filesystem": sh("df -T '$WORK' | tail -1 | awk '{print \$2}'"),
  "snap_version": sh("'$SNAP' --version"), "snap_commit": "$snap_commit",
  "snap_uncommitted_source_files": $snap_dirty,
  "restic_version": sh("restic version"), "borg_version": sh("borg --version"),
  "restic_repository_version": sh("restic cat config -r '$RUN/repos/probe-restic' 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"version\"])'"),
  "reps": $REPS, "small_reps": $SMALL_REPS, "quick": $QUICK == 1, "small_files": $SMALL_FILES,
  "source": "$SOURCE", "source_bytes": int(sh("du -sb '$CUR/$NAME' | cut -f1") or 0),
  "source_files": int(sh("find '$(base_tree_path)' -type f | wc -l") or 0),
  "mutation": sh("cat '$DATA/mutate.txt' 2>/dev/null"),
  "bigfile_bytes": int(sh("stat -c %s '$BIG/orig.tar' 2>/dev/null") or 0),
  "snap_has_forget": $SNAP_HAS_FORGET == 1, "snap_has_check": $SNAP_HAS_CHECK == 1,
  "snap_has_benchmark": $SNAP_HAS_BENCHMARK == 1,
  "build_note": "${BUILD_NOTE:-}",
  "busy_at_start": sh("ps -eo pcpu=,comm= --sort=-pcpu | head -8"),
  "loadavg_at_start": sh("cat /proc/loadavg"),
  "started": sh("date -u +%Y-%m-%dT%H:%M:%SZ"),
}
json.dump(m, open("$RUN/meta.json", "w"), indent=1)
EOF
}
restic init -r "$RUN/repos/probe-restic" -q >/dev/null
meta

# ---------------------------------------------------------------- steps
TREE=$CUR/$NAME
step_start() { log "step $1"; }

if want backup1; then
    step_start backup1
    use_tree base
    for rep in $(seq 1 "$REPS"); do
        for tool in "${TOOLS[@]}"; do
            init_repo tree "$tool" "$rep"; r=$(repo_of tree "$tool" "$rep")
            backup_cmd "$tool" "$r" first "$TREE"
            warm "$TREE"; measure backup1 backup "$tool" "$rep" "$r" -- "${CMD[@]}"
        done
    done
fi
if want backup2; then
    step_start backup2
    use_tree base
    for rep in $(seq 1 "$REPS"); do
        for tool in "${TOOLS[@]}"; do
            r=$(repo_of tree "$tool" "$rep"); backup_cmd "$tool" "$r" second "$TREE"
            warm "$TREE"; measure backup2 backup "$tool" "$rep" "$r" -- "${CMD[@]}"
        done
    done
fi
if want backup_edit; then
    step_start backup_edit
    use_tree mod
    for rep in $(seq 1 "$REPS"); do
        for tool in "${TOOLS[@]}"; do
            r=$(repo_of tree "$tool" "$rep"); backup_cmd "$tool" "$r" edit "$TREE"
            warm "$TREE"; measure backup_edit backup "$tool" "$rep" "$r" -- "${CMD[@]}"
        done
    done
fi
if want restore; then
    step_start restore
    for rep in $(seq 1 "$REPS"); do
        for tool in "${TOOLS[@]}"; do
            r=$(repo_of tree "$tool" "$rep"); id=$(first_snapshot "$tool" "$r")
            t=$RUN/restores/tree/$tool-$rep; mkdir -p "$t"
            restore_cmd "$tool" "$r" "$id" "$t"
            warm "$r"; measure restore restore "$tool" "$rep" - -- "${CMD[@]}"
            if ((rep == 1)); then verify_restore restore "$tool" "$(base_tree_path)" "$t$TREE"; fi
        done
    done
fi
if want prune; then
    step_start prune
    if ((!SNAP_HAS_FORGET)); then note "snap has no 'forget' command: all but the newest snapshot file were deleted from the repository's snapshots/ folder (untimed) before 'snap prune'"; fi
    for rep in $(seq 1 "$REPS"); do
        for tool in "${TOOLS[@]}"; do
            r=$(repo_of tree "$tool" "$rep"); warm "$r"
            case $tool in
                snap)
                    if ((SNAP_HAS_FORGET)); then
                        measure prune forget snap "$rep" "$r" -- "$SNAP" forget -r "$r" --keep-last 1
                    else
                        "$SNAP" snapshots -r "$r" --json | python3 -c '
import json, os, sys
s = sorted(json.load(sys.stdin), key=lambda x: x["time"])
for x in s[:-1]: os.remove(os.path.join(sys.argv[1], "snapshots", x["id"]))' "$r"
                    fi
                    measure prune prune snap "$rep" "$r" -- "$SNAP" prune -r "$r" ;;
                restic)
                    measure prune forget restic "$rep" "$r" -- restic forget -r "$r" --keep-last 1
                    measure prune prune restic "$rep" "$r" -- restic prune -r "$r" ;;
                borg)
                    measure prune prune borg "$rep" "$r" -- borg prune --keep-last 1 "$r"
                    measure prune compact borg "$rep" "$r" -- borg compact "$r" ;;
            esac
        done
    done
fi
for step in check check_read_data; do
    want $step || continue
    step_start $step
    if ((!SNAP_HAS_CHECK)); then note "snap has no 'check' command: $step is n/a for snap"; fi
    for rep in $(seq 1 "$REPS"); do
        for tool in "${TOOLS[@]}"; do
            r=$(repo_of tree "$tool" "$rep")
            case $tool:$step in
                snap:check) ((SNAP_HAS_CHECK)) || continue; CMD=("$SNAP" check -r "$r") ;;
                snap:check_read_data) ((SNAP_HAS_CHECK)) || continue; CMD=("$SNAP" check --read-data -r "$r") ;;
                restic:check) CMD=(restic check -r "$r") ;;
                restic:check_read_data) CMD=(restic check --read-data -r "$r") ;;
                borg:check) CMD=(borg check "$r") ;;
                borg:check_read_data) CMD=(borg check --verify-data "$r") ;;
            esac
            warm "$r"; measure $step check "$tool" "$rep" - -- "${CMD[@]}"
        done
    done
done
if want bigfile; then
    step_start bigfile
    ln -f "$BIG/orig.tar" "$BIG/cur/linux.tar"
    for rep in $(seq 1 "$REPS"); do
        for tool in "${TOOLS[@]}"; do
            init_repo big "$tool" "$rep"; r=$(repo_of big "$tool" "$rep")
            backup_cmd "$tool" "$r" first "$BIG/cur"
            warm "$BIG/cur"; measure bigfile backup "$tool" "$rep" "$r" -- "${CMD[@]}"
        done
    done
fi
if want bigfile_insert; then
    step_start bigfile_insert
    ln -f "$BIG/ins.tar" "$BIG/cur/linux.tar"
    for rep in $(seq 1 "$REPS"); do
        for tool in "${TOOLS[@]}"; do
            r=$(repo_of big "$tool" "$rep"); backup_cmd "$tool" "$r" inserted "$BIG/cur"
            warm "$BIG/cur"; measure bigfile_insert backup "$tool" "$rep" "$r" -- "${CMD[@]}"
        done
    done
fi
STREE=$SMALL/smallfiles
if want small_backup; then
    step_start small_backup
    for rep in $(seq 1 "$SMALL_REPS"); do
        for tool in "${TOOLS[@]}"; do
            init_repo small "$tool" "$rep"; r=$(repo_of small "$tool" "$rep")
            backup_cmd "$tool" "$r" first "$STREE"
            warm "$STREE"; measure small_backup backup "$tool" "$rep" "$r" -- "${CMD[@]}"
        done
    done
fi
if want small_backup2; then
    step_start small_backup2
    for rep in $(seq 1 "$SMALL_REPS"); do
        for tool in "${TOOLS[@]}"; do
            r=$(repo_of small "$tool" "$rep"); backup_cmd "$tool" "$r" second "$STREE"
            warm "$STREE"; measure small_backup2 backup "$tool" "$rep" "$r" -- "${CMD[@]}"
        done
    done
fi
if want small_restore; then
    step_start small_restore
    for rep in $(seq 1 "$SMALL_REPS"); do
        for tool in "${TOOLS[@]}"; do
            r=$(repo_of small "$tool" "$rep"); id=$(first_snapshot "$tool" "$r")
            # A restore of the small-file tree takes ~2 GB on ext4; deleting one makes file
            # creation slow for minutes, so restores are kept and the disk is checked instead.
            if (( $(df --output=avail -k "$RUN" | tail -n1) < 3 * 1024 * 1024 )); then
                note "small_restore $tool rep $rep skipped: less than 3 GiB free in $RUN"
                continue
            fi
            t=$RUN/restores/small/$tool-$rep; mkdir -p "$t"
            restore_cmd "$tool" "$r" "$id" "$t"
            warm "$r"; measure small_restore restore "$tool" "$rep" - -- "${CMD[@]}"
            if ((rep == 1)); then verify_restore small_restore "$tool" "$STREE" "$t$STREE"; fi
        done
    done
fi
if want snap_benchmark; then
    step_start snap_benchmark
    if ((SNAP_HAS_BENCHMARK)); then
        init_repo bench snap 1; r=$(repo_of bench snap 1)
        measure snap_benchmark run snap 1 - -- "$SNAP" benchmark -r "$r" --json
        cp "$RUN/logs/snap_benchmark.run.snap.1.log" "$RUN/snap_benchmark.json"
    else
        note "snap has no 'benchmark' command: snap_benchmark is n/a"
    fi
fi
use_tree base
python3 - "$RUN/meta.json" <<'EOF'
import json, subprocess, sys
m = json.load(open(sys.argv[1]))
m["finished"] = subprocess.run("date -u +%Y-%m-%dT%H:%M:%SZ", shell=True, capture_output=True, text=True).stdout.strip()
m["busy_at_end"] = subprocess.run("ps -eo pcpu=,comm= --sort=-pcpu | head -8", shell=True, capture_output=True, text=True).stdout.strip()
json.dump(m, open(sys.argv[1], "w"), indent=1)
EOF

# ---------------------------------------------------------------- report
mkdir -p "$OUT"
"$PY" "$HERE/report.py" --run "$RUN" --out "$OUT"
log "wrote $OUT/results.md, $OUT/results.json, $OUT/chart.png"

if [[ $KEEP == 1 ]]; then
    log "KEEP=1: repositories and restores stay in $RUN (delete it before the next run)"
else
    log "deleting this run's repositories and restores"
    rm -rf "$RUN"
fi
