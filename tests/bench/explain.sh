#!/usr/bin/env bash
# EXPLAIN (ANALYZE, BUFFERS) of the catalog's read statements on a seeded database, the way
# the server runs them: prepared (SQL from tests/bench/dump_sql), executed 7 times first so
# PostgreSQL's plan cache has made its generic-or-custom choice, then explained; the last
# line of each case shows how many generic and custom plans the statement used.
# Findings: docs/decisions/0003-search-config.md.
#
# Usage: tests/bench/explain.sh DATABASE_URL   (a database seeded by tests/bench/seed.sql;
#        BENCH_KEEP_DB=1 make bench keeps one)
set -euo pipefail
url=${1:?usage: explain.sh DATABASE_URL}
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
dump=build/release/bench/dump_sql
[[ -x "$dump" ]] || { echo "explain.sh: run make bench first (builds $dump)" >&2; exit 1; }

nil="'00000000-0000-0000-0000-000000000000'"
max="'ffffffff-ffff-ffff-ffff-ffffffffffff'"
seller=$(psql -X -Atc "SELECT seller_id FROM products GROUP BY 1 ORDER BY count(*) DESC LIMIT 1" "$url")
product=$(psql -X -Atc "SELECT id FROM products WHERE status = 'active' LIMIT 1 OFFSET 500" "$url")

# explain TITLE STATEMENT ARGS
explain() {
    local title=$1 stmt=$2 args=$3 sql
    sql=$("$dump" "$stmt")
    printf '\n=== %s (%s)\n' "$title" "$stmt"
    psql -X -q "$url" <<SQL | sed -e '/^$/d'
PREPARE s AS $sql;
EXECUTE s($args) \\g /dev/null
EXECUTE s($args) \\g /dev/null
EXECUTE s($args) \\g /dev/null
EXECUTE s($args) \\g /dev/null
EXECUTE s($args) \\g /dev/null
EXECUTE s($args) \\g /dev/null
EXECUTE s($args) \\g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON) EXECUTE s($args);
SELECT 'plans: generic ' || generic_plans || ', custom ' || custom_plans
  FROM pg_prepared_statements WHERE name = 's';
SQL
}

explain "product by id" catalog_product_get "'$product'"
explain "newest, no filter" catalog_search_newest \
    "NULL, NULL, 0, 1000000000, NULL, NULL, 9007199254740991, $max, 21"
explain "newest, condition + city" catalog_search_newest \
    "NULL, 'used', 0, 1000000000, 'pune', NULL, 9007199254740991, $max, 21"
explain "newest, category" catalog_search_newest_cat \
    "'books', NULL, 0, 1000000000, NULL, NULL, 9007199254740991, $max, 21"
explain "newest, category + condition + city" catalog_search_newest_cat \
    "'books', 'used', 0, 1000000000, 'pune', NULL, 9007199254740991, $max, 21"
explain "newest, one seller" catalog_search_newest_seller \
    "NULL, NULL, 0, 1000000000, NULL, '$seller', 9007199254740991, $max, 21"
explain "price_asc, no filter" catalog_search_price_asc \
    "NULL, NULL, 0, 1000000000, NULL, NULL, 0, $nil, 21"
explain "price_desc, max_price 50000" catalog_search_price_desc \
    "NULL, NULL, 0, 50000, NULL, NULL, 50000, $max, 21"
explain "price_asc, category" catalog_search_price_asc_cat \
    "'books', NULL, 0, 1000000000, NULL, NULL, 0, $nil, 21"
explain "price_desc, one seller" catalog_search_price_desc_seller \
    "NULL, NULL, 0, 1000000000, NULL, '$seller', 1000000000, $max, 21"
explain "relevance, common word + price range" catalog_search_q_relevance \
    "NULL, NULL, 10000, 40000, NULL, NULL, 4611686018427387904, $nil, 21, 'samsung'"
explain "relevance, rare word (a model number)" catalog_search_q_relevance \
    "NULL, NULL, 0, 1000000000, NULL, NULL, 4611686018427387904, $nil, 21, 'k512'"
explain "relevance, two words" catalog_search_q_relevance \
    "NULL, NULL, 0, 1000000000, NULL, NULL, 4611686018427387904, $nil, 21, 'samsung phone'"
explain "q + newest" catalog_search_q_newest \
    "NULL, NULL, 0, 1000000000, NULL, NULL, 9007199254740991, $max, 21, 'phone'"
explain "q + price_asc + category" catalog_search_q_price_asc \
    "'mobiles', NULL, 0, 1000000000, NULL, NULL, 0, $nil, 21, 'phone'"
explain "seller's own products" catalog_seller_products \
    "'$seller', NULL, 9007199254740991, $max, 21"
explain "active listings of a seller" catalog_active_count "'$seller'"
