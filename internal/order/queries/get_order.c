/* GET /v1/orders/{id} (its buyer or seller): 200 the order; the seller's view adds
 * commission_minor and seller_amount_minor. Anyone else, like an unknown id, gets 404. One
 * read on the read connection. */
#include <stdlib.h>
#include <string.h>

#include "internal/order/internal.h"

void order_get_order(struct http_req *r)
{
    const char *id = http_uuid_param_or_reply(r, "id", "order");
    if (!id)
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    char *json = NULL;
    enum db_status st = order_repo_json(c, id, http_req_principal(r)->user_id, &json);
    if (st == DB_OK)
        http_reply_bytes(r, 200, "application/json; charset=utf-8", json, strlen(json));
    else if (st == DB_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such order");
    else
        http_reply_db(r, st);
    free(json);
}
