/* The catalog's product and stock statements (tables products, stock_movements, categories).
 *
 * Every stock change is one statement: a guarded UPDATE (the guard keeps stock >= 0 under any
 * concurrency; PostgreSQL re-evaluates it on the newest row version after a concurrent
 * update) with the movement INSERT in a data-modifying CTE, and the status that follows stock
 * computed in the same UPDATE. A statement that matches no row changes nothing; callers then
 * probe to tell the client why (404 / 409 / 412 / 422). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/catalog/internal.h"
#include "internal/catalog/sql.h"
#include "pkg/util/xalloc.h"

/* status after stock changed by $3 (SET expressions read the row's old values). */
#define ADJUSTED_STATUS                                                             \
    "status = CASE WHEN status = 'active' AND stock + $3::int = 0 THEN 'sold_out' " \
    "WHEN status = 'sold_out' AND stock + $3::int > 0 THEN 'active' ELSE status END"

#define MOVEMENT_RETURN "SELECT " CATALOG_STOCK_COLS ", status = 'sold_out' FROM upd"

static const struct db_stmt stmts[] = {
    {"catalog_categories", "SELECT slug, name FROM categories ORDER BY position"},
    {"catalog_product_get",
     "SELECT " CATALOG_PRODUCT_COLS " FROM products p WHERE p.id = $1::uuid"},
    /* The initial stock is the product's first movement ("created"), so movements always sum
     * to the stock; none when it starts at 0 (a movement's delta is never 0). */
    {"catalog_product_insert",
     "WITH p AS (INSERT INTO products (id, seller_id, title, description, category, condition, "
     "price_minor, currency, stock, status, city, images) "
     "VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7::bigint, $8, $9::int, "
     "CASE WHEN $10::text = 'active' AND $9::int = 0 THEN 'sold_out' ELSE $10::text END, "
     "$11, $12::jsonb) RETURNING *), "
     "mv AS (INSERT INTO stock_movements (product_id, delta, reason, stock_after) "
     "SELECT id, stock, 'created', stock FROM p WHERE stock > 0) "
     "SELECT " CATALOG_PRODUCT_COLS " FROM p"},
    /* cur locks the row (the newest version) and remembers its status for the event. */
    {"catalog_product_update",
     "WITH cur AS (SELECT id, status FROM products WHERE id = $1::uuid AND seller_id = $2::uuid "
     "AND status NOT IN ('archived', 'taken_down', 'suspended') AND ($3::int[] IS NULL OR version "
     "= ANY ($3::int[])) FOR UPDATE) "
     "UPDATE products p SET title = COALESCE($4::text, p.title), "
     "description = CASE WHEN $5::bool THEN $6::text ELSE p.description END, "
     "category = COALESCE($7::text, p.category), condition = COALESCE($8::text, p.condition), "
     "price_minor = COALESCE($9::bigint, p.price_minor), "
     "currency = COALESCE($10::text, p.currency), city = COALESCE($11::text, p.city), "
     "images = COALESCE($12::jsonb, p.images), "
     "status = CASE WHEN $13::text IS NULL THEN p.status WHEN $13::text = 'draft' THEN 'draft' "
     "WHEN p.stock > 0 THEN 'active' ELSE 'sold_out' END, "
     "version = p.version + 1, updated_at = now() "
     "FROM cur WHERE p.id = cur.id RETURNING " CATALOG_PRODUCT_COLS ", cur.status"},
    /* A PATCH without an editable field: the update's guard and columns, nothing written. */
    {"catalog_product_current",
     "SELECT " CATALOG_PRODUCT_COLS ", p.status FROM products p WHERE p.id = $1::uuid "
     "AND p.seller_id = $2::uuid AND p.status NOT IN ('archived', 'taken_down', 'suspended') "
     "AND ($3::int[] IS NULL OR p.version = ANY ($3::int[]))"},
    {"catalog_product_archive",
     "WITH upd AS (UPDATE products SET status = 'archived', version = version + 1, "
     "updated_at = now() WHERE id = $1::uuid AND seller_id = $2::uuid "
     "AND status NOT IN ('archived', 'taken_down', 'suspended') RETURNING id, version) "
     "SELECT EXISTS (SELECT 1 FROM upd), "
     "EXISTS (SELECT 1 FROM products WHERE id = $1::uuid AND seller_id = $2::uuid), "
     "(SELECT version FROM upd)"},
    /* catalog_product_changed: the read caches' invalidation, delivered at commit. */
    {"catalog_product_changed",
     "SELECT pg_notify('" CATALOG_CHANNEL "', $1::uuid::text || ' ' || $2::bigint::text)"},
    {"catalog_product_probe",
     "SELECT seller_id, status, version, stock FROM products WHERE id = $1::uuid"},
    /* Manual adjustment: never below 0, never above the maximum when adding. */
    {"catalog_stock_adjust",
     "WITH upd AS (UPDATE products SET stock = stock + $3::int, " ADJUSTED_STATUS ", "
     "version = version + 1, updated_at = now() "
     "WHERE id = $1::uuid AND seller_id = $2::uuid AND status NOT IN ('archived', 'taken_down', "
     "'suspended') "
     "AND stock + $3::int >= 0 AND ($3::int < 0 OR stock + $3::int <= 1000000) "
     "RETURNING " CATALOG_STOCK_COLS "), "
     "mv AS (INSERT INTO stock_movements (product_id, delta, reason, stock_after) "
     "SELECT id, $3::int, $4::text, stock FROM upd) " MOVEMENT_RETURN},
    /* Set: cur locks the newest row version, so old stock and delta are exact; nothing is
     * written when the quantity already is the stock. */
    {"catalog_stock_set",
     "WITH cur AS (SELECT id, stock, version FROM products WHERE id = $1::uuid "
     "AND seller_id = $2::uuid AND status NOT IN ('archived', 'taken_down', 'suspended') "
     "AND ($5::int[] IS NULL OR version = ANY ($5::int[])) FOR UPDATE), "
     "upd AS (UPDATE products p SET stock = $3::int, "
     "status = CASE WHEN p.status = 'active' AND $3::int = 0 THEN 'sold_out' "
     "WHEN p.status = 'sold_out' AND $3::int > 0 THEN 'active' ELSE p.status END, "
     "version = p.version + 1, updated_at = now() FROM cur "
     "WHERE p.id = cur.id AND cur.stock <> $3::int "
     "RETURNING p.id, p.seller_id, p.title, p.price_minor, p.currency, p.stock, p.status, "
     "p.version, cur.stock AS old_stock), "
     "mv AS (INSERT INTO stock_movements (product_id, delta, reason, stock_after) "
     "SELECT id, stock - old_stock, $4::text, stock FROM upd) "
     "SELECT cur.id, upd.seller_id, upd.title, upd.price_minor, upd.currency, "
     "COALESCE(upd.stock, cur.stock), upd.status, COALESCE(upd.version, cur.version), "
     "COALESCE(upd.status = 'sold_out', false), upd.id IS NOT NULL "
     "FROM cur LEFT JOIN upd ON true"},
    /* Orders (catalog_stock_take / _return), inside the order module's transaction. */
    {"catalog_stock_take",
     "WITH upd AS (UPDATE products SET stock = stock - $2::int, "
     "status = CASE WHEN stock - $2::int = 0 THEN 'sold_out' ELSE status END, "
     "version = version + 1, updated_at = now() "
     "WHERE id = $1::uuid AND status = 'active' AND stock >= $2::int "
     "RETURNING " CATALOG_STOCK_COLS "), "
     "mv AS (INSERT INTO stock_movements (product_id, delta, reason, stock_after, order_id) "
     "SELECT id, -$2::int, 'order', stock, $3::uuid FROM upd) " MOVEMENT_RETURN},
    {"catalog_stock_return",
     "WITH upd AS (UPDATE products SET stock = stock + $2::int, "
     "status = CASE WHEN status = 'sold_out' THEN 'active' ELSE status END, "
     "version = version + 1, updated_at = now() WHERE id = $1::uuid AND NOT EXISTS "
     "(SELECT 1 FROM stock_movements WHERE order_id = $3::uuid AND product_id = $1::uuid "
     "AND delta > 0) RETURNING " CATALOG_STOCK_COLS "), "
     "mv AS (INSERT INTO stock_movements (product_id, delta, reason, stock_after, order_id) "
     "SELECT id, $2::int, 'order cancelled', stock, $3::uuid FROM upd) " MOVEMENT_RETURN},
    {"catalog_active_count",
     "SELECT count(*) FROM products WHERE seller_id = $1::uuid AND status = 'active'"},
    /* Other modules' product look-ups (catalog_product_briefs), ids as a uuid[] text. */
    {"catalog_product_briefs",
     "SELECT id, seller_id, title, status FROM products WHERE id = ANY ($1::uuid[])"},
};

