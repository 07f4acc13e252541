/* Integration tests of the razorpay provider against the real binary and the local fake of
 * Razorpay's API (infra/dev/razorpay_fake.py, HAAT_PAYMENT_PROVIDER=razorpay): an order paid
 * (Razorpay order + payment link, signed payment.captured webhook -> payment succeeded, order
 * paid, a replay changes nothing); forged and unsigned webhooks; an amount mismatch; a failure
 * followed by a capture; a checkout the provider refuses (503, payment failed); a lost webhook
 * recovered by the reconciliation job; a paid order cancelled (refund through the fake with its
 * idempotency header). Every test ends with the
 * ledger invariant (tests/integration/ledger_fixtures.h). */
#include <unistd.h>

#include "tests/integration/payment_fixtures.h"
#include "tests/test_main.h"

#define RZP_WEBHOOK_SECRET "razorpay-webhook-test-secret"

static struct h_sink rzp;

static int rzp_start(void **state)
{
    (void)state;
    if (sodium_init() < 0 || h_db_create(cat_db_name, cat_db_url) != 0)
        return -1;
    h_sink_start_at(&rzp, "infra/dev/razorpay_fake.py", "http", __FILE__, __LINE__);
    char base[128];
    snprintf(base, sizeof base, "HAAT_RAZORPAY_BASE_URL=%s", rzp.url);
    const char *env[] = {"HAAT_PAYMENT_PROVIDER=razorpay", base,
                         "HAAT_RAZORPAY_KEY_ID=rzp_test_key",
                         "HAAT_RAZORPAY_KEY_SECRET=rzp_test_secret",
                         "HAAT_RAZORPAY_WEBHOOK_SECRET=" RZP_WEBHOOK_SECRET,
                         /* a test backdates the payment it wants reconciled */
                         "HAAT_PAYMENT_RECONCILE_AFTER_S=3600", NULL};
    snprintf(cat_srv.db_url, sizeof cat_srv.db_url, "%s", cat_db_url);
    h_server_start(&cat_srv, env);
    return 0;
}

static int rzp_stop(void **state)
{
    (void)state;
    fake_teardown(&rzp);
    return 0;
}

static long control(const char *text, struct h_resp *r)
{
    return fake_control(&rzp, text, r);
}

/* A payment of status (captured | failed) through the payment link ref; its id into out. */
static void fake_pay(const char *ref, const char *status, char out[64])
{
    struct h_resp r = {0};
    char body[200];
    snprintf(body, sizeof body, "{\"pay\":{\"link_id\":\"%s\",\"status\":\"%s\"}}", ref, status);
    assert_int_equal(control(body, &r), 200);
    snprintf(out, 64, "%s", fx_str(r.json, "id"));
    h_resp_cleanup(&r);
}

/* The fake sends event about its payment pay_id to haat, signed with secret (signature, when
 * not NULL, is sent instead); amount < 0: the payment's own. r gets haat's answer. */
static long webhook(const char *event, const char *event_id, const char *pay_id, long long amount,
                    const char *secret, const char *signature, struct h_resp *r)
{
    char url[128];
    snprintf(url, sizeof url, "%s/v1/payments/webhooks/razorpay", cat_srv.base_url);
    json_t *spec = json_pack("{s:s,s:s,s:s,s:s,s:s}", "url", url, "secret", secret, "event", event,
                             "event_id", event_id, "payment_id", pay_id);
    if (amount >= 0)
        json_object_set_new(spec, "amount", json_integer(amount));
    if (signature)
        json_object_set_new(spec, "signature", json_string(signature));
    json_t *doc = json_pack("{s:o}", "webhook", spec);
    char *text = json_dumps(doc, JSON_COMPACT);
    long st = control(text, r);
    free(text);
    json_decref(doc);
    return st;
}

static long pay_call(const struct actor *b, const char *order_id, struct h_resp *r)
{
    char key[80], path[120];
    order_fx_key(key);
    snprintf(path, sizeof path, "/v1/orders/%s/payments", order_id);
    return fx_call(b, "POST", path, "{\"method\":\"upi\"}", key, r);
}

