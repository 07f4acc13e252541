#!/usr/bin/env bash
# make bench: the hot paths of the API side by side with PostgreSQL's own pgbench running the
# same SQL, on a throwaway database of 100,000 products (a benchmark, not a test).
#
# Usage: infra/dev/bench.sh        (make bench builds MODE=release first)
#
#   1. starts the private PostgreSQL (infra/dev/pg.sh) and creates database haat_bench_<pid>
#   2. haat migrate; seeds 100,000 products from 1,000 sellers (tests/bench/seed.sql)
#   3. starts `haat serve` (HAAT_LOG_LEVEL=warn, HAAT_WORKERS=off) on a free port
#   4. per scenario: wrk -t2 -c64 -d10s --latency (after a 2 s warm-up), then pgbench
#      -c 64 -j 2 -T 10 -M prepared on the statement the endpoint runs (printed by
#      tests/bench/dump_sql from the module's own statement table)
#   5. prints a table (also written to var/bench/latest.md) with the server's peak RSS
#
# pgbench scripts differ from the API's SQL only in how parameters are made: pgbench has no
# strings, so the product id is lpad(to_hex(n), 32, '0')::uuid (the seed's ids), the word and
# the category are picked from an ARRAY literal by a random index, and parameters the API
# sends as NULL are the literal NULL.
#
# Environment:
#   HAAT_BENCH_BIN       server binary (default build/release/haat)
#   BENCH_THREADS        HAAT_HTTP_THREADS values to run the API scenarios with, e.g. "4 16"
#                        ("default": the server's own choice, 2 per core; default "default")
#   BENCH_DURATION       seconds per measurement (default 10)
#   BENCH_KEEP_DB=1      keep the database (its name is printed)
set -euo pipefail

readonly prog=bench.sh
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$repo"

bin=${HAAT_BENCH_BIN:-build/release/haat}
duration=${BENCH_DURATION:-10}
thread_values=${BENCH_THREADS:-default}
readonly conns=64 wrk_threads=2 pgbin=/usr/lib/postgresql/15/bin
readonly streams=${BENCH_STREAMS:-1000} streams_per_user=50 # the open-streams scenario
[[ -x "$bin" ]] || die "$bin not found (make MODE=release build)"
for tool in wrk psql python3 gcc; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install wrk postgresql-client)"
done
[[ -x "$pgbin/pgbench" ]] || die "$pgbin/pgbench not found (postgresql-15)"

work=$(mktemp -d "${TMPDIR:-/tmp}/haat-bench.XXXXXX")
db=haat_bench_$$
server_pid=
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ "${BENCH_KEEP_DB:-0}" != 1 ]]; then
        infra/dev/pg.sh dropdb "$db" >/dev/null 2>&1 || true
    else
        say "kept database $db"
    fi
    rm -rf -- "$work"
}
trap cleanup EXIT

infra/dev/pg.sh start >/dev/null
eval "$(infra/dev/pg.sh env)"
infra/dev/pg.sh createdb "$db"
url=${HAAT_PG_ADMIN_URL%/postgres}/$db
psql_db() { psql -X -q -v ON_ERROR_STOP=1 "$url" "$@"; }

# --- database: migrate and seed ---------------------------------------------------------
DATABASE_URL=$url HAAT_LOG_LEVEL=warn "$bin" migrate >"$work/migrate.log" 2>&1 ||
    { cat "$work/migrate.log" >&2; die "haat migrate failed"; }
t0=$(date +%s.%N)
psql_db -f tests/bench/seed.sql >/dev/null
seed_s=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')")
products=$(psql_db -Atc "SELECT count(*) FROM products")
say "seeded $products products in ${seed_s}s"
psql_db -Atc "SELECT id FROM products WHERE status <> 'draft'" >"$work/ids.txt"
psql_db -Atc "SELECT word FROM bench_words ORDER BY n" >"$work/words.txt"
nwords=$(wc -l <"$work/words.txt")
words_array=$(psql_db -Atc "SELECT 'ARRAY[' || string_agg(quote_literal(word), ',' ORDER BY n) || ']' FROM bench_words")
cats_array=$(psql_db -Atc "SELECT 'ARRAY[' || string_agg(quote_literal(slug), ',' ORDER BY position) || ']' FROM categories")
# Orders: order_products products of one seller with ample stock, ids
# 00000000-0000-0000-0000-<hex(1000000 + k)> (outside the seed's range), bought one unit at a
# time by one verified buyer (a minted token: the auth hook needs no user row).
readonly order_products=1000 order_seller=eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee
readonly order_buyer=bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb
psql_db -c "INSERT INTO products (id, seller_id, title, category, condition, price_minor, stock,
    status, city) SELECT lpad(to_hex(1000000 + k), 32, '0')::uuid, '$order_seller',
    'Bench order item ' || k, 'other', 'new', 49900, 1000000, 'active', 'Pune'
    FROM generate_series(1, $order_products) k" >/dev/null
