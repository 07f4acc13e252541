/* The order module's jobs: unpaid orders expire HAAT_PAYMENT_TIMEOUT_S after creation (their
 * stock returns), shipped orders confirm their delivery HAAT_AUTO_CONFIRM_S after shipping,
 * delivered orders complete HAAT_HOLD_PERIOD_S after delivery (their money is released).
 * Each batch claims its orders with FOR UPDATE SKIP LOCKED and changes them through the state
 * machine (actor system), so an order is changed exactly once whatever the number of
 * instances: a second claimer skips the locked row, and once committed the row no longer
 * matches the claim. The release takes one order per transaction, so one order's failure
 * never holds back another's money and a crash loses at most the order in hand (its
 * transaction rolls back; the next claim finds it again). */
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

/* One due order: claimed, completed and its money released in this transaction. */
static enum db_status release_txn(struct db_conn *c, void *arg)
{
    int *done = arg;
    char ids[1][IDS_UUID_LEN];
    int n = 0;
    *done = 0;
    enum db_status st = order_repo_claim_due(c, order_settings()->hold_period_s, 1, ids, &n);
    if (st != DB_OK || n == 0)
        return st;
    struct order_change ch = {.action = ORDER_COMPLETE, .actor = ORDER_SYSTEM};
    struct order_applied out;
    st = order_apply(c, ids[0], &ch, &out);
    *done = st == DB_OK && out.outcome == ORDER_DONE;
    return st;
}

int order_run_release(void *arg)
{
    (void)arg;
    int total = 0;
    for (int i = 0; i < BATCH; i++) {
        int done = 0;
        if (db_txn(DB_PRIMARY, release_txn, &done) != DB_OK)
            return total > 0 ? total : -1;
        if (!done)
            break;
        total++;
    }
    return total;
}
