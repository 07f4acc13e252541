#!/usr/bin/env bash
# Fetch the Redoc standalone bundle served (offline) by the /docs page.
#
# Usage: infra/dev/assets.sh OUTDIR
#
# Writes, unless OUTDIR/redoc.standalone.js already exists:
#   OUTDIR/redoc.standalone.js               the bundle (pinned version, checksum verified)
#   OUTDIR/redoc.LICENSE                     Redoc's MIT licence
#   OUTDIR/redoc.standalone.js.LICENSE.txt   licences of the code bundled in it
# The only network access is `npm pack` of that one package from the npm registry.
set -euo pipefail

readonly prog=assets.sh
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

readonly redoc_version=2.5.4
readonly bundle_sha256=dcaf76612bc4a3fbcc923a8966dee2f6146a5f32e5ce1b6f02dd60cbbf89500b

if (($# != 1)) || [[ -z "$1" ]]; then
    die "usage: $0 OUTDIR"
fi
outdir=$1
bundle=$outdir/redoc.standalone.js

if [[ -s "$bundle" ]]; then
    exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found (run infra/dev/deps.sh)"
mkdir -p -- "$outdir" || die "cannot create $outdir"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/haat-assets.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

say "fetching redoc@$redoc_version (standalone bundle for /docs)"
if ! tarball=$(cd -- "$tmp" && npm pack "redoc@$redoc_version" --silent --no-audit --no-fund 2>"$tmp/npm.err"); then
    cat -- "$tmp/npm.err" >&2
    die "npm pack redoc@$redoc_version failed"
fi
tarball=${tarball##*$'\n'} # last line: the file name
[[ -f "$tmp/$tarball" ]] || die "npm pack did not produce a tarball (got '$tarball')"

members=(package/bundles/redoc.standalone.js package/bundles/redoc.standalone.js.LICENSE.txt package/LICENSE)
tar -xzf "$tmp/$tarball" -C "$tmp" "${members[@]}" ||
    die "redoc@$redoc_version tarball lacks ${members[*]}"

sum=$(sha256sum "$tmp/package/bundles/redoc.standalone.js")
sum=${sum%% *}
[[ "$sum" == "$bundle_sha256" ]] ||
    die "checksum mismatch for redoc.standalone.js: got $sum, want $bundle_sha256"

# Licences first, bundle last (atomically): the bundle's presence means done.
install -m 644 -- "$tmp/package/LICENSE" "$outdir/redoc.LICENSE"
install -m 644 -- "$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" \
    "$outdir/redoc.standalone.js.LICENSE.txt"
install -m 644 -- "$tmp/package/bundles/redoc.standalone.js" "$outdir/.redoc.standalone.js.$$"
mv -f -- "$outdir/.redoc.standalone.js.$$" "$bundle"
say "wrote $bundle (redoc $redoc_version)"
