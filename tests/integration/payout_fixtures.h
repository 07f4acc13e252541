/* Fixtures shared by the payout tests (test_payout.c: the sandbox payout provider;
 * test_payout_razorpayx.c: razorpayx against its local fake). Header-only, like the others.
 *
 * Available balance: these scenes post a seller's available money straight into the ledger by
 * SQL (seed_available: one balanced transfer, escrow -> pending -> available, as a capture and
 * its release would), so each test starts from an exact figure in milliseconds. Payouts out of
 * money that real orders released (pay, ship, confirm, the hold period, the release job) are
 * driven by test_money_property.c. The server itself has no test-only path. */
#ifndef HAAT_TESTS_INTEGRATION_PAYOUT_FIXTURES_H
#define HAAT_TESTS_INTEGRATION_PAYOUT_FIXTURES_H

#include "tests/integration/payment_fixtures.h"

/* Posts a into the seller's available balance (see the header comment). */
static inline void seed_available(const char *seller_id, long long a)
{
    char t[37];
    fx_uuid4(t);
    fx_sql("INSERT INTO ledger_accounts (id, kind, seller_id) VALUES "
           "('seller:%s:pending', 'seller_pending', '%s'), "
           "('seller:%s:available', 'seller_available', '%s') ON CONFLICT (id) DO NOTHING",
           seller_id, seller_id, seller_id, seller_id);
    fx_sql("BEGIN; INSERT INTO ledger_transfers (id, kind) VALUES ('test_seed:%s', 'capture'); "
           "INSERT INTO ledger_legs (transfer_id, n, account_id, amount_minor) VALUES "
           "('test_seed:%s', 1, 'platform:escrow_held', %lld), "
           "('test_seed:%s', 2, 'seller:%s:pending', %lld), "
           "('test_seed:%s', 3, 'seller:%s:pending', %lld), "
           "('test_seed:%s', 4, 'seller:%s:available', %lld); COMMIT",
           t, t, a, t, seller_id, -a, t, seller_id, a, t, seller_id, -a);
}

/* What the ledger owes the seller in account kind (pending, available, in_transit, paid_out):
 * the negated balance of a credit-normal account, 0 before it exists. */
static inline long long owed(const char *seller_id, const char *kind)
{
    return -fx_count("SELECT coalesce((SELECT balance_minor FROM ledger_accounts WHERE id = "
                     "'seller:%s:%s'), 0)",
                     seller_id, kind);
}

static inline long payout_call(const struct actor *s, const char *body, struct h_resp *r)
{
    char key[80];
    order_fx_key(key);
    return fx_call(s, "POST", "/v1/seller/payouts", body, key, r);
}

/* A payout of amount (201 asserted): its id into id. */
static inline void payout(const struct actor *s, long long amount, char id[37])
{
    struct h_resp r = {0};
    char body[64];
    snprintf(body, sizeof body, "{\"amount_minor\":%lld}", amount);
    payout_call(s, body, &r);
    h_assert_status(&r, 201);
    assert_string_equal(fx_str(r.json, "status"), "processing");
    assert_int_equal(json_integer_value(json_object_get(r.json, "amount_minor")), amount);
    snprintf(id, 37, "%s", fx_str(r.json, "id"));
    h_resp_cleanup(&r);
}

/* Waits until the payout's status is want. */
static inline void wait_payout(const char *id, const char *want)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM payouts WHERE id = '%s' AND status = '%s'", id,
             want);
    wait_count(1, sql);
}

/* How many events of type were emitted about the payout (to its seller). */
static inline long long outbox(const char *type, const char *payout_id)
{
    return fx_count(
        "SELECT count(*) FROM outbox_events WHERE type = '%s' AND payload->>'payout_id' = "
        "'%s' AND payload->>'seller_id' IS NOT NULL",
        type, payout_id);
}

/* Replaces a's token with one carrying the seller role, as the user module issues. */
static inline void seller_token(struct actor *a)
{
    fx_actor_free(a);
    long long now = (long long)time(NULL);
    char claims[512];
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\",\"seller\"],\"pv\":true,\"iat\":%lld,"
             "\"exp\":%lld}",
             a->id, now, now + 600);
    a->token = h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    assert_non_null(a->token);
}

/* A seller paid by bank transfer (IFSC HDFC0001234) whose row was made before account numbers
 * were sealed: the number in the clear, as `haat admin seal-accounts` finds it. */
static inline void bank_seller(struct actor *s, const char *account_number)
{
    fx_actor(s, false);
    fx_sql("INSERT INTO sellers (user_id, display_name, payout_method, bank_account_name, "
           "bank_account_number, bank_ifsc) VALUES ('%s', 'Bank Seller', 'bank', 'Asha Rao', "
           "'%s', 'HDFC0001234')",
           s->id, account_number);
    seller_token(s);
}

#endif
