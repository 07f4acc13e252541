/* Domain events of the catalog (payloads: docs/events.md), written with outbox_emit() in the
 * transaction of the change. */
#include "internal/catalog/internal.h"
#include "pkg/outbox/outbox.h"

/* product.published: product_id, seller_id, title, price_minor, currency. */
enum db_status catalog_emit_published(struct db_conn *c, const PGresult *res, int row)
{
    json_t *p = catalog_published_payload(res, row);
    enum db_status st =
        outbox_emit(c, "product.published", json_string_value(json_object_get(p, "product_id")), p);
    json_decref(p);
    return st;
}

/* product.sold_out: product_id, seller_id, title. */
enum db_status catalog_emit_if_sold_out(struct db_conn *c, const struct catalog_stock_row *row)
{
    if (!row->sold_out_now)
        return DB_OK;
    json_t *p = json_pack("{s:s,s:s,s:s}", "product_id", row->id, "seller_id", row->seller_id,
                          "title", row->title);
    enum db_status st = outbox_emit(c, "product.sold_out", row->id, p);
    json_decref(p);
    return st;
}