mint_token() { # an access token of order_buyer, valid for 14 minutes
    python3 - "$order_buyer" <<'PY'
import base64, hashlib, hmac, json, os, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": sys.argv[1], "roles": ["buyer"], "pv": True, "iat": now,
                       "exp": now + 840}).encode())
mac = hmac.new(os.environ["HAAT_JWT_SECRET"].encode(), f"{head}.{body}".encode(), hashlib.sha256)
print(f"{head}.{body}.{b64(mac.digest())}")
PY
}

# --- pgbench scripts from the module's own statements ----------------------------------
dump=build/release/bench/dump_sql
mkdir -p "$(dirname "$dump")"
# shellcheck disable=SC2046
gcc -std=c17 -D_GNU_SOURCE -pthread -O2 -I. $(pkg-config --cflags libmicrohttpd jansson libpq libsodium libcurl) \
    -o "$dump" tests/bench/dump_sql.c $(find build/release/pkg build/release/internal -name '*.o') \
    build/release/assets.o $(pkg-config --libs libmicrohttpd jansson libpq libsodium libcurl) -lm ||
    die "could not build $dump (make MODE=release build first)"

# pgscript STATEMENT FILE SETS PARAM=VALUE...: FILE gets the \set lines and the statement's SQL
# with each $n replaced by its value (highest numbers first, so $1 never eats $10).
pgscript() {
    local stmt=$1 file=$2 sets=$3 sql
    shift 3
    sql=$("$dump" "$stmt") || die "no statement $stmt"
    sql=$(python3 - "$sql" "$@" <<'PY'
import re, sys
sql, pairs = sys.argv[1], sys.argv[2:]
subs = dict(p.split("=", 1) for p in pairs)
for n in sorted(subs, key=int, reverse=True):
    sql = re.sub(r"\$" + n + r"(?![0-9])", lambda m: subs[n], sql)
assert "$" not in re.sub(r"'[^']*'", "", sql), sql
print(sql.replace("\n", " ") + ";")
PY
    ) || die "could not make $file"
    printf '%b\n%s\n' "$sets" "$sql" >"$file"
}
nil=\'00000000-0000-0000-0000-000000000000\'
pgscript catalog_product_get "$work/get.sql" '\\set n random(1, 100000)' \
    "1=lpad(to_hex(CAST(:n AS int)), 32, '0')"
pgscript catalog_search_q_relevance "$work/word.sql" \
    '\\set w random(1, '"$nwords"')\n\\set lo int(exp(6 + random(0, 9000) / 1000.0))\n\\set hi :lo * 4' \
    1=NULL 2=NULL 3=:lo 4=:hi 5=NULL 6=NULL 7=4611686018427387904 "8=$nil" 9=21 \
    "10=($words_array)[CAST(:w AS int)]"
pgscript catalog_search_price_asc_cat "$work/category.sql" '\\set c random(1, 12)' \
    "1=($cats_array)[CAST(:c AS int)]" 2=NULL 3=0 4=1000000000 5=NULL 6=NULL 7=0 "8=$nil" 9=21
# The order's transaction: the stock take, the order with its line, the order read back (the
# API's transaction also claims and completes the Idempotency-Key and writes order.placed to
# the outbox: pgbench leaves those out). The order id is made from the client and a random n.
# The address has a space after every colon: ":name" would be a pgbench variable.
order_id="md5(CAST(:client_id AS text) || '.' || CAST(:n AS text))"
order_product="lpad(to_hex(1000000 + CAST(:k AS int)), 32, '0')"
pgscript catalog_stock_take "$work/order-take.sql" '' "1=$order_product" 2=1 "3=$order_id"
pgscript order_insert "$work/order-insert.sql" '' "1=$order_id" "2='$order_buyer'" \
    "3='$order_seller'" 4=49900 5=500 6=2495 \
    "7='{\"name\": \"Bench Buyer\",\"line1\": \"1 Load Street\",\"line2\": null,\"city\": \"Pune\",\"state\": \"MH\",\"postal_code\": \"411001\",\"country\": \"IN\",\"phone\": \"+919876543210\"}'" \
    8=900 "9=json_build_array(json_build_object('position', 0, 'product_id', $order_product, 'title', 'Bench order item', 'unit_price_minor', 49900, 'quantity', 1))::text"
