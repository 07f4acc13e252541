/* The ledger's one posting function and the postings of the money flow.
 *
 * Legs are signed: a positive amount debits its account, a negative one credits it; the legs
 * of a transfer sum to zero. Asset accounts (gateway clearing, escrow held) are debit-normal;
 * what the platform owes (a seller's pending / available / paid out, refunds payable) and
 * earns (revenue) are credit-normal, so their balances are negative while money is owed. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/strbuf.h"

void payment_seller_account(char out[PAYMENT_ACC_ID_LEN], const char *seller_id, const char *kind)
{
    snprintf(out, PAYMENT_ACC_ID_LEN, "seller:%s:%s", seller_id, kind);
}

/* Refuses what the database would refuse at COMMIT, so a bug names its transfer at once. */
static bool legs_valid(const char *transfer_id, const struct payment_leg *legs, size_t n)
{
    int64_t sum = 0;
    bool ok = n >= 2 && n <= PAYMENT_MAX_LEGS;
    for (size_t i = 0; ok && i < n; i++) {
        ok = legs[i].amount_minor != 0 && legs[i].account[0] != '\0';
        sum += legs[i].amount_minor;
    }
    if (!ok || sum != 0)
        log_error("payment_ledger_invalid", "transfer %s: %zu legs summing to %" PRId64,
                  transfer_id, n, sum);
    return ok && sum == 0;
}

/* {"a","b"} and {1,-1}: the legs as PostgreSQL array literals (account ids hold no quote,
 * backslash, comma or brace: platform names and UUIDs). */
static void legs_arrays(const struct payment_leg *legs, size_t n, struct strbuf *acc,
                        struct strbuf *amt)
{
    strbuf_puts(acc, "{");
    strbuf_puts(amt, "{");
    for (size_t i = 0; i < n; i++) {
        strbuf_printf(acc, "%s\"%s\"", i ? "," : "", legs[i].account);
        strbuf_printf(amt, "%s%" PRId64, i ? "," : "", legs[i].amount_minor);
    }
    strbuf_puts(acc, "}");
    strbuf_puts(amt, "}");
}

enum db_status payment_ledger_post(struct db_conn *c, const char *transfer_id, const char *kind,
                                   const char *order_id, const char *payment_id,
                                   const struct payment_leg *legs, size_t n, bool *posted)
{
    bool fresh = false;
    if (posted)
        *posted = false;
    if (!legs_valid(transfer_id, legs, n))
        return DB_ERROR;
    struct strbuf acc, amt;
    strbuf_init(&acc);
    strbuf_init(&amt);
    legs_arrays(legs, n, &acc, &amt);
    enum db_status st =
        payment_repo_transfer_insert(c, transfer_id, kind, order_id, payment_id, acc.buf, &fresh);
    if (st == DB_OK && fresh)
        st = payment_repo_legs_insert(c, transfer_id, acc.buf, amt.buf);
    if (st == DB_OK && posted)
        *posted = fresh;
    strbuf_cleanup(&acc);
    strbuf_cleanup(&amt);
    return st;
}

static void leg(struct payment_leg *l, const char *account, int64_t amount)
{
    snprintf(l->account, sizeof l->account, "%s", account);
    l->amount_minor = amount;
}

/* The provider collected A from the buyer into its clearing account and passed it into
 * escrow (clearing nets to zero: the sandbox settles at once; a provider that settles later
 * will split this into capture and settlement); the seller is owed A, pending release. */
enum db_status payment_post_capture(struct db_conn *c, const struct payment_row *p)
{
    struct payment_leg legs[4];
    char pending[PAYMENT_ACC_ID_LEN], id[80];
    int64_t a = p->amount_minor;
    payment_seller_account(pending, p->seller_id, "pending");
    leg(&legs[0], PAYMENT_ACC_CLEARING, a);
    leg(&legs[1], pending, -a);
    leg(&legs[2], PAYMENT_ACC_ESCROW, a);
    leg(&legs[3], PAYMENT_ACC_CLEARING, -a);
    snprintf(id, sizeof id, "capture:%s", p->id);
    return payment_ledger_post(c, id, "capture", p->order_id, p->id, legs, 4, NULL);
}

/* What was owed to the seller (pending) is now owed back to the buyer (refunds payable). */
enum db_status payment_post_refund(struct db_conn *c, const struct payment_row *p,
                                   const char *refund_id)
{
    struct payment_leg legs[2];
    char pending[PAYMENT_ACC_ID_LEN], id[80];
    payment_seller_account(pending, p->seller_id, "pending");
    leg(&legs[0], pending, p->amount_minor);
    leg(&legs[1], PAYMENT_ACC_REFUNDS, -p->amount_minor);
    snprintf(id, sizeof id, "refund:%s", refund_id);
    return payment_ledger_post(c, id, "refund", p->order_id, p->id, legs, 2, NULL);
}

/* The money leaves escrow through the provider's clearing back to the buyer: refunds payable
 * is settled. */
enum db_status payment_post_refund_paid(struct db_conn *c, const char *refund_id,
                                        const char *order_id, const char *payment_id,
                                        int64_t amount_minor)
{
    struct payment_leg legs[4];
    char id[80];
    leg(&legs[0], PAYMENT_ACC_REFUNDS, amount_minor);
    leg(&legs[1], PAYMENT_ACC_CLEARING, -amount_minor);
    leg(&legs[2], PAYMENT_ACC_CLEARING, amount_minor);
    leg(&legs[3], PAYMENT_ACC_ESCROW, -amount_minor);
    snprintf(id, sizeof id, "refund_paid:%s", refund_id);
    return payment_ledger_post(c, id, "refund_paid", order_id, payment_id, legs, 4, NULL);
}

/* The hold period passed (or a dispute was decided for the seller): of the total held for the
 * seller (pending), the commission goes to the platform's revenue and the rest to the seller's
 * available balance. Two transfers, so the seller's transactions show each; a zero amount
 * (commission 0 bps, or 10000) posts nothing. */
enum db_status payment_release_order(struct db_conn *c, const char *order_id, const char *seller_id,
                                     int64_t total_minor, int64_t commission_minor)
{
    struct payment_leg legs[2];
    char pending[PAYMENT_ACC_ID_LEN], available[PAYMENT_ACC_ID_LEN], id[80];
    int64_t rest = total_minor - commission_minor;
    enum db_status st = DB_OK;
    if (commission_minor < 0 || rest < 0) {
        log_error("payment_ledger_invalid",
                  "release of order %s: total %" PRId64 ", commission %" PRId64, order_id,
                  total_minor, commission_minor);
        return DB_ERROR;
    }
    payment_seller_account(pending, seller_id, "pending");
    payment_seller_account(available, seller_id, "available");
    if (commission_minor > 0) {
        leg(&legs[0], pending, commission_minor);
        leg(&legs[1], PAYMENT_ACC_REVENUE, -commission_minor);
        snprintf(id, sizeof id, "commission:%s", order_id);
        st = payment_ledger_post(c, id, "commission", order_id, NULL, legs, 2, NULL);
    }
    if (st == DB_OK && rest > 0) {
        leg(&legs[0], pending, rest);
        leg(&legs[1], available, -rest);
        snprintf(id, sizeof id, "release:%s", order_id);
        st = payment_ledger_post(c, id, "release", order_id, NULL, legs, 2, NULL);
    }
    return st;
}