/* Result columns of catalog_categories. */
enum category_col { CATEGORY_SLUG, CATEGORY_NAME };
/* Result columns of catalog_product_archive. */
enum archive_col { ARCHIVE_ARCHIVED_NOW, ARCHIVE_OWNED, ARCHIVE_VERSION };
/* Result columns of catalog_product_probe. */
enum probe_col { PROBE_SELLER_ID, PROBE_STATUS, PROBE_VERSION, PROBE_STOCK };
/* Result columns of catalog_active_count. */
enum count_col { COUNT_N };
/* Result columns of catalog_product_briefs. */
enum brief_col { BRIEF_ID, BRIEF_SELLER_ID, BRIEF_TITLE, BRIEF_STATUS };

const struct db_stmt *catalog_repo_statements(size_t *n)
{
    *n = sizeof stmts / sizeof stmts[0];
    return stmts;
}

void catalog_repo_register(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

enum catalog_status catalog_status_parse(const char *s)
{
    static const char *const names[] = {"draft",    "active",     "sold_out",
                                        "archived", "taken_down", "suspended"};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return (enum catalog_status)i;
    return CATALOG_ARCHIVED;
}

/* DB_NOT_FOUND (and *res cleared) when a statement that went well returned no row. */
static enum db_status row_or_not_found(enum db_status st, PGresult **res)
{
    if (st != DB_OK || PQntuples(*res) > 0)
        return st;
    PQclear(*res);
    *res = NULL;
    return DB_NOT_FOUND;
}

enum db_status catalog_repo_categories(struct db_conn *c, struct catalog_category **out, size_t *n)
{
    PGresult *res = NULL;
    *out = NULL;
    *n = 0;
    enum db_status st = db_exec(c, "catalog_categories", 0, NULL, &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res);
    *out = xcalloc((size_t)rows + 1, sizeof **out);
    for (int i = 0; i < rows; i++) {
        (*out)[i].slug = db_col_strdup(res, i, CATEGORY_SLUG);
        (*out)[i].name = db_col_strdup(res, i, CATEGORY_NAME);
    }
    *n = (size_t)rows;
    PQclear(res);
    return DB_OK;
}

enum db_status catalog_repo_get(struct db_conn *c, const char *id, PGresult **out)
{
    const char *p[] = {id};
    return row_or_not_found(db_exec(c, "catalog_product_get", DB_PARAMS(p), out), out);
}

enum db_status catalog_repo_insert(struct db_conn *c, const char *id, const char *seller_id,
                                   const struct catalog_product_input *in, PGresult **out,
                                   bool *published)
{
    char price[24], stock[24];
    snprintf(price, sizeof price, "%lld", (long long)in->price_minor);
    snprintf(stock, sizeof stock, "%lld", (long long)in->stock);
    char *images = catalog_images_text(in->images);
    const char *p[] = {id,    seller_id,    in->title, in->description, in->category, in->condition,
                       price, in->currency, stock,     in->status,      in->city,     images};
    enum db_status st =
        row_or_not_found(db_exec(c, "catalog_product_insert", DB_PARAMS(p), out), out);
    free(images);
    if (st == DB_OK)
        st = catalog_product_changed(c, id, db_col_ll(*out, 0, CATALOG_COL_VERSION));
    *published = st == DB_OK &&
                 catalog_status_parse(db_col_str(*out, 0, CATALOG_COL_STATUS)) != CATALOG_DRAFT;
    return st;
}

/* True when the PATCH names no editable field. */
static bool patch_empty(const struct catalog_product_input *in)
{
    return !in->title && !in->description_set && !in->category && !in->condition &&
           !in->has_price && !in->currency && !in->city && !in->images && !in->status;
}

enum db_status catalog_repo_update(struct db_conn *c, const char *id, const char *seller_id,
                                   const char *versions, const struct catalog_product_input *in,
                                   PGresult **out, bool *published)
{
    *published = false;
    if (patch_empty(in)) {
        const char *p[] = {id, seller_id, versions};
        return row_or_not_found(db_exec(c, "catalog_product_current", DB_PARAMS(p), out), out);
    }
    char price[24];
    snprintf(price, sizeof price, "%lld", (long long)in->price_minor);
    char *images = in->images ? catalog_images_text(in->images) : NULL;
    const char *p[] = {id,
                       seller_id,
                       versions,
                       in->title,
                       in->description_set ? "t" : "f",
                       in->description,
                       in->category,
                       in->condition,
                       in->has_price ? price : NULL,
                       in->currency,
                       in->city,
                       images,
                       in->status};
    enum db_status st =
        row_or_not_found(db_exec(c, "catalog_product_update", DB_PARAMS(p), out), out);
    free(images);
    if (st == DB_OK)
        st = catalog_product_changed(c, id, db_col_ll(*out, 0, CATALOG_COL_VERSION));
    *published =
        st == DB_OK &&
        catalog_status_parse(db_col_str(*out, 0, CATALOG_COL_OLD_STATUS)) == CATALOG_DRAFT &&
        catalog_status_parse(db_col_str(*out, 0, CATALOG_COL_STATUS)) != CATALOG_DRAFT;
    return st;
}

enum db_status catalog_repo_archive(struct db_conn *c, const char *id, const char *seller_id)
{
    PGresult *res = NULL;
    const char *p[] = {id, seller_id};
    enum db_status st = db_exec(c, "catalog_product_archive", DB_PARAMS(p), &res);
    if (st == DB_OK && !db_col_bool(res, 0, ARCHIVE_OWNED))
        st = DB_NOT_FOUND;
    if (st == DB_OK && db_col_bool(res, 0, ARCHIVE_ARCHIVED_NOW))
        st = catalog_product_changed(c, id, db_col_ll(res, 0, ARCHIVE_VERSION));
    PQclear(res);
    return st;
}

enum db_status catalog_repo_probe(struct db_conn *c, const char *id, struct catalog_probe *out)
{
    PGresult *res = NULL;
    const char *p[] = {id};
    memset(out, 0, sizeof *out);
    enum db_status st = db_exec(c, "catalog_product_probe", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) > 0) {
        out->found = true;
        db_col_copy(res, 0, PROBE_SELLER_ID, out->seller_id, sizeof out->seller_id);
        out->status = catalog_status_parse(db_col_str(res, 0, PROBE_STATUS));
        out->version = db_col_ll(res, 0, PROBE_VERSION);
        out->stock = db_col_ll(res, 0, PROBE_STOCK);
    }
    PQclear(res);
    return st;
}

