/* Integration tests of payouts with HAAT_PAYOUT_PROVIDER=razorpayx against the real binary and
 * the local fake of RazorpayX (infra/dev/razorpayx_fake.py): what haat sends (Contact and Fund
 * Account once per destination, the payout with its mode, purpose, reference_id and
 * X-Payout-Idempotency), signed webhooks moving payouts forward only (processed -> paid,
 * failed / rejected -> failed with the money back, reversed after processed -> reversed with
 * the money back), repeated events changing nothing, forged signatures refused, a provider
 * outage retried, and a payout whose webhook never came settled by the reconciliation job.
 * Every test ends with the ledger invariant. Available balance: seed_available
 * (tests/integration/payout_fixtures.h says why). */
#include "tests/integration/payout_fixtures.h"
#include "tests/test_main.h"

#define RZPX_SECRET  "rzpx_whsec_test"
#define RZPX_ACCOUNT "7878780080316316"

static struct h_sink rzpx;

static int rzpx_start(void **state)
{
    (void)state;
    if (sodium_init() < 0 || h_db_create(cat_db_name, cat_db_url) != 0)
        return -1;
    h_sink_start_at(&rzpx, "infra/dev/razorpayx_fake.py", "http", __FILE__, __LINE__);
    char base[128];
    snprintf(base, sizeof base, "HAAT_RAZORPAYX_BASE_URL=%s", rzpx.url);
    const char *env[] = {
        "HAAT_PAYOUT_PROVIDER=razorpayx", base, "HAAT_RAZORPAYX_KEY_ID=rzpx_test_key",
        "HAAT_RAZORPAYX_KEY_SECRET=rzpx_test_secret", "HAAT_RAZORPAYX_ACCOUNT_NUMBER=" RZPX_ACCOUNT,
        "HAAT_RAZORPAYX_WEBHOOK_SECRET=" RZPX_SECRET,
        /* a test backdates the payout it wants reconciled */
        "HAAT_PAYOUT_RECONCILE_AFTER_S=3600", NULL};
    snprintf(cat_srv.db_url, sizeof cat_srv.db_url, "%s", cat_db_url);
    h_server_start(&cat_srv, env);
    return 0;
}

static int rzpx_stop(void **state)
{
    (void)state;
    fake_teardown(&rzpx);
    return 0;
}

static long control(const char *text, struct h_resp *r)
{
    return fake_control(&rzpx, text, r);
}

/* The fake's count of kind (contacts, fund_accounts, payouts). */
static long long fake_count(const char *kind)
{
    struct h_resp r = {0};
    char url[128];
    snprintf(url, sizeof url, "%s/__control", rzpx.url);
    h_request_url("GET", url, NULL, 0, NULL, &r);
    long long n = json_integer_value(json_object_get(r.json, kind));
    h_resp_cleanup(&r);
    return n;
}

/* The fake sends event (payout.processed ...) about our payout id, signed with secret
 * (signature, when not NULL, sent instead). r gets haat's answer. */
static long webhook(const char *event, const char *event_id, const char *payout_id,
                    const char *secret, const char *signature, struct h_resp *r)
{
    char url[128];
    snprintf(url, sizeof url, "%s/v1/payments/webhooks/razorpayx", cat_srv.base_url);
    json_t *spec = json_pack("{s:s,s:s,s:s,s:s,s:s}", "url", url, "secret", secret, "event", event,
                             "event_id", event_id, "reference_id", payout_id);
    if (strcmp(event, "payout.processed") != 0)
        json_object_set_new(spec, "failure_reason", json_string("beneficiary bank offline"));
    if (signature)
        json_object_set_new(spec, "signature", json_string(signature));
    json_t *doc = json_pack("{s:o}", "webhook", spec);
    char *text = json_dumps(doc, JSON_COMPACT);
    long st = control(text, r);
    free(text);
    json_decref(doc);
    return st;
}

