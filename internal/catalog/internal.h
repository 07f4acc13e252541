/* Private to internal/catalog: shared between its commands, queries and repository. */
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
#include "pkg/util/strbuf.h"

#define CATALOG_LIMIT_DEFAULT 20
#define CATALOG_LIMIT_MAX     100
#define CATALOG_PRICE_MAX     1000000000LL
#define CATALOG_STOCK_MAX     1000000
#define CATALOG_STOCK_DEFAULT 1
#define CATALOG_REASON_MAX    200
#define CATALOG_Q_MAX         200
/* Bound of If-Match entity tags honoured in one header. */
#define CATALOG_IF_MATCH_MAX 8

struct catalog_cursor;

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
    CATALOG_COL_COUNT
};

/* The product object of API.md from row of res, appended to sb as JSON text. */
void catalog_product_write(struct strbuf *sb, const PGresult *res, int row);
/* s as a JSON string literal (s is valid UTF-8). */
void catalog_json_string(struct strbuf *sb, const char *s);
/* ETag: "<version>" (quoted), set from the row's version column. */
void catalog_set_etag(struct http_req *r, const PGresult *res, int row);
/* Replies status with the product of row and its ETag. */
void catalog_reply_product(struct http_req *r, int status, const PGresult *res, int row);
/* Replies 200 {"items":[products of rows 0..n-1],"next_cursor":cursor|null}. */
void catalog_reply_products(struct http_req *r, const PGresult *res, int n,
                            const struct catalog_cursor *next);
/* A text column as a long long (0 when NULL). */
long long catalog_col_ll(const PGresult *res, int row, int col);

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
 * status active, no images). Errors go to e, one per field path. */
void catalog_parse_create(const json_t *body, struct catalog_product_input *in,
                          struct jsonh_errors *e);
/* A PATCH body: every field optional; stock is refused (it has its own endpoints). */
void catalog_parse_patch(const json_t *body, struct catalog_product_input *in,
                         struct jsonh_errors *e);
/* Whether the category exists (the categories table, cached); adds an error when not. */
void catalog_check_category(const char *slug, struct jsonh_errors *e);

/* Strict decimal integer in [min, max] (no sign for min >= 0, no spaces, no leading '+'). */
bool catalog_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* ?limit: absent -> 20, > 100 -> 100, < 1 or not an integer -> false. */
bool catalog_parse_limit(const char *s, int *out);
/* True when s is valid UTF-8 (no overlongs, no surrogates); *chars = its code points. */
bool catalog_utf8_chars(const char *s, size_t *chars);
/* The images array as JSON text (new heap string), "[]" when NULL. */
char *catalog_images_text(const json_t *images);

/* ---- cursors (cursor.c) --------------------------------------------------------------- */

/* kinds: 'r' relevance, 'n' newest, 'a' price_asc, 'd' price_desc, 's' seller products,
 * 'm' stock movements (no id). */
struct catalog_cursor {
    char kind;
    int64_t key;
    char id[IDS_UUID_LEN]; /* "" for kind 'm' */
};

#define CATALOG_CURSOR_SIZE 160

/* The MAC key (derived from a secret); without one, an all-zero key is used (tests). */
void catalog_cursor_set_secret(const char *secret, size_t len);
/* Opaque text: base64url (no padding) of "<kind>|<key>|<id>" and a 16-byte keyed MAC. */
void catalog_cursor_encode(const struct catalog_cursor *c, char out[CATALOG_CURSOR_SIZE]);
/* True when text is a cursor this server made for kind (MAC, syntax, ranges checked). */
bool catalog_cursor_decode(const char *text, char kind, struct catalog_cursor *out);

/* ---- search (repo_search.c) ----------------------------------------------------------- */

enum catalog_sort {
    CATALOG_SORT_RELEVANCE,
    CATALOG_SORT_NEWEST,
    CATALOG_SORT_PRICE_ASC,
    CATALOG_SORT_PRICE_DESC
};

struct catalog_search {
    const char *q;                                       /* NULL: no text query */
    const char *category, *condition, *city, *seller_id; /* NULL: any */
    int64_t min_price, max_price;                        /* inclusive */
    enum catalog_sort sort;
    bool has_cursor;
    struct catalog_cursor after;
    int limit; /* rows wanted; the statement is asked for limit + 1 */
};

/* Extra column of search rows: the sort key of the row (for the next cursor). */
#define CATALOG_COL_SORT_KEY CATALOG_COL_COUNT
char catalog_sort_kind(enum catalog_sort s);

void catalog_repo_register_search(void);
/* The statement tables (for tests/bench/dump_sql.c: pgbench runs the very same SQL). */
const struct db_stmt *catalog_repo_search_statements(size_t *n);
enum db_status catalog_repo_search(const struct catalog_search *s, PGresult **out);
/* A seller's own products, newest first; status NULL = every status but archived. */
enum db_status catalog_repo_seller_products(const char *seller_id, const char *status,
                                            const struct catalog_cursor *after, int limit,
                                            PGresult **out);
/* Movements of the seller's product, newest first: no row when the product is not the
 * seller's; one row with a NULL movement when it has none (columns: see repo_search.c). */
enum db_status catalog_repo_movements(const char *product_id, const char *seller_id,
                                      int64_t before_id, int limit, PGresult **out);

