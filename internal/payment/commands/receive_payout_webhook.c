/* POST /v1/payments/webhooks/razorpayx (RazorpayX; no auth; raw body), dispatched here by
 * payment_receive_webhook while HAAT_PAYOUT_PROVIDER is razorpayx: a payout's notification.
 *
 * X-Razorpay-Signature must be the hex HMAC-SHA256 of the raw body keyed with
 * HAAT_RAZORPAYX_WEBHOOK_SECRET (400 invalid_signature otherwise, nothing changes), and
 * X-Razorpay-Event-Id names the event. In one transaction the event is recorded with its raw
 * body under ("razorpayx", event id) — a repeated id answers 200 duplicate and changes nothing —
 * and applied forward-only through payout_apply: payout.processed -> paid, payout.failed and
 * payout.rejected -> failed, payout.reversed -> reversed (failed when it was never processed);
 * any other payout.* event is recorded as "ignored". The payout is found by reference_id (our
 * payout id), else by the provider's id. */
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/log/log.h"

#define SIG_HEADER   "X-Razorpay-Signature"
#define EVENT_HEADER "X-Razorpay-Event-Id"

struct hook {
    struct http_req *r;
    struct payment_event ev; /* id, type (for webhook_events) */
    bool known;              /* an event that moves a payout */
    enum payout_event kind;
    char ref[PAYMENT_REF_LEN];
    char reason[PAYOUT_REASON_LEN];
    const char *body;
    size_t len;
    const char *outcome;
};

static bool kind_of(const char *type, enum payout_event *k)
{
    if (strcmp(type, "payout.processed") == 0)
        *k = PAYOUT_EV_PROCESSED;
    else if (strcmp(type, "payout.failed") == 0 || strcmp(type, "payout.rejected") == 0)
        *k = PAYOUT_EV_FAILED;
    else if (strcmp(type, "payout.reversed") == 0)
        *k = PAYOUT_EV_REVERSED;
    else
        return false;
    return true;
}

/* The event's type, payout (reference_id, id) and reason; false when it is not a payout event. */
static bool parse(struct hook *x)
{
    json_t *doc = json_loadb(x->body, x->len, JSON_REJECT_DUPLICATES, NULL);
    json_t *po =
        json_object_get(json_object_get(json_object_get(doc, "payload"), "payout"), "entity");
    bool ok = json_is_object(po) && rzp_str_member(doc, "event", x->ev.type, sizeof x->ev.type) &&
              strncmp(x->ev.type, "payout.", 7) == 0;
    if (ok) {
        x->known = kind_of(x->ev.type, &x->kind);
        if (!rzp_str_member(po, "reference_id", x->ev.payment_id, sizeof x->ev.payment_id) ||
            !ids_is_uuid(x->ev.payment_id))
            x->ev.payment_id[0] = '\0';
        rzp_str_member(po, "id", x->ref, sizeof x->ref);
        payout_reason_of(po, x->reason, sizeof x->reason);
    }
    json_decref(doc);
    return ok;
}

static void reply(struct http_req *r, bool duplicate, const char *outcome)
{
    http_reply_json(
        r, 200,
        json_pack("{s:b,s:b,s:s}", "received", 1, "duplicate", duplicate, "outcome", outcome));
}

static enum db_status hook_txn(struct db_conn *c, void *arg)
{
    struct hook *x = arg;
    bool fresh = false;
    char id[IDS_UUID_LEN];
    snprintf(id, sizeof id, "%s", x->ev.payment_id);
    enum db_status st =
        id[0] || !x->ref[0] ? DB_OK : payout_repo_by_ref(c, "razorpayx", x->ref, id);
    if (st == DB_NOT_FOUND) {
        id[0] = '\0';
        st = DB_OK;
    }
    x->ev.payment_id[0] = '\0'; /* webhook_events.payment_id names payments only */
    if (st == DB_OK)
        st = payment_repo_event_insert(c, "razorpayx", &x->ev, x->body, x->len, "received", &fresh);
    x->outcome = "duplicate";
    if (st != DB_OK)
        return st;
    if (!fresh) {
        reply(x->r, true, x->outcome);
        return DB_OK;
    }
    x->outcome = !x->known ? "ignored" : "unknown_payout";
    if (x->known && id[0])
        st = payout_apply(c, id, x->kind, x->reason, &x->outcome);
    if (st == DB_OK)
        st = payment_repo_event_outcome(c, "razorpayx", x->ev.id, x->outcome);
    if (st == DB_OK)
        reply(x->r, false, x->outcome);
    return st;
}

void payment_receive_payout_webhook(struct http_req *r)
{
    struct hook x = {.r = r};
    x.body = http_req_body(r, &x.len);
    if (!rzp_signature_ok(payout_settings()->webhook_secret, http_req_header(r, SIG_HEADER), x.body,
                          x.len)) {
        log_warn("payment_webhook_signature",
                 "razorpayx webhook refused: bad or missing signature");
        http_reply_problem(r, 400, "invalid_signature",
                           "the signature is missing, wrong or too old");
        return;
    }
    const char *eid = http_req_header(r, EVENT_HEADER);
    if (!eid || !*eid || strlen(eid) >= sizeof x.ev.id || !parse(&x)) {
        http_reply_field(r, 400, "body", "is not an event of this provider");
        return;
    }
    snprintf(x.ev.id, sizeof x.ev.id, "%s", eid);
    enum db_status st = http_txn(r, hook_txn, &x);
    if (st != DB_OK)
        http_reply_db(r, st);
    else if (strcmp(x.outcome, "duplicate") != 0)
        payment_count_webhook("razorpayx", x.outcome);
}