/* Runs a stock statement and reads its first row into out; DB_NOT_FOUND when it changed
 * nothing. */
static enum db_status stock_exec(struct db_conn *c, const char *stmt, int n, const char *const *p,
                                 struct catalog_stock_row *out)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(c, stmt, n, p, &res);
    memset(out, 0, sizeof *out);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK) {
        db_col_copy(res, 0, CATALOG_STOCK_ID, out->id, sizeof out->id);
        db_col_copy(res, 0, CATALOG_STOCK_SELLER_ID, out->seller_id, sizeof out->seller_id);
        db_col_copy(res, 0, CATALOG_STOCK_TITLE, out->title, sizeof out->title);
        db_col_copy(res, 0, CATALOG_STOCK_CURRENCY, out->currency, sizeof out->currency);
        out->price_minor = db_col_ll(res, 0, CATALOG_STOCK_PRICE_MINOR);
        out->stock = db_col_ll(res, 0, CATALOG_STOCK_STOCK);
        out->version = db_col_ll(res, 0, CATALOG_STOCK_VERSION);
        out->sold_out_now = db_col_bool(res, 0, CATALOG_STOCK_SOLD_OUT_NOW);
    }
    PQclear(res);
    if (st == DB_OK)
        st = catalog_product_changed(c, out->id, out->version);
    return st;
}