static json_t *pay(const struct actor *b, const char *order_id)
{
    struct h_resp r = {0};
    pay_call(b, order_id, &r);
    h_assert_status(&r, 201);
    json_t *p = json_incref(r.json);
    h_resp_cleanup(&r);
    return p;
}

/* The recorded requests of the fake whose path is path (new reference). */
static json_t *recorded(const char *method, const char *path)
{
    json_t *all = h_jsonl_read(rzp.out), *out = json_array(), *it;
    size_t i;
    json_array_foreach(all, i, it)
    {
        const char *m = json_string_value(json_object_get(it, "method")),
                   *p = json_string_value(json_object_get(it, "path"));
        if (m && p && strcmp(m, method) == 0 && strcmp(p, path) == 0)
            json_array_append(out, it);
    }
    json_decref(all);
    return out;
}

struct scene {
    struct actor s, b;
    json_t *product, *order, *payment;
    const char *order_id, *payment_id, *ref;
};

static void scene_new(struct scene *x, int64_t price)
{
    char extra[80];
    fx_actor(&x->s, true);
    fx_actor(&x->b, false);
    snprintf(extra, sizeof extra, "{\"stock\":3,\"price_minor\":%lld}", (long long)price);
    x->product = fx_create(&x->s, "Block-printed dupatta", extra);
    x->order = order_fx_order(&x->b, x->product, 1);
    x->order_id = fx_str(x->order, "id");
    x->payment = pay(&x->b, x->order_id);
    x->payment_id = fx_str(x->payment, "id");
    x->ref = fx_str(x->payment, "provider_ref");
}

static void scene_free(struct scene *x)
{
    json_decref(x->payment);
    json_decref(x->order);
    json_decref(x->product);
    fx_actor_free(&x->s);
    fx_actor_free(&x->b);
}

/* The checkout made a Razorpay order (receipt = our payment id, Basic auth) and a payment
 * link (reference_id = our payment id) whose id is provider_ref and short_url
 * next_action.url. */
static void assert_checkout(const struct scene *x)
{
    assert_true(strncmp(x->ref, "plink_", 6) == 0);
    const char *url = fx_str(json_object_get(x->payment, "next_action"), "url");
    assert_true(strncmp(url, "https://rzp.io/i/", 17) == 0);
    json_t *orders = recorded("POST", "/v1/orders"), *it;
    size_t i;
    bool found = false;
    json_array_foreach(orders, i, it)
    {
        json_t *doc = json_object_get(it, "json");
        if (strcmp(fx_str(doc, "receipt"), x->payment_id) != 0)
            continue;
        found = true;
        assert_int_equal(json_integer_value(json_object_get(doc, "amount")),
                         json_integer_value(json_object_get(x->payment, "amount_minor")));
        assert_string_equal(fx_str(json_object_get(doc, "notes"), "haat_order_id"), x->order_id);
        const char *auth =
            json_string_value(json_object_get(json_object_get(it, "headers"), "Authorization"));
        assert_non_null(auth);
        assert_true(strncmp(auth, "Basic ", 6) == 0);
    }
    assert_true(found);
    json_decref(orders);
    json_t *links = recorded("POST", "/v1/payment_links");
    found = false;
    json_array_foreach(links, i, it) found =
        found || strcmp(fx_str(json_object_get(it, "json"), "reference_id"), x->payment_id) == 0;
    assert_true(found);
    json_decref(links);
}

static void test_rzp_pay_and_webhook(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char pay_id[64], evt[80];
    scene_new(&x, 45000);
    assert_checkout(&x);
    fake_pay(x.ref, "captured", pay_id);
    snprintf(evt, sizeof evt, "evt_ok_%s", x.payment_id);
    webhook("payment.captured", evt, pay_id, -1, RZP_WEBHOOK_SECRET, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "succeeded");
    wait_payment(x.payment_id, "succeeded");
    assert_string_equal(order_status(x.order_id), "paid");
    long long transfers = fx_count("SELECT count(*) FROM ledger_transfers");
    webhook("payment.captured", evt, pay_id, -1, RZP_WEBHOOK_SECRET, NULL, &r); /* replayed */
    h_assert_status(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "duplicate")));
    webhook("order.paid", "evt_order_paid_late", pay_id, -1, RZP_WEBHOOK_SECRET, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "ignored");
    assert_int_equal(fx_count("SELECT count(*) FROM ledger_transfers"), transfers);
    order_fx_ship_and_deliver(&x.s, &x.b, x.order_id); /* the journey goes on */
    h_resp_cleanup(&r);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

