/* SQL of the operators' product actions (table products): take down and restore. Both lock
 * the row, bump the version (readers' caches key on it), tell the read caches
 * (catalog_product_changed) and answer the product. */
#include <string.h>

#include "internal/catalog/internal.h"
#include "internal/catalog/sql.h"
#include "pkg/outbox/outbox.h"

enum lock_col { LOCK_STATUS, LOCK_SELLER, LOCK_TITLE, LOCK_REASON };

/* clang-format off */
static const struct db_stmt stmts[] = {
    {"catalog_admin_lock",
     "SELECT status, seller_id::text, title, takedown_reason FROM products "
     "WHERE id = $1::uuid FOR UPDATE"},
    {"catalog_admin_takedown",
     "UPDATE products p SET status_before_takedown = p.status, status = 'taken_down', "
     "takedown_reason = $2, version = p.version + 1, updated_at = now() "
     "WHERE p.id = $1::uuid AND p.status IN ('draft', 'active', 'sold_out') "
     "RETURNING " CATALOG_PRODUCT_COLS},
    /* active / sold_out follow the stock, which orders' cancellations may have given back. */
    {"catalog_admin_restore",
     "UPDATE products p SET status = CASE WHEN p.status_before_takedown = 'draft' THEN 'draft' "
     "WHEN p.stock > 0 THEN 'active' ELSE 'sold_out' END, status_before_takedown = NULL, "
     "takedown_reason = NULL, version = p.version + 1, updated_at = now() "
     "WHERE p.id = $1::uuid AND p.status = 'taken_down' RETURNING " CATALOG_PRODUCT_COLS},
    {"catalog_admin_hide_seller",
     "WITH upd AS (UPDATE products SET status_before_suspension = status, status = 'suspended', "
     "version = version + 1, updated_at = now() WHERE seller_id = $1::uuid "
     "AND status IN ('active', 'sold_out') RETURNING id::text, version) SELECT * FROM upd"},
    {"catalog_admin_unhide_seller",
     "WITH upd AS (UPDATE products SET status = CASE WHEN stock > 0 THEN 'active' "
     "ELSE 'sold_out' END, status_before_suspension = NULL, version = version + 1, "
     "updated_at = now() WHERE seller_id = $1::uuid AND status = 'suspended' "
     "RETURNING id::text, version) SELECT * FROM upd"},
};
/* clang-format on */

void catalog_repo_register_admin(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

/* product.taken_down: product_id, seller_id, title, reason (to the seller). */
static enum db_status emit_taken_down(struct db_conn *c, const char *id, const PGresult *lock,
                                      const char *reason)
{
    json_t *p = json_pack("{s:s,s:s,s:s,s:s}", "product_id", id, "seller_id",
                          db_col_str(lock, 0, LOCK_SELLER), "title",
                          db_col_str(lock, 0, LOCK_TITLE), "reason", reason);
    enum db_status st = outbox_emit(c, "product.taken_down", id, p);
    json_decref(p);
    return st;
}

enum db_status catalog_admin_moderate(struct db_conn *c, const char *id, bool take_down,
                                      const char *reason, char **product, json_t **before,
                                      json_t **after)
{
    const char *p[] = {id};
    PGresult *lock = NULL, *res = NULL;
    enum db_status st = db_exec(c, "catalog_admin_lock", DB_PARAMS(p), &lock);
    if (st == DB_OK && PQntuples(lock) == 0)
        st = DB_NOT_FOUND;
    if (st != DB_OK)
        goto out;
    const char *was = db_col_str(lock, 0, LOCK_STATUS);
    /* Archived is deleted; taking down twice or restoring what is up is a state conflict. */
    if (take_down ? strcmp(was, "taken_down") == 0 || strcmp(was, "archived") == 0
                  : strcmp(was, "taken_down") != 0) {
        st = DB_CONFLICT;
        goto out;
    }
    if (take_down) {
        const char *q[] = {id, reason};
        st = db_exec(c, "catalog_admin_takedown", DB_PARAMS(q), &res);
    } else {
        st = db_exec(c, "catalog_admin_restore", DB_PARAMS(p), &res);
    }
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_CONFLICT;
    if (st == DB_OK)
        st = catalog_product_changed(c, id, db_col_ll(res, 0, CATALOG_COL_VERSION));
    if (st == DB_OK && take_down)
        st = emit_taken_down(c, id, lock, reason);
    if (st != DB_OK)
        goto out;
    *before = json_pack("{s:s}", "status", was);
    *after = json_pack("{s:s}", "status", db_col_str(res, 0, CATALOG_COL_STATUS));
    struct strbuf sb;
    strbuf_init(&sb);
    catalog_product_write(&sb, res, 0);
    *product = strbuf_detach(&sb, NULL);
out:
    PQclear(lock);
    PQclear(res);
    return st;
}

enum db_status catalog_admin_hide_seller(struct db_conn *c, const char *seller_id, bool hide,
                                         long long *n)
{
    const char *p[] = {seller_id};
    PGresult *res = NULL;
    enum db_status st = db_exec(
        c, hide ? "catalog_admin_hide_seller" : "catalog_admin_unhide_seller", DB_PARAMS(p), &res);
    /* Every product hidden or shown leaves the read caches (one NOTIFY each, at commit). */
    for (int i = 0; st == DB_OK && i < PQntuples(res); i++)
        st = catalog_product_changed(c, db_col_str(res, i, 0), db_col_ll(res, i, 1));
    if (st == DB_OK)
        *n = PQntuples(res);
    PQclear(res);
    return st;
}
