#!/usr/bin/env bash
# Runs the README's quick start (the block between <!-- quickstart --> and
# <!-- /quickstart -->), command for command, against a server of its own: a fresh
# database on the private cluster, a free port, and a scratch directory whose
# var/notify is where the server's log SMS provider writes. Fails when a command
# of the block fails, when it runs longer than 60 s, or when the search at its
# end does not find the product it listed. Then checks that two checkouts pick
# two PostgreSQL ports and remember them (infra/dev/pg.sh).
#
# Usage: infra/dev/quickstart-test.sh   (make test runs it)
# Environment: HAAT_BIN (default build/asan/haat), HAAT_PG_PORT as for pg.sh.
# Prints "quickstart: N passed, N failed" last.
set -uo pipefail

prog=quickstart-test.sh
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$repo" || exit 2
bin=${HAAT_BIN:-build/asan/haat}
[[ "$bin" == /* ]] || bin=$repo/$bin
[[ -x "$bin" ]] || { echo "$prog: $bin is not built" >&2; exit 2; }

passed=0 failed=0
pass() { passed=$((passed + 1)); printf '[       OK ] %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf '[  FAILED  ] %s: %s\n' "$1" "$2"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/haat-quickstart.XXXXXX")
db=haat_qs_$$
server=
cleanup() {
    [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    infra/dev/pg.sh dropdb "$db" >/dev/null 2>&1
    rm -rf -- "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() {
    eval "$(infra/dev/pg.sh env)" || return 1
    infra/dev/pg.sh createdb "$db" >/dev/null || return 1
    export DATABASE_URL=${DATABASE_URL%/*}/$db
    "$bin" --config configs/test.json migrate >"$work/migrate.log" 2>&1 || return 1
    port=$(free_port)
    (cd "$work" && HAAT_HTTP_ADDR=127.0.0.1:$port HAAT_NOTIFY_LOG_DIR=$work/var/notify \
        HAAT_TEMPLATES_DIR=$repo/configs/templates HAAT_MIGRATIONS_DIR=$repo/migrations \
        exec "$bin" --config "$repo/configs/test.json" serve) >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
        sleep 0.1
    done
    return 1
}

test_readme_quickstart() {
    local block out
    block=$(awk '/^<!-- quickstart -->$/ {f = 1; next} /^<!-- \/quickstart -->$/ {f = 0} f' README.md |
        sed '/^```/d')
    [[ -n "$block" ]] || { fail "$1" "no quickstart block in README.md"; return; }
    if ! out=$(cd "$work" && API=http://127.0.0.1:$port timeout 60 bash -euo pipefail -c "$block" 2>&1); then
        fail "$1" "the block failed:"$'\n'"$out"$'\n'"$(tail -20 "$work/server.log")"
        return
    fi
    if ! grep -q '"title": "Kindle Paperwhite, 11th gen"' <<<"$out"; then
        fail "$1" "the search did not find the product:"$'\n'"$out"
        return
    fi
    pass "$1"
}

# Two checkouts (two copies of pg.sh in two directories) get two ports, each remembered.
test_two_checkouts_two_ports() {
    local a=$work/checkout-a b=$work/checkout-b pa pb
    for d in "$a" "$b"; do mkdir -p "$d/infra/dev" "$d/var" && cp infra/dev/pg.sh "$d/infra/dev/"; done
    chmod -R a+rX "$work"
    pa=$(env -u HAAT_PG_PORT HAAT_PG_DIR="$a/var/pg" "$a/infra/dev/pg.sh" env 2>/dev/null |
        sed -n "s/^export DATABASE_URL='.*:\([0-9]*\)\/haat'$/\1/p")
    # a's cluster is running while b's is made: hold a's port (two paths may hash alike)
    local holder=
    if [[ -n "$pa" ]]; then
        python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(30)' "$pa" &
        holder=$!
        for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$pa") 2>/dev/null && break; sleep 0.1; done
    fi
    pb=$(env -u HAAT_PG_PORT HAAT_PG_DIR="$b/var/pg" "$b/infra/dev/pg.sh" env 2>/dev/null |
        sed -n "s/^export DATABASE_URL='.*:\([0-9]*\)\/haat'$/\1/p")
    [[ -z "$holder" ]] || { kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; }
    for d in "$a" "$b"; do # pg.sh env may have placed a cluster directory elsewhere
        [[ -L "$d/var/pg" ]] && rm -rf -- "$(readlink -f "$d/var/pg")"
    done
    if [[ -z "$pa" || -z "$pb" || "$pa" == "$pb" ]]; then
        fail "$1" "ports '$pa' and '$pb'"
    elif [[ "$(cat "$a/var/pg.port")" != "$pa" || "$(cat "$b/var/pg.port")" != "$pb" ]]; then
        fail "$1" "ports not remembered in var/pg.port"
    else
        pass "$1"
    fi
}

if start_server; then
    test_readme_quickstart test_readme_quickstart
else
    fail test_readme_quickstart "the server did not start: $(tail -20 "$work/server.log" "$work/migrate.log" 2>/dev/null)"
fi
test_two_checkouts_two_ports test_two_checkouts_two_ports
printf 'quickstart: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