static void test_rzp_forged_webhooks(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char pay_id[64], evt[80];
    scene_new(&x, 30000);
    fake_pay(x.ref, "captured", pay_id);
    snprintf(evt, sizeof evt, "evt_forged_%s", x.payment_id);
    webhook("payment.captured", evt, pay_id, -1, "not-the-secret", NULL, &r);
    h_assert_problem(&r, 400, "invalid_signature");
    webhook("payment.captured", evt, pay_id, -1, RZP_WEBHOOK_SECRET, "", &r); /* unsigned */
    h_assert_problem(&r, 400, "invalid_signature");
    webhook("payment.captured", evt, pay_id, -1, RZP_WEBHOOK_SECRET, "abc123", &r);
    h_assert_problem(&r, 400, "invalid_signature");
    assert_int_equal(fx_count("SELECT count(*) FROM webhook_events WHERE event_id = '%s'", evt), 0);
    assert_string_equal(order_status(x.order_id), "pending_payment");
    wait_payment(x.payment_id, "requires_action");
    h_resp_cleanup(&r);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

static void test_rzp_amount_mismatch(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char pay_id[64], evt[80];
    scene_new(&x, 30000);
    fake_pay(x.ref, "captured", pay_id);
    double before =
        h_metric_value(&cat_srv, "payment_webhook_mismatches_total{provider=\"razorpay\"}");
    snprintf(evt, sizeof evt, "evt_mismatch_%s", x.payment_id);
    webhook("payment.captured", evt, pay_id, 29999, RZP_WEBHOOK_SECRET, NULL, &r);
    h_assert_problem(&r, 422, "amount_mismatch");
    assert_string_equal(order_status(x.order_id), "pending_payment");
    double after =
        h_metric_value(&cat_srv, "payment_webhook_mismatches_total{provider=\"razorpay\"}");
    assert_true(after >= (before < 0 ? 0 : before) + 1);
    h_resp_cleanup(&r);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

static void test_rzp_failed_then_captured(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char failed_id[64], pay_id[64], evt[80];
    scene_new(&x, 52000);
    fake_pay(x.ref, "failed", failed_id);
    snprintf(evt, sizeof evt, "evt_failed_%s", x.payment_id);
    webhook("payment.failed", evt, failed_id, -1, RZP_WEBHOOK_SECRET, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "failed");
    wait_payment(x.payment_id, "failed");
    fake_pay(x.ref, "captured", pay_id);
    snprintf(evt, sizeof evt, "evt_captured_%s", x.payment_id);
    webhook("payment.captured", evt, pay_id, -1, RZP_WEBHOOK_SECRET, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "succeeded");
    wait_payment(x.payment_id, "succeeded");
    assert_string_equal(order_status(x.order_id), "paid");
    h_resp_cleanup(&r);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

static void test_rzp_checkout_refused(void **state)
{
    (void)state;
    struct actor s, b;
    struct h_resp r = {0};
    fx_actor(&s, true);
    fx_actor(&b, false);
    json_t *product = fx_create(&s, "Brass lamp", "{\"stock\":2,\"price_minor\":9900}");
    json_t *order = order_fx_order(&b, product, 1);
    const char *order_id = fx_str(order, "id");
    assert_int_equal(control("{\"fail_next\":2,\"status\":503}", &r), 200);
    pay_call(&b, order_id, &r);
    h_assert_problem(&r, 503, "service_unavailable");
    assert_int_equal(fx_count("SELECT count(*) FROM payments WHERE order_id = '%s' AND status "
                              "= 'failed'",
                              order_id),
                     1);
    assert_int_equal(control("{\"reset\":true}", &r), 200);
    assert_string_equal(order_status(order_id), "pending_payment");
    json_t *p = pay(&b, order_id); /* another attempt goes through */
    assert_string_equal(fx_str(p, "status"), "requires_action");
    json_decref(p);
    h_resp_cleanup(&r);
    json_decref(order);
    json_decref(product);
    fx_actor_free(&s);
    fx_actor_free(&b);
    lf_assert_ledger_balanced(cat_db_url);
}

/* No webhook comes: the reconciliation job asks the fake, finds the capture and applies it
 * once; the webhook arriving afterwards changes nothing. */
static void test_rzp_lost_webhook_reconciled(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char pay_id[64], evt[80], path[120];
    scene_new(&x, 71000);
    fake_pay(x.ref, "captured", pay_id);
    fx_sql("UPDATE payments SET updated_at = now() - interval '2 hours' WHERE id = '%s'",
           x.payment_id);
    wait_payment(x.payment_id, "succeeded");
    assert_string_equal(order_status(x.order_id), "paid");
    snprintf(path, sizeof path, "/v1/payment_links/%s", x.ref);
    json_t *asked = recorded("GET", path);
    assert_true(json_array_size(asked) >= 1);
    json_decref(asked);
    assert_int_equal(
        fx_count("SELECT count(*) FROM ledger_transfers WHERE id = 'capture:%s'", x.payment_id), 1);
    long long transfers = fx_count("SELECT count(*) FROM ledger_transfers");
    snprintf(evt, sizeof evt, "evt_late_%s", x.payment_id);
    webhook("payment.captured", evt, pay_id, -1, RZP_WEBHOOK_SECRET, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "ignored");
    assert_int_equal(fx_count("SELECT count(*) FROM ledger_transfers"), transfers);
    h_resp_cleanup(&r);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

static void test_rzp_cancel_refunds(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char pay_id[64], evt[80], path[160];
    scene_new(&x, 64000);
    fake_pay(x.ref, "captured", pay_id);
    snprintf(evt, sizeof evt, "evt_paid_%s", x.payment_id);
    webhook("order.paid", evt, pay_id, -1, RZP_WEBHOOK_SECRET, NULL, &r);
    h_assert_status(&r, 200);
    wait_payment(x.payment_id, "succeeded");
    snprintf(path, sizeof path, "/v1/orders/%s/cancel", x.order_id);
    fx_call(&x.b, "POST", path, "{\"reason\":\"changed my mind\"}", NULL, &r);
    h_assert_status(&r, 200);
    wait_payment(x.payment_id, "refunded");
    long long until = h_now_ms() + PAY_WAIT_MS;
    while (fx_count("SELECT count(*) FROM payment_refunds WHERE payment_id = '%s' AND status = "
                    "'processed'",
                    x.payment_id) != 1) {
        if (h_now_ms() > until)
            fail_msg("the refund of %s was not processed", x.payment_id);
        h_sleep_ms(50);
    }
    char *refund_id =
        pay_scalar("SELECT id FROM payment_refunds WHERE payment_id = '%s'", x.payment_id);
    snprintf(path, sizeof path, "/v1/payments/%s/refund", pay_id);
    json_t *calls = recorded("POST", path);
    assert_true(json_array_size(calls) >= 1);
    json_t *hdrs = json_object_get(json_array_get(calls, 0), "headers");
    assert_string_equal(json_string_value(json_object_get(hdrs, "X-Refund-Idempotency")),
                        refund_id);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(calls, 0), "json"), "amount")),
                     64000);
    json_decref(calls);
    free(refund_id);
    h_resp_cleanup(&r);
    scene_free(&x);
    lf_assert_ledger_balanced(cat_db_url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rzp_pay_and_webhook),
        cmocka_unit_test(test_rzp_forged_webhooks),
        cmocka_unit_test(test_rzp_amount_mismatch),
        cmocka_unit_test(test_rzp_failed_then_captured),
        cmocka_unit_test(test_rzp_checkout_refused),
        cmocka_unit_test(test_rzp_lost_webhook_reconciled),
        cmocka_unit_test(test_rzp_cancel_refunds),
    };
    return HAAT_RUN_GROUP("payment_razorpay", tests, rzp_start, rzp_stop);
}