/* Waits until the send job has handed the payout to the fake. */
static void wait_sent(const char *id)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM payouts WHERE id = '%s' AND provider_ref IS NOT NULL", id);
    wait_count(1, sql);
}

/* The last request the fake recorded on path (POST), as JSON (new reference), or NULL. */
static json_t *last_request(const char *path)
{
    json_t *all = h_jsonl_read(rzpx.out), *it, *found = NULL;
    size_t i;
    json_array_foreach(all, i, it)
    {
        const char *p = json_string_value(json_object_get(it, "path"));
        if (p && strcmp(p, path) == 0)
            found = it;
    }
    json_incref(found);
    json_decref(all);
    return found;
}

static const char *header_of(const json_t *req, const char *name)
{
    return json_string_value(json_object_get(json_object_get(req, "headers"), name));
}

/* A UPI payout: what haat sends; processed -> paid, once; the fund account reused. */
static void test_rzpx_upi_paid(void **state)
{
    (void)state;
    struct actor s;
    struct h_resp r = {0};
    char id[37], id2[37], evt[80];
    fx_actor(&s, true);
    seed_available(s.id, 100000);
    long long contacts = fake_count("contacts"), funds = fake_count("fund_accounts");
    payout(&s, 40000, id);
    wait_sent(id);
    assert_int_equal(fake_count("contacts"), contacts + 1);
    assert_int_equal(fake_count("fund_accounts"), funds + 1);
    json_t *fa = last_request("/v1/fund_accounts");
    assert_non_null(fa);
    assert_string_equal(fx_str(json_object_get(fa, "json"), "account_type"), "vpa");
    assert_string_equal(fx_str(json_object_get(json_object_get(fa, "json"), "vpa"), "address"),
                        "seller@okbank");
    json_decref(fa);
    json_t *po = last_request("/v1/payouts"), *body = json_object_get(po, "json");
    assert_string_equal(header_of(po, "X-Payout-Idempotency"), id);
    assert_string_equal(fx_str(body, "reference_id"), id);
    assert_string_equal(fx_str(body, "mode"), "UPI");
    assert_string_equal(fx_str(body, "purpose"), "payout");
    assert_string_equal(fx_str(body, "account_number"), RZPX_ACCOUNT);
    assert_int_equal(json_integer_value(json_object_get(body, "amount")), 40000);
    json_decref(po);
    snprintf(evt, sizeof evt, "evt_paid_%s", id);
    webhook("payout.processed", evt, id, RZPX_SECRET, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "paid");
    webhook("payout.processed", evt, id, RZPX_SECRET, NULL, &r); /* the same event again */
    h_assert_status(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "duplicate")));
    assert_int_equal(owed(s.id, "paid_out"), 40000);
    assert_int_equal(owed(s.id, "available"), 60000);
    assert_int_equal(owed(s.id, "in_transit"), 0);
    /* a second payout to the same destination reuses its contact and fund account */
    payout(&s, 10000, id2);
    wait_sent(id2);
    assert_int_equal(fake_count("contacts"), contacts + 1);
    assert_int_equal(fake_count("fund_accounts"), funds + 1);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    lf_assert_ledger_balanced(cat_db_url);
}

/* A bank payout above ₹5 lakh goes by NEFT and fails: money back. One of ₹5 lakh goes by
 * IMPS, is paid, then reversed: money back, and a late processed changes nothing. */
