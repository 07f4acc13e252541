/* Integration tests of payouts against the real binary and the sandbox payout provider: a
 * payout paid (available -> in transit -> paid out, escrow down by what left), one failed on
 * demand (money back to available), one paid then reversed (money back, seller told), the
 * refusals of POST /v1/seller/payouts, 20 concurrent payouts of ₹100 against ₹1,000 (exactly
 * 10 succeed), the listing's pages and its destination (never more than the last 4
 * characters), and production refusing the sandbox. Every test ends with the ledger
 * invariant (tests/integration/ledger_fixtures.h). Available balance comes from
 * seed_available (tests/integration/payout_fixtures.h says why). */
#include <pthread.h>
#include <unistd.h>

#include "tests/integration/payout_fixtures.h"
#include "tests/test_main.h"

static int payout_start(void **state)
{
    (void)state;
    if (sodium_init() < 0 || h_db_create(cat_db_name, cat_db_url) != 0)
        return -1;
    /* the sandbox decides a payout at its first check, 2 s after it was sent */
    const char *env[] = {"HAAT_PAYOUT_RECONCILE_AFTER_S=2", NULL};
    snprintf(cat_srv.db_url, sizeof cat_srv.db_url, "%s", cat_db_url);
    h_server_start(&cat_srv, env);
    return 0;
}

/* The seller's latest payout as listed (new reference). */
static json_t *listed_first(const struct actor *s)
{
    struct h_resp r = {0};
    fx_call(s, "GET", "/v1/seller/payouts", NULL, NULL, &r);
    h_assert_status(&r, 200);
    json_t *p = json_incref(json_array_get(json_object_get(r.json, "items"), 0));
    h_resp_cleanup(&r);
    return p;
}

/* A payout is sent, then paid: available -> in transit -> paid out; the seller is told. */
static void test_payout_paid(void **state)
{
    (void)state;
    struct actor s;
    char id[37];
    fx_actor(&s, true);
    seed_available(s.id, 100000);
    long long escrow = fx_count("SELECT balance_minor FROM ledger_accounts WHERE id = "
                                "'platform:escrow_held'");
    payout(&s, 60000, id);
    wait_payout(id, "paid");
    json_t *p = listed_first(&s);
    assert_string_equal(fx_str(p, "id"), id);
    assert_string_equal(fx_str(p, "status"), "paid");
    assert_non_null(fx_str(p, "paid_at"));
    assert_true(json_is_null(json_object_get(p, "failure_reason")));
    assert_string_equal(fx_str(json_object_get(p, "destination"), "method"), "upi");
    assert_string_equal(fx_str(json_object_get(p, "destination"), "last4"), "bank");
    json_decref(p);
    assert_int_equal(owed(s.id, "available"), 40000);
    assert_int_equal(owed(s.id, "in_transit"), 0);
    assert_int_equal(owed(s.id, "paid_out"), 60000);
    /* the money left the platform's escrow (other tests may post meanwhile: at least this) */
    assert_true(fx_count("SELECT balance_minor FROM ledger_accounts WHERE id = "
                         "'platform:escrow_held'") <= escrow - 60000);
    assert_int_equal(fx_count("SELECT count(*) FROM ledger_transfers WHERE id IN ('payout:%s', "
                              "'payout_paid:%s')",
                              id, id),
                     2);
    assert_int_equal(fx_count("SELECT count(*) FROM payouts WHERE id = '%s' AND provider_ref = "
                              "'sandbox_payout_%s' AND attempts = 1",
                              id, id),
                     1);
    assert_int_equal(outbox("payout.paid", id), 1);
    fx_actor_free(&s);
    lf_assert_ledger_balanced(cat_db_url);
}

/* The sandbox fails amounts ending in 13 paise: failed, the money back in available. */
static void test_payout_failed_on_demand(void **state)
{
    (void)state;
    struct actor s;
    char id[37];
    fx_actor(&s, true);
    seed_available(s.id, 5000);
    payout(&s, 1013, id);
    assert_int_equal(owed(s.id, "available"), 5000 - 1013);
    assert_int_equal(owed(s.id, "in_transit"), 1013);
    wait_payout(id, "failed");
    json_t *p = listed_first(&s);
    assert_string_equal(fx_str(p, "status"), "failed");
    assert_non_null(strstr(fx_str(p, "failure_reason"), "13 paise"));
    assert_true(json_is_null(json_object_get(p, "paid_at")));
    json_decref(p);
    assert_int_equal(owed(s.id, "available"), 5000);
    assert_int_equal(owed(s.id, "in_transit"), 0);
    assert_int_equal(owed(s.id, "paid_out"), 0);
    assert_int_equal(outbox("payout.failed", id), 1);
    assert_int_equal(outbox("payout.paid", id), 0);
    fx_actor_free(&s);
    lf_assert_ledger_balanced(cat_db_url);
}

