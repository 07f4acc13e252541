/* Private to internal/catalog: shared between its commands, queries and repository.
 *
 * Handlers (commands/, queries/) never read a PGresult: the repository returns typed values
 * (structs, statuses, bools) and, for product and movement rows, an opaque result that only
 * the JSON writer (product_json.c) reads. Repository functions take the connection they run
 * on as their first parameter; handlers get it from the request kit (http_req_db_or_reply,
 * or http_txn for commands). */
#ifndef HAAT_INTERNAL_CATALOG_INTERNAL_H
#define HAAT_INTERNAL_CATALOG_INTERNAL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/catalog/catalog.h"
#include "pkg/db/db.h"
#include "pkg/http/http.h"
#include "pkg/json/jsonh.h"
#include "pkg/page/page.h"
#include "pkg/util/strbuf.h"

#define CATALOG_PRICE_MAX     1000000000LL
#define CATALOG_STOCK_MAX     1000000
#define CATALOG_STOCK_DEFAULT 1
#define CATALOG_REASON_MAX    200
#define CATALOG_Q_MAX         200
/* Bound of If-Match entity tags honoured in one header. */
#define CATALOG_IF_MATCH_MAX 8
/* The message of a category that does not exist. */
#define CATALOG_UNKNOWN_CATEGORY "is not a known category (see GET /v1/categories)"

/* Listing names of the catalog's cursors (pkg/page). Search cursors are public (owner
 * NULL), one listing per sort order, so a cursor of one sort is refused by another; a
 * seller's own listings are issued to that seller (owner: the seller's user id). */
#define CATALOG_LISTING_RELEVANCE       "catalog.relevance"
#define CATALOG_LISTING_NEWEST          "catalog.newest"
#define CATALOG_LISTING_PRICE_ASC       "catalog.price_asc"
#define CATALOG_LISTING_PRICE_DESC      "catalog.price_desc"
#define CATALOG_LISTING_SELLER_PRODUCTS "catalog.seller_products"
#define CATALOG_LISTING_MOVEMENTS       "catalog.movements"

/* A product's status (products.status): enum catalog_status, in catalog.h. */
/* The status named by s; anything unknown reads as archived (not for sale, not editable). */
enum catalog_status catalog_status_parse(const char *s);

/* ---- product rows (product_json.c) ---------------------------------------------------- */

/* Column order of every statement that returns a product (CATALOG_PRODUCT_COLS in the
 * repository); statements may add columns after these. */
enum catalog_col {
    CATALOG_COL_ID,
    CATALOG_COL_SELLER_ID,
    CATALOG_COL_TITLE,
    CATALOG_COL_DESCRIPTION,
    CATALOG_COL_CATEGORY,
    CATALOG_COL_CONDITION,
    CATALOG_COL_PRICE_MINOR,
    CATALOG_COL_CURRENCY,
    CATALOG_COL_STOCK,
    CATALOG_COL_STATUS,
    CATALOG_COL_CITY,
    CATALOG_COL_IMAGES,
    CATALOG_COL_VERSION,
    CATALOG_COL_CREATED_AT,
    CATALOG_COL_UPDATED_AT,
    CATALOG_COL_TAKEDOWN_REASON, /* NULL unless taken down */
    CATALOG_COL_COUNT
};
/* The column after the product columns: the sort key of listing rows (search, a seller's
 * products), and the status before the change of catalog_product_update rows. */
#define CATALOG_COL_SORT_KEY   CATALOG_COL_COUNT
#define CATALOG_COL_OLD_STATUS CATALOG_COL_COUNT

/* What a handler decides on from a product row. */
struct catalog_product_head {
    enum catalog_status status;
    char seller_id[IDS_UUID_LEN];
    long long version;
};
void catalog_product_read_head(const PGresult *res, int row, struct catalog_product_head *out);

/* A page of listing rows: the rows (opaque to handlers), how many of them to show and, when
 * another page follows, the key of the last one shown. */
struct catalog_page {
    PGresult *res; /* owned: PQclear */
    int n;
    bool more;
    struct page_key next;
};

/* The product object (docs/openapi.yaml "Product") of row of res, appended to sb as JSON. */
void catalog_product_write(struct strbuf *sb, const PGresult *res, int row);
/* s as a JSON string literal (s is valid UTF-8). */
void catalog_json_string(struct strbuf *sb, const char *s);
/* ETag: "<version>" (quoted), set from the row's version column. */
void catalog_set_etag(struct http_req *r, const PGresult *res, int row);
/* Replies status with the product of row and its ETag. */
void catalog_reply_product(struct http_req *r, int status, const PGresult *res, int row);
/* Replies 200 {"items":[the page's products],"next_cursor":cursor|null}, the cursor made
 * for listing and owner. */
