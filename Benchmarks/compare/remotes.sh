#!/usr/bin/env bash
# snap vs restic on the remote backends both support (issue #5): S3 on a local Ceph radosgw,
# SFTP on a local OpenSSH sshd, and the REST protocol on `rclone serve restic`. borg has
# none of these three, so it is not in this comparison.
#
#   bash Benchmarks/compare/remotes.sh      # starts the servers itself (scripts/with-test-servers.sh)
#
# Environment:
#   REPS=3                 repetitions (medians and min–max are reported)
#   SOURCE=/tmp/linux/linux-source-6.1/drivers/gpu   tree to back up (461 MB, 5,848 files)
#   OUT=docs/benchmarks    where remotes.md and remotes.json go
#   SNAP_BUILD=0           do not run `swift build` (use the existing .build/release/snap)
#
# Per backend and repetition, tools in turns (snap, restic, snap, …): `init` (untimed), first
# backup, a second backup with nothing changed (both tools read metadata from their local
# caches in $XDG_CACHE_HOME), full restore into a fresh folder, `check` with the cache (restic:
# `--with-cache`) and without it. Each command runs under `/usr/bin/time`; on S3, radosgw also
# counts each command's requests (its `rgw.req` perf counter, read through the admin socket
# before and after), so both tools are counted alike (issue #19).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REPS=${REPS:-3}
OUT=${OUT:-$ROOT/docs/benchmarks}
SOURCE=${SOURCE:-/tmp/linux/linux-source-6.1/drivers/gpu}
# radosgw's OSD keeps objects in memory: room for six repositories of SOURCE.
export RADOSGW_MEMSTORE_BYTES=${RADOSGW_MEMSTORE_BYTES:-6442450944}
SNAP_BUILD=${SNAP_BUILD:-1}

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Servers first: rerun this script under them when they are not running yet.
if [[ -z ${S3_ENDPOINT:-} || -z ${REST_URL:-} || -z ${SFTP_PORT:-} ]]; then
    exec "$ROOT/scripts/with-test-servers.sh" bash "${BASH_SOURCE[0]}" "$@"
fi

missing=()
command -v restic >/dev/null || missing+=(restic)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    if [[ $(id -u) == 0 ]]; then apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}" >&2; else sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}" >&2; fi
fi
[[ -d $SOURCE ]] || die "no $SOURCE: run Benchmarks/compare/run.sh once (it extracts linux-source-6.1), or set SOURCE"
if [[ $SNAP_BUILD == 1 ]]; then
    "$ROOT/scripts/install-deps.sh" >&2 || die "could not install snap's build dependencies (scripts/install-deps.sh)"
    (cd "$ROOT" && swift build -c release --product snap --static-swift-stdlib --disable-local-rpath >&2) || die "swift build failed"
fi

RUN=$(mktemp -d /tmp/snap-remotes.XXXXXX)
trap 'rm -rf "$RUN"' EXIT
SNAP=$RUN/snap
cp "$ROOT/.build/release/snap" "$SNAP"
RECORDS=$RUN/records.jsonl
: >"$RECORDS"
export SNAP_PASSWORD=snap-compare-password RESTIC_PASSWORD=snap-compare-password
export XDG_CACHE_HOME=$RUN/cache
export SNAP_SFTP_KEY=$SFTP_KEY SNAP_SFTP_KNOWN_HOSTS=$SFTP_KNOWN_HOSTS
SSH_CMD="ssh -p $SFTP_PORT -i $SFTP_KEY -o UserKnownHostsFile=$SFTP_KNOWN_HOSTS -o StrictHostKeyChecking=yes -o BatchMode=yes $SFTP_USER@127.0.0.1 -s sftp"

