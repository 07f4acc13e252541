/* The catalog's read statements for lists: search, a seller's own products, stock movements.
 * One round trip each, on the connection the caller gives (the read connection: they are
 * query routes).
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
#include <string.h>

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

/* The price range as the index can apply it (migration 0019): the range's price buckets, an
 * int[] computed once, meet the words in products_search_price_idx; F_PRICE then keeps the
 * exact range. Used when the range is narrow enough that its buckets are fewer than the rows
 * they save (catalog_search_price_indexed). */
#define F_PRICE_BUCKETS                                                                       \
    "AND catalog_price_bucket(p.price_minor) = ANY (CAST((SELECT array_agg(b) FROM "          \
    "generate_series(catalog_price_bucket($3::bigint), catalog_price_bucket($4::bigint)) b) " \
    "AS int[])) "

#define TEXT(price, key, cond, order_h, order_t)                                                 \
    "SELECT " CATALOG_PRODUCT_COLS ", t.k FROM (SELECT h.id, h.k FROM ("                         \
    "SELECT p.id, " key " AS k FROM products p WHERE p.status = 'active' "                       \
    "AND p.search @@ " Q " " price F_CATEGORY F_CONDITION F_PRICE F_CITY F_SELLER "OFFSET 0) h " \
    "WHERE " cond " ORDER BY " order_h " LIMIT $9::int) t JOIN products p ON p.id = t.id "       \
    "ORDER BY " order_t

#define RELEVANCE_COND        "(h.k < " P_KEY " OR (h.k = " P_KEY " AND h.id > " P_ID "))"
#define AFTER_COND            "(h.k, h.id) > (" P_KEY ", " P_ID ")"
#define BEFORE_COND           "(h.k, h.id) < (" P_KEY ", " P_ID ")"
#define TEXT_RELEVANCE(price) TEXT(price, RANK, RELEVANCE_COND, "h.k DESC, h.id", "t.k DESC, t.id")
#define TEXT_NEWEST(price) \
    TEXT(price, NEWEST_KEY, BEFORE_COND, "h.k DESC, h.id DESC", "t.k DESC, t.id DESC")
#define TEXT_PRICE_ASC(price) TEXT(price, "p.price_minor", AFTER_COND, "h.k, h.id", "t.k, t.id")
#define TEXT_PRICE_DESC(price) \
    TEXT(price, "p.price_minor", BEFORE_COND, "h.k DESC, h.id DESC", "t.k DESC, t.id DESC")

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
    {"catalog_search_q_relevance", TEXT_RELEVANCE("")},
    {"catalog_search_q_newest", TEXT_NEWEST("")},
    {"catalog_search_q_price_asc", TEXT_PRICE_ASC("")},
    {"catalog_search_q_price_desc", TEXT_PRICE_DESC("")},
    {"catalog_search_q_relevance_range", TEXT_RELEVANCE(F_PRICE_BUCKETS)},
    {"catalog_search_q_newest_range", TEXT_NEWEST(F_PRICE_BUCKETS)},
    {"catalog_search_q_price_asc_range", TEXT_PRICE_ASC(F_PRICE_BUCKETS)},
    {"catalog_search_q_price_desc_range", TEXT_PRICE_DESC(F_PRICE_BUCKETS)},
    /* A seller's own products ($2 status, NULL: all but archived), newest first. */
    {"catalog_seller_products",
     "SELECT * FROM (SELECT " CATALOG_PRODUCT_COLS ", " NEWEST_KEY " FROM products p "
     "WHERE p.seller_id = (SELECT $1::uuid) AND CASE WHEN (SELECT $2::text) IS NULL "
     "THEN p.status <> 'archived' ELSE p.status = (SELECT $2::text) END "
     "AND (p.created_at, p.id) < (" CATALOG_SQL_FROM_US(
         "(SELECT $3::bigint)") ", (SELECT $4::uuid)) "
                                "ORDER BY p.created_at DESC, p.id DESC LIMIT 101) s LIMIT $5::int"},
    /* Columns: enum catalog_movement_col. */
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

const char *catalog_sort_listing(enum catalog_sort s)
{
    static const char *const names[] = {CATALOG_LISTING_RELEVANCE, CATALOG_LISTING_NEWEST,
                                        CATALOG_LISTING_PRICE_ASC, CATALOG_LISTING_PRICE_DESC};
    return names[s];
}

