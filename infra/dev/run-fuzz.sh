#!/usr/bin/env bash
# Runs each libFuzzer binary for a bounded time from its seed corpus and ends with one
# summary line: "fuzz: N passed, N failed".
#
# Usage: infra/dev/run-fuzz.sh SECONDS BIN...
#   BIN is build/fuzz/fuzz/fuzz_<name>; its seeds are tests/fuzz/corpus/<name>/ (read-only)
#   and what it discovers goes to var/fuzz/<name>/ (kept between runs, so runs build on each
#   other). A crash leaves its input as var/fuzz/<name>/crash-* and fails the run.
set -uo pipefail

if (($# < 2)); then
    echo "usage: run-fuzz.sh SECONDS BIN..." >&2
    exit 2
fi
seconds=$1
shift
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
passed=0 failed=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for bin in "$@"; do
    name=$(basename "$bin")
    name=${name#fuzz_}
    work="$repo/var/fuzz/$name"
    mkdir -p "$work"
    log="$work/last.log"
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$work/" "$work" "$repo/tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
    if ((rc == 0)); then
        passed=$((passed + 1))
        printf '=== fuzz %s: %s runs, %s/s, %s, %ss, ok\n' "$name" "${execs:-?}" "${rate:-?}" \
            "${cov:-cov ?}" "$seconds"
    else
        failed=$((failed + 1))
        printf '=== fuzz %s: FAILED (exit %d); log %s\n' "$name" "$rc" "$log"
        tail -n 40 "$log"
    fi
done
printf 'fuzz: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
