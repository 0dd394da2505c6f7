#!/usr/bin/env bash
# Packs what the 16-core check (cores.sh) needs into .device/, which git ignores, for the
# device machine of DEVELOPERS.md (no Swift there, 64 MiB carried at most): the snap binary
# (and an older one to compare, if given) stripped, the shared libraries they load that are
# not glibc's, and restic; each xz-compressed. Then, on the device:
#
#   run(command: "bash Benchmarks/compare/cores.sh", carry: [".device"], timeout_s: 570)
#
#   bash Benchmarks/compare/device-bundle.sh SNAP_BINARY [SNAP_BEFORE_BINARY]
set -euo pipefail
SNAP=${1:?snap binary (a release build: swift build -c release --product snap --static-swift-stdlib --disable-local-rpath)}
BEFORE=${2:-}
RESTIC=${RESTIC:-$(command -v restic)}
root=$(git rev-parse --show-toplevel)
out=$root/.device
grep -qx '/.device/' "$root/.git/info/exclude" 2>/dev/null || echo '/.device/' >>"$root/.git/info/exclude"
rm -rf "$out"; mkdir -p "$out/lib"
pack() {  # SOURCE NAME
    strip -o "$out/$2" "$1" 2>/dev/null || cp "$1" "$out/$2"
    xz -T0 -6 "$out/$2"
}
pack "$SNAP" snap
[[ -n $BEFORE ]] && pack "$BEFORE" snap-before
cp "$RESTIC" "$out/restic" && xz -T0 -6 "$out/restic"
# Every library the binaries load, but the C library's own (the device has those).
for binary in "$SNAP" ${BEFORE:+"$BEFORE"}; do
    ldd "$binary" | awk '$3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
    case $(basename "$lib") in libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*) continue ;; esac
    cp -L "$lib" "$out/lib/"
done
tar -C "$out" -cJf "$out/lib.tar.xz" lib && rm -rf "$out/lib"
git -C "$root" rev-parse --short HEAD >"$out/commit"
du -sh "$out"; ls -l "$out"