static long reverse(const char *id, struct h_resp *r)
{
    char path[120];
    snprintf(path, sizeof path, "/v1/sandbox/payouts/%s/reverse", id);
    return fx_call(NULL, "POST", path, NULL, NULL, r);
}

/* A paid payout that comes back: reversed, the money back in available, the seller told;
 * only a paid payout can be reversed, once. */
static void test_payout_reversed(void **state)
{
    (void)state;
    struct actor s;
    struct h_resp r = {0};
    char id[37], unknown[37];
    fx_actor(&s, true);
    seed_available(s.id, 20000);
    payout(&s, 20000, id);
    reverse(id, &r); /* not paid yet (or just paid: then this reverses it) */
    if (r.status == 409)
        h_assert_problem(&r, 409, "invalid_state");
    else
        h_assert_status(&r, 200);
    bool reversed_early = r.status == 200;
    if (!reversed_early) {
        wait_payout(id, "paid");
        assert_int_equal(owed(s.id, "available"), 0);
        reverse(id, &r);
        h_assert_status(&r, 200);
    }
    assert_string_equal(fx_str(r.json, "status"), "reversed");
    assert_int_equal(owed(s.id, "available"), 20000);
    assert_int_equal(owed(s.id, "paid_out"), 0);
    assert_int_equal(owed(s.id, "in_transit"), 0);
    assert_int_equal(outbox("payout.reversed", id), 1);
    reverse(id, &r);
    h_assert_problem(&r, 409, "invalid_state");
    fx_uuid4(unknown);
    reverse(unknown, &r);
    h_assert_problem(&r, 404, "not_found");
    assert_int_equal(owed(s.id, "available"), 20000);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    lf_assert_ledger_balanced(cat_db_url);
}

