/* The catalog's read statements for lists: search, a seller's own products, stock movements.
 * All run on the read connection, one round trip each.
 *
 * Search statements are shaped so that PostgreSQL's GENERIC plan (used for a prepared
 * statement after five executions when it looks no dearer than the custom ones) is the right
 * plan whatever the parameters (EXPLAIN findings: docs/decisions/0003-search-config.md):
 *   - one statement per access path: text query (GIN); newest and price (their indexes;
 *     with a category: the category's; with a seller: the seller's), so the driving
 *     condition is always present, never "$n IS NULL OR ...";
 *   - optional filters are written CASE WHEN $n IS NULL THEN true ELSE ... END, which the
 *     planner neither uses as an index condition nor mistakes for a selective one;
 *   - keyset conditions are row comparisons that are always present (the first page starts
 *     from a sentinel key), and the price bound in the sort direction is folded into the
 *     start key, so an index scan starts and stops at the right place;
 *   - ordered scans sit under a constant LIMIT 101 (the largest page + 1), which keeps the
 *     planner from assuming a parameter LIMIT returns 10 % of the table;
 *   - a text query first ranks only (id, key) of the matches, then joins back to products
 *     for the page's rows, so the columns are formatted for at most 101 rows.
 * Parameters of every search statement: $1 category, $2 condition, $3 min_price,
 * $4 max_price, $5 city, $6 seller_id, $7 cursor key, $8 cursor id, $9 limit (+1), and $10 q
 * for the text statements. */
#include <inttypes.h>
#include <stdio.h>

#include "internal/catalog/internal.h"
#include "internal/catalog/sql.h"

#define NIL_UUID     "00000000-0000-0000-0000-000000000000"
#define MAX_UUID     "ffffffff-ffff-ffff-ffff-ffffffffffff"
#define NEWEST_START ((INT64_C(1) << 53) - 1)
#define RANK_START   (INT64_C(1) << 62)

/* Every parameter is read through a scalar subquery (an InitPlan): the planner then sees
 * neither its value nor its null-ness in custom plans either, so custom and generic plans
 * cost the same and PostgreSQL settles on the generic plan after five executions instead of
 * re-planning every request (planning cost more than running: 0.10 ms against 0.05 ms for a
 * category page). Index conditions still use them (evaluated once, at executor start). */
#define P_CATEGORY  "(SELECT $1::text)"
#define P_CONDITION "(SELECT $2::text)"
#define P_MIN       "(SELECT $3::bigint)"
#define P_MAX       "(SELECT $4::bigint)"
#define P_CITY      "(SELECT $5::text)"
#define P_SELLER    "(SELECT $6::uuid)"
#define P_KEY       "(SELECT $7::bigint)"
#define P_ID        "(SELECT $8::uuid)"

#define F_CATEGORY \
    "AND CASE WHEN " P_CATEGORY " IS NULL THEN true ELSE p.category = " P_CATEGORY " END "
#define F_CONDITION \
    "AND CASE WHEN " P_CONDITION " IS NULL THEN true ELSE p.condition = " P_CONDITION " END "
#define F_PRICE \
    "AND CASE WHEN p.price_minor BETWEEN " P_MIN " AND " P_MAX " THEN true ELSE false END "
#define F_CITY \
    "AND CASE WHEN " P_CITY " IS NULL THEN true ELSE lower(p.city) = lower(" P_CITY ") END "
#define F_SELLER    "AND CASE WHEN " P_SELLER " IS NULL THEN true ELSE p.seller_id = " P_SELLER " END "
#define BY_CATEGORY "AND p.category = " P_CATEGORY " "
#define BY_SELLER   "AND p.seller_id = " P_SELLER " "

#define NEWEST_KEY CATALOG_SQL_EPOCH_US("p.created_at")

/* An ordered index scan of active products. */
#define ORDERED(key, where, order)                                             \
    "SELECT * FROM (SELECT " CATALOG_PRODUCT_COLS ", " key " FROM products p " \
    "WHERE p.status = 'active' " where "ORDER BY " order " LIMIT 101) s LIMIT $9::int"

#define NEWEST(by_cat, by_seller)                                                     \
    ORDERED(NEWEST_KEY,                                                               \
            by_cat F_CONDITION F_PRICE F_CITY by_seller                               \
            "AND (p.created_at, p.id) < (" CATALOG_SQL_FROM_US(P_KEY) ", " P_ID ") ", \
            "p.created_at DESC, p.id DESC")