ASOK=$(ls "$(dirname "$CEPH_CONF")"/run/*rgw*.asok 2>/dev/null | head -n1 || true)
rgw_requests() {  # radosgw's request counter, or -1 when it cannot be read
    [[ -n $ASOK ]] || { echo -1; return; }
    timeout 20 ceph --conf "$CEPH_CONF" --admin-daemon "$ASOK" perf dump 2>/dev/null \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["rgw"]["req"])' 2>/dev/null || echo -1
}

repo() {  # BACKEND TOOL REP -> repository URL for that tool
    local name="$2-$3"
    case $1 in
        s3) echo "s3:$S3_ENDPOINT/snap-compare/$name" ;;
        sftp) [[ $2 == snap ]] && echo "sftp://$SFTP_USER@127.0.0.1:$SFTP_PORT$SFTP_ROOT/$name" \
                             || echo "sftp:$SFTP_USER@127.0.0.1:$SFTP_ROOT/$name" ;;
        rest) echo "rest:${REST_URL%/}/$name/" ;;
    esac
}
tool_cmd() {  # TOOL BACKEND WORDS... -> CMD
    local tool=$1 backend=$2; shift 2
    if [[ $tool == snap ]]; then CMD=("$SNAP" "$@" -q); return; fi
    CMD=(restic "$@" -q)
    [[ $backend == sftp ]] && CMD+=(-o "sftp.command=$SSH_CMD")
    return 0
}
measure() {  # BACKEND STEP TOOL REP -- COMMAND...
    local backend=$1 step=$2 tool=$3 rep=$4; shift 5
    local tf=$RUN/time.tmp rc=0 before=-1 after=-1 requests=null
    sync  # no command waits on the writeback of an earlier one's files (restores)
    [[ $backend == s3 ]] && before=$(rgw_requests)
    /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$RUN/last.log" 2>&1 || rc=$?
    [[ $backend == s3 ]] && after=$(rgw_requests)
    ((before >= 0 && after >= 0)) && requests=$((after - before))
    local wall user sys rss; read -r wall user sys rss < <(tail -n1 "$tf")
    ((rc == 0)) || { log "warning: $tool $backend/$step rep $rep exited with $rc:"; tail -n3 "$RUN/last.log" >&2; }
    printf '{"backend":"%s","step":"%s","tool":"%s","rep":%d,"wall":%s,"cpu":%s,"rss_kib":%s,"rc":%d,"requests":%s}\n' \
        "$backend" "$step" "$tool" "$rep" "$wall" "$(python3 -c "print($user+$sys)")" "$rss" "$rc" "$requests" >>"$RECORDS"
    log "  $backend/$step $tool #$rep: ${wall}s wall, $((rss / 1024)) MiB, requests: $requests"
}

log "source: $SOURCE ($(du -sb "$SOURCE" | cut -f1) bytes, $(find "$SOURCE" -type f | wc -l) files); REPS=$REPS"
tar cf - -C "$(dirname "$SOURCE")" "$(basename "$SOURCE")" | cat >/dev/null
for backend in s3 sftp rest; do
    for rep in $(seq 1 "$REPS"); do
        for tool in snap restic; do
            r=$(repo "$backend" "$tool" "$rep")
            tool_cmd "$tool" "$backend" init -r "$r"; "${CMD[@]}" >/dev/null 2>"$RUN/last.log" || { cat "$RUN/last.log" >&2; die "$tool init $r failed"; }
            tool_cmd "$tool" "$backend" backup -r "$r" "$SOURCE"
            measure "$backend" backup "$tool" "$rep" -- "${CMD[@]}"
            measure "$backend" unchanged "$tool" "$rep" -- "${CMD[@]}"
            target=$RUN/restore-$backend-$tool-$rep
            tool_cmd "$tool" "$backend" restore latest -r "$r" --target "$target"
            measure "$backend" restore "$tool" "$rep" -- "${CMD[@]}"
            if ((rep == 1)) && ! diff -rq "$SOURCE" "$target$SOURCE" >/dev/null; then
                log "warning: $tool's restore from $backend differs from the source"
            fi
            if [[ $tool == snap ]]; then tool_cmd snap "$backend" check -r "$r"; else tool_cmd restic "$backend" check --with-cache -r "$r"; fi
            measure "$backend" check "$tool" "$rep" -- "${CMD[@]}"
            if [[ $tool == snap ]]; then tool_cmd snap "$backend" check --no-cache -r "$r"; else tool_cmd restic "$backend" check -r "$r"; fi
            measure "$backend" check-no-cache "$tool" "$rep" -- "${CMD[@]}"
            # Restores stay until the end: on this ext4 without a journal, creating files
            # right after a large tree was deleted is several times slower (run.sh, Caveats).
        done
    done
done

mkdir -p "$OUT"
python3 - "$RECORDS" "$OUT" "$SOURCE" "$REPS" <<'PY'
import json, statistics, sys, datetime, platform
records_path, out, source, reps = sys.argv[1:5]
rows = [json.loads(l) for l in open(records_path)]
json.dump({"source": source, "reps": int(reps), "records": rows}, open(f"{out}/remotes.json", "w"), indent=1)
def med(backend, step, tool, key):
    v = [r[key] for r in rows if r["backend"] == backend and r["step"] == step and r["tool"] == tool and r["rc"] == 0]
    return statistics.median(v) if v else None
lines = ["# snap vs restic on remote storage", "",
         f"Produced by `Benchmarks/compare/remotes.sh` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC: "
         f"medians of {reps} repetitions, tools in turns; raw data in `remotes.json`. Servers on 127.0.0.1, "
         "started by `scripts/with-test-servers.sh`: Ceph radosgw 16.2 (memstore) for S3, OpenSSH for SFTP, "
         "`rclone serve restic` 1.60 for REST. borg supports none of these. "
         f"Data: `{source}`: first backup into a fresh repository, a second backup with nothing changed "
         "(both tools keep metadata in a local cache), a full restore, then `check` with the cache "
         "(restic: `--with-cache`) and without it. Requests: counted by radosgw (S3 only), medians.", "",
         "| backend | step | snap (s) | restic (s) | snap ÷ restic | snap MiB | restic MiB | snap requests | restic requests | ÷ |",
         "|---|---|---|---|---|---|---|---|---|---|"]
def requests(backend, step, tool):
    v = [r["requests"] for r in rows if r["backend"] == backend and r["step"] == step and r["tool"] == tool
         and r["rc"] == 0 and r.get("requests") is not None]
    return statistics.median(v) if v else None
for backend in ("s3", "sftp", "rest"):
    for step in ("backup", "unchanged", "restore", "check", "check-no-cache"):
        s, r = med(backend, step, "snap", "wall"), med(backend, step, "restic", "wall")
        sm, rm = med(backend, step, "snap", "rss_kib"), med(backend, step, "restic", "rss_kib")
        sq, rq = requests(backend, step, "snap"), requests(backend, step, "restic")
        ratio = f"{s / r:.2f}×" if s and r else "n/a"
        fmt = lambda x: f"{x:.2f}" if x is not None else "failed"
        mib = lambda x: f"{x / 1024:.0f}" if x is not None else "–"
        count = lambda x: f"{x:g}" if x is not None else "–"
        qratio = f"{sq / rq:.2f}×" if sq is not None and rq else "–"
        lines.append(f"| {backend} | {step} | {fmt(s)} | {fmt(r)} | {ratio} | {mib(sm)} | {mib(rm)} | {count(sq)} | {count(rq)} | {qratio} |")
failed = [r for r in rows if r["rc"] != 0]
if failed:
    lines += ["", f"{len(failed)} command(s) failed and are left out of the medians."]
open(f"{out}/remotes.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