pgscript order_json "$work/order-json.sql" '' "1=$order_id" "2='$order_buyer'"
{
    printf '\\set k random(1, %s)\n\\set n random(1, 4611686018427387903)\nBEGIN;\n' "$order_products"
    grep -hv '^$' "$work/order-take.sql" "$work/order-insert.sql" "$work/order-json.sql"
    printf 'END;\n'
} >"$work/order.sql"

# --- server -----------------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

start_server() { # THREADS ("default" or a number)
    local extra=()
    [[ "$1" == default ]] || extra=(HAAT_HTTP_THREADS="$1")
    # Room for the open-streams scenario: one user holds every stream. Every client is on
    # 127.0.0.1, so the per-address connection limit is off.
    ulimit -n 8192
    env DATABASE_URL="$url" HAAT_HTTP_ADDR="127.0.0.1:$port" HAAT_LOG_LEVEL=warn HAAT_WORKERS=off \
        HAAT_LIMIT_CONNS_PER_IP=0 \
        HAAT_CHAT_STREAMS_PER_USER=$streams_per_user HAAT_CHAT_STREAMS_MAX=$((streams + 10)) \
        "${extra[@]}" "$bin" serve >"$work/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -fs "$base/healthz" >/dev/null 2>&1 && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; die "haat serve exited"; }
        sleep 0.1
    done
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/categories")" == 200 ]] ||
        die "GET /v1/categories is not 200: are catalog_init/catalog_routes wired in internal/app?"
    # The peak RSS to report is the one under load: start-up peaks (the user module hashes a
    # dummy password with Argon2id, 64 MiB, once) are reset (Linux >= 4.0: clear_refs 5).
    HAAT_BENCH_TOKEN=$(mint_token)
    export HAAT_BENCH_TOKEN
    startup_hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
    echo 5 >"/proc/$server_pid/clear_refs" 2>/dev/null || say "cannot reset VmHWM; peak includes start-up"
}

stop_server() {
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

# wrk_run NAME URL [SCRIPT]: prints "rps p50_ms p99_ms non2xx".
wrk_run() {
    local name=$1 target=$2 script=${3:-} args=()
    [[ -z "$script" ]] || args=(-s "$script")
    HAAT_BENCH_IDS=$work/ids.txt HAAT_BENCH_WORDS=$work/words.txt \
        HAAT_BENCH_ORDER_PRODUCTS=$order_products \
        wrk -t"$wrk_threads" -c"$conns" -d2s "${args[@]}" "$target" >/dev/null
    HAAT_BENCH_IDS=$work/ids.txt HAAT_BENCH_WORDS=$work/words.txt \
        HAAT_BENCH_ORDER_PRODUCTS=$order_products \
        wrk -t"$wrk_threads" -c"$conns" -d"${duration}s" --latency "${args[@]}" "$target" \
        >"$work/wrk-$name.txt"
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
            if (v ~ /s$/) return v * 1000; return v + 0
        }
        $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
        /^Requests\/sec:/ { rps = $2 } /Non-2xx or 3xx responses:/ { bad = $NF }
        END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }' "$work/wrk-$name.txt"
}

pgbench_run() { # SCRIPT: prints tps
    "$pgbin/pgbench" -n -c "$conns" -j 2 -T "$duration" -M prepared -f "$1" "$url" \
        >"$1.out" 2>&1 || { cat "$1.out" >&2; die "pgbench failed on $1"; }
    awk '/^tps = / { printf "%.0f\n", $3 }' "$1.out"
}

vmrss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status"; }

# streams_scenario THREADS SHOWN: RSS before, with and after $streams open event streams, and
# GET product while they are open (the other routes must not suffer).
streams_scenario() {
    local before with after opened reader
    before=$(vmrss_kb)
    rm -f "$work/streams.ready"
    python3 tests/bench/streams.py "$base" "$streams" "$streams_per_user" "$work/streams.ready" &
    reader=$!
    for _ in $(seq 300); do [[ -s "$work/streams.ready" ]] && break; sleep 0.1; done
    opened=$(cat "$work/streams.ready" 2>/dev/null || echo 0)
    with=$(vmrss_kb)
    say "threads $2: GET /v1/products/{id} with $opened event streams open"
    read -r rps p50 p99 bad < <(wrk_run "get-streams-$1" "$base" tests/bench/get_product.lua)
    rows+=("$2|get_streams|$rps|$p50|$p99|$bad")
    kill -TERM "$reader" 2>/dev/null
    wait "$reader" 2>/dev/null || true
    sleep 2
    after=$(vmrss_kb)
    rows+=("$2|streams|$opened|$before|$with|$after")
}

