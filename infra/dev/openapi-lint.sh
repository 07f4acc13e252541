#!/usr/bin/env bash
# Lint the OpenAPI document with Redocly CLI (pinned in package.json /
# package-lock.json; rules in redocly.yaml).
#
# Usage: infra/dev/openapi-lint.sh [FILE...]   (default: docs/openapi.yaml)
#
# Runs `npm ci` first when node_modules is missing or older than
# package-lock.json.  Exit status is Redocly's: non-zero on lint errors.
set -euo pipefail

readonly prog=openapi-lint.sh
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
files=()
for f in "$@"; do
    [[ -f "$f" ]] || die "$f not found"
    files+=("$(realpath -- "$f")")
done
cd "$repo"

command -v npm >/dev/null 2>&1 || die "npm not found (run infra/dev/deps.sh)"
[[ -f package-lock.json ]] || die "package-lock.json missing in $repo"

# npm ci leaves node_modules/.package-lock.json behind: a reliable stamp.
stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" || package.json -nt "$stamp" ]]; then
    say "installing the pinned Node.js tools (npm ci)"
    log=$(mktemp "${TMPDIR:-/tmp}/haat-npm-ci.XXXXXX")
    if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
        cat -- "$log" >&2
        rm -f -- "$log"
        die "npm ci failed"
    fi
    rm -f -- "$log"
    touch -- "$stamp"
fi

if ((${#files[@]} == 0)); then
    [[ -f docs/openapi.yaml ]] || die "docs/openapi.yaml not found"
    files=(docs/openapi.yaml)
fi

# No telemetry or update checks: a quiet, offline, reproducible lint.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true REDOCLY_SUPPRESS_UPDATE_NOTICE=true
# The local binary, as `npx --no-install redocly` would run, minus npx's own
# chatter.  Redocly prints a boxed "Node.js 20 support is ending" banner on
# every run under Node 20 (the machine's Node); drop boxed notices from stderr.
set +o pipefail
{ node_modules/.bin/redocly lint --format=codeframe "${files[@]}" 2>&1 1>&3 3>&- |
    sed -u '/^ *╔/,/^ *╚/d' >&2; } 3>&1
exit "${PIPESTATUS[0]}"