void catalog_reply_products(struct http_req *r, const struct catalog_page *pg, const char *listing,
                            const char *owner);
/* The product.published payload of a product row (new reference). */
json_t *catalog_published_payload(const PGresult *res, int row);
/* The page's movement rows as [{delta, reason, stock_after, order_id, created_at}]. */
json_t *catalog_movement_items(const struct catalog_page *pg);

/* ---- request body (validate.c) -------------------------------------------------------- */

/* A product as the client sent it. Strings are borrowed from the request's JSON. */
struct catalog_product_input {
    const char *title;
    const char *description; /* NULL: none (create) / unchanged or cleared (patch) */
    const char *category;
    const char *condition;
    const char *currency;
    const char *city;
    const char *status;   /* "draft" | "active" */
    const json_t *images; /* borrowed array, NULL when absent */
    int64_t price_minor;
    int64_t stock;
    bool has_price;
    bool description_set; /* patch: description was present (a null clears it) */
};

/* Parses and validates a POST /v1/products body, defaults applied (currency INR, stock 1,
 * status active, no images). Errors go to e, one per field path. The category is only
 * checked for shape here: catalog_check_category tells whether it exists. */
void catalog_parse_create(const json_t *body, struct catalog_product_input *in,
                          struct jsonh_errors *e);
/* A PATCH body: every field optional; stock is refused (it has its own endpoints). */
void catalog_parse_patch(const json_t *body, struct catalog_product_input *in,
                         struct jsonh_errors *e);
/* Adds an error when slug (NULL: absent, nothing to check) is not a known category, asking
 * the categories cache (reloaded on c when stale; c may be NULL). When it cannot be told,
 * no error: the products_category_fkey constraint has the last word. */
void catalog_check_category(struct db_conn *c, const char *slug, struct jsonh_errors *e);

/* Strict decimal integer in [min, max] (no sign for min >= 0, no spaces, no leading '+'). */
bool catalog_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* True when s is valid UTF-8 (no overlongs, no surrogates); *chars = its code points. */
bool catalog_utf8_chars(const char *s, size_t *chars);
/* The images array as JSON text (new heap string), "[]" when NULL. */
char *catalog_images_text(const json_t *images);

/* ---- search and listings (repo_search.c) ---------------------------------------------- */

enum catalog_sort {
    CATALOG_SORT_RELEVANCE,
    CATALOG_SORT_NEWEST,
    CATALOG_SORT_PRICE_ASC,
    CATALOG_SORT_PRICE_DESC
};
/* The listing name of a sort order's cursors. */
const char *catalog_sort_listing(enum catalog_sort s);

struct catalog_search {
    const char *q;                                       /* NULL: no text query */
    const char *category, *condition, *city, *seller_id; /* NULL: any */
    int64_t min_price, max_price;                        /* inclusive */
    enum catalog_sort sort;
    struct page_req page; /* limit and cursor (of the sort's listing) */
};

void catalog_repo_register_search(void);
/* The statement tables (for tests/bench/dump_sql.c: pgbench runs the very same SQL). */
const struct db_stmt *catalog_repo_search_statements(size_t *n);
/* One page of active products matching s. */
enum db_status catalog_repo_search(struct db_conn *c, const struct catalog_search *s,
                                   struct catalog_page *out);
/* A seller's own products, newest first; status NULL = every status but archived. */
enum db_status catalog_repo_seller_products(struct db_conn *c, const char *seller_id,
                                            const char *status, const struct page_req *pg,
                                            struct catalog_page *out);

/* Result columns of catalog_stock_movements: one row per movement, or one row with NULL
 * movement columns when the product has none (on this page). */
enum catalog_movement_col {
    CATALOG_MOVEMENT_PRODUCT_ID,
    CATALOG_MOVEMENT_DELTA,
    CATALOG_MOVEMENT_REASON,
    CATALOG_MOVEMENT_STOCK_AFTER,
    CATALOG_MOVEMENT_ORDER_ID,
    CATALOG_MOVEMENT_CREATED_AT,
    CATALOG_MOVEMENT_ID,
};
/* A page of the movements of the seller's product, newest first (keys: movement ids, ids
 * ""). DB_NOT_FOUND when the product is not the seller's. */
