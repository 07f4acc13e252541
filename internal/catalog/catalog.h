/* catalog — categories, products, stock (tables categories, products, stock_movements).
 *
 * The public face of the catalog module: the only header other modules and internal/app may
 * include. HTTP routes are listed in docs/openapi.yaml (tag "catalog").
 *
 * Stock is only ever changed by one guarded UPDATE per change (stock never goes below 0, a
 * CHECK constraint backs it), each change writes its stock_movements row in the same
 * statement, and status follows stock: an 'active' product whose stock reaches 0 becomes
 * 'sold_out' (event product.sold_out) and back to 'active' when stock returns. Drafts and
 * archived products keep their status whatever their stock. */
#ifndef HAAT_INTERNAL_CATALOG_CATALOG_H
#define HAAT_INTERNAL_CATALOG_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/config/config.h"
#include "pkg/db/db.h"
#include "pkg/http/router.h"
#include "pkg/ids/ids.h"

#define CATALOG_TITLE_MAX_CHARS 140
/* A title in bytes (UTF-8, up to 4 bytes a character) plus the NUL. */
#define CATALOG_TITLE_SIZE (CATALOG_TITLE_MAX_CHARS * 4 + 1)

/* Registers the module's statements (call at start-up, before the first db_conn()). The
 * cursor key is the pagination kit's (page_set_secret, set by the app). Returns 0. */
int catalog_init(const struct cfg *c);

/* `haat serve` only, before listen_start: sizes the product read cache (HAAT_PRODUCT_CACHE_*)
 * and subscribes it to product change notifications on the process's listener. Returns 0,
 * or -1 (logged). catalog_cache_stop, after listen_stop, frees it. */
int catalog_cache_start(const struct cfg *c);
void catalog_cache_stop(void);

/* Adds the catalog's command and query routes. */
void catalog_routes(struct router *r);

/* What an order line records about a product at the moment stock was taken. */
struct catalog_line {
    char product_id[IDS_UUID_LEN];
    char seller_id[IDS_UUID_LEN]; /* the seller's user id */
    char title[CATALOG_TITLE_SIZE];
    int64_t unit_price_minor;
    char currency[4]; /* "INR" */
    int stock_after;  /* the product's stock after this take */
};

/* Takes quantity (1..1,000,000) units of an 'active' product for order_id, inside the
 * CALLER's transaction on c (db_txn on the primary): one guarded UPDATE that also records
 * the stock movement (order_id set); an active product reaching 0 becomes 'sold_out' and
 * product.sold_out is emitted in the same transaction. out is filled on DB_OK.
 *   DB_OK         taken
 *   DB_NOT_FOUND  no such product, a malformed id, or not for sale (draft or archived)
 *   DB_CHECK      not enough stock (includes sold_out); nothing was changed, and — unlike a
 *                 failed statement — the caller's transaction is still usable
 *   DB_ERROR      quantity out of range or order_id not a UUID (a caller bug, logged)
 *   DB_UNAVAILABLE / DB_RETRY / DB_ERROR from the database: pass them on (db_txn retries
 *                 DB_RETRY).
 * The order module answers DB_CHECK with 409 out_of_stock. */
enum db_status catalog_stock_take(struct db_conn *c, const char *product_id, int quantity,
                                  const char *order_id, struct catalog_line *out);

/* Gives back quantity units taken for order_id (order cancelled or expired), inside the
 * caller's transaction on c, recording a movement with order_id; a 'sold_out' product becomes
 * 'active' again. Draft and archived products take the stock back and keep their status.
 * Idempotent per (order_id, product_id): stock already returned for that order is not
 * returned twice (DB_OK, nothing changed).
 *   DB_OK, DB_NOT_FOUND (no such product / malformed id), DB_ERROR (bad quantity or
 *   order_id), or a database status to pass on. */
enum db_status catalog_stock_return(struct db_conn *c, const char *product_id, int quantity,
                                    const char *order_id);

/* Whether a product with this id exists, whatever its status (*exists false for a malformed
 * id), read on c, the caller's connection: lets the order module tell an unknown product from
 * one that is not for sale after catalog_stock_take answered DB_NOT_FOUND. */
enum db_status catalog_product_exists(struct db_conn *c, const char *product_id, bool *exists);

/* The number of 'active' products of a seller (GET /v1/sellers/{id} active_listings), read
 * on c, the connection of the caller's request. A malformed id counts 0. Returns 0 and sets
 * *out, or -1 when the database could not answer (logged). */
int catalog_seller_active_listings(struct db_conn *c, const char *seller_id, long long *out);

/* A product as other modules refer to it (the chat module: who sells it, its title). */
enum catalog_status {
    CATALOG_DRAFT,
    CATALOG_ACTIVE,
    CATALOG_SOLD_OUT,
    CATALOG_ARCHIVED,
    CATALOG_TAKEN_DOWN,
    CATALOG_SUSPENDED /* hidden while its seller is suspended */
};
struct catalog_brief {
    char product_id[IDS_UUID_LEN]; /* in: the product asked for */
    bool found;                    /* out: false for no such product (or a malformed id) */
    char seller_id[IDS_UUID_LEN];
    char title[CATALOG_TITLE_SIZE];
    enum catalog_status status;
};
/* Fills out[0..n) (product_id set by the caller) in one statement on c, the caller's
 * connection. Returns 0, or -1 when the database could not answer (logged). */
int catalog_product_briefs(struct db_conn *c, struct catalog_brief *out, size_t n);

/* For the admin module, inside its transaction on c (the primary), which also writes the audit
 * row. take_down: the product becomes 'taken_down' with takedown_reason = reason (out of
 * search, not buyable, 404 to all but its owner and admins, not editable by its owner) and
 * product.taken_down is emitted to the seller; otherwise (restore) it gets back the status it
 * had (active / sold_out following its stock). Either bumps the version. On DB_OK *product is
 * the Product JSON text (heap; free it) and *before / *after are new {status} objects.
 * DB_NOT_FOUND: no such product; DB_CONFLICT: already taken down or archived (take down), not
 * taken down (restore). */
enum db_status catalog_admin_moderate(struct db_conn *c, const char *id, bool take_down,
                                      const char *reason, char **product, json_t **before,
                                      json_t **after);

/* For the admin module, inside its transaction on c: hides (hide) the seller's listed products
 * (active, sold out) while the seller is suspended — status 'suspended', out of search, not
 * buyable, 404 to others — or turns back exactly the ones it hid. Bumps their versions.
 * *n: how many products changed. */
enum db_status catalog_admin_hide_seller(struct db_conn *c, const char *seller_id, bool hide,
                                         long long *n);

#endif