#define PRICE_ASC(by_cat, by_seller)                                              \
    ORDERED("p.price_minor",                                                      \
            by_cat F_CONDITION F_CITY by_seller                                   \
            "AND (p.price_minor, p.id) > (" P_KEY ", " P_ID ") "                  \
            "AND p.price_minor <= " P_MAX " "                                     \
            "AND CASE WHEN p.price_minor >= " P_MIN " THEN true ELSE false END ", \
            "p.price_minor, p.id")

#define PRICE_DESC(by_cat, by_seller)                                             \
    ORDERED("p.price_minor",                                                      \
            by_cat F_CONDITION F_CITY by_seller                                   \
            "AND (p.price_minor, p.id) < (" P_KEY ", " P_ID ") "                  \
            "AND p.price_minor >= " P_MIN " "                                     \
            "AND CASE WHEN p.price_minor <= " P_MAX " THEN true ELSE false END ", \
            "p.price_minor DESC, p.id DESC")

/* Text query: evaluated once (an InitPlan), so the GIN index condition is a parameter. */
#define Q "(SELECT websearch_to_tsquery('simple', $10::text))"
/* Relevance as an exact integer: title matches (the query matches the weight-A lexemes)
 * rank above description-only matches; within a tier, ts_rank (normalised to [0, 1)) in
 * 1e-7 steps. Deterministic per row and query, so keyset paging on (rank, id) is exact. */
#define RANK                                                                      \
    "(CASE WHEN ts_filter(p.search, '{a}') @@ " Q " THEN 100000000 ELSE 0 END + " \
    "floor(ts_rank(p.search, " Q ", 32) * 10000000))::bigint"

#define TEXT(key, cond, order_h, order_t)                                                  \
    "SELECT " CATALOG_PRODUCT_COLS ", t.k FROM (SELECT h.id, h.k FROM ("                   \
    "SELECT p.id, " key " AS k FROM products p WHERE p.status = 'active' "                 \
    "AND p.search @@ " Q " " F_CATEGORY F_CONDITION F_PRICE F_CITY F_SELLER "OFFSET 0) h " \
    "WHERE " cond " ORDER BY " order_h " LIMIT $9::int) t JOIN products p ON p.id = t.id " \
    "ORDER BY " order_t

static const struct db_stmt stmts[] = {
    {"catalog_search_newest", NEWEST(F_CATEGORY, F_SELLER)},
    {"catalog_search_newest_cat", NEWEST(BY_CATEGORY, F_SELLER)},
    {"catalog_search_newest_seller", NEWEST(F_CATEGORY, BY_SELLER)},
    {"catalog_search_price_asc", PRICE_ASC(F_CATEGORY, F_SELLER)},
    {"catalog_search_price_asc_cat", PRICE_ASC(BY_CATEGORY, F_SELLER)},
    {"catalog_search_price_asc_seller", PRICE_ASC(F_CATEGORY, BY_SELLER)},
    {"catalog_search_price_desc", PRICE_DESC(F_CATEGORY, F_SELLER)},
    {"catalog_search_price_desc_cat", PRICE_DESC(BY_CATEGORY, F_SELLER)},
    {"catalog_search_price_desc_seller", PRICE_DESC(F_CATEGORY, BY_SELLER)},
    {"catalog_search_q_relevance",
     TEXT(RANK, "(h.k < " P_KEY " OR (h.k = " P_KEY " AND h.id > " P_ID "))", "h.k DESC, h.id",
          "t.k DESC, t.id")},
    {"catalog_search_q_newest", TEXT(NEWEST_KEY, "(h.k, h.id) < (" P_KEY ", " P_ID ")",
                                     "h.k DESC, h.id DESC", "t.k DESC, t.id DESC")},
    {"catalog_search_q_price_asc",
     TEXT("p.price_minor", "(h.k, h.id) > (" P_KEY ", " P_ID ")", "h.k, h.id", "t.k, t.id")},
    {"catalog_search_q_price_desc", TEXT("p.price_minor", "(h.k, h.id) < (" P_KEY ", " P_ID ")",
                                         "h.k DESC, h.id DESC", "t.k DESC, t.id DESC")},
    /* A seller's own products ($2 status, NULL: all but archived), newest first. */
    {"catalog_seller_products",
     "SELECT * FROM (SELECT " CATALOG_PRODUCT_COLS ", " NEWEST_KEY " FROM products p "
     "WHERE p.seller_id = (SELECT $1::uuid) AND CASE WHEN (SELECT $2::text) IS NULL "
     "THEN p.status <> 'archived' ELSE p.status = (SELECT $2::text) END "
     "AND (p.created_at, p.id) < (" CATALOG_SQL_FROM_US(
         "(SELECT $3::bigint)") ", (SELECT $4::uuid)) "
                                "ORDER BY p.created_at DESC, p.id DESC LIMIT 101) s LIMIT $5::int"},
    /* Columns: product id, delta, reason, stock_after, order_id, created_at, movement id. */
    {"catalog_stock_movements",
     "SELECT p.id, m.delta, m.reason, m.stock_after, m.order_id, " CATALOG_SQL_TS(
         "m.created_at") ", m.id FROM products p LEFT JOIN LATERAL "
                         "(SELECT * FROM stock_movements sm WHERE sm.product_id = p.id AND sm.id < "
                         "$3::bigint "
                         "ORDER BY sm.id DESC LIMIT $4::int) m ON true "
                         "WHERE p.id = $1::uuid AND p.seller_id = $2::uuid ORDER BY m.id DESC"},
};

