/* The postings of a payout (docs/architecture.md, "The money flow"). Seller accounts are
 * credit-normal (negative while owed); escrow_held is the platform's money held, and
 * platform:payouts (debit-normal) what it has paid out to sellers, so escrow_held falls by what
 * leaves for a seller's bank and a reversal puts it back. Every transfer is named
 * "<kind>:<payout id>", so a retried posting is a no-op. */
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/log/log.h"

static void set_leg(struct payment_leg *l, const char *account, int64_t amount)
{
    snprintf(l->account, sizeof l->account, "%s", account);
    l->amount_minor = amount;
}

/* The legs of kind for amount a into legs; their count, or 0 for an unknown kind. */
static size_t legs_of(const char *kind, const char *seller_id, int64_t a,
                      struct payment_leg legs[4])
{
    char avail[PAYMENT_ACC_ID_LEN], transit[PAYMENT_ACC_ID_LEN], paid[PAYMENT_ACC_ID_LEN];
    payment_seller_account(avail, seller_id, "available");
    payment_seller_account(transit, seller_id, "in_transit");
    payment_seller_account(paid, seller_id, "paid_out");
    if (strcmp(kind, "payout") == 0) {
        set_leg(&legs[0], avail, a);
        set_leg(&legs[1], transit, -a);
        return 2;
    }
    if (strcmp(kind, "payout_failed") == 0) {
        set_leg(&legs[0], transit, a);
        set_leg(&legs[1], avail, -a);
        return 2;
    }
    if (strcmp(kind, "payout_paid") == 0) {
        set_leg(&legs[0], transit, a);
        set_leg(&legs[1], paid, -a);
        set_leg(&legs[2], PAYMENT_ACC_PAYOUTS, a);
        set_leg(&legs[3], PAYMENT_ACC_ESCROW, -a);
        return 4;
    }
    if (strcmp(kind, "payout_reversal") == 0) {
        set_leg(&legs[0], paid, a);
        set_leg(&legs[1], avail, -a);
        set_leg(&legs[2], PAYMENT_ACC_ESCROW, a);
        set_leg(&legs[3], PAYMENT_ACC_PAYOUTS, -a);
        return 4;
    }
    return 0;
}

enum db_status payout_post(struct db_conn *c, const char *kind, const struct payout_row *p)
{
    struct payment_leg legs[4];
    char id[80];
    size_t n = legs_of(kind, p->seller_id, p->amount_minor, legs);
    if (n == 0) {
        log_error("payout_post", "payout %s: %s is not a payout posting", p->id, kind);
        return DB_ERROR;
    }
    snprintf(id, sizeof id, "%s:%s", kind, p->id);
    return payment_ledger_post(c, id, kind, NULL, NULL, legs, n, NULL);
}