/* ---- products and stock (repo_pg.c) --------------------------------------------------- */

void catalog_repo_register(void);
const struct db_stmt *catalog_repo_statements(size_t *n);

enum db_status catalog_repo_categories(PGresult **out); /* slug, name */
enum db_status catalog_repo_get(const char *id, PGresult **out);
enum db_status catalog_repo_insert(struct db_conn *c, const char *id, const char *seller_id,
                                   const struct catalog_product_input *in, PGresult **out);
/* Product columns + old_status; no row when not (id, seller, not archived, version). */
enum db_status catalog_repo_update(struct db_conn *c, const char *id, const char *seller_id,
                                   const char *versions, const struct catalog_product_input *in,
                                   PGresult **out);
/* One statement on the primary. One row: archived_now (bool), owned (bool). */
enum db_status catalog_repo_archive(const char *id, const char *seller_id, PGresult **out);
/* One row: seller_id, status, version, stock — for telling 404 / 409 / 412 apart. */
enum db_status catalog_repo_probe(struct db_conn *c, const char *id, PGresult **out);

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
    CATALOG_STOCK_SOLD_OUT_NOW, /* "t" when this change turned the product sold_out */
};

/* Manual stock change by the owner: no row when not found / archived / out of bounds. */
enum db_status catalog_repo_adjust(struct db_conn *c, const char *id, const char *seller_id,
                                   int delta, const char *reason, PGresult **out);
/* Sets stock: no row when not (id, seller, not archived, version); otherwise one row with
 * the stock columns, where changed = "f" when the quantity was already the stock. */
enum db_status catalog_repo_set_stock(struct db_conn *c, const char *id, const char *seller_id,
                                      int quantity, const char *reason, const char *versions,
                                      PGresult **out);
#define CATALOG_STOCK_CHANGED (CATALOG_STOCK_SOLD_OUT_NOW + 1)
enum db_status catalog_repo_take(struct db_conn *c, const char *id, int quantity,
                                 const char *order_id, PGresult **out);
enum db_status catalog_repo_return(struct db_conn *c, const char *id, int quantity,
                                   const char *order_id, PGresult **out);
enum db_status catalog_repo_active_count(struct db_conn *c, const char *seller_id, PGresult **out);

/* ---- events (events.c) ---------------------------------------------------------------- */

/* product.published from a row with product columns. */
enum db_status catalog_emit_published(struct db_conn *c, const PGresult *res, int row);
/* product.sold_out from a row with stock columns. */
enum db_status catalog_emit_sold_out(struct db_conn *c, const PGresult *res, int row);
/* After a stock change (first row of res, stock columns): product.sold_out when this change
 * is what sold the product out, else nothing (DB_OK). */
enum db_status catalog_emit_if_sold_out(struct db_conn *c, const PGresult *res);

/* ---- categories cache (categories.c) -------------------------------------------------- */

/* The categories as {"items":[{slug,name}]} (new reference), or NULL with *st set. */
json_t *catalog_categories_json(enum db_status *st);
/* 1 known, 0 unknown, -1 could not be told (database down). */
int catalog_category_exists(const char *slug);

/* ---- handlers (commands/, queries/; tables in routes.c) ------------------------------- */

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

const struct http_route *catalog_command_routes(size_t *n);
const struct http_route *catalog_query_routes(size_t *n);

/* ---- replies (reply.c) ---------------------------------------------------------------- */

/* 503 service_unavailable for DB_UNAVAILABLE/DB_RETRY, else 500. */
void catalog_reply_db(struct http_req *r, enum db_status st);
/* The {id} path parameter when it is a UUID; otherwise replies 404 and returns NULL. */
const char *catalog_path_id_or_reply(struct http_req *r);
/* 422 validation_failed with e's errors (steals nothing: e stays the caller's). */
void catalog_reply_invalid(struct http_req *r, const struct jsonh_errors *e);
/* If-Match as a PostgreSQL int[] literal of the versions it names ("{3,4}") in buf, or NULL
 * when absent or "*". Weak tags, malformed tags and a malformed header name no version
 * ("{}"), so they never match: the caller answers 412 — after 404, which comes first. */
const char *catalog_if_match(struct http_req *r, char *buf, size_t n);
/* limit and cursor query parameters; errors go to e. */
void catalog_page_params(struct http_req *r, char kind, int *limit, struct catalog_cursor *after,
                         bool *has_cursor, struct jsonh_errors *e);
/* Why a guarded write matched no row, from a catalog_repo_probe() result. */
enum catalog_miss { CATALOG_MISS_NOT_FOUND, CATALOG_MISS_ARCHIVED, CATALOG_MISS_GUARD };
enum catalog_miss catalog_classify_miss(const PGresult *probe, const char *seller_id);
/* 404 not_found / 409 invalid_state (archived) / 412 precondition_failed. */
void catalog_reply_miss(struct http_req *r, enum catalog_miss m);
/* The stock answer {product_id, stock} with the product's new ETag. */
void catalog_reply_stock(struct http_req *r, const PGresult *res);
/* {"items": items, "next_cursor": cursor|null}: steals items. */
void catalog_reply_page(struct http_req *r, json_t *items, const struct catalog_cursor *next);

#endif
