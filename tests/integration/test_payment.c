/* Integration tests of the payment module against the real binary and the sandbox provider:
 * an order paid by UPI, card and net banking through the sandbox (complete -> the worker's
 * signed webhook -> payment succeeded, order paid); a failed payment then a second attempt;
 * a UPI payment that fails and then succeeds; forged, replayed and stale webhooks; an amount
 * mismatch; the refusals of POST /v1/orders/{id}/payments; a paid order cancelled (refund
 * processed, stock back); a payment succeeding after its order expired (refunded at once).
 * Every test ends with the ledger invariant (tests/integration/ledger_fixtures.h). */
#include <unistd.h>

#include "tests/integration/payment_fixtures.h"
#include "tests/test_main.h"

/* POST /v1/orders/{id}/payments as b with a fresh key. */
static long pay_call(const struct actor *b, const char *order_id, const char *body,
                     struct h_resp *r)
{
    char key[80], path[120];
    order_fx_key(key);
    snprintf(path, sizeof path, "/v1/orders/%s/payments", order_id);
    return fx_call(b, "POST", path, body, key, r);
}

/* A payment of the order by method (201 asserted); new reference. */
static json_t *pay(const struct actor *b, const char *order_id, const char *method)
{
    struct h_resp r = {0};
    char body[80];
    snprintf(body, sizeof body, "{\"method\":\"%s\"}", method);
    pay_call(b, order_id, body, &r);
    h_assert_status(&r, 201);
    json_t *p = json_incref(r.json);
    h_resp_cleanup(&r);
    return p;
}

