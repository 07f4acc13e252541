/* The payout jobs. PAYOUT_JOB_SEND hands each new payout to the provider outside any
 * transaction (claimed with SKIP LOCKED and a lease, so any number of instances send each
 * payout once; the provider is also given our payout id as its idempotency key), records the
 * provider's reference, retries failures with backoff and, after PAYOUT_SEND_MAX_ATTEMPTS or a
 * refusal, fails the payout (money back to available) through payout_apply.
 * PAYOUT_JOB_RECONCILE asks the provider about payouts still processing
 * HAAT_PAYOUT_RECONCILE_AFTER_S after they were last touched and applies a decided answer
 * through payout_apply, the path webhooks take: a lost webhook still ends the payout. */
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "internal/user/user.h"
#include "pkg/jobs/jobs.h"
#include "pkg/log/log.h"

static const struct payout_provider *provider = &payout_sandbox_provider;
static int64_t reconcile_after_s = 60;
static bool registered;

const struct payout_provider *payout_provider(void)
{
    return provider;
}

int64_t payout_reconcile_after_s(void)
{
    return reconcile_after_s;
}

int payout_init(const struct cfg *c)
{
    if (strcmp(c->payout_provider, payout_sandbox_provider.name) != 0) {
        log_error("payout_provider", "HAAT_PAYOUT_PROVIDER: %s is not a payout provider",
                  c->payout_provider);
        return -1;
    }
    provider = &payout_sandbox_provider;
    reconcile_after_s = c->payout_reconcile_after_s;
    if (!registered)
        payout_repo_register();
    registered = true;
    return 0;
}

int payout_register_jobs(void)
{
    const struct jobs_spec send = {
        PAYOUT_JOB_SEND, payout_send_run, NULL, 1000, PAYMENT_CHANNEL, 1};
    const struct jobs_spec check = {
        PAYOUT_JOB_RECONCILE, payout_reconcile_run, NULL, 1000, NULL, 1};
    return jobs_register(&send) == 0 ? jobs_register(&check) : -1;
}

/* ---- sending ------------------------------------------------------------------------------ */

struct send_ctx {
    struct payout_send_claim claim;
    struct user_payout dest;
    bool found, has_dest;
};

/* Leases a payout to send and opens where it goes (the seller's payout details). */
static enum db_status send_claim_txn(struct db_conn *c, void *arg)
{
    struct send_ctx *x = arg;
    enum db_status st = payout_repo_send_claim(c, &x->claim);
    x->found = st == DB_OK;
    if (st == DB_OK)
        x->has_dest = user_seller_payout(c, x->claim.seller_id, &x->dest) == 0;
    return st == DB_NOT_FOUND ? DB_OK : st;
}

struct sent_ctx {
    const struct payout_send_claim *claim;
    enum payout_send_result result;
    const char *ref, *error;
    bool final;
};

static enum db_status sent_txn(struct db_conn *c, void *arg)
{
    const struct sent_ctx *o = arg;
    const char *outcome = NULL;
    if (o->result == PAYOUT_SEND_DONE)
        return payout_repo_sent(c, o->claim->id, o->ref);
    if (o->final)
        return payout_apply(c, o->claim->id, PAYOUT_EV_FAILED, o->error, &outcome);
    return payout_repo_send_retry(c, o->claim->id, payment_retry_delay(o->claim->attempts),
                                  o->error);
}

int payout_send_run(void *arg)
{
    (void)arg;
    struct send_ctx x = {0};
    enum db_status st = db_txn(DB_PRIMARY, send_claim_txn, &x);
    if (st != DB_OK || !x.found) {
        user_payout_cleanup(&x.dest);
        return st == DB_OK ? 0 : -1;
    }
    char ref[PAYMENT_REF_LEN] = "", err[256] = "";
    enum payout_send_result res = PAYOUT_SEND_REFUSED;
    if (x.has_dest) {
        struct payout_send_in in = {x.claim.id, x.claim.amount_minor, x.claim.currency, &x.dest};
        res = provider->send(&in, ref, sizeof ref, err, sizeof err);
    } else {
        snprintf(err, sizeof err, "the seller has no payout destination");
    }
    user_payout_cleanup(&x.dest); /* the account number is wiped as soon as it was used */
    struct sent_ctx o = {&x.claim, res, ref, err,
                         res == PAYOUT_SEND_REFUSED ||
                             x.claim.attempts >= PAYOUT_SEND_MAX_ATTEMPTS};
    if (res != PAYOUT_SEND_DONE)
        log_warn("payout_send", "payout %s, attempt %d: %s%s", x.claim.id, x.claim.attempts, err,
                 o.final ? " (payout failed)" : "");
    st = db_txn(DB_PRIMARY, sent_txn, &o);
    return st == DB_OK ? 1 : -1;
}

/* ---- reconciliation ----------------------------------------------------------------------- */

struct check_ctx {
    struct payout_check_claim claim;
    bool found;
};

static enum db_status check_claim_txn(struct db_conn *c, void *arg)
{
    struct check_ctx *x = arg;
    enum db_status st = payout_repo_check_claim(c, provider->name, reconcile_after_s, &x->claim);
    x->found = st == DB_OK;
    return st == DB_NOT_FOUND ? DB_OK : st;
}

struct decided_ctx {
    const char *id;
    enum payout_event ev;
    const char *reason;
    const char *outcome;
};

static enum db_status decided_txn(struct db_conn *c, void *arg)
{
    struct decided_ctx *d = arg;
    return payout_apply(c, d->id, d->ev, d->reason, &d->outcome);
}

/* The event a provider's answer means; false while it is still pending. */
static bool event_of(const struct payout_state *s, enum payout_event *ev)
{
    if (strcmp(s->status, "processed") == 0)
        *ev = PAYOUT_EV_PROCESSED;
    else if (strcmp(s->status, "failed") == 0)
        *ev = PAYOUT_EV_FAILED;
    else if (strcmp(s->status, "reversed") == 0)
        *ev = PAYOUT_EV_REVERSED;
    else
        return false;
    return true;
}

int payout_reconcile_run(void *arg)
{
    (void)arg;
    struct check_ctx x = {0};
    enum db_status st = db_txn(DB_PRIMARY, check_claim_txn, &x);
    if (st != DB_OK || !x.found)
        return st == DB_OK ? 0 : -1;
    struct payout_state s;
    struct decided_ctx d = {.id = x.claim.id};
    if (provider->fetch_state(x.claim.provider_ref, x.claim.amount_minor, &s) != 0 ||
        !event_of(&s, &d.ev))
        return 1; /* asked again after the delay */
    d.reason = s.reason;
    if (db_txn(DB_PRIMARY, decided_txn, &d) != DB_OK)
        return -1;
    log_info("payout_reconciled", "payout %s: the provider says %s (%s)", x.claim.id, s.status,
             d.outcome);
    return 1;
}
