#!/usr/bin/env bash
# Install the Debian 12 packages haat needs for building, testing and running
# locally -- but only the ones that are missing.  Safe (and fast) to run before
# every `make run` / `make test`: when everything is present it runs a single
# dpkg-query and prints nothing.
#
# Usage: infra/dev/deps.sh [--check] [ha] [lint]
#   --check   only report missing packages (exit 1 if any), install nothing
#   ha        also the failover rig's engines (make ha-up / ha-test): Patroni, etcd, HAProxy
#   lint      also the deploy-artefact checkers of make lint: promtool (prometheus),
#             systemd-analyze, haproxy -c
#
# Environment:
#   HAAT_SKIP_DEPS=1   do nothing at all (e.g. on a machine managed otherwise)
set -euo pipefail

prog=deps.sh
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { say "error: $*"; exit 1; }

check_only=0 profile_ha=0 profile_lint=0
for arg in "$@"; do
    case "$arg" in
        --check) check_only=1 ;;
        ha) profile_ha=1 ;;
        lint) profile_lint=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
            exit 0
            ;;
        *) die "unknown argument '$arg' (usage: $0 [--check] [ha] [lint])" ;;
    esac
done

if [[ "${HAAT_SKIP_DEPS:-0}" == 1 ]]; then
    exit 0
fi

packages=(
    # toolchain and C libraries
    build-essential pkg-config
    libmicrohttpd-dev libjansson-dev libpq-dev libsodium-dev
    libcurl4-openssl-dev libcmocka-dev zlib1g-dev
    # database (postgresql-15 also ships pgbench and the contrib modules;
    # "postgresql-contrib-15" is only a virtual package it provides)
    postgresql-15 postgresql-client-15
    # dev loop, load tests, test helpers
    entr wrk python3 python3-yaml python3-aiosmtpd
    # python3-jsonschema: responses checked against the OpenAPI document (make itest)
    python3-jsonschema
    # headless browser: the cross-origin (CORS), offline-docs and sandbox checkout tests
    chromium
    # lint / format; clang and its runtime for the libFuzzer targets (make fuzz)
    clang-format cppcheck clang libclang-rt-dev
    # misc: curl and jq for smoke tests and the README quick start, runuser
    # (util-linux) for pg.sh as root
    curl jq ca-certificates util-linux
)

# The failover rig (infra/ha): only when a ha-* target runs, so make run / make test stay light.
if ((profile_ha)); then
    packages+=(patroni etcd-server etcd-client haproxy python3-psycopg2 python3-etcd)
fi
# make lint: promtool checks the Prometheus rules; systemd-analyze verifies the units.
if ((profile_lint)); then
    packages+=(prometheus systemd haproxy)
fi

# Node.js may come from elsewhere (e.g. NodeSource, which bundles npm and
# conflicts with Debian's npm package): only ask for Debian's if missing.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

command -v dpkg-query >/dev/null 2>&1 ||
    die "dpkg-query not found: this script supports Debian 12 (bookworm) only"

# One dpkg-query for all packages; unknown packages are simply absent from its
# output (it complains on stderr and exits 1, both expected here).
declare -A installed=()
while read -r name state; do
    if [[ "$state" == "install ok installed" ]]; then installed[$name]=1; fi
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null || true)

missing=()
for p in "${packages[@]}"; do
    [[ -n "${installed[$p]:-}" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

if ((check_only)); then
    say "missing packages: ${missing[*]}"
    exit 1
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"

sudo=()
if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 ||
        die "not root and sudo is not available; as root run: apt-get install ${missing[*]}"
    sudo=(sudo)
fi

# apt_get ARGS...: run apt-get as root, waiting (up to 5 min) for other
# apt/dpkg processes instead of failing at once.  DPkg::Lock::Timeout covers
# the dpkg frontend lock, but not apt's list/archive locks, so also retry on
# "Could not get lock".
apt_get() {
    local deadline=$((SECONDS + 300)) log rc warned=0
    log=$(mktemp "${TMPDIR:-/tmp}/haat-deps.XXXXXX")
    while :; do
        rc=0
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get -o DPkg::Lock::Timeout=300 -q "$@" >"$log" 2>&1 || rc=$?
        if ((rc != 0)) && grep -q -e 'Could not get lock' -e 'Unable to lock' "$log" &&
            ((SECONDS < deadline)); then
            ((warned++)) || say "apt is busy (another apt/dpkg is running); waiting up to 5 min..."
            sleep 5
            continue
        fi
        if ((rc != 0)); then
            cat "$log" >&2
        fi
        rm -f "$log"
        return "$rc"
    done
}

say "installing missing packages: ${missing[*]}"
apt_get update || die "apt-get update failed"
apt_get -y --no-install-recommends install "${missing[@]}" ||
    die "apt-get install failed for: ${missing[*]}"
say "installed: ${missing[*]}"