/* Bad requests change nothing. */
static void test_payout_refusals(void **state)
{
    (void)state;
    struct actor s, b;
    struct h_resp r = {0};
    fx_actor(&s, true);
    fx_actor(&b, false);
    seed_available(s.id, 10000);
    fx_call(&s, "POST", "/v1/seller/payouts", "{\"amount_minor\":500}", NULL, &r);
    h_assert_problem(&r, 400, "idempotency_key_required");
    const char *bad[] = {"{\"amount_minor\":99}",    "{\"amount_minor\":0}",
                         "{\"amount_minor\":-100}",  "{\"amount_minor\":\"500\"}",
                         "{\"amount_minor\":150.5}", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        payout_call(&s, bad[i], &r);
        h_assert_problem(&r, 422, "validation_failed");
    }
    payout_call(&s, "{\"amount_minor\":10001}", &r);
    h_assert_problem(&r, 409, "insufficient_balance");
    payout_call(&b, "{\"amount_minor\":100}", &r);
    assert_int_equal(r.status, 403);
    fx_call(&b, "GET", "/v1/seller/payouts", NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    fx_call(&s, "GET", "/v1/seller/payouts?limit=0", NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    assert_int_equal(owed(s.id, "available"), 10000);
    assert_int_equal(fx_count("SELECT count(*) FROM payouts WHERE seller_id = '%s'", s.id), 0);
    /* the whole balance is fine; then nothing is left */
    char id[37];
    payout(&s, 10000, id);
    payout_call(&s, "{\"amount_minor\":100}", &r);
    h_assert_problem(&r, 409, "insufficient_balance");
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    fx_actor_free(&b);
    lf_assert_ledger_balanced(cat_db_url);
}

struct shot {
    const struct actor *s;
    long status;
    pthread_barrier_t *go;
};

static void *fire(void *arg)
{
    struct shot *x = arg;
    struct h_resp r = {0};
    char key[80];
    order_fx_key(key);
    pthread_barrier_wait(x->go);
    x->status = fx_call(x->s, "POST", "/v1/seller/payouts", "{\"amount_minor\":10000}", key, &r);
    h_resp_cleanup(&r);
    return NULL;
}

/* 20 concurrent payouts of ₹100 against ₹1,000 available: exactly 10 succeed, the other 10
 * are told insufficient_balance, and the balance never goes below zero. */
static void test_concurrent_payouts(void **state)
{
    (void)state;
    enum { N = 20 };
    struct actor s;
    struct shot shots[N];
    pthread_t t[N];
    pthread_barrier_t go;
    fx_actor(&s, true);
    seed_available(s.id, 100000);
    pthread_barrier_init(&go, NULL, N);
    for (int i = 0; i < N; i++) {
        shots[i] = (struct shot){&s, 0, &go};
        assert_int_equal(pthread_create(&t[i], NULL, fire, &shots[i]), 0);
    }
    int created = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        created += shots[i].status == 201;
        refused += shots[i].status == 409;
    }
    pthread_barrier_destroy(&go);
    assert_int_equal(created, 10);
    assert_int_equal(refused, 10);
    assert_int_equal(owed(s.id, "available"), 0);
    assert_int_equal(fx_count("SELECT count(*) FROM payouts WHERE seller_id = '%s'", s.id), 10);
    /* in one read: a payout may be paid between two */
    assert_int_equal(-fx_count("SELECT sum(balance_minor) FROM ledger_accounts WHERE id IN "
                               "('seller:%s:in_transit', 'seller:%s:paid_out')",
                               s.id, s.id),
                     100000);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM payouts WHERE seller_id = '%s' AND status = 'paid'", s.id);
    wait_count(10, sql);
    assert_int_equal(owed(s.id, "paid_out"), 100000);
    fx_actor_free(&s);
    lf_assert_ledger_balanced(cat_db_url);
}

/* A bank seller's payouts, newest first in pages; the account number never shows beyond its
 * last 4 digits. */
static void test_list_pages(void **state)
{
    (void)state;
    struct actor s;
    struct h_resp r = {0};
    char ids[3][37], path[400];
    bank_seller(&s, "987654321098");
    seed_available(s.id, 3000);
    for (int i = 0; i < 3; i++)
        payout(&s, 1000, ids[i]);
    fx_call(&s, "GET", "/v1/seller/payouts?limit=2", NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_null(strstr(r.body, "98765432"));
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(fx_str(json_array_get(items, 0), "id"), ids[2]);
    assert_string_equal(fx_str(json_array_get(items, 1), "id"), ids[1]);
    json_t *dest = json_object_get(json_array_get(items, 0), "destination");
    assert_string_equal(fx_str(dest, "method"), "bank");
    assert_string_equal(fx_str(dest, "last4"), "1098");
    const char *cursor = fx_str(r.json, "next_cursor");
    assert_non_null(cursor);
    snprintf(path, sizeof path, "/v1/seller/payouts?limit=2&cursor=%s", cursor);
    fx_call(&s, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(fx_str(json_array_get(items, 0), "id"), ids[0]);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    assert_int_equal(fx_count("SELECT count(*) FROM payouts WHERE seller_id = '%s' AND "
                              "destination_last4 = '1098'",
                              s.id),
                     3);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    lf_assert_ledger_balanced(cat_db_url);
}

/* A production configuration refuses the sandbox payout provider (exit 2, the variable
 * named), even with a real payment provider. */
static void test_production_refuses_sandbox_payouts(void **state)
{
    (void)state;
    char db[300], *out = NULL;
    int code = 0;
    snprintf(db, sizeof db, "DATABASE_URL=%s", cat_db_url);
    const char *args[] = {"--config", H_TEST_CONFIG, "worker", NULL};
    const char *production[] = {db,
                                "HAAT_ENV=production",
                                "HAAT_PAYMENT_PROVIDER=razorpay",
                                "HAAT_RAZORPAY_KEY_ID=rzp_test_key",
                                "HAAT_RAZORPAY_KEY_SECRET=rzp_test_secret",
                                "HAAT_RAZORPAY_WEBHOOK_SECRET=whsec_test",
                                NULL};
    assert_int_equal(h_run(args, production, &code, &out), 0);
    assert_int_equal(code, 2);
    assert_non_null(
        strstr(out, "HAAT_PAYOUT_PROVIDER: sandbox is not allowed when HAAT_ENV is production"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payout_paid),
        cmocka_unit_test(test_payout_failed_on_demand),
        cmocka_unit_test(test_payout_reversed),
        cmocka_unit_test(test_payout_refusals),
        cmocka_unit_test(test_concurrent_payouts),
        cmocka_unit_test(test_list_pages),
        cmocka_unit_test(test_production_refuses_sandbox_payouts),
    };
    return HAAT_RUN_GROUP("payout", tests, payout_start, fx_stop);
}
