/* GET /v1/products/{id}/stock/movements (owner): the product's stock changes, newest first:
 * {delta, reason, stock_after, order_id (null for manual changes), created_at}. Another
 * seller's product: 404. limit, cursor: keyset pages; a cursor is the caller's own. */
#include "internal/catalog/internal.h"

void catalog_list_movements(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    const char *id = http_uuid_param_or_reply(r, "id", "product");
    struct page_req page;
    struct catalog_page pg = {0};
    if (!id || !page_params_or_reply(r, CATALOG_LISTING_MOVEMENTS, who->user_id, &page))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    enum db_status st = catalog_repo_movements(c, id, who->user_id, &page, &pg);
    if (st == DB_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such product");
    else if (st != DB_OK)
        http_reply_db(r, st);
    else
        page_reply(r, catalog_movement_items(&pg), CATALOG_LISTING_MOVEMENTS, who->user_id,
                   pg.more ? &pg.next : NULL);
    PQclear(pg.res);
}
