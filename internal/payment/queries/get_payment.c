/* GET /v1/payments/{id} (the order's buyer or seller; anyone else 404, as for an unknown id). */
#include <string.h>

#include "internal/payment/internal.h"

void payment_get_payment(struct http_req *r)
{
    const char *id = http_uuid_param_or_reply(r, "id", "payment");
    if (!id)
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    const struct http_principal *who = http_req_principal(r);
    struct payment_row p;
    enum db_status st = payment_repo_get(c, id, false, &p);
    bool party = st == DB_OK &&
                 (strcmp(p.buyer_id, who->user_id) == 0 || strcmp(p.seller_id, who->user_id) == 0);
    if (st == DB_NOT_FOUND || (st == DB_OK && !party))
        http_reply_problem(r, 404, "not_found", "no such payment");
    else if (st != DB_OK)
        http_reply_db(r, st);
    else
        http_reply_json(r, 200, payment_json(&p));
}