static void complete(const char *payment_id, const char *outcome)
{
    struct h_resp r = {0};
    char path[120], body[40];
    snprintf(path, sizeof path, "/v1/sandbox/payments/%s/complete", payment_id);
    snprintf(body, sizeof body, "{\"outcome\":\"%s\"}", outcome);
    fx_call(NULL, "POST", path, body, NULL, &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
}

/* A seller, a buyer, a product of price and an order of one unit (new reference). */
struct scene {
    struct actor s, b;
    json_t *product, *order;
    const char *order_id;
};

static void scene_new(struct scene *x, int64_t price)
{
    char extra[80];
    fx_actor(&x->s, true);
    fx_actor(&x->b, false);
    snprintf(extra, sizeof extra, "{\"stock\":3,\"price_minor\":%lld}", (long long)price);
    x->product = fx_create(&x->s, "Handloom saree", extra);
    x->order = order_fx_order(&x->b, x->product, 1);
    x->order_id = fx_str(x->order, "id");
}

static void scene_free(struct scene *x)
{
    json_decref(x->order);
    json_decref(x->product);
    fx_actor_free(&x->s);
    fx_actor_free(&x->b);
}

static void test_pay_each_method(void **state)
{
    (void)state;
    static const char *const methods[] = {"upi", "card", "netbanking"};
    for (size_t i = 0; i < 3; i++) {
        struct scene x;
        struct h_resp r = {0};
        char path[160];
        scene_new(&x, 129900);
        json_t *p = pay(&x.b, x.order_id, methods[i]);
        const char *id = fx_str(p, "id");
        assert_string_equal(fx_str(p, "status"), "requires_action");
        assert_string_equal(fx_str(p, "method"), methods[i]);
        assert_string_equal(fx_str(p, "order_id"), x.order_id);
        assert_int_equal(fx_int(p, "amount_minor"), 129900);
        assert_string_equal(fx_str(p, "currency"), "INR");
        assert_string_equal(fx_str(p, "provider"), "sandbox");
        assert_non_null(fx_str(p, "provider_ref"));
        assert_non_null(fx_str(p, "created_at"));
        json_t *next = json_object_get(p, "next_action");
        assert_string_equal(fx_str(next, "type"), "redirect");
        const char *url = fx_str(next, "url");
        assert_int_equal(strncmp(url, cat_srv.base_url, strlen(cat_srv.base_url)), 0);
        /* the checkout page is served by haat itself */
        h_request_url("GET", url, NULL, 0, NULL, &r);
        h_assert_status(&r, 200);
        assert_non_null(strstr(h_resp_header(&r, "Content-Type"), "text/html"));
        assert_non_null(strstr(r.body, "upi://pay"));
        complete(id, "succeeded");
        wait_payment(id, "succeeded");
        assert_string_equal(order_status(x.order_id), "paid");
        assert_int_equal(events("payment.succeeded", id), 1);
        assert_int_equal(
            fx_count("SELECT count(*) FROM webhook_events WHERE payment_id = '%s'", id), 1);
        assert_int_equal(seller_pending(x.s.id), -129900);
        /* buyer and seller read it; anyone else gets 404 */
        snprintf(path, sizeof path, "/v1/payments/%s", id);
        fx_call(&x.s, "GET", path, NULL, NULL, &r);
        h_assert_status(&r, 200);
        assert_string_equal(fx_str(r.json, "status"), "succeeded");
        assert_true(json_is_null(json_object_get(r.json, "next_action")));
        fx_call(&x.b, "GET", path, NULL, NULL, &r);
        h_assert_status(&r, 200);
        struct actor other;
        fx_actor(&other, false);
        fx_call(&other, "GET", path, NULL, NULL, &r);
        h_assert_problem(&r, 404, "not_found");
        fx_actor_free(&other);
        /* paid: no further attempt, and the sandbox refuses to complete it again */
        pay_call(&x.b, x.order_id, "{\"method\":\"upi\"}", &r);
        h_assert_problem(&r, 409, "invalid_state");
        snprintf(path, sizeof path, "/v1/sandbox/payments/%s/complete", id);
        fx_call(NULL, "POST", path, "{\"outcome\":\"failed\"}", NULL, &r);
        h_assert_problem(&r, 409, "invalid_state");
        /* the journey goes on: shipped, delivered; the money stays held for the seller */
        order_fx_ship_and_deliver(&x.s, &x.b, x.order_id);
        assert_int_equal(seller_pending(x.s.id), -129900);
        h_resp_cleanup(&r);
        json_decref(p);
        scene_free(&x);
    }
    lf_assert_ledger_balanced(cat_db_url);
}

static void test_create_refusals(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char path[160], body[400];
    scene_new(&x, 50000);
    snprintf(path, sizeof path, "/v1/orders/%s/payments", x.order_id);
    fx_call(&x.b, "POST", path, "{\"method\":\"upi\"}", NULL, &r);
    h_assert_problem(&r, 400, "idempotency_key_required");
    pay_call(&x.s, x.order_id, "{\"method\":\"upi\"}", &r); /* the seller is not the buyer */
    h_assert_problem(&r, 404, "not_found");
    pay_call(&x.b, "0192f0c4-0000-7000-8000-000000000999", "{\"method\":\"upi\"}", &r);
    h_assert_problem(&r, 404, "not_found");
    pay_call(&x.b, x.order_id, "{\"method\":\"cash\"}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    pay_call(&x.b, x.order_id,
             "{\"method\":\"card\",\"card_number\":\"4111111111111111\",\"cvv\":\"123\"}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    snprintf(body, sizeof body,
             "{\"method\":\"upi\",\"return_url\":\"https://elsewhere.example/\"}");
    pay_call(&x.b, x.order_id, body, &r);
    h_assert_problem(&r, 422, "validation_failed");
    snprintf(body, sizeof body, "{\"method\":\"upi\",\"return_url\":\"%s/thanks\"}",
             cat_srv.base_url);
    pay_call(&x.b, x.order_id, body, &r);
    h_assert_status(&r, 201);
    assert_int_equal(fx_count("SELECT count(*) FROM payments WHERE order_id = '%s'", x.order_id),
                     1);
    h_resp_cleanup(&r);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

static void test_failed_then_second_attempt(void **state)
{
    (void)state;
    struct scene x;
    scene_new(&x, 75000);
    json_t *p1 = pay(&x.b, x.order_id, "card");
    complete(fx_str(p1, "id"), "failed");
    wait_payment(fx_str(p1, "id"), "failed");
    assert_int_equal(events("payment.failed", fx_str(p1, "id")), 1);
    assert_string_equal(order_status(x.order_id), "pending_payment");
    assert_int_equal(seller_pending(x.s.id), 0);
    json_t *p2 = pay(&x.b, x.order_id, "netbanking");
    complete(fx_str(p2, "id"), "succeeded");
    wait_payment(fx_str(p2, "id"), "succeeded");
    assert_string_equal(order_status(x.order_id), "paid");
    assert_int_equal(seller_pending(x.s.id), -75000);
    json_decref(p1);
    json_decref(p2);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

/* A UPI payment reported failed, then captured on the user's retry: it ends succeeded. */
static void test_upi_failed_then_succeeded(void **state)
{
    (void)state;
    struct scene x;
    scene_new(&x, 99900);
    json_t *p = pay(&x.b, x.order_id, "upi");
    const char *id = fx_str(p, "id");
    complete(id, "failed");
    wait_payment(id, "failed");
    complete(id, "succeeded");
    wait_payment(id, "succeeded");
    assert_string_equal(order_status(x.order_id), "paid");
    assert_int_equal(seller_pending(x.s.id), -99900);
    json_decref(p);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

/* A sandbox event for payment p, signed at t with secret (NULL: no header). */
static long send_event(const json_t *p, const char *type, const char *event_id, int64_t amount,
                       int64_t t, const char *secret, struct h_resp *r)
{
    char body[800], hdr[200], mac_hex[65], msg[1000];
    unsigned char mac[32];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"type\":\"%s\",\"created\":%lld,\"data\":{\"payment_id\":\"%s\","
             "\"provider_ref\":\"%s\",\"amount_minor\":%lld,\"currency\":\"INR\"}}",
             event_id, type, (long long)t, fx_str(p, "id"), fx_str(p, "provider_ref"),
             (long long)amount);
    int n = snprintf(msg, sizeof msg, "%lld.%s", (long long)t, body);
    crypto_auth_hmacsha256_state st;
    const char *key = secret ? secret : "";
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, (unsigned long long)n);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(mac_hex, sizeof mac_hex, mac, sizeof mac);
    snprintf(hdr, sizeof hdr, "X-Sandbox-Signature: t=%lld,v1=%s", (long long)t, mac_hex);
    return fx_call(NULL, "POST", "/v1/payments/webhooks/sandbox", body, secret ? hdr : NULL, r);
}

static void test_webhook_signatures(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char evt[64];
    scene_new(&x, 45000);
    json_t *p = pay(&x.b, x.order_id, "upi");
    const char *id = fx_str(p, "id");
    int64_t now = (int64_t)time(NULL);
    snprintf(evt, sizeof evt, "evt_test_%s", x.order_id);
    send_event(p, "payment.succeeded", evt, 45000, now, "not-the-secret", &r); /* forged */
    h_assert_problem(&r, 400, "invalid_signature");
    send_event(p, "payment.succeeded", evt, 45000, now, NULL, &r); /* no signature */
    h_assert_problem(&r, 400, "invalid_signature");
    send_event(p, "payment.succeeded", evt, 45000, now - 301, H_SANDBOX_WEBHOOK_SECRET, &r);
    h_assert_problem(&r, 400, "invalid_signature"); /* stale */
    assert_int_equal(fx_count("SELECT count(*) FROM webhook_events WHERE event_id = '%s'", evt), 0);
    assert_string_equal(order_status(x.order_id), "pending_payment");
    send_event(p, "payment.succeeded", evt, 45000, now, H_SANDBOX_WEBHOOK_SECRET, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "succeeded");
    wait_payment(id, "succeeded");
    long long transfers = fx_count("SELECT count(*) FROM ledger_transfers");
    /* replayed: the same event id again is 200 and changes nothing */
    send_event(p, "payment.succeeded", evt, 45000, now, H_SANDBOX_WEBHOOK_SECRET, &r);
    h_assert_status(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "duplicate")));
    assert_int_equal(fx_count("SELECT count(*) FROM ledger_transfers"), transfers);
    assert_int_equal(events("payment.succeeded", id), 1);
    /* a late failure after the success changes nothing */
    send_event(p, "payment.failed", "evt_late_failure", 45000, now, H_SANDBOX_WEBHOOK_SECRET, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "ignored");
    wait_payment(id, "succeeded");
    char *raw = pay_scalar("SELECT convert_from(body, 'UTF8') FROM webhook_events WHERE "
                           "event_id = '%s'",
                           evt);
    assert_non_null(raw);
    assert_non_null(strstr(raw, evt));
    free(raw);
    h_resp_cleanup(&r);
    json_decref(p);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

static void test_amount_mismatch(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    scene_new(&x, 30000);
    json_t *p = pay(&x.b, x.order_id, "card");
    double before =
        h_metric_value(&cat_srv, "payment_webhook_mismatches_total{provider=\"sandbox\"}");
    send_event(p, "payment.succeeded", "evt_mismatch", 30001, (int64_t)time(NULL),
               H_SANDBOX_WEBHOOK_SECRET, &r);
    h_assert_problem(&r, 422, "amount_mismatch");
    assert_string_equal(order_status(x.order_id), "pending_payment");
    wait_payment(fx_str(p, "id"), "requires_action");
    double after =
        h_metric_value(&cat_srv, "payment_webhook_mismatches_total{provider=\"sandbox\"}");
    assert_true(after >= (before < 0 ? 0 : before) + 1);
    assert_int_equal(seller_pending(x.s.id), 0);
    h_resp_cleanup(&r);
    json_decref(p);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

static void test_cancel_paid_order_refunds(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char path[160];
    scene_new(&x, 64000);
    json_t *p = pay(&x.b, x.order_id, "upi");
    const char *id = fx_str(p, "id");
    complete(id, "succeeded");
    wait_payment(id, "succeeded");
    assert_int_equal(order_fx_stock(x.product), 2);
    snprintf(path, sizeof path, "/v1/orders/%s/cancel", x.order_id);
    fx_call(&x.b, "POST", path, "{\"reason\":\"changed my mind\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "cancelled");
    wait_payment(id, "refunded");
    assert_int_equal(order_fx_stock(x.product), 3);
    assert_int_equal(seller_pending(x.s.id), 0);
    assert_int_equal(events("payment.refunded", id), 1);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM payment_refunds WHERE payment_id = '%s' AND status = "
             "'processed'",
             id);
    wait_count(1, sql);
    h_resp_cleanup(&r);
    json_decref(p);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

/* Runs `haat admin failed-refunds` on the test database; its output (caller frees). */
static char *failed_refunds(void)
{
    char dburl[300];
    snprintf(dburl, sizeof dburl, "DATABASE_URL=%s", cat_db_url);
    const char *args[] = {"--config", H_TEST_CONFIG, "admin", "failed-refunds", NULL};
    const char *env[] = {dburl, NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, env, &code, &out), 0);
    if (code != 0)
        fail_msg("admin failed-refunds exited %d: %s", code, out ? out : "");
    return out;
}

/* A refund the provider kept refusing is listed for operators by `haat admin failed-refunds`
 * (the job's giving up is simulated on the refund row: the sandbox never refuses). */
static void test_failed_refunds_listed(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char path[160];
    scene_new(&x, 51000);
    json_t *p = pay(&x.b, x.order_id, "card");
    const char *id = fx_str(p, "id");
    complete(id, "succeeded");
    wait_payment(id, "succeeded");
    snprintf(path, sizeof path, "/v1/orders/%s/cancel", x.order_id);
    fx_call(&x.b, "POST", path, "{\"reason\":\"wrong size\"}", NULL, &r);
    h_assert_status(&r, 200);
    char sql[240];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM payment_refunds WHERE payment_id = '%s' AND status = "
             "'processed'",
             id);
    wait_count(1, sql);
    char *out = failed_refunds();
    assert_null(strstr(out, id)); /* processed: not listed */
    free(out);
    fx_sql("UPDATE payment_refunds SET status = 'failed', processed_at = NULL, attempts = 5, "
           "last_error = 'provider said: BAD_REQUEST_ERROR' WHERE payment_id = '%s'",
           id);
    out = failed_refunds();
    assert_non_null(strstr(out, id));
    assert_non_null(strstr(out, "\"amount_minor\":51000"));
    assert_non_null(strstr(out, "BAD_REQUEST_ERROR"));
    json_t *line = json_loads(strstr(out, "{"), JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null(line);
    assert_string_equal(fx_str(line, "order_id"), x.order_id);
    json_decref(line);
    free(out);
    h_resp_cleanup(&r);
    json_decref(p);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

static void test_success_after_expiry_is_refunded(void **state)
{
    (void)state;
    struct scene x;
    char sql[200];
    scene_new(&x, 88000);
    json_t *p = pay(&x.b, x.order_id, "upi");
    const char *id = fx_str(p, "id");
    fx_sql("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = '%s'",
           x.order_id);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM orders WHERE id = '%s' AND status = "
             "'cancelled'",
             x.order_id);
    wait_count(1, sql);
    assert_int_equal(order_fx_stock(x.product), 3);
    complete(id, "succeeded");
    wait_payment(id, "refunded");
    assert_string_equal(order_status(x.order_id), "cancelled");
    assert_int_equal(events("payment.refunded", id), 1);
    assert_int_equal(events("payment.succeeded", id), 0);
    assert_int_equal(seller_pending(x.s.id), 0);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM payment_refunds WHERE payment_id = '%s' AND status = "
             "'processed'",
             id);
    wait_count(1, sql);
    json_decref(p);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

/* The checkout page in headless Chromium: a screenshot that is not blank. */
static void test_checkout_page_renders(void **state)
{
    (void)state;
    struct scene x;
    char cmd[4096], png[256], profile[256];
    scene_new(&x, 129900);
    json_t *p = pay(&x.b, x.order_id, "upi");
    const char *url = fx_str(json_object_get(p, "next_action"), "url");
    snprintf(png, sizeof png, "var/test-logs/%s-checkout-%d.png", h_test_name(), (int)getpid());
    snprintf(profile, sizeof profile, "var/test-logs/%s-chromium-%d", h_test_name(), (int)getpid());
    snprintf(cmd, sizeof cmd,
             "timeout 60 chromium --headless --no-sandbox --disable-gpu "
             "--disable-background-networking --disable-component-update --disable-sync "
             "--no-first-run --user-data-dir=%s --window-size=600,800 --screenshot=%s '%s' "
             ">/dev/null 2>&1; rm -rf %s; python3 infra/dev/png_not_blank.py %s",
             profile, png, url, profile, png);
    assert_int_equal(system(cmd), 0);
    json_decref(p);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

/* A production configuration refuses the sandbox (exit 2, the variable named). */
static void test_provider_settings_refused(void **state)
{
    (void)state;
    char db[300], *out = NULL;
    int code = 0;
    snprintf(db, sizeof db, "DATABASE_URL=%s", cat_db_url);
    const char *args[] = {"--config", H_TEST_CONFIG, "worker", NULL};
    const char *production[] = {db, "HAAT_ENV=production", NULL};
    assert_int_equal(h_run(args, production, &code, &out), 0);
    assert_int_equal(code, 2);
    assert_non_null(
        strstr(out, "HAAT_PAYMENT_PROVIDER: sandbox is not allowed when HAAT_ENV is production"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pay_each_method),
        cmocka_unit_test(test_create_refusals),
        cmocka_unit_test(test_failed_then_second_attempt),
        cmocka_unit_test(test_upi_failed_then_succeeded),
        cmocka_unit_test(test_webhook_signatures),
        cmocka_unit_test(test_amount_mismatch),
        cmocka_unit_test(test_cancel_paid_order_refunds),
        cmocka_unit_test(test_failed_refunds_listed),
        cmocka_unit_test(test_success_after_expiry_is_refunded),
        cmocka_unit_test(test_checkout_page_renders),
        cmocka_unit_test(test_provider_settings_refused),
    };
    return HAAT_RUN_GROUP("payment", tests, fx_start, fx_stop);
}
