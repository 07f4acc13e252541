/* GET /v1/products/{id}/stock/movements (owner): the product's stock changes, newest first:
 * {delta, reason, stock_after, order_id (null for manual changes), created_at}. Another
 * seller's product: 404. limit, cursor: keyset pages. */
#include <stdint.h>

#include "internal/catalog/internal.h"

enum { M_PRODUCT, M_DELTA, M_REASON, M_STOCK_AFTER, M_ORDER_ID, M_CREATED_AT, M_ID };

static json_t *movement_json(const PGresult *res, int i)
{
    return json_pack("{s:I,s:s,s:I,s:o,s:s}", "delta", (json_int_t)catalog_col_ll(res, i, M_DELTA),
                     "reason", PQgetvalue(res, i, M_REASON), "stock_after",
                     (json_int_t)catalog_col_ll(res, i, M_STOCK_AFTER), "order_id",
                     PQgetisnull(res, i, M_ORDER_ID) ? json_null()
                                                     : json_string(PQgetvalue(res, i, M_ORDER_ID)),
                     "created_at", PQgetvalue(res, i, M_CREATED_AT));
}

void catalog_list_movements(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    const char *id = catalog_path_id_or_reply(r);
    struct catalog_cursor after;
    bool has_cursor = false;
    int limit = 0;
    struct jsonh_errors e;
    PGresult *res = NULL;
    jsonh_errors_init(&e);
    if (!id)
        goto out;
    catalog_page_params(r, 'm', &limit, &after, &has_cursor, &e);
    if (jsonh_errors_any(&e)) {
        catalog_reply_invalid(r, &e);
        goto out;
    }
    enum db_status st =
        catalog_repo_movements(id, who->user_id, has_cursor ? after.key : INT64_MAX, limit, &res);
    if (st != DB_OK) {
        catalog_reply_db(r, st);
        goto out;
    }
    int rows = PQntuples(res);
    if (rows == 0) {
        http_reply_problem(r, 404, "not_found", "no such product");
        goto out;
    }
    if (PQgetisnull(res, 0, M_ID))
        rows = 0; /* the product, without movements (on this page) */
    int n = rows > limit ? limit : rows;
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, movement_json(res, i));
    struct catalog_cursor next = {.kind = 'm', .key = n ? catalog_col_ll(res, n - 1, M_ID) : 0};
    catalog_reply_page(r, items, rows > limit ? &next : NULL);
out:
    PQclear(res);
    jsonh_errors_cleanup(&e);
}
