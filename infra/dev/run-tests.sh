#!/usr/bin/env bash
# Runs cmocka test binaries one after another, streams their output, keeps going after a
# failure, and ends with one summary line: "KIND: N passed, N failed".
#
# Usage: infra/dev/run-tests.sh KIND BIN...
#   KIND   unit | integration (a label; both run from the repository root with
#          CMOCKA_MESSAGE_OUTPUT=stdout)
#   BIN    test binaries (paths relative to the current directory or absolute)
#
# Counting: the numbers of cmocka's "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)"
# lines, summed over the binaries. A binary that exits non-zero without a FAILED line
# (a crash, a sanitizer abort, a timeout) counts one failure more; when it printed no PASSED
# line either, its "[       OK ]" lines count as passed.
#
# Environment:
#   ASAN_OPTIONS, UBSAN_OPTIONS    default to the settings below when unset
#   HAAT_TEST_TIMEOUT              seconds one binary may run (default 600), then killed
#
# Exit status: 0 when every binary exited 0, 1 otherwise, 2 on bad usage.
set -uo pipefail

prog=run-tests.sh
if (($# < 1)); then
    printf 'usage: %s unit|integration BIN...\n' "$prog" >&2
    exit 2
fi
kind=$1
shift
case "$kind" in
unit | integration) ;;
*)
    printf '%s: KIND must be unit or integration, got %s\n' "$prog" "$kind" >&2
    exit 2
    ;;
esac

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$script_dir/../.." && pwd -P)

# Resolve the binaries before moving to the repository root.
bins=()
for b in "$@"; do
    if [[ "$b" == /* ]]; then
        bins+=("$b")
    else
        bins+=("$PWD/$b")
    fi
done
# HAAT_BIN (integration tests) may be relative to the caller's directory too.
if [[ -n "${HAAT_BIN:-}" && "$HAAT_BIN" != /* ]]; then
    export HAAT_BIN="$PWD/$HAAT_BIN"
fi
cd "$repo" || exit 2
# Test logs are named by test and pid; keep a day of them for diagnosis.
find var/test-logs -mindepth 1 -maxdepth 1 -mtime +1 -exec rm -rf {} + 2>/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CMOCKA_MESSAGE_OUTPUT=stdout
timeout_s=${HAAT_TEST_TIMEOUT:-600}

passed=0
failed=0
bad_bins=()
out=$(mktemp "${TMPDIR:-/tmp}/haat-tests.XXXXXX")
trap 'rm -f -- "$out"' EXIT

# count_of REGEX FILE: sum of the numbers in the matches of REGEX (which ends in [0-9]+).
count_of() {
    grep -oE -- "$1" "$2" | grep -oE '[0-9]+$' | awk '{ s += $1 } END { print s + 0 }'
}

for bin in "${bins[@]}"; do
    name=${bin#"$repo"/}
    printf '=== %s\n' "$name"
    if [[ ! -x "$bin" ]]; then
        printf '%s: %s: not an executable\n' "$prog" "$name"
        failed=$((failed + 1))
        bad_bins+=("$name (missing)")
        continue
    fi
    start=$(date +%s.%N)
    timeout --kill-after=10 "$timeout_s" "$bin" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

    p=$(count_of '\[  PASSED  \] [0-9]+' "$out")
    f=$(count_of '\[  FAILED  \] [0-9]+' "$out")
    if ! grep -qE '\[  PASSED  \] [0-9]+' "$out"; then
        p=$(grep -cE '^\[       OK \]' "$out")
    fi
    if ((rc != 0 && f == 0)); then
        f=1 # crashed, aborted by a sanitizer, or timed out
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if ((rc != 0)); then
        why="exit $rc"
        ((rc == 124 || rc == 137)) && why="timed out after ${timeout_s}s"
        bad_bins+=("$name ($why)")
    fi
    printf '=== %s: %d passed, %d failed, exit %d, %ss\n' "$name" "$p" "$f" "$rc" "$secs"
done

if ((${#bad_bins[@]} > 0)); then
    printf '%s: failing binaries:\n' "$kind"
    printf '  %s\n' "${bad_bins[@]}"
fi
printf '%s: %d passed, %d failed\n' "$kind" "$passed" "$failed"
((${#bad_bins[@]} == 0 && failed == 0))
