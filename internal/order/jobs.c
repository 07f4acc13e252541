/* The order module's jobs: unpaid orders expire HAAT_PAYMENT_TIMEOUT_S after creation (their
 * stock returns), shipped orders confirm their delivery HAAT_AUTO_CONFIRM_S after shipping.
 * Each batch claims its orders with FOR UPDATE SKIP LOCKED and changes them through the state
 * machine (actor system) in one transaction, so an order is changed exactly once whatever
 * the number of instances: a second claimer skips the locked row, and once committed the row
 * no longer matches the claim. */
#include "internal/order/internal.h"

#define BATCH 20

struct batch {
    enum order_action action;
    const char *reason;
    int done;
};

static enum db_status batch_txn(struct db_conn *c, void *arg)
{
    struct batch *b = arg;
    char ids[BATCH][IDS_UUID_LEN];
    int n = 0;
    b->done = 0;
    enum db_status st =
        b->action == ORDER_EXPIRE
            ? order_repo_claim_expired(c, BATCH, ids, &n)
            : order_repo_claim_shipped(c, order_settings()->auto_confirm_s, BATCH, ids, &n);
    for (int i = 0; st == DB_OK && i < n; i++) {
        struct order_change ch = {.action = b->action, .actor = ORDER_SYSTEM, .reason = b->reason};
        struct order_applied out;
        st = order_apply(c, ids[i], &ch, &out);
        b->done += st == DB_OK && out.outcome == ORDER_DONE;
    }
    return st;
}

static int run(enum order_action action, const char *reason)
{
    struct batch b = {.action = action, .reason = reason};
    return db_txn(DB_PRIMARY, batch_txn, &b) == DB_OK ? b.done : -1;
}

int order_run_expiry(void *arg)
{
    (void)arg;
    return run(ORDER_EXPIRE, "not paid in time");
}

int order_run_auto_confirm(void *arg)
{
    (void)arg;
    return run(ORDER_AUTO_CONFIRM, NULL);
}
