#!/usr/bin/env bash
# Run agit's fuzz targets (the cargo-fuzz package in fuzz/) one after another.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#
#   SECONDS   how long each target runs (default 600 = 10 minutes)
#   TARGET    targets to run (default: all, as listed by `cargo fuzz list`)
#
# Installs cargo-fuzz 0.13.2 if it is missing. Works on the stable toolchain: cargo-fuzz
# needs nightly flags (-Zsanitizer=address), which RUSTC_BOOTSTRAP=1 unlocks.
#
# Each target keeps its corpus in fuzz/corpus/<target> (not in git) and also reads its
# seeds: fuzz/seeds/<target>, and for hook_<agent> the adapter test fixtures in
# crates/agit-capture/tests/fixtures/<agent>. A crash, assertion failure, leak or a
# single input running longer than 30 s stops that target and leaves the input in
# fuzz/artifacts/<target>/; the script goes on with the next target, prints a summary
# and exits 1 if any target failed. Reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
# and shrink it with `cargo fuzz tmin <target> <file>`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

seconds=600
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz 0.13.2" >&2
    cargo install cargo-fuzz@0.13.2 --locked
fi
export RUSTC_BOOTSTRAP=1

# Start from the main workspace's lock file so the fuzz build uses the same versions.
if [[ ! -f fuzz/Cargo.lock ]]; then
    cp Cargo.lock fuzz/Cargo.lock
fi

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build

failed=()
summary=()
for target in "${targets[@]}"; do
    corpus=(fuzz/corpus/"$target")
    mkdir -p "${corpus[0]}"
    [[ -d fuzz/seeds/$target ]] && corpus+=(fuzz/seeds/"$target")
    fixtures=crates/agit-capture/tests/fixtures/${target#hook_}
    [[ $target == hook_* && -d $fixtures ]] && corpus+=("$fixtures")

    echo "=== $target: ${seconds}s (corpus: ${corpus[*]})"
    log=$(mktemp)
    status=0
    cargo fuzz run "$target" "${corpus[@]}" -- \
        -max_total_time="$seconds" -timeout=30 -print_final_stats=1 2>&1 | tee "$log" || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rm -f "$log"
    if [[ $status -eq 0 ]]; then
        summary+=("$target: ok, ${runs:-?} runs in ${seconds}s")
    else
        summary+=("$target: FAILED (exit $status) after ${runs:-?} runs; see fuzz/artifacts/$target/")
        failed+=("$target")
    fi
done

echo
echo "=== fuzz summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
    exit 1
fi
