/* GET /v1/seller/products (seller): the caller's own products, drafts included, newest first.
 * ?status=draft|active|sold_out|archived filters; without it every status but archived
 * (deleted) is listed. limit, cursor: keyset pages; a cursor is the caller's own. */
#include <string.h>

#include "internal/catalog/internal.h"

static bool status_ok(const char *s)
{
    return !s || strcmp(s, "draft") == 0 || strcmp(s, "active") == 0 ||
           strcmp(s, "sold_out") == 0 || strcmp(s, "archived") == 0;
}

void catalog_list_seller_products(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    const char *status = http_req_query(r, "status");
    struct page_req page;
    struct catalog_page pg = {0};
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    if (!status_ok(status))
        jsonh_errors_add(&e, "status", "must be one of: draft, active, sold_out, archived");
    page_params(r, CATALOG_LISTING_SELLER_PRODUCTS, who->user_id, &page, &e);
    if (!http_errors_or_reply(r, &e))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    enum db_status st = catalog_repo_seller_products(c, who->user_id, status, &page, &pg);
    if (st != DB_OK)
        http_reply_db(r, st);
    else
        catalog_reply_products(r, &pg, CATALOG_LISTING_SELLER_PRODUCTS, who->user_id);
    PQclear(pg.res);
}