const struct db_stmt *catalog_repo_search_statements(size_t *n)
{
    *n = sizeof stmts / sizeof stmts[0];
    return stmts;
}

void catalog_repo_register_search(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

char catalog_sort_kind(enum catalog_sort s)
{
    static const char kinds[] = {'r', 'n', 'a', 'd'};
    return kinds[s];
}

static const char *statement(const struct catalog_search *s)
{
    static const char *const q[] = {"catalog_search_q_relevance", "catalog_search_q_newest",
                                    "catalog_search_q_price_asc", "catalog_search_q_price_desc"};
    if (s->q)
        return q[s->sort];
    bool asc = s->sort == CATALOG_SORT_PRICE_ASC;
    if (s->sort == CATALOG_SORT_RELEVANCE || s->sort == CATALOG_SORT_NEWEST)
        return s->seller_id  ? "catalog_search_newest_seller"
               : s->category ? "catalog_search_newest_cat"
                             : "catalog_search_newest";
    if (s->seller_id)
        return asc ? "catalog_search_price_asc_seller" : "catalog_search_price_desc_seller";
    if (s->category)
        return asc ? "catalog_search_price_asc_cat" : "catalog_search_price_desc_cat";
    return asc ? "catalog_search_price_asc" : "catalog_search_price_desc";
}

/* Where the scan starts: the cursor, or the sentinel of the sort; a price sort never starts
 * before its bound (min_price ascending, max_price descending). */
static void start_key(const struct catalog_search *s, int64_t *key, const char **id)
{
    switch (s->sort) {
    case CATALOG_SORT_RELEVANCE:
        *key = s->q ? RANK_START : NEWEST_START;
        *id = s->q ? NIL_UUID : MAX_UUID;
        break;
    case CATALOG_SORT_NEWEST:
        *key = NEWEST_START;
        *id = MAX_UUID;
        break;
    case CATALOG_SORT_PRICE_ASC:
        *key = s->min_price;
        *id = NIL_UUID;
        break;
    case CATALOG_SORT_PRICE_DESC:
        *key = s->max_price;
        *id = MAX_UUID;
        break;
    }
    if (!s->has_cursor)
        return;
    if ((s->sort == CATALOG_SORT_PRICE_ASC && s->after.key < s->min_price) ||
        (s->sort == CATALOG_SORT_PRICE_DESC && s->after.key > s->max_price))
        return;
    *key = s->after.key;
    *id = s->after.id;
}

enum db_status catalog_repo_search(const struct catalog_search *s, PGresult **out)
{
    char min[24], max[24], key[24], lim[16];
    int64_t k = 0;
    const char *id = NIL_UUID;
    start_key(s, &k, &id);
    snprintf(min, sizeof min, "%" PRId64, s->min_price);
    snprintf(max, sizeof max, "%" PRId64, s->max_price);
    snprintf(key, sizeof key, "%" PRId64, k);
    snprintf(lim, sizeof lim, "%d", s->limit + 1);
    const char *p[] = {s->category,  s->condition, min, max, s->city,
                       s->seller_id, key,          id,  lim, s->q};
    return db_query(DB_READ, statement(s), s->q ? 10 : 9, p, out);
}

enum db_status catalog_repo_seller_products(const char *seller_id, const char *status,
                                            const struct catalog_cursor *after, int limit,
                                            PGresult **out)
{
    char key[24], lim[16];
    snprintf(key, sizeof key, "%" PRId64, after ? after->key : NEWEST_START);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[] = {seller_id, status, key, after ? after->id : MAX_UUID, lim};
    return db_query(DB_READ, "catalog_seller_products", 5, p, out);
}

enum db_status catalog_repo_movements(const char *product_id, const char *seller_id,
                                      int64_t before_id, int limit, PGresult **out)
{
    char before[24], lim[16];
    snprintf(before, sizeof before, "%" PRId64, before_id);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[] = {product_id, seller_id, before, lim};
    return db_query(DB_READ, "catalog_stock_movements", 4, p, out);
}
