#!/usr/bin/env bash
# Regenerates Fuzz/corpus/ from a small real repository (docs/fuzzing.md).
#
# Makes a repository with the debug `snap` binary (init, two backups of a small tree),
# then has the fuzz harness (SNAP_FUZZ_EXTRACT) write its files as stored, their
# plaintexts, and copies sealed under the harness's test keys. The hand-written S3 XML and
# REST listing seeds (Fuzz/corpus/s3xml, Fuzz/corpus/rest) and the tar seeds are left as they are.
#
# Usage: scripts/fuzz-seeds.sh   (needs `swift build` and scripts/fuzz.sh --build first)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
snap=${SNAP_BINARY:-$root/.build/debug/snap}
fuzzer=$root/Fuzz/.build/release/SnapFuzz
[[ -x $snap ]] || { echo "no $snap: run swift build" >&2; exit 1; }
[[ -x $fuzzer ]] || { echo "no $fuzzer: run scripts/fuzz.sh --build" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SNAP_PASSWORD=fuzz-seeds
mkdir -p "$work/tree/docs/deep/er" "$work/tree/bin"
printf 'hello, world\n' >"$work/tree/hello.txt"
seq 1 2000 >"$work/tree/docs/numbers.txt"
head -c 20000 /dev/urandom >"$work/tree/bin/random.bin"
printf 'x' >"$work/tree/docs/deep/er/leaf"
ln -s ../hello.txt "$work/tree/bin/link"
"$snap" init -q -r "$work/repo"
"$snap" backup -q -r "$work/repo" --tag seed "$work/tree"
printf 'changed\n' >>"$work/tree/hello.txt"
"$snap" backup -q -r "$work/repo" "$work/tree"

for target in keyfile config index packheader pack tree snapshot lock envelope time; do
    rm -rf "$root/Fuzz/corpus/$target"
done
SNAP_FUZZ_EXTRACT="$work/repo:$root/Fuzz/corpus" "$fuzzer"
du -sh "$root/Fuzz/corpus"/*