scenarios=(get word category order healthz)
declare -A title=([get]="GET /v1/products/{id}" [word]="search: word + price range"
    [category]="search: category, sort=price_asc" [order]="place order (POST /v1/orders)"
    [healthz]="GET /healthz")
declare -A target=([get]="$base" [word]="$base" [category]="$base" [order]="$base"
    [healthz]="$base/healthz")
declare -A lua=([get]=tests/bench/get_product.lua [word]=tests/bench/search_word_price.lua
    [category]=tests/bench/search_category_price.lua [order]=tests/bench/place_order.lua
    [healthz]="")
declare -A p99_target=([get]=5 [word]=20 [category]=20 [order]="" [healthz]="")
declare -A sqlfile=([get]=$work/get.sql [word]=$work/word.sql [category]=$work/category.sql
    [order]=$work/order.sql)
declare -A tps
rows=()
for threads in $thread_values; do
    start_server "$threads"
    shown=$threads
    [[ "$threads" != default ]] || shown="default ($(($(nproc) * 2 > 64 ? 64 : $(nproc) * 2)))"
    for s in "${scenarios[@]}"; do
        say "threads $shown: ${title[$s]}"
        read -r rps p50 p99 bad < <(wrk_run "$s-$threads" "${target[$s]}" "${lua[$s]}")
        rows+=("$shown|$s|$rps|$p50|$p99|$bad")
    done
    rss_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
    rows+=("$shown|rss|$rss_kb|$startup_hwm_kb")
    streams_scenario "$threads" "$shown"
    stop_server
done
for s in get word category order; do
    say "pgbench: ${title[$s]}"
    tps[$s]=$(pgbench_run "${sqlfile[$s]}")
done

# --- report -----------------------------------------------------------------------------
report=$work/report.md
{
    printf '# haat bench — %s\n\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '%s products (seeded in %ss), %s cores, wrk -t%s -c%s -d%ss --latency, ' \
        "$products" "$seed_s" "$(nproc)" "$wrk_threads" "$conns" "$duration"
    printf 'pgbench -c %s -j 2 -T %s -M prepared on the same SQL. Server: %s.\n\n' \
        "$conns" "$duration" "$bin"
    printf '| HTTP threads | scenario | requests/s | p50 ms | p99 ms | non-2xx | pgbench tps (same SQL) | API/pgbench | p99 target |\n'
    printf '|---|---|---:|---:|---:|---:|---:|---:|---|\n'
    for row in "${rows[@]}"; do
        IFS='|' read -r th s rps p50 p99 bad <<<"$row"
        if [[ "$s" == streams ]]; then
            IFS='|' read -r th s opened before with after <<<"$row"
            printf '| %s | %s event streams open (VmRSS before / with / 2 s after closing) | %s / %s / %s MB | | | | | | per stream %s KB |\n' \
                "$th" "$opened" "$((before / 1024))" "$((with / 1024))" "$((after / 1024))" \
                "$(( opened > 0 ? (with - before) / opened : 0 ))"
            continue
        fi
        if [[ "$s" == get_streams ]]; then
            printf '| %s | GET /v1/products/{id} with the streams open | %s | %s | %s | %s | | | |\n' \
                "$th" "$rps" "$p50" "$p99" "$bad"
            continue
        fi
        if [[ "$s" == rss ]]; then
            printf '| %s | peak RSS under load (VmHWM; start-up peak %s MB) | %s MB | | | | | | ≤ 64 MB: %s |\n' \
                "$th" "$((p50 / 1024))" "$((rps / 1024))" "$( ((rps <= 65536)) && echo met || echo MISSED)"
            continue
        fi
        local_tps=${tps[$s]:-}
        ratio=-
        [[ -z "$local_tps" ]] || ratio=$(python3 -c "print(f'{$rps / $local_tps:.2f}')")
        verdict=-
        if [[ -n "${p99_target[$s]}" ]]; then
            verdict=$(python3 -c "print('≤ ${p99_target[$s]} ms: ' + ('met' if $p99 <= ${p99_target[$s]} else 'MISSED'))")
            [[ "$s" != get ]] ||
                verdict+=$(python3 -c "print('; ratio ≥ 0.6: ' + ('met' if $rps >= 0.6 * $local_tps else 'MISSED'))")
        fi
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$th" "${title[$s]}" "$rps" \
            "$p50" "$p99" "$bad" "${local_tps:--}" "$ratio" "$verdict"
    done
} >"$report"
mkdir -p var/bench
cp "$report" var/bench/latest.md
cat "$report"
