/* Fixtures of the money tests (test_money.c, test_money_property.c): orders paid for real
 * through the sandbox provider (so every capture is in the ledger), an admin, the hold period
 * passed by moving delivered_at back (the servers run with HAAT_HOLD_PERIOD_S = MF_HOLD_S, so
 * no test waits for it), and the money invariants checked on the test's database.
 * Header-only, like the other fixtures. */
#ifndef HAAT_TESTS_INTEGRATION_MONEY_FIXTURES_H
#define HAAT_TESTS_INTEGRATION_MONEY_FIXTURES_H

#include "tests/integration/payment_fixtures.h"

#define MF_HOLD_S   3600
#define MF_HOLD_ENV "HAAT_HOLD_PERIOD_S=3600"

/* An admin (a user whose token carries the admin role). */
static inline void mf_admin(struct actor *a)
{
    fx_actor(a, false);
    free(a->token);
    long long now = (long long)time(NULL);
    char claims[512];
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\",\"admin\"],\"pv\":true,\"iat\":%lld,"
             "\"exp\":%lld}",
             a->id, now, now + 600);
    a->token = h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    assert_non_null(a->token);
}

/* A product of seller s at price with plenty of stock (new reference). */
static inline json_t *mf_product(const struct actor *s, long long price)
{
    char extra[80];
    snprintf(extra, sizeof extra, "{\"stock\":100000,\"price_minor\":%lld}", price);
    return fx_create(s, "Brass lamp", extra);
}

/* POST /v1/orders/{id}/<verb> as a with body (NULL: none), asserting want (0: anything);
 * returns the answer's status. */
static inline long mf_post(const struct actor *a, const char *verb, const char *id,
                           const char *body, long want)
{
    struct h_resp r = {0};
    char path[200];
    snprintf(path, sizeof path, "/v1/orders/%s/%s", id, verb);
    long st = fx_call(a, "POST", path, body, NULL, &r);
    if (want)
        h_assert_status(&r, want);
    h_resp_cleanup(&r);
    return st;
}

/* Starts a payment of the order and completes it with outcome at the sandbox; with
 * "succeeded", waits until the order is paid. */
static inline void mf_pay(const struct actor *b, const char *order_id, const char *outcome)
{
    struct h_resp r = {0};
    char key[80], path[160], id[40];
    order_fx_key(key);
    snprintf(path, sizeof path, "/v1/orders/%s/payments", order_id);
    fx_call(b, "POST", path, "{\"method\":\"upi\"}", key, &r);
    h_assert_status(&r, 201);
    snprintf(id, sizeof id, "%s", fx_str(r.json, "id"));
    snprintf(path, sizeof path, "/v1/sandbox/payments/%s/complete", id);
    char body[40];
    snprintf(body, sizeof body, "{\"outcome\":\"%s\"}", outcome);
    fx_call(NULL, "POST", path, body, NULL, &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
    wait_payment(id, strcmp(outcome, "succeeded") == 0 ? "succeeded" : "failed");
}

/* An order of one unit of p by b, paid (id into out). */
static inline void mf_paid_order(const struct actor *b, const json_t *p, char out[40])
{
    json_t *o = order_fx_order(b, p, 1);
    snprintf(out, 40, "%s", fx_str(o, "id"));
    json_decref(o);
    mf_pay(b, out, "succeeded");
    assert_string_equal(order_status(out), "paid");
}

/* The hold period of a delivered order ends in_s seconds from now (<= 0: it has passed). */
static inline void mf_hold_ends_in(const char *order_id, double in_s)
{
    fx_sql("UPDATE orders SET delivered_at = now() - interval '%d seconds' + interval '%.3f "
           "seconds' WHERE id = '%s'",
           MF_HOLD_S, in_s, order_id);
}

/* Waits until the order's status is want (PAY_WAIT_MS). */
static inline void mf_wait_status(const char *order_id, const char *want)
{
    long long until = h_now_ms() + PAY_WAIT_MS;
    while (strcmp(order_status(order_id), want) != 0 && h_now_ms() < until)
        h_sleep_ms(50);
    if (strcmp(order_status(order_id), want) != 0)
        fail_msg("order %s is %s, want %s", order_id, order_status(order_id), want);
}

/* Transfers of kind posted for the order. */
static inline long long mf_transfers(const char *kind, const char *order_id)
{
    return fx_count("SELECT count(*) FROM ledger_transfers WHERE kind = '%s' AND order_id = '%s'",
                    kind, order_id);
}

/* The money invariants over the whole database, in one snapshot: for every seller, what the
 * ledger holds for it (pending; available + in transit + paid out) equals what its orders owe
 * it (the totals of paid, shipped, delivered and disputed orders; the seller amounts of
 * completed ones), no seller account is in debit, and the platform's revenue equals the
 * commissions of completed orders. Fails the test, naming what broke. */
static inline void mf_assert_owed(void)
{
    long long bad = fx_count(
        "WITH owed AS (SELECT seller_id, "
        "sum(CASE WHEN status IN ('paid', 'shipped', 'delivered', 'disputed') THEN total_minor "
        "ELSE 0 END) AS held, "
        "sum(CASE WHEN status = 'completed' THEN seller_amount_minor ELSE 0 END) AS released "
        "FROM orders GROUP BY seller_id), "
        "led AS (SELECT seller_id, "
        "-sum(balance_minor) FILTER (WHERE kind = 'seller_pending') AS held, "
        "-sum(balance_minor) FILTER (WHERE kind <> 'seller_pending') AS released "
        "FROM ledger_accounts WHERE seller_id IS NOT NULL GROUP BY seller_id) "
        "SELECT (SELECT count(*) FROM owed FULL JOIN led USING (seller_id) "
        "WHERE coalesce(owed.held, 0) <> coalesce(led.held, 0) "
        "OR coalesce(owed.released, 0) <> coalesce(led.released, 0)) * 1000000 "
        "+ (SELECT count(*) FROM ledger_accounts WHERE seller_id IS NOT NULL "
        "AND balance_minor > 0) * 1000 "
        "+ (SELECT CASE WHEN (SELECT -balance_minor FROM ledger_accounts "
        "WHERE id = 'platform:revenue') = (SELECT coalesce(sum(commission_minor), 0) "
        "FROM orders WHERE status = 'completed') THEN 0 ELSE 1 END)");
    if (bad != 0)
        fail_msg("money invariant broken: %lld seller(s) whose ledger differs from their orders, "
                 "%lld seller account(s) in debit, revenue %s the completed orders' commissions",
                 bad / 1000000, (bad / 1000) % 1000, bad % 1000 ? "differs from" : "equals");
}

#endif
