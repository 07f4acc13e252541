/* POST /v1/seller/payouts {amount_minor} (a seller; Idempotency-Key required): pays out
 * amount_minor of the caller's available balance to their payout destination. 201 with the
 * payout (status processing) and its Location (the payouts listing).
 *   409 insufficient_balance  amount_minor is more than the available balance
 *   409 invalid_state         the seller has no payout destination
 *   422                       amount_minor missing, not an integer, below 100 paise
 *
 * The balance is read with the seller's available account locked, and the money leaves it in
 * the same transaction that creates the payout (transfer payout:<id>, available -> in_transit):
 * concurrent payouts of one seller take turns on that lock, so none can spend the same rupee.
 * The provider is called later, by the send job, outside any transaction. */
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "internal/user/user.h"
#include <stdlib.h>

enum miss { MISS_NONE, MISS_BALANCE, MISS_DESTINATION };

struct create_body {
    int64_t amount_minor;
};

static const struct jsonh_field fields[] = {
    {.name = "amount_minor",
     .type = JSONH_INT,
     .flags = JSONH_REQUIRED,
     .min = PAYOUT_MIN_MINOR,
     .max = PAYOUT_MAX_MINOR,
     .offset = offsetof(struct create_body, amount_minor)},
    {.name = NULL},
};

struct create_ctx {
    struct http_req *r;
    const char *seller_id;
    int64_t amount_minor;
    enum miss miss;
    struct payout_row p;
};

/* The last 4 characters of s (all of it when shorter). */
static void last4(const char *s, char out[8])
{
    size_t n = s ? strlen(s) : 0;
    snprintf(out, 8, "%s", n > 4 ? s + n - 4 : (s ? s : ""));
}

/* The payout row: where it goes is copied as method and last 4 characters only. */
static bool build(struct create_ctx *x, struct db_conn *c)
{
    struct user_payout dest;
    struct payout_row *p = &x->p;
    memset(p, 0, sizeof *p);
    if (user_seller_payout(c, x->seller_id, &dest) != 0 || !dest.method)
        return false;
    ids_uuid7(p->id);
    snprintf(p->seller_id, sizeof p->seller_id, "%s", x->seller_id);
    p->amount_minor = x->amount_minor;
    snprintf(p->currency, sizeof p->currency, "INR");
    snprintf(p->status, sizeof p->status, "processing");
    snprintf(p->method, sizeof p->method, "%s", dest.method);
    last4(strcmp(dest.method, "upi") == 0 ? dest.upi_vpa : dest.account_number, p->last4);
    snprintf(p->provider, sizeof p->provider, "%s", payout_provider()->name);
    user_payout_cleanup(&dest);
    return p->last4[0] != '\0';
}

static enum db_status create_txn(struct db_conn *c, void *arg)
{
    struct create_ctx *x = arg;
    int64_t available = 0;
    char *json = NULL;
    enum db_status st = payout_repo_lock_available(c, x->seller_id, &available);
    if (st != DB_OK)
        return st;
    if (x->amount_minor > available) {
        x->miss = MISS_BALANCE;
        return DB_CHECK;
    }
    if (!build(x, c)) {
        x->miss = MISS_DESTINATION;
        return DB_CHECK;
    }
    st = payout_repo_insert(c, &x->p);
    if (st == DB_OK)
        st = payout_post(c, "payout", &x->p);
    if (st == DB_OK)
        st = payout_repo_json(c, x->p.id, x->seller_id, &json);
    if (st == DB_OK) {
        http_set_location(x->r, "/v1/seller/payouts");
        http_reply_bytes(x->r, 201, PAYOUT_JSON_TYPE, json, strlen(json));
    }
    free(json);
    return st;
}

void payment_create_payout(struct http_req *r)
{
    struct create_body b = {0};
    struct create_ctx x = {.r = r, .seller_id = http_req_principal(r)->user_id};
    if (!http_parse_or_reply(r, fields, &b))
        return;
    x.amount_minor = b.amount_minor;
    enum db_status st = http_txn(r, create_txn, &x);
    if (st == DB_OK)
        return;
    if (x.miss == MISS_BALANCE)
        http_reply_problem(r, 409, "insufficient_balance",
                           "the amount is more than your available balance");
    else if (x.miss == MISS_DESTINATION)
        http_reply_problem(r, 409, "invalid_state", "you have no payout destination");
    else
        http_reply_db(r, st);
}
