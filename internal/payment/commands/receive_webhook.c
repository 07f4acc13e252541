/* POST /v1/payments/webhooks/{provider} (the provider; no auth; raw body): a provider's
 * notification about a payment.
 *
 * The signature is checked first: bad, missing or stale -> 400 invalid_signature and nothing
 * changes. Then, in one transaction: the event is recorded with its raw body under (provider,
 * event id) — a repeated id answers 200 and changes nothing — and applied forward-only
 * (payment_apply_event). An amount or currency that differs from the payment's is refused
 * (422 amount_mismatch), logged and counted; the event is kept with outcome "mismatch". */
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/clock/clock.h"
#include "pkg/log/log.h"

struct webhook_ctx {
    struct http_req *r;
    const char *provider;
    const struct payment_event *ev;
    const char *body;
    size_t len;
    const char *outcome;
};

static const char *header(void *ctx, const char *name)
{
    return http_req_header(ctx, name);
}

static void reply(struct webhook_ctx *x, bool duplicate)
{
    if (!duplicate && strcmp(x->outcome, "mismatch") == 0) {
        http_reply_problem(x->r, 422, "amount_mismatch",
                           "the amount or currency differ from the payment's");
        return;
    }
    http_reply_json(
        x->r, 200,
        json_pack("{s:b,s:b,s:s}", "received", 1, "duplicate", duplicate, "outcome", x->outcome));
}

static enum db_status webhook_txn(struct db_conn *c, void *arg)
{
    struct webhook_ctx *x = arg;
    bool fresh = false;
    enum db_status st =
        payment_record_event(c, x->provider, x->ev, x->body, x->len, &x->outcome, &fresh);
    if (st == DB_OK)
        reply(x, !fresh);
    return st;
}

void payment_receive_webhook(struct http_req *r)
{
    const char *name = http_req_param(r, "provider");
    const struct payment_provider *pv = payment_provider();
    if (name && strcmp(name, payout_provider()->name) == 0 && strcmp(name, "sandbox") != 0) {
        payment_receive_payout_webhook(r); /* the payout provider's (razorpayx) */
        return;
    }
    if (!pv || !name || strcmp(pv->name, name) != 0) {
        http_reply_problem(r, 404, "not_found", "no such payment provider");
        return;
    }
    struct payment_event ev;
    struct webhook_ctx x = {.r = r, .provider = pv->name, .ev = &ev};
    x.body = http_req_body(r, &x.len);
    enum payment_verdict v = pv->parse_webhook(header, r, x.body, x.len, clock_unix_s(), &ev);
    if (v == PAYMENT_WEBHOOK_BAD_SIGNATURE) {
        log_warn("payment_webhook_signature", "%s webhook refused: bad, missing or stale signature",
                 pv->name);
        http_reply_problem(r, 400, "invalid_signature",
                           "the signature is missing, wrong or too old");
        return;
    }
    if (v != PAYMENT_WEBHOOK_OK) {
        http_reply_field(r, 400, "body", "is not an event of this provider");
        return;
    }
    enum db_status st = http_txn(r, webhook_txn, &x);
    if (st != DB_OK)
        http_reply_db(r, st);
    else if (strcmp(x.outcome, "mismatch") == 0)
        payment_count_mismatch(pv->name);
    else if (strcmp(x.outcome, "duplicate") != 0)
        payment_count_webhook(pv->name, x.outcome);
}
