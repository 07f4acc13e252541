/* POST /v1/sandbox/payments/{id}/complete {outcome:"succeeded"|"failed"} (anyone, sandbox only):
 * what the checkout page's buttons do. The payment moves to processing and the sandbox queues
 * a signed webhook with the outcome, which its job then delivers to haat's webhook URL — the
 * path a real provider's notification takes. A payment already succeeded or refunded: 409
 * invalid_state. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/clock/clock.h"

static const char *const outcomes[] = {"succeeded", "failed", NULL};

struct complete_body {
    const char *outcome;
};

static const struct jsonh_field fields[] = {
    {.name = "outcome",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .one_of = outcomes,
     .offset = offsetof(struct complete_body, outcome)},
    {.name = NULL},
};

enum miss { MISS_NONE, MISS_NOT_FOUND, MISS_STATE };

struct complete_ctx {
    struct http_req *r;
    const char *id;
    const char *outcome;
    enum miss miss;
};

/* The event the provider would send (new string). */
static char *event_body(const struct payment_row *p, const char *event_id, const char *outcome)
{
    json_t *o = json_pack(
        "{s:s,s:s,s:I,s:{s:s,s:s,s:I,s:s}}", "id", event_id, "type",
        strcmp(outcome, "succeeded") == 0 ? "payment.succeeded" : "payment.failed", "created",
        (json_int_t)clock_unix_s(), "data", "payment_id", p->id, "provider_ref", p->provider_ref,
        "amount_minor", (json_int_t)p->amount_minor, "currency", p->currency);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static enum db_status complete_txn(struct db_conn *c, void *arg)
{
    struct complete_ctx *x = arg;
    struct payment_row p;
    enum db_status st = payment_repo_get(c, x->id, true, &p);
    if (st == DB_OK && strcmp(p.provider, "sandbox") != 0)
        st = DB_NOT_FOUND;
    if (st == DB_NOT_FOUND)
        x->miss = MISS_NOT_FOUND;
    if (st != DB_OK)
        return st;
    if (strcmp(p.status, "succeeded") == 0 || strcmp(p.status, "refunded") == 0) {
        x->miss = MISS_STATE;
        return DB_CHECK;
    }
    char row_id[IDS_UUID_LEN], uuid[IDS_UUID_LEN], event_id[48];
    ids_uuid7(row_id);
    ids_uuid7(uuid);
    snprintf(event_id, sizeof event_id, "evt_%s", uuid);
    char *body = event_body(&p, event_id, x->outcome);
    st = payment_repo_sandbox_enqueue(c, row_id, event_id, p.id, body);
    free(body);
    if (st == DB_OK && strcmp(p.status, "requires_action") == 0)
        st = payment_repo_set_status(c, p.id, "processing");
    if (st == DB_OK)
        http_reply_json(x->r, 200,
                        json_pack("{s:s,s:s,s:s}", "payment_id", p.id, "outcome", x->outcome,
                                  "event_id", event_id));
    return st;
}

void payment_complete_sandbox_payment(struct http_req *r)
{
    struct complete_ctx x = {.r = r};
    struct complete_body b = {0};
    x.id = http_uuid_param_or_reply(r, "id", "payment");
    if (!x.id || !http_parse_or_reply(r, fields, &b))
        return;
    x.outcome = b.outcome;
    enum db_status st = http_txn(r, complete_txn, &x);
    if (st == DB_OK)
        return;
    if (x.miss == MISS_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such payment");
    else if (x.miss == MISS_STATE)
        http_reply_problem(r, 409, "invalid_state", "the payment has already succeeded");
    else
        http_reply_db(r, st);
}
