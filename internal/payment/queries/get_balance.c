/* GET /v1/seller/balance (a seller): {currency, pending_minor, available_minor,
 * in_transit_minor, paid_out_minor}, what the platform owes the caller in each state, from the
 * ledger's accounts in one statement. */
#include "internal/payment/internal.h"

void payment_get_balance(struct http_req *r)
{
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    struct payment_balance b;
    enum db_status st = payment_repo_balance(c, http_req_principal(r)->user_id, &b);
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    http_reply_json(r, 200,
                    json_pack("{s:s,s:I,s:I,s:I,s:I}", "currency", b.currency, "pending_minor",
                              (json_int_t)b.pending_minor, "available_minor",
                              (json_int_t)b.available_minor, "in_transit_minor",
                              (json_int_t)b.in_transit_minor, "paid_out_minor",
                              (json_int_t)b.paid_out_minor));
}