bool catalog_search_price_indexed(int64_t min_price, int64_t max_price)
{
    /* Buckets are quarter-doublings: a range within a factor of 16 spans at most 17 keys
     * (EXPLAIN: 9 keys cost 3 ms less than the heap visits they save; all ~120, 15 ms more). */
    return min_price > 0 && max_price <= min_price * CATALOG_PRICE_INDEX_SPAN;
}

static const char *statement(const struct catalog_search *s)
{
    static const char *const q[] = {"catalog_search_q_relevance", "catalog_search_q_newest",
                                    "catalog_search_q_price_asc", "catalog_search_q_price_desc"};
    static const char *const q_range[] = {
        "catalog_search_q_relevance_range", "catalog_search_q_newest_range",
        "catalog_search_q_price_asc_range", "catalog_search_q_price_desc_range"};
    if (s->q)
        return catalog_search_price_indexed(s->min_price, s->max_price) ? q_range[s->sort]
                                                                        : q[s->sort];
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
    const struct page_key *after = &s->page.after;
    if (!s->page.has_cursor)
        return;
    if ((s->sort == CATALOG_SORT_PRICE_ASC && after->key < s->min_price) ||
        (s->sort == CATALOG_SORT_PRICE_DESC && after->key > s->max_price))
        return;
    *key = after->key;
    *id = after->id;
}

/* res as a page of at most limit rows; the key of a row is in column key_col and its id in
 * id_col (id_col < 0: keys alone are unique, ids ""). */
static void page_of(PGresult *res, int limit, int key_col, int id_col, struct catalog_page *out)
{
    int rows = PQntuples(res);
    out->res = res;
    out->n = rows > limit ? limit : rows;
    out->more = rows > limit;
    if (!out->more)
        return;
    out->next.key = db_col_ll(res, out->n - 1, key_col);
    if (id_col >= 0)
        db_col_copy(res, out->n - 1, id_col, out->next.id, sizeof out->next.id);
}

enum db_status catalog_repo_search(struct db_conn *c, const struct catalog_search *s,
                                   struct catalog_page *out)
{
    char min[24], max[24], key[24], lim[16];
    int64_t k = 0;
    const char *id = NIL_UUID;
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    start_key(s, &k, &id);
    snprintf(min, sizeof min, "%" PRId64, s->min_price);
    snprintf(max, sizeof max, "%" PRId64, s->max_price);
    snprintf(key, sizeof key, "%" PRId64, k);
    snprintf(lim, sizeof lim, "%d", s->page.limit + 1);
    const char *p[] = {s->category,  s->condition, min, max, s->city,
                       s->seller_id, key,          id,  lim, s->q};
    /* the text statements take q as $10; the others stop at $9 */
    int n = s->q ? DB_NPARAMS(p) : DB_NPARAMS(p) - 1;
    enum db_status st = db_exec(c, statement(s), n, p, &res);
    if (st == DB_OK)
        page_of(res, s->page.limit, CATALOG_COL_SORT_KEY, CATALOG_COL_ID, out);
    return st;
}

enum db_status catalog_repo_seller_products(struct db_conn *c, const char *seller_id,
                                            const char *status, const struct page_req *pg,
                                            struct catalog_page *out)
{
    char key[24], lim[16];
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    snprintf(key, sizeof key, "%" PRId64, pg->has_cursor ? pg->after.key : NEWEST_START);
    snprintf(lim, sizeof lim, "%d", pg->limit + 1);
    const char *p[] = {seller_id, status, key, pg->has_cursor ? pg->after.id : MAX_UUID, lim};
    enum db_status st = db_exec(c, "catalog_seller_products", DB_PARAMS(p), &res);
    if (st == DB_OK)
        page_of(res, pg->limit, CATALOG_COL_SORT_KEY, CATALOG_COL_ID, out);
    return st;
}

enum db_status catalog_repo_movements(struct db_conn *c, const char *product_id,
                                      const char *seller_id, const struct page_req *pg,
                                      struct catalog_page *out)
{
    char before[24], lim[16];
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    snprintf(before, sizeof before, "%" PRId64, pg->has_cursor ? pg->after.key : INT64_MAX);
    snprintf(lim, sizeof lim, "%d", pg->limit + 1);
    const char *p[] = {product_id, seller_id, before, lim};
    enum db_status st = db_exec(c, "catalog_stock_movements", DB_PARAMS(p), &res);
    if (st != DB_OK)
        return st;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    if (db_col_is_null(res, 0, CATALOG_MOVEMENT_ID)) {
        out->res = res; /* the product, without movements (on this page) */
        return DB_OK;
    }
    page_of(res, pg->limit, CATALOG_MOVEMENT_ID, -1, out);
    return DB_OK;
}
