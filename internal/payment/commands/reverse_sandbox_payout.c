/* POST /v1/sandbox/payouts/{id}/reverse (sandbox provider only; no auth, like the sandbox's
 * checkout routes): the sandbox's bank sends a paid payout back, as RazorpayX's
 * payout.reversed does. Applied through payout_apply, the path of every provider outcome.
 * 200 with the payout (status reversed; the money is back in the seller's available balance).
 *   404 not_found      no such payout
 *   409 invalid_state  the payout is not paid (only a paid payout can be reversed) */
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"

enum miss { MISS_NONE, MISS_NOT_FOUND, MISS_STATE };

struct reverse_ctx {
    struct http_req *r;
    const char *id;
    enum miss miss;
};

static enum db_status reverse_txn(struct db_conn *c, void *arg)
{
    struct reverse_ctx *x = arg;
    const char *outcome = NULL;
    char *json = NULL;
    enum db_status st =
        payout_apply(c, x->id, PAYOUT_EV_REVERSED, "sandbox: reversed on demand", &outcome);
    if (st != DB_OK)
        return st;
    if (strcmp(outcome, "reversed") != 0) {
        x->miss = strcmp(outcome, "unknown_payout") == 0 ? MISS_NOT_FOUND : MISS_STATE;
        return DB_CHECK;
    }
    st = payout_repo_json(c, x->id, NULL, &json);
    if (st == DB_OK)
        http_reply_bytes(x->r, 200, PAYOUT_JSON_TYPE, json, strlen(json));
    free(json);
    return st;
}

void payment_reverse_sandbox_payout(struct http_req *r)
{
    struct reverse_ctx x = {.r = r};
    x.id = http_uuid_param_or_reply(r, "id", "payout");
    if (!x.id)
        return;
    enum db_status st = http_txn(r, reverse_txn, &x);
    if (st == DB_OK)
        return;
    if (x.miss == MISS_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such payout");
    else if (x.miss == MISS_STATE)
        http_reply_problem(r, 409, "invalid_state", "only a paid payout can be reversed");
    else
        http_reply_db(r, st);
}
