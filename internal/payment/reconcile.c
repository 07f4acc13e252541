/* Reconciliation (PAYMENT_JOB_RECONCILE, razorpay only): a payment still requires_action or
 * processing HAAT_PAYMENT_RECONCILE_AFTER_S after it was last touched is looked up at the
 * provider (fetch_state, outside any transaction), and a decided state is applied as the
 * event "reconcile:<payment id>:<status>" through payment_record_event, the webhooks' own
 * path: a lost webhook still ends with the order paid and the capture posted once (a webhook
 * arriving later is applied forward-only and changes nothing). A payment the provider still
 * calls pending is asked again after the same delay. */
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/log/log.h"

struct claim_ctx {
    const char *provider;
    struct payment_reconcile_claim claim;
    bool found;
};

static enum db_status claim_txn(struct db_conn *c, void *arg)
{
    struct claim_ctx *x = arg;
    enum db_status st = payment_repo_reconcile_claim(
        c, x->provider, payment_settings()->reconcile_after_s, &x->claim);
    x->found = st == DB_OK;
    return st == DB_NOT_FOUND ? DB_OK : st;
}

struct apply_ctx {
    const char *provider;
    struct payment_event ev;
    char body[160];
    const char *outcome;
};

static enum db_status apply_txn(struct db_conn *c, void *arg)
{
    struct apply_ctx *x = arg;
    bool fresh = false;
    return payment_record_event(c, x->provider, &x->ev, x->body, strlen(x->body), &x->outcome,
                                &fresh);
}

/* The event saying what the provider told of the claimed payment. */
static void build_event(struct apply_ctx *x, const struct payment_reconcile_claim *k,
                        const struct payment_state *s)
{
    struct payment_event *ev = &x->ev;
    memset(ev, 0, sizeof *ev);
    bool ok = strcmp(s->status, "succeeded") == 0;
    snprintf(ev->id, sizeof ev->id, "reconcile:%s:%s", k->id, s->status);
    snprintf(ev->type, sizeof ev->type, "reconcile.%s", s->status);
    ev->kind = ok ? PAYMENT_EVENT_SUCCEEDED : PAYMENT_EVENT_FAILED;
    snprintf(ev->payment_id, sizeof ev->payment_id, "%s", k->id);
    snprintf(ev->provider_ref, sizeof ev->provider_ref, "%s", k->provider_ref);
    ev->amount_minor = s->amount_minor >= 0 ? s->amount_minor : k->amount_minor;
    snprintf(ev->currency, sizeof ev->currency, "%s",
             s->amount_minor >= 0 ? s->currency : k->currency);
    snprintf(x->body, sizeof x->body, "{\"source\":\"reconcile\",\"status\":\"%s\"}", s->status);
}

int payment_reconcile_run(void *arg)
{
    (void)arg;
    const struct payment_provider *pv = payment_provider();
    struct claim_ctx x = {.provider = pv->name};
    enum db_status st = db_txn(DB_PRIMARY, claim_txn, &x);
    if (st != DB_OK || !x.found)
        return st == DB_OK ? 0 : -1;
    struct payment_state s = {0};
    if (pv->fetch_state(NULL, x.claim.provider_ref, &s) != 0 || strcmp(s.status, "pending") == 0)
        return 1; /* asked again after the delay */
    struct apply_ctx a = {.provider = pv->name};
    build_event(&a, &x.claim, &s);
    st = db_txn(DB_PRIMARY, apply_txn, &a);
    if (st != DB_OK)
        return -1;
    log_info("payment_reconciled", "payment %s: the provider says %s (%s)", x.claim.id, s.status,
             a.outcome);
    if (strcmp(a.outcome, "mismatch") == 0)
        payment_count_mismatch(pv->name);
    return 1;
}