static void test_rzpx_bank_failed_and_reversed(void **state)
{
    (void)state;
    struct actor s;
    struct h_resp r = {0};
    char big[37], small[37], evt[80];
    bank_seller(&s, "123456789012");
    seed_available(s.id, 60000000);
    payout(&s, 50000001, big);
    wait_sent(big);
    json_t *fa = last_request("/v1/fund_accounts");
    json_t *bank = json_object_get(json_object_get(fa, "json"), "bank_account");
    assert_string_equal(fx_str(bank, "account_number"), "123456789012");
    assert_string_equal(fx_str(bank, "ifsc"), "HDFC0001234");
    json_decref(fa);
    json_t *po = last_request("/v1/payouts");
    assert_string_equal(fx_str(json_object_get(po, "json"), "mode"), "NEFT");
    json_decref(po);
    snprintf(evt, sizeof evt, "evt_failed_%s", big);
    webhook("payout.rejected", evt, big, RZPX_SECRET, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "failed");
    assert_int_equal(owed(s.id, "available"), 60000000);
    assert_int_equal(owed(s.id, "in_transit"), 0);
    char *reason = pay_scalar("SELECT failure_reason FROM payouts WHERE id = '%s'", big);
    assert_string_equal(reason, "beneficiary bank offline");
    free(reason);

    payout(&s, 50000000, small);
    wait_sent(small);
    po = last_request("/v1/payouts");
    assert_string_equal(fx_str(json_object_get(po, "json"), "mode"), "IMPS");
    json_decref(po);
    snprintf(evt, sizeof evt, "evt_paid_%s", small);
    webhook("payout.processed", evt, small, RZPX_SECRET, NULL, &r);
    assert_string_equal(fx_str(r.json, "outcome"), "paid");
    assert_int_equal(owed(s.id, "paid_out"), 50000000);
    snprintf(evt, sizeof evt, "evt_reversed_%s", small);
    webhook("payout.reversed", evt, small, RZPX_SECRET, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "reversed");
    assert_int_equal(owed(s.id, "paid_out"), 0);
    assert_int_equal(owed(s.id, "available"), 60000000);
    assert_int_equal(outbox("payout.reversed", small), 1);
    snprintf(evt, sizeof evt, "evt_late_%s", small);
    webhook("payout.processed", evt, small, RZPX_SECRET, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "outcome"), "ignored");
    assert_int_equal(owed(s.id, "available"), 60000000);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    lf_assert_ledger_balanced(cat_db_url);
}

/* Forged or missing signatures are refused and change nothing. */
static void test_rzpx_bad_signature(void **state)
{
    (void)state;
    struct actor s;
    struct h_resp r = {0};
    char id[37], evt[80];
    fx_actor(&s, true);
    seed_available(s.id, 5000);
    payout(&s, 5000, id);
    wait_sent(id);
    snprintf(evt, sizeof evt, "evt_forged_%s", id);
    webhook("payout.failed", evt, id, "not-the-secret", NULL, &r);
    h_assert_problem(&r, 400, "invalid_signature");
    webhook("payout.failed", evt, id, RZPX_SECRET, "", &r);
    h_assert_problem(&r, 400, "invalid_signature");
    assert_int_equal(fx_count("SELECT count(*) FROM payouts WHERE id = '%s' AND status = "
                              "'processing'",
                              id),
                     1);
    assert_int_equal(owed(s.id, "in_transit"), 5000);
    assert_int_equal(fx_count("SELECT count(*) FROM webhook_events WHERE event_id = '%s'", evt), 0);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    lf_assert_ledger_balanced(cat_db_url);
}

/* RazorpayX down (503) when the payout is sent: retried, sent once (one payout at the fake).
 * Its webhook never comes: the reconciliation job asks RazorpayX and ends it as the webhook
 * would have. */
static void test_rzpx_retry_and_reconcile(void **state)
{
    (void)state;
    struct actor s;
    struct h_resp r = {0};
    char id[37], body[200];
    fx_actor(&s, true);
    seed_available(s.id, 7000);
    long long payouts = fake_count("payouts");
    assert_int_equal(control("{\"fail_next\":1,\"status\":503}", &r), 200);
    payout(&s, 7000, id);
    wait_sent(id);
    assert_int_equal(fake_count("payouts"), payouts + 1);
    assert_int_equal(fx_count("SELECT attempts FROM payouts WHERE id = '%s'", id), 2);
    snprintf(body, sizeof body, "{\"set\":{\"reference_id\":\"%s\",\"status\":\"processed\"}}", id);
    assert_int_equal(control(body, &r), 200);
    fx_sql("UPDATE payouts SET updated_at = now() - interval '2 hours' WHERE id = '%s'", id);
    wait_payout(id, "paid");
    assert_int_equal(owed(s.id, "paid_out"), 7000);
    assert_int_equal(outbox("payout.paid", id), 1);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    lf_assert_ledger_balanced(cat_db_url);
}

