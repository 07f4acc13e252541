/* The payout jobs. PAYOUT_JOB_SEND hands each new payout to the provider outside any
 * transaction (claimed with SKIP LOCKED and a lease, so any number of instances send each
 * payout once; the provider is also given our payout id as its idempotency key), records the
 * provider's reference, retries failures with backoff and, after PAYOUT_SEND_MAX_ATTEMPTS or a
 * refusal, fails the payout (money back to available) through payout_apply.
 * PAYOUT_JOB_RECONCILE asks the provider about payouts still processing
 * HAAT_PAYOUT_RECONCILE_AFTER_S after they were last touched and applies a decided answer
 * through payout_apply, the path webhooks take: a lost webhook still ends the payout. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "internal/user/user.h"
#include "pkg/jobs/jobs.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

static const struct payout_provider *provider = &payout_sandbox_provider;
static int64_t reconcile_after_s = 60;
static struct payout_settings settings;
static char *api_base, *api_key_id, *api_key_secret; /* what settings.api points to */
static bool registered;

const struct payout_provider *payout_provider(void)
{
    return provider;
}

const struct payout_settings *payout_settings(void)
{
    return &settings;
}

int64_t payout_reconcile_after_s(void)
{
    return reconcile_after_s;
}

static char *copy(const char *s)
{
    return xstrdup(s ? s : "");
}

static void drop(char **s)
{
    if (*s)
        sodium_memzero(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

void payout_cleanup(void)
{
    free(api_base);
    api_base = NULL;
    drop(&api_key_id);
    drop(&api_key_secret);
    drop(&settings.account_number);
    drop(&settings.webhook_secret);
    memset(&settings, 0, sizeof settings);
}

int payout_init(const struct cfg *c)
{
    bool x = strcmp(c->payout_provider, payout_razorpayx_provider.name) == 0;
    if (!x && strcmp(c->payout_provider, payout_sandbox_provider.name) != 0) {
        log_error("payout_provider", "HAAT_PAYOUT_PROVIDER: %s is not a payout provider",
                  c->payout_provider);
        return -1;
    }
    payout_cleanup();
    provider = x ? &payout_razorpayx_provider : &payout_sandbox_provider;
    reconcile_after_s = c->payout_reconcile_after_s;
    const char *base = c->razorpayx_base_url ? c->razorpayx_base_url : "";
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    settings.api.base_url = api_base = xstrndup(base, n);
    settings.api.key_id = api_key_id = copy(c->razorpayx_key_id);
    settings.api.key_secret = api_key_secret = copy(c->razorpayx_key_secret);
    settings.api.who = "razorpayx";
    settings.account_number = copy(c->razorpayx_account_number);
    settings.webhook_secret = copy(c->razorpayx_webhook_secret);
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
    char fingerprint[2 * crypto_generichash_BYTES + 1];
    char fund_account_id[PAYMENT_REF_LEN];
    bool found, has_dest;
};

/* A keyed hash of where the payout goes: the same destination, the same fingerprint (its fund
 * account is reused); a changed one gets a new fund account. */
static void fingerprint(const struct user_payout *d, char out[2 * crypto_generichash_BYTES + 1])
{
    unsigned char key[crypto_generichash_BYTES], h[crypto_generichash_BYTES];
    const char *secret = settings.api.key_secret ? settings.api.key_secret : "";
    crypto_generichash(key, sizeof key, (const unsigned char *)secret, strlen(secret),
                       (const unsigned char *)"haat.payout.fingerprint", 23);
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, sizeof key, sizeof h);
    const char *parts[] = {d->method, d->upi_vpa, d->ifsc, d->account_number, d->account_name};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *p = parts[i] ? parts[i] : "";
        crypto_generichash_update(&st, (const unsigned char *)p, strlen(p) + 1);
    }
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out, 2 * crypto_generichash_BYTES + 1, h, sizeof h);
    sodium_memzero(key, sizeof key);
}

/* Leases a payout to send and opens where it goes (the seller's payout details) and the fund
 * account the provider already has for it. */
static enum db_status send_claim_txn(struct db_conn *c, void *arg)
{
    struct send_ctx *x = arg;
    enum db_status st = payout_repo_send_claim(c, &x->claim);
    x->found = st == DB_OK;
    if (st == DB_OK)
        x->has_dest = user_seller_payout(c, x->claim.seller_id, &x->dest) == 0 && x->dest.method;
    if (st == DB_OK && x->has_dest) {
        fingerprint(&x->dest, x->fingerprint);
        st = payout_repo_fund_account(c, x->claim.seller_id, provider->name, x->fingerprint,
                                      x->fund_account_id);
    }
    return st == DB_NOT_FOUND ? DB_OK : st;
}

struct sent_ctx {
    const struct send_ctx *x;
    enum payout_send_result result;
    const struct payout_send_out *out;
    bool final;
};

static enum db_status sent_txn(struct db_conn *c, void *arg)
{
    const struct sent_ctx *o = arg;
    const struct payout_send_claim *k = &o->x->claim;
    const char *outcome = NULL;
    enum db_status st = DB_OK;
    if (o->out->fund_account_id[0])
        st = payout_repo_fund_account_keep(c, k->seller_id, provider->name, o->x->fingerprint,
                                           o->out->contact_id, o->out->fund_account_id);
    if (st != DB_OK)
        return st;
    if (o->result == PAYOUT_SEND_DONE)
        return payout_repo_sent(c, k->id, o->out->ref);
    if (o->final)
        return payout_apply(c, k->id, PAYOUT_EV_FAILED, o->out->err, &outcome);
    return payout_repo_send_retry(c, k->id, payment_retry_delay(k->attempts), o->out->err);
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
    struct payout_send_out out = {0};
    enum payout_send_result res = PAYOUT_SEND_REFUSED;
    if (x.has_dest) {
        struct payout_send_in in = {x.claim.id,       x.claim.seller_id, x.claim.amount_minor,
                                    x.claim.currency, &x.dest,           x.fund_account_id};
        res = provider->send(&in, &out);
    } else {
        snprintf(out.err, sizeof out.err, "the seller has no payout destination");
    }
    user_payout_cleanup(&x.dest); /* the account number is wiped as soon as it was used */
    struct sent_ctx o = {
        &x, res, &out, res == PAYOUT_SEND_REFUSED || x.claim.attempts >= PAYOUT_SEND_MAX_ATTEMPTS};
    if (res != PAYOUT_SEND_DONE)
        log_warn("payout_send", "payout %s, attempt %d: %s%s", x.claim.id, x.claim.attempts,
                 out.err, o.final ? " (payout failed)" : "");
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