enum db_status catalog_repo_movements(struct db_conn *c, const char *product_id,
                                      const char *seller_id, const struct page_req *pg,
                                      struct catalog_page *out);

/* ---- products and stock (repo_pg.c) --------------------------------------------------- */

void catalog_repo_register(void);
const struct db_stmt *catalog_repo_statements(size_t *n);

/* A category (heap strings). */
struct catalog_category {
    char *slug, *name;
};
/* Every category in display order: *out holds *n of them (caller frees the strings and the
 * array). */
enum db_status catalog_repo_categories(struct db_conn *c, struct catalog_category **out, size_t *n);
/* The product row of id; DB_NOT_FOUND when none. */
enum db_status catalog_repo_get(struct db_conn *c, const char *id, PGresult **out);
/* Inserts a product; *out is its row, *published whether it went public (not a draft). */
enum db_status catalog_repo_insert(struct db_conn *c, const char *id, const char *seller_id,
                                   const struct catalog_product_input *in, PGresult **out,
                                   bool *published);
/* Guarded update (id, seller, not archived, versions NULL or naming the version): *out is
 * the new row and *published whether this edit took a draft public; DB_NOT_FOUND when the
 * guard matched no row. When in names no editable field nothing is written (no new version,
 * updated_at kept): *out is the current row, under the same guard. */
enum db_status catalog_repo_update(struct db_conn *c, const char *id, const char *seller_id,
                                   const char *versions, const struct catalog_product_input *in,
                                   PGresult **out, bool *published);
/* Archives the seller's product (archiving an archived one changes nothing); DB_NOT_FOUND
 * when it is not the seller's. */
enum db_status catalog_repo_archive(struct db_conn *c, const char *id, const char *seller_id);

/* A product as a refused write sees it, for telling 404 / 409 / 412 / 422 apart. */
struct catalog_probe {
    bool found;
    char seller_id[IDS_UUID_LEN];
    enum catalog_status status;
    long long version;
    long long stock;
};
enum db_status catalog_repo_probe(struct db_conn *c, const char *id, struct catalog_probe *out);

/* Result columns of the stock statements. */
enum catalog_stock_col {
    CATALOG_STOCK_ID,
    CATALOG_STOCK_SELLER_ID,
    CATALOG_STOCK_TITLE,
    CATALOG_STOCK_PRICE_MINOR,
    CATALOG_STOCK_CURRENCY,
    CATALOG_STOCK_STOCK,
    CATALOG_STOCK_STATUS,
    CATALOG_STOCK_VERSION,
    CATALOG_STOCK_SOLD_OUT_NOW, /* true when this change turned the product sold_out */
    CATALOG_STOCK_CHANGED,      /* catalog_stock_set only: false when stock already was it */
};

/* A product after a stock change. */
struct catalog_stock_row {
    char id[IDS_UUID_LEN];
    char seller_id[IDS_UUID_LEN];
    char title[CATALOG_TITLE_SIZE];
    int64_t price_minor;
    char currency[4];
    long long stock;
    long long version;
    bool sold_out_now;
};

/* Manual stock change by the owner; DB_NOT_FOUND when not found / archived / out of bounds
 * (nothing changed). */
enum db_status catalog_repo_adjust(struct db_conn *c, const char *id, const char *seller_id,
                                   int delta, const char *reason, struct catalog_stock_row *out);
/* Sets stock (a no-op when it already is the quantity: out then has the current stock and
 * version); DB_NOT_FOUND when not (id, seller, not archived, versions). */
enum db_status catalog_repo_set_stock(struct db_conn *c, const char *id, const char *seller_id,
                                      int quantity, const char *reason, const char *versions,
                                      struct catalog_stock_row *out);
/* An order's take; DB_NOT_FOUND when nothing was taken (not for sale, or not enough). */
enum db_status catalog_repo_take(struct db_conn *c, const char *id, int quantity,
                                 const char *order_id, struct catalog_stock_row *out);
/* An order's stock back; DB_NOT_FOUND when nothing was returned (no such product, or the
 * order's stock was returned before). */
enum db_status catalog_repo_return(struct db_conn *c, const char *id, int quantity,
                                   const char *order_id);
enum db_status catalog_repo_active_count(struct db_conn *c, const char *seller_id, long long *out);
/* catalog_product_briefs' statement: fills found, seller_id, title and status by product_id. */
enum db_status catalog_repo_briefs(struct db_conn *c, struct catalog_brief *out, size_t n);