/* The number a payout sends must be the seller's own, whether it was sealed when the seller
 * signed up (POST /v1/me/seller) or later by `haat admin seal-accounts`; the database keeps
 * only the sealed number and its last 4 digits. */
static void test_rzpx_sealed_accounts(void **state)
{
    (void)state;
    struct actor a, b;
    struct h_resp r = {0};
    char id[37];
    fx_actor(&a, false);
    fx_call(&a, "POST", "/v1/me/seller",
            "{\"display_name\":\"Sealed Shop\",\"payout\":{\"method\":\"bank\","
            "\"account_name\":\"Asha Rao\",\"account_number\":\"555566667777\","
            "\"ifsc\":\"HDFC0001234\"}}",
            NULL, &r);
    h_assert_status(&r, 201);
    seller_token(&a);
    assert_int_equal(fx_count("SELECT count(*) FROM sellers WHERE user_id = '%s' AND "
                              "bank_account_number IS NULL AND bank_account_last4 = '7777' AND "
                              "position('555566667777' in encode(bank_account_sealed, 'escape')) "
                              "= 0",
                              a.id),
                     1);
    seed_available(a.id, 1000);
    payout(&a, 1000, id);
    wait_sent(id);
    json_t *fa = last_request("/v1/fund_accounts");
    assert_string_equal(
        fx_str(json_object_get(json_object_get(fa, "json"), "bank_account"), "account_number"),
        "555566667777");
    json_decref(fa);

    /* a row from before sealing: sealed once by the operator, audited, still paid right */
    bank_seller(&b, "888899990000");
    char db[300], *out = NULL;
    int code = 0;
    snprintf(db, sizeof db, "DATABASE_URL=%s", cat_db_url);
    const char *args[] = {"--config", H_TEST_CONFIG, "admin", "seal-accounts", NULL};
    const char *env[] = {db, NULL};
    assert_int_equal(h_run(args, env, &code, &out), 0);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "haat: sealed "));
    free(out);
    assert_int_equal(fx_count("SELECT count(*) FROM sellers WHERE bank_account_number IS NOT NULL"),
                     0);
    assert_int_equal(fx_count("SELECT count(*) FROM sellers WHERE user_id = '%s' AND "
                              "bank_account_last4 = '0000' AND bank_account_sealed IS NOT NULL",
                              b.id),
                     1);
    assert_int_equal(fx_count("SELECT count(*) FROM audit_log WHERE actor_id = 'cli' AND action = "
                              "'seller.seal_account' AND target_id = '%s'",
                              b.id),
                     1);
    assert_int_equal(h_run(args, env, &code, &out), 0); /* again: nothing more to seal */
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "haat: sealed 0 bank account number(s)"));
    free(out);
    seed_available(b.id, 1000);
    payout(&b, 1000, id);
    wait_sent(id);
    fa = last_request("/v1/fund_accounts");
    assert_string_equal(
        fx_str(json_object_get(json_object_get(fa, "json"), "bank_account"), "account_number"),
        "888899990000");
    json_decref(fa);
    h_resp_cleanup(&r);
    fx_actor_free(&a);
    fx_actor_free(&b);
    lf_assert_ledger_balanced(cat_db_url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rzpx_upi_paid),
        cmocka_unit_test(test_rzpx_bank_failed_and_reversed),
        cmocka_unit_test(test_rzpx_bad_signature),
        cmocka_unit_test(test_rzpx_retry_and_reconcile),
        cmocka_unit_test(test_rzpx_sealed_accounts),
    };
    return HAAT_RUN_GROUP("payout_razorpayx", tests, rzpx_start, rzpx_stop);
}