enum db_status catalog_repo_adjust(struct db_conn *c, const char *id, const char *seller_id,
                                   int delta, const char *reason, struct catalog_stock_row *out)
{
    char d[16];
    snprintf(d, sizeof d, "%d", delta);
    const char *p[] = {id, seller_id, d, reason};
    return stock_exec(c, "catalog_stock_adjust", DB_PARAMS(p), out);
}

enum db_status catalog_repo_set_stock(struct db_conn *c, const char *id, const char *seller_id,
                                      int quantity, const char *reason, const char *versions,
                                      struct catalog_stock_row *out)
{
    char q[16];
    snprintf(q, sizeof q, "%d", quantity);
    const char *p[] = {id, seller_id, q, reason, versions};
    return stock_exec(c, "catalog_stock_set", DB_PARAMS(p), out);
}

enum db_status catalog_repo_take(struct db_conn *c, const char *id, int quantity,
                                 const char *order_id, struct catalog_stock_row *out)
{
    char q[16];
    snprintf(q, sizeof q, "%d", quantity);
    const char *p[] = {id, q, order_id};
    return stock_exec(c, "catalog_stock_take", DB_PARAMS(p), out);
}

enum db_status catalog_repo_return(struct db_conn *c, const char *id, int quantity,
                                   const char *order_id)
{
    PGresult *res = NULL;
    char q[16];
    snprintf(q, sizeof q, "%d", quantity);
    const char *p[] = {id, q, order_id};
    enum db_status st =
        row_or_not_found(db_exec(c, "catalog_stock_return", DB_PARAMS(p), &res), &res);
    if (st == DB_OK)
        st = catalog_product_changed(c, id, db_col_ll(res, 0, CATALOG_STOCK_VERSION));
    PQclear(res);
    return st;
}

