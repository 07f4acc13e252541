/* Refunds: created inside the transaction of their cause (an order's cancel, a success the
 * order no longer takes), sent to the provider later by the refund job (PAYMENT_JOB_REFUNDS)
 * outside any transaction, retried with backoff, given up after PAYMENT_REFUND_MAX_ATTEMPTS
 * (status failed, logged; operators list them). */
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/log/log.h"

enum db_status payment_refund(struct db_conn *c, struct payment_row *p, const char *reason)
{
    char refund_id[IDS_UUID_LEN];
    ids_uuid7(refund_id);
    enum db_status st = payment_repo_refund_insert(c, refund_id, p, reason ? reason : "");
    if (st == DB_OK)
        st = payment_repo_set_status(c, p->id, "refunded");
    if (st == DB_OK)
        st = payment_post_refund(c, p, refund_id);
    if (st == DB_OK) {
        snprintf(p->status, sizeof p->status, "refunded");
        st = payment_emit_refunded(c, p);
    }
    return st;
}

enum db_status payment_refund_order(struct db_conn *c, const char *order_id, const char *reason,
                                    bool *refunded)
{
    struct payment_row p;
    *refunded = false;
    enum db_status st = payment_repo_succeeded_of_order(c, order_id, &p);
    if (st == DB_NOT_FOUND)
        return DB_OK;
    if (st == DB_OK)
        st = payment_refund(c, &p, reason);
    *refunded = st == DB_OK;
    return st;
}

struct claim_ctx {
    struct payment_refund_claim claim;
    bool found;
};

static enum db_status claim_txn(struct db_conn *c, void *arg)
{
    struct claim_ctx *x = arg;
    enum db_status st = payment_repo_refund_claim(c, &x->claim);
    x->found = st == DB_OK;
    return st == DB_NOT_FOUND ? DB_OK : st;
}

struct outcome_ctx {
    const struct payment_refund_claim *claim;
    enum payment_refund_result result;
    const char *ref;
    const char *error;
};

/* Processed: the refund row and the ledger's refund_paid in one transaction. */
static enum db_status outcome_txn(struct db_conn *c, void *arg)
{
    const struct outcome_ctx *x = arg;
    const struct payment_refund_claim *r = x->claim;
    if (x->result == PAYMENT_REFUND_DONE) {
        bool changed = false;
        enum db_status st = payment_repo_refund_processed(c, r->id, x->ref, &changed);
        if (st == DB_OK && changed)
            st = payment_post_refund_paid(c, r->id, r->order_id, r->payment_id, r->amount_minor);
        return st;
    }
    bool final = x->result == PAYMENT_REFUND_FAILED || r->attempts >= PAYMENT_REFUND_MAX_ATTEMPTS;
    if (final)
        log_error("payment_refund_failed", "refund %s of payment %s failed after %d attempt(s): %s",
                  r->id, r->payment_id, r->attempts, x->error);
    return payment_repo_refund_retry(c, r->id, payment_retry_delay(r->attempts), final, x->error);
}

int payment_refunds_run(void *arg)
{
    (void)arg;
    const struct payment_provider *pv = payment_provider();
    struct claim_ctx x = {0};
    enum db_status st = db_txn(DB_PRIMARY, claim_txn, &x);
    if (st != DB_OK || !x.found)
        return st == DB_OK ? 0 : -1;
    char ref[PAYMENT_REF_LEN] = "", err[256] = "";
    struct payment_refund_in in = {x.claim.id, x.claim.payment_id, x.claim.provider_ref,
                                   x.claim.amount_minor, x.claim.currency};
    enum payment_refund_result res =
        pv ? pv->refund(&in, ref, sizeof ref, err, sizeof err) : PAYMENT_REFUND_RETRY;
    if (!pv)
        snprintf(err, sizeof err, "no payment provider");
    struct outcome_ctx o = {&x.claim, res, ref, err};
    st = db_txn(DB_PRIMARY, outcome_txn, &o);
    return st == DB_OK ? 1 : -1;
}
