/* Domain events of the catalog (payloads: docs/events.md), written with outbox_emit() in the
 * transaction of the change. */
#include <string.h>

#include "internal/catalog/internal.h"
#include "pkg/outbox/outbox.h"

/* product.published: product_id, seller_id, title, price_minor, currency. */
enum db_status catalog_emit_published(struct db_conn *c, const PGresult *res, int row)
{
    const char *id = PQgetvalue(res, row, CATALOG_COL_ID);
    json_t *p = json_pack("{s:s,s:s,s:s,s:I,s:s}", "product_id", id, "seller_id",
                          PQgetvalue(res, row, CATALOG_COL_SELLER_ID), "title",
                          PQgetvalue(res, row, CATALOG_COL_TITLE), "price_minor",
                          (json_int_t)catalog_col_ll(res, row, CATALOG_COL_PRICE_MINOR), "currency",
                          PQgetvalue(res, row, CATALOG_COL_CURRENCY));
    enum db_status st = outbox_emit(c, "product.published", id, p);
    json_decref(p);
    return st;
}

/* product.sold_out: product_id, seller_id, title. */
enum db_status catalog_emit_sold_out(struct db_conn *c, const PGresult *res, int row)
{
    const char *id = PQgetvalue(res, row, CATALOG_STOCK_ID);
    json_t *p = json_pack("{s:s,s:s,s:s}", "product_id", id, "seller_id",
                          PQgetvalue(res, row, CATALOG_STOCK_SELLER_ID), "title",
                          PQgetvalue(res, row, CATALOG_STOCK_TITLE));
    enum db_status st = outbox_emit(c, "product.sold_out", id, p);
    json_decref(p);
    return st;
}

enum db_status catalog_emit_if_sold_out(struct db_conn *c, const PGresult *res)
{
    if (strcmp(PQgetvalue(res, 0, CATALOG_STOCK_SOLD_OUT_NOW), "t") != 0)
        return DB_OK;
    return catalog_emit_sold_out(c, res, 0);
}
