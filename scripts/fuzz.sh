#!/usr/bin/env bash
# Builds the libFuzzer harness in Fuzz/ and fuzzes snap's decoders (docs/fuzzing.md).
#
#   scripts/fuzz.sh --quick            every target for 7 s (part of `make test`)
#   scripts/fuzz.sh [TARGET…]          every (or each named) target for $FUZZ_SECONDS (default 600)
#   scripts/fuzz.sh --build            only build the harness
#
# The committed seeds (Fuzz/corpus/TARGET) are read, never written: inputs the fuzzer finds
# interesting go to Fuzz/.work/TARGET, kept between runs (delete it to start over). A crash
# or a broken property leaves its input in Fuzz/crashes/ and makes the script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
targets_all=(keyfile config index packheader pack tree snapshot lock envelope s3xml rest time tar)

seconds=${FUZZ_SECONDS:-600}
targets=()
build_only=false
for arg in "$@"; do
    case $arg in
        --quick) seconds=7 ;;
        --build) build_only=true ;;
        -*) echo "unknown option $arg" >&2; exit 64 ;;
        *) targets+=("$arg") ;;
    esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${targets_all[@]}")

# Other checkouts on this machine build at the same time: take the shared lock when there is one.
lock=()
if command -v flock >/dev/null; then lock=(flock /tmp/snap-build.lock); fi
(cd Fuzz && "${lock[@]}" swift build -c release \
    -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -enable-testing 2>&1 | tail -3)
$build_only && exit 0

fuzzer=$root/Fuzz/.build/release/SnapFuzz
mkdir -p Fuzz/crashes
failed=()
start=$SECONDS
for target in "${targets[@]}"; do
    mkdir -p "Fuzz/.work/$target"
    log=$(mktemp)
    # Swift's backtracer would take the crash signal from libFuzzer, which then writes no input.
    if SWIFT_BACKTRACE=enable=no SNAP_FUZZ_TARGET=$target "$fuzzer" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="Fuzz/crashes/$target-" "Fuzz/.work/$target" "Fuzz/corpus/$target" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        printf '%-11s ok   %8s runs in %ss, %s\n' "$target" "${runs:-?}" "$seconds" "$cov"
    else
        printf '%-11s FAILED\n' "$target"
        grep -E 'Fatal error|fuzz property|deadly signal|Test unit written|ERROR' "$log" | head -8 | sed 's/^/    /'
        failed+=("$target")
    fi
    rm -f "$log"
done
echo "fuzzed ${#targets[@]} targets in $((SECONDS - start)) s"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "failing targets: ${failed[*]} (inputs in Fuzz/crashes/; replay: SNAP_FUZZ_TARGET=T $fuzzer FILE)" >&2
    exit 1
fi