enum db_status catalog_product_changed(struct db_conn *c, const char *id, long long version)
{
    char v[24];
    snprintf(v, sizeof v, "%lld", version);
    const char *p[] = {id, v};
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "catalog_product_changed", DB_PARAMS(p), &res);
    PQclear(res);
    /* This process's own cache at once, so its next read after the commit is the new
     * version (the NOTIFY comes back milliseconds later). The tombstone's version refuses
     * fills of the old one meanwhile; should the transaction roll back, it only keeps the
     * product out of the cache until its next change. */
    if (st == DB_OK)
        catalog_cache_invalidate(id, version);
    return st;
}

enum db_status catalog_repo_active_count(struct db_conn *c, const char *seller_id, long long *out)
{
    PGresult *res = NULL;
    const char *p[] = {seller_id};
    enum db_status st = db_exec(c, "catalog_active_count", DB_PARAMS(p), &res);
    *out = st == DB_OK ? db_col_ll(res, 0, COUNT_N) : 0;
    PQclear(res);
    return st;
}

/* Fills the entries of out whose product_id matches a row of res. */
static void fill_briefs(const PGresult *res, struct catalog_brief *out, size_t n)
{
    for (int row = 0; row < PQntuples(res); row++) {
        const char *id = db_col_str(res, row, BRIEF_ID);
        for (size_t i = 0; i < n; i++) {
            if (out[i].found || strcmp(out[i].product_id, id) != 0)
                continue;
            out[i].found = true;
            db_col_copy(res, row, BRIEF_SELLER_ID, out[i].seller_id, sizeof out[i].seller_id);
            db_col_copy(res, row, BRIEF_TITLE, out[i].title, sizeof out[i].title);
            out[i].status = catalog_status_parse(db_col_str(res, row, BRIEF_STATUS));
        }
    }
}

enum db_status catalog_repo_briefs(struct db_conn *c, struct catalog_brief *out, size_t n)
{
    struct strbuf ids;
    strbuf_init(&ids);
    strbuf_append(&ids, "{", 1);
    for (size_t i = 0, k = 0; i < n; i++) {
        out[i].found = false;
        if (!ids_is_uuid(out[i].product_id))
            continue;
        strbuf_printf(&ids, "%s%s", k++ ? "," : "", out[i].product_id);
    }
    strbuf_append(&ids, "}", 1);
    PGresult *res = NULL;
    const char *p[] = {ids.buf};
    enum db_status st = db_exec(c, "catalog_product_briefs", DB_PARAMS(p), &res);
    if (st == DB_OK)
        fill_briefs(res, out, n);
    PQclear(res);
    strbuf_cleanup(&ids);
    return st;
}
