#!/usr/bin/env bash
# Runs every fuzz target (or those named in TARGETS) for SECONDS each
# (default 60), one after another, and fails if any of them crashes.
# Needs a nightly toolchain; installs cargo-fuzz if it is missing. Not part
# of scripts/test.sh: CI must stay within its time. See README.md.
#
#   fuzz/run.sh            # 60 s per target
#   fuzz/run.sh 300        # 5 minutes per target
#   TARGETS="zipcheck gomod" fuzz/run.sh 600
#
# New inputs go to fuzz/corpus/<target> (kept between runs, not committed);
# fuzz/seeds/<target> is read only. A crash leaves its input in
# fuzz/artifacts/<target>/ and its log in fuzz/logs/<target>.log.
set -euo pipefail

cd "$(dirname "$0")"
SECONDS_EACH=${1:-60}
TOOLCHAIN=${TOOLCHAIN:-nightly}
# Dedicated target dir: the sanitizer build shares nothing with the main one.
TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/target}

if ! cargo "+$TOOLCHAIN" fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz
fi
TARGETS=${TARGETS:-$(cargo "+$TOOLCHAIN" fuzz list)}

echo "== building fuzz targets"
cargo "+$TOOLCHAIN" fuzz build --target-dir "$TARGET_DIR"

mkdir -p logs
failed=()
summary=()
for t in $TARGETS; do
    mkdir -p "corpus/$t"
    extra=()
    # Zips need room for a central directory and a few entries.
    [[ $t == zipcheck ]] && extra+=(-max_len=16384)
    echo "== $t for ${SECONDS_EACH}s"
    status=0
    cargo "+$TOOLCHAIN" fuzz run --target-dir "$TARGET_DIR" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${extra[@]}" >"logs/$t.log" 2>&1 || status=$?
    execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "logs/$t.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "logs/$t.log" | tail -1 | awk '{ print $2 }')
    units=$(find "corpus/$t" -type f | wc -l)
    if [[ $status -ne 0 ]]; then
        failed+=("$t")
        summary+=("$t: CRASHED after ${execs:-?} executions (see fuzz/logs/$t.log, fuzz/artifacts/$t/)")
        grep -E 'panicked at|ERROR: |SUMMARY: ' "logs/$t.log" | head -5 || true
    else
        summary+=("$t: ok, ${execs:-?} executions in ${SECONDS_EACH}s, coverage ${cov:-?}, corpus $units inputs")
    fi
    echo "   ${summary[-1]}"
done

echo "== summary"
printf '   %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "crashed: ${failed[*]}" >&2
    exit 1
fi
