/* GET /v1/seller/products (seller): the caller's own products, drafts included, newest first.
 * ?status=draft|active|sold_out|archived filters; without it every status but archived
 * (deleted) is listed. limit, cursor: keyset pages. */
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
    struct catalog_cursor after;
    bool has_cursor = false;
    int limit = 0;
    struct jsonh_errors e;
    PGresult *res = NULL;
    jsonh_errors_init(&e);
    if (!status_ok(status))
        jsonh_errors_add(&e, "status", "must be one of: draft, active, sold_out, archived");
    catalog_page_params(r, 's', &limit, &after, &has_cursor, &e);
    if (jsonh_errors_any(&e)) {
        catalog_reply_invalid(r, &e);
        goto out;
    }
    enum db_status st =
        catalog_repo_seller_products(who->user_id, status, has_cursor ? &after : NULL, limit, &res);
    if (st != DB_OK) {
        catalog_reply_db(r, st);
        goto out;
    }
    int rows = PQntuples(res);
    int n = rows > limit ? limit : rows;
    struct catalog_cursor next = {.kind = 's'};
    if (rows > limit) {
        next.key = catalog_col_ll(res, n - 1, CATALOG_COL_COUNT);
        strncpy(next.id, PQgetvalue(res, n - 1, CATALOG_COL_ID), sizeof next.id - 1);
    }
    catalog_reply_products(r, res, n, rows > limit ? &next : NULL);
out:
    PQclear(res);
    jsonh_errors_cleanup(&e);
}