/* Every repository path that changes what a product GET shows calls this in the same
 * transaction, after the change, with the product's new version: it NOTIFYs CATALOG_CHANNEL
 * "<id> <version>", which drops the product from every instance's read cache at commit (and
 * never, on rollback), and drops it from this process's cache at once. */
#define CATALOG_CHANNEL "catalog_product"
enum db_status catalog_product_changed(struct db_conn *c, const char *id, long long version);

/* ---- product read cache (cache.c) ------------------------------------------------------ */

/* (Re)sizes and empties the cache; 0 entries or bytes: off. Registers its metrics. */
void catalog_cache_configure(size_t max_entries, size_t max_bytes);
void catalog_cache_cleanup(void);
/* A hit appends the product's JSON to out and sets *version. *ticket (always set) goes to the
 * catalog_cache_put of the fill after a miss. */
bool catalog_cache_get(const char *id, struct strbuf *out, long long *version, uint64_t *ticket);
/* Keeps body as product id at version, unless the cache has seen a newer version (or a
 * tombstone of it was forgotten, or it was cleared) since ticket. True when kept. */
bool catalog_cache_put(const char *id, long long version, const char *body, size_t len,
                       uint64_t ticket);
/* A change notification: drops the entry, remembering version (a tombstone). */
void catalog_cache_invalidate(const char *id, long long version);
/* Drops everything (the listener reconnected). */
void catalog_cache_clear(void);

/* Whether a text search with this price range uses the price-bucket index (migration 0019):
 * a range with a lower bound, no wider than a factor of CATALOG_PRICE_INDEX_SPAN. */
#define CATALOG_PRICE_INDEX_SPAN 16
bool catalog_search_price_indexed(int64_t min_price, int64_t max_price);

/* ---- events (events.c) ---------------------------------------------------------------- */

/* product.published from a row with product columns. */
enum db_status catalog_emit_published(struct db_conn *c, const PGresult *res, int row);
/* After a stock change: product.sold_out when this change is what sold the product out,
 * else nothing (DB_OK). */
enum db_status catalog_emit_if_sold_out(struct db_conn *c, const struct catalog_stock_row *row);

/* ---- categories cache (categories.c) -------------------------------------------------- */

/* Both reload a stale cache on c, their caller's connection (NULL when the database is
 * unreachable: only a fresh cache answers then). */
/* The categories as {"items":[{slug,name}]} (new reference), or NULL with *st set. */
json_t *catalog_categories_json(struct db_conn *c, enum db_status *st);
/* 1 known, 0 unknown, -1 could not be told (database down). */
int catalog_category_exists(struct db_conn *c, const char *slug);

/* ---- handlers (commands/, queries/; tables and catalog_routes in routes.c) ------------ */

void catalog_create_product(struct http_req *r);
void catalog_update_product(struct http_req *r);
void catalog_archive_product(struct http_req *r);
void catalog_set_stock(struct http_req *r);
void catalog_adjust_stock(struct http_req *r);
void catalog_list_categories(struct http_req *r);
void catalog_search_products(struct http_req *r);
void catalog_get_product(struct http_req *r);
void catalog_list_movements(struct http_req *r);
void catalog_list_seller_products(struct http_req *r);

/* ---- replies (reply.c) ---------------------------------------------------------------- */

/* If-Match as a PostgreSQL int[] literal of the versions it names ("{3,4}") in buf, or NULL
 * when absent or "*". Weak tags, malformed tags and a malformed header name no version
 * ("{}"), so they never match: the caller answers 412 — after 404, which comes first. */
const char *catalog_if_match(struct http_req *r, char *buf, size_t n);
/* Why a guarded write by seller_id matched no row, from a catalog_repo_probe() result. */
enum catalog_miss {
    CATALOG_MISS_NOT_FOUND,
    CATALOG_MISS_ARCHIVED,
    CATALOG_MISS_TAKEN_DOWN,
    CATALOG_MISS_GUARD
};
enum catalog_miss catalog_classify_miss(const struct catalog_probe *p, const char *seller_id);
/* 404 not_found / 409 invalid_state (archived, taken down) / 412 precondition_failed. */
void catalog_reply_miss(struct http_req *r, enum catalog_miss m);
/* The stock answer {product_id, stock} with the product's new ETag. */
void catalog_reply_stock(struct http_req *r, const struct catalog_stock_row *row);
/* 422: the category is not a known one. */
void catalog_reply_unknown_category(struct http_req *r);

/* ---- operators (repo_admin.c) --------------------------------------------------------- */
void catalog_repo_register_admin(void);

#endif
