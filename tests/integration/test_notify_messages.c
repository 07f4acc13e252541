/* Integration tests of the notification module, part 1: what is actually received through a
 * real SMTP server (infra/dev/smtp_sink.py) and a Twilio-compatible capture server
 * (infra/dev/http_capture.py) — recipient, subject, body, rupee amounts, OTP codes that really
 * verify —, retries after 503s, permanent failure on 400, the chat throttle, bad events
 * dead-lettered, the OTP fast lane under a backlog (< 1 s), and the metrics all that leaves.
 *
 * Events are produced both ways: inserted into outbox_events with pg_notify through libpq
 * (the producers of most events may not exist yet), and through the real signup route. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/integration/harness.h"
#include "tests/integration/notify_fixtures.h"
#include "tests/test_main.h"

/* This binary's sinks and server (the server sends through the sinks), for the whole file. */
static struct h_sink smtp, sms;
static struct h_server srv;

static int group_setup(void **state)
{
    (void)state;
    nf_start(&srv, &smtp, &sms);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nf_stop(&srv, &smtp, &sms);
    return 0;
}

/* ---- signup: OTP codes that verify, no welcome to unverified addresses, the masked feed ------ */

static void test_signup_messages_and_masked_feed(void **state)
{
    (void)state;
    struct nf_user u;
    nf_signup(&srv, &u, "Asha Rao");
    long long t0 = h_now_ms(); /* the events committed before the 201 */
    json_t *all = nf_wait_sms(&sms, u.phone, "is your haat code", 1, 5000);
    long long otp_ms = h_now_ms() - t0;
    const json_t *otp = nf_find_sms(all, u.phone, "is your haat code");
    if (!otp)
        fail_msg("no OTP SMS to %s", u.phone);
    print_message("signup: SMS OTP received %lld ms after the signup answer\n", otp_ms);
    assert_true(otp_ms < 1000);
    /* The Twilio request itself. */
    assert_string_equal(nf_member(otp, "method"), "POST");
    assert_string_equal(nf_member(otp, "path"), "/2010-04-01/Accounts/" NF_SID "/Messages.json");
    const json_t *form = json_object_get(otp, "form");
    assert_string_equal(nf_member(form, "From"), NF_SMS_FROM);
    assert_string_equal(nf_member(form, "To"), u.phone);
    const json_t *hdrs = json_object_get(otp, "headers");
    char basic[128], b64[96];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)NF_SID ":" NF_TOKEN,
                      strlen(NF_SID ":" NF_TOKEN), sodium_base64_VARIANT_ORIGINAL);
    snprintf(basic, sizeof basic, "Basic %s", b64);
    assert_string_equal(nf_member(hdrs, "Authorization"), basic);
    assert_non_null(strstr(nf_member(hdrs, "Content-Type"), "application/x-www-form-urlencoded"));
    char sms_code[7];
    nf_code_in(nf_member(form, "Body"), sms_code);
    assert_int_equal(strlen(sms_code), 6);
    assert_non_null(strstr(nf_member(form, "Body"), "to verify your account"));
    json_decref(all);

    all = nf_wait_mail(&smtp, u.email, "Your haat verification code", 1, 5000);
    const json_t *mail = nf_find_mail(all, u.email, "Your haat verification code");
    assert_non_null(mail);
    char mail_code[7];
    nf_code_in(nf_member(mail, "body"), mail_code);
    assert_int_equal(strlen(mail_code), 6);
    assert_string_equal(nf_member(mail, "mail_from"), NF_MAIL_FROM_ADDR);
    const json_t *mh = json_object_get(mail, "headers");
    assert_non_null(strstr(nf_member(mh, "From"), "<" NF_MAIL_FROM_ADDR ">"));
    assert_non_null(strstr(nf_member(mh, "To"), u.email));
    assert_non_null(strstr(nf_member(mh, "Message-ID"), "@haat.test>"));
    assert_string_equal(nf_member(mh, "MIME-Version"), "1.0");
    assert_non_null(strstr(nf_member(mh, "Content-Type"), "text/plain"));
    assert_non_null(nf_member(mh, "Date"));
    json_decref(all);
    /* Nothing but the codes went to the addresses nobody had verified yet: no welcome (it
     * would carry the typed name to a phone that may not be the signer's). */
    all = nf_wait_sms(&sms, u.phone, "Welcome to haat", 1, 300);
    assert_int_equal(nf_count_sms(all, u.phone, "Welcome to haat"), 0);
    json_decref(all);
    assert_int_equal(nf_db_int(srv.db_url,
                               "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                               "event_type = 'user.signed_up'",
                               u.id),
                     0);

    /* The code that arrived is the real one: it verifies the phone. */
    char body[256];
    snprintf(body, sizeof body,
             "{\"channel\":\"sms\",\"destination\":\"%s\",\"code\":\"%s\",\"purpose\":\"verify\"}",
             u.phone, sms_code);
    struct h_resp r = {0};
    h_request(&srv, "POST", "/v1/auth/otp/verify", body, NULL, &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);

    /* The feed: the two codes, masked, the secrets gone from the database. */
    nf_wait_quiet(srv.db_url, 5000);
    nf_api(&srv, "GET", "/v1/me/notifications", u.id, NULL, &r);
    h_assert_status(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    size_t i, otps = 0;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *fields[] = {"id",   "event",  "channel",    "subject",
                                "body", "status", "created_at", "sent_at"};
        for (size_t f = 0; f < 8; f++)
            assert_non_null(json_object_get(it, fields[f]));
        assert_string_equal(nf_member(it, "status"), "sent");
        assert_true(json_is_string(json_object_get(it, "sent_at")));
        assert_null(strstr(nf_member(it, "body"), sms_code));
        assert_null(strstr(nf_member(it, "body"), mail_code));
        bool is_sms = strcmp(nf_member(it, "channel"), "sms") == 0;
        assert_true(is_sms ? json_is_null(json_object_get(it, "subject"))
                           : json_is_string(json_object_get(it, "subject")));
        if (strcmp(nf_member(it, "event"), "otp.requested") == 0) {
            otps++;
            assert_non_null(strstr(nf_member(it, "body"), NF_MASK));
        }
    }
    assert_int_equal(otps, 2);
    assert_null(strstr(r.body, sms_code));
    h_resp_cleanup(&r);
    assert_int_equal(nf_db_int(srv.db_url,
                               "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                               "body_sealed IS NOT NULL",
                               u.id),
                     0);
    /* Server-side: event commit -> SMS accepted, both OTPs under a second. */
    assert_int_equal(nf_db_int(srv.db_url,
                               "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                               "event_type = 'otp.requested' AND sent_at - event_created_at < "
                               "interval '1 second'",
                               u.id),
                     2);
}

/* ---- an order: both parties, both channels, rupees ------------------------------------------- */

static void test_order_placed_rupees(void **state)
{
    (void)state;
    struct nf_user buyer, seller;
    nf_signup(&srv, &buyer, "Bala Buyer");
    nf_signup(&srv, &seller, "Sita Seller");
    char order[37], payload[512];
    nf_uuid_new(order);
    snprintf(payload, sizeof payload,
             "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\",\"total_minor\":129900,"
             "\"currency\":\"INR\",\"item_count\":2}",
             order, buyer.id, seller.id);
    nf_emit_at(srv.db_url, "order.placed", payload, NULL);
    char subj[128], short_id[9];
    snprintf(short_id, sizeof short_id, "%.8s", order);

    snprintf(subj, sizeof subj, "Order %s placed: ₹1,299.00", short_id);
    json_t *all = nf_wait_mail(&smtp, buyer.email, subj, 1, 5000);
    const json_t *m = nf_find_mail(all, buyer.email, subj);
    if (!m)
        fail_msg("no buyer email \"%s\"", subj);
    assert_non_null(strstr(nf_member(m, "body"), "Hi Bala Buyer,"));
    assert_non_null(strstr(nf_member(m, "body"), "2 item(s) for ₹1,299.00"));
    assert_non_null(strstr(nf_member(m, "body"), order));
    json_decref(all);
    snprintf(subj, sizeof subj, "New order %s: ₹1,299.00", short_id);
    all = nf_wait_mail(&smtp, seller.email, subj, 1, 5000);
    m = nf_find_mail(all, seller.email, subj);
    assert_non_null(m);
    assert_non_null(strstr(nf_member(m, "body"), "Hi Sita Seller,"));
    json_decref(all);

    all = nf_wait_sms(&sms, buyer.phone, short_id, 1, 5000);
    const json_t *s = nf_find_sms(all, buyer.phone, short_id);
    assert_non_null(s);
    assert_non_null(strstr(nf_member(json_object_get(s, "form"), "Body"), "₹1,299.00"));
    json_decref(all);
    all = nf_wait_sms(&sms, seller.phone, short_id, 1, 5000);
    assert_non_null(nf_find_sms(all, seller.phone, "new order"));
    json_decref(all);

    /* One lakh, Indian grouping, through a payout. */
    char payout[37];
    nf_uuid_new(payout);
    snprintf(payload, sizeof payload,
             "{\"payout_id\":\"%s\",\"seller_id\":\"%s\",\"amount_minor\":10000000,"
             "\"currency\":\"INR\",\"destination\":\"sita@upi\"}",
             payout, seller.id);
    nf_emit_at(srv.db_url, "payout.paid", payload, NULL);
    all = nf_wait_sms(&sms, seller.phone, "payout of ₹1,00,000.00 sent to sita@upi", 1, 5000);
    assert_int_equal(nf_count_sms(all, seller.phone, "payout of ₹1,00,000.00 sent to sita@upi"), 1);
    json_decref(all);

    /* Exactly one message per party and channel for the order. */
    nf_wait_quiet(srv.db_url, 5000);
    all = h_jsonl_read(sms.out);
    assert_int_equal(nf_count_sms(all, buyer.phone, short_id), 1);
    assert_int_equal(nf_count_sms(all, seller.phone, short_id), 1);
    json_decref(all);
    all = h_jsonl_read(smtp.out);
    assert_int_equal(nf_count_mail(all, buyer.email, short_id), 1);
    assert_int_equal(nf_count_mail(all, seller.email, short_id), 1);
    json_decref(all);
}

/* ---- provider failures ----------------------------------------------------------------------- */

static void test_retry_after_503_then_one_delivery(void **state)
{
    (void)state;
    struct nf_user seller;
    nf_signup(&srv, &seller, "Ravi Retry");
    nf_wait_quiet(srv.db_url, 5000);
    double retries0 =
        h_metric_value(&srv, "notifications_sent_total{channel=\"sms\",status=\"retry\"}");
    assert_int_equal(h_capture_control(&sms, "{\"fail_next\":2,\"status\":503}"), 200);
    char payout[37], payload[512], dest[64];
    nf_uuid_new(payout);
    snprintf(dest, sizeof dest, "retry-%u@upi", randombytes_uniform(1000000));
    snprintf(payload, sizeof payload,
             "{\"payout_id\":\"%s\",\"seller_id\":\"%s\",\"amount_minor\":500,"
             "\"currency\":\"INR\",\"destination\":\"%s\"}",
             payout, seller.id, dest);
    char ev[37];
    nf_emit_at(srv.db_url, "payout.paid", payload, ev);
    json_t *all = nf_wait_sms(&sms, seller.phone, dest, 3, 15000);
    assert_int_equal(nf_count_sms(all, seller.phone, dest), 3); /* 503, 503, 201 */
    json_decref(all);
    nf_wait_quiet(srv.db_url, 5000);
    assert_int_equal(nf_db_int(srv.db_url,
                               "SELECT count(*) FROM notifications WHERE event_id = '%s' AND "
                               "channel = 'sms' AND status = 'sent' AND attempts = 3 AND "
                               "last_error IS NULL",
                               ev),
                     1);
    h_sleep_ms(2500); /* nothing more arrives: exactly one delivered message */
    all = h_jsonl_read(sms.out);
    assert_int_equal(nf_count_sms(all, seller.phone, dest), 3);
    json_decref(all);
    double retries1 =
        h_metric_value(&srv, "notifications_sent_total{channel=\"sms\",status=\"retry\"}");
    assert_true(retries1 - retries0 >= 2);
    /* The email of the same event went through at once. */
    assert_int_equal(nf_db_int(srv.db_url,
                               "SELECT attempts FROM notifications WHERE event_id = '%s' AND "
                               "channel = 'email' AND status = 'sent'",
                               ev),
                     1);
}

static void test_permanent_failure_on_400(void **state)
{
    (void)state;
    struct nf_user seller;
    nf_signup(&srv, &seller, "Pari Permanent");
    nf_wait_quiet(srv.db_url, 5000);
    double failed0 =
        h_metric_value(&srv, "notifications_sent_total{channel=\"sms\",status=\"failed\"}");
    assert_int_equal(h_capture_control(&sms, "{\"fail_next\":1,\"status\":400,\"body\":"
                                             "{\"code\":21211,\"message\":\"invalid To\"}}"),
                     200);
    char payout[37], payload[512], dest[64], ev[37];
    nf_uuid_new(payout);
    snprintf(dest, sizeof dest, "perm-%u@upi", randombytes_uniform(1000000));
    snprintf(payload, sizeof payload,
             "{\"payout_id\":\"%s\",\"seller_id\":\"%s\",\"amount_minor\":99,"
             "\"currency\":\"INR\",\"destination\":\"%s\"}",
             payout, seller.id, dest);
    nf_emit_at(srv.db_url, "payout.paid", payload, ev);
    nf_wait_quiet(srv.db_url, 5000);
    char *err = NULL;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT status || ' ' || attempts || ' ' || last_error FROM notifications "
             "WHERE event_id = '%s' AND channel = 'sms'",
             ev);
    err = h_db_scalar(srv.db_url, sql);
    assert_non_null(err);
    assert_true(strncmp(err, "failed 1 ", 9) == 0);
    assert_non_null(strstr(err, "400"));
    free(err);
    h_sleep_ms(2500); /* no retry */
    json_t *all = h_jsonl_read(sms.out);
    assert_int_equal(nf_count_sms(all, seller.phone, dest), 1);
    json_decref(all);
    double failed1 =
        h_metric_value(&srv, "notifications_sent_total{channel=\"sms\",status=\"failed\"}");
    assert_true(failed1 - failed0 >= 1);
    /* The feed says so. */
    struct h_resp r = {0};
    nf_api(&srv, "GET", "/v1/me/notifications?limit=100", seller.id, NULL, &r);
    h_assert_status(&r, 200);
    size_t i, found = 0;
    json_t *it;
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        if (strcmp(nf_member(it, "event"), "payout.paid") != 0)
            continue;
        found++;
        bool is_sms = strcmp(nf_member(it, "channel"), "sms") == 0;
        assert_string_equal(nf_member(it, "status"), is_sms ? "failed" : "sent");
        assert_true(is_sms == json_is_null(json_object_get(it, "sent_at")));
    }
    assert_int_equal(found, 2);
    h_resp_cleanup(&r);
}

/* ---- chat throttle, bad events --------------------------------------------------------------- */

static void test_chat_throttle(void **state)
{
    (void)state;
    struct nf_user a, b;
    nf_signup(&srv, &a, "Chatty Buyer");
    nf_signup(&srv, &b, "Chatty Seller");
    char c1[37], c2[37], product[37], payload[512];
    nf_uuid_new(c1);
    nf_uuid_new(c2);
    nf_uuid_new(product);
    const char *convs[] = {c1, c1, c2};
    const char *previews[] = {"first-msg", "second-msg", "other-conv"};
    for (int i = 0; i < 3; i++) {
        char msg[37];
        nf_uuid_new(msg);
        snprintf(payload, sizeof payload,
                 "{\"conversation_id\":\"%s\",\"message_id\":\"%s\",\"sender_id\":\"%s\","
                 "\"recipient_id\":\"%s\",\"product_id\":\"%s\",\"preview\":\"%s\"}",
                 convs[i], msg, a.id, b.id, product, previews[i]);
        nf_emit_at(srv.db_url, "message.received", payload, NULL);
    }
    nf_wait_quiet(srv.db_url, 5000);
    json_t *all = h_jsonl_read(sms.out);
    assert_int_equal(nf_count_sms(all, b.phone, "first-msg"), 1);
    assert_int_equal(nf_count_sms(all, b.phone, "second-msg"), 0); /* same conversation, < 10 min */
    assert_int_equal(nf_count_sms(all, b.phone, "other-conv"), 1);
    assert_int_equal(nf_count_sms(all, a.phone, "new message"), 0); /* the sender gets nothing */
    json_decref(all);
    assert_int_equal(nf_db_int(srv.db_url,
                               "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                               "event_type = 'message.received'",
                               b.id),
                     4);
}

static void test_bad_events(void **state)
{
    (void)state;
    struct nf_user s;
    nf_signup(&srv, &s, "Edge Case");
    char ev_missing[37], ev_unknown[37], ev_nouser[37], payload[512], order[37], ghost[37];
    nf_uuid_new(order);
    nf_uuid_new(ghost);
    snprintf(payload, sizeof payload,
             "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\",\"currency\":\"INR\","
             "\"item_count\":1}",
             order, s.id, s.id);
    nf_emit_at(srv.db_url, "order.placed", payload, ev_missing);
    nf_emit_at(srv.db_url, "thing.happened", "{\"x\":1}", ev_unknown);
    snprintf(payload, sizeof payload,
             "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\",\"total_minor\":1,"
             "\"currency\":\"INR\",\"item_count\":1}",
             order, ghost, s.id);
    nf_emit_at(srv.db_url, "order.placed", payload, ev_nouser);
    /* A payload that breaks the contract is dead-lettered at once, with the reason. */
    long long deadline = h_now_ms() + 5000;
    while (h_now_ms() < deadline &&
           nf_db_int(srv.db_url,
                     "SELECT count(*) FROM outbox_events WHERE event_id IN ('%s','%s') AND "
                     "processed_at IS NOT NULL",
                     ev_missing, ev_unknown) < 2)
        h_sleep_ms(50);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT last_error FROM outbox_events WHERE event_id = '%s'",
             ev_missing);
    char *why = h_db_scalar(srv.db_url, sql);
    assert_non_null(why);
    assert_non_null(strstr(why, "total_minor"));
    free(why);
    snprintf(sql, sizeof sql,
             "SELECT coalesce(last_error, 'none') FROM outbox_events WHERE event_id = '%s' AND "
             "processed_at IS NOT NULL",
             ev_unknown);
    why = h_db_scalar(srv.db_url, sql);
    assert_non_null(why);
    assert_string_equal(why, "none"); /* nothing to send is not an error */
    free(why);
    /* An unknown recipient may be replica lag: retried with backoff, nothing inserted. */
    deadline = h_now_ms() + 8000;
    while (h_now_ms() < deadline &&
           nf_db_int(srv.db_url, "SELECT attempts FROM outbox_events WHERE event_id = '%s'",
                     ev_nouser) < 2)
        h_sleep_ms(100);
    assert_true(nf_db_int(srv.db_url, "SELECT attempts FROM outbox_events WHERE event_id = '%s'",
                          ev_nouser) >= 2);
    assert_int_equal(nf_db_int(srv.db_url,
                               "SELECT count(*) FROM outbox_events WHERE event_id = '%s' AND "
                               "processed_at IS NULL AND last_error LIKE 'no contact for user%%'",
                               ev_nouser),
                     1);
    assert_int_equal(nf_db_int(srv.db_url,
                               "SELECT count(*) FROM notifications WHERE event_id IN "
                               "('%s','%s','%s')",
                               ev_missing, ev_unknown, ev_nouser),
                     0);
    /* Out of the way of the next tests. */
    snprintf(sql, sizeof sql, "UPDATE outbox_events SET processed_at = now() WHERE event_id = '%s'",
             ev_nouser);
    assert_int_equal(h_db_exec(srv.db_url, sql), 0);
}

/* ---- the OTP fast lane ----------------------------------------------------------------------- */

static void test_otp_fast_lane_under_backlog(void **state)
{
    (void)state;
    struct nf_user s;
    nf_signup(&srv, &s, "Busy Seller");
    nf_wait_quiet(srv.db_url, 5000);
    struct h_resp r = {0};
    nf_api(&srv, "PUT", "/v1/me/notification-preferences", s.id, "{\"sms\":{\"listings\":false}}",
           &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
    /* A backlog: 3000 listing events (each an email to the SMTP sink). */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "WITH e AS (INSERT INTO outbox_events (event_id, type, payload) "
             "SELECT gen_random_uuid(), 'product.published', jsonb_build_object('product_id', "
             "gen_random_uuid(), 'seller_id', '%s', 'title', 'Backlog item ' || i, "
             "'price_minor', i, 'currency', 'INR') FROM generate_series(1, 3000) i RETURNING 1) "
             "SELECT pg_notify('haat_outbox', 'product.published') FROM (SELECT count(*) FROM e) c",
             s.id);
    assert_int_equal(h_db_exec(srv.db_url, sql), 0);
    h_sleep_ms(300); /* the workers are busy with it now */
    struct nf_user u;
    nf_signup_unverified(&srv, &u, "Urgent Login"); /* its welcome waits behind the backlog */
    long long t0 = h_now_ms();
    json_t *all = nf_wait_sms(&sms, u.phone, "is your haat code", 1, 5000);
    long long ms = h_now_ms() - t0;
    long long pending =
        nf_db_int(srv.db_url, "SELECT (SELECT count(*) FROM outbox_events WHERE processed_at IS "
                              "NULL) + (SELECT count(*) FROM notifications WHERE status = "
                              "'queued')");
    assert_int_equal(nf_count_sms(all, u.phone, "is your haat code"), 1);
    json_decref(all);
    print_message("fast lane: OTP SMS %lld ms after signup with %lld events/messages still "
                  "waiting\n",
                  ms, pending);
    assert_true(pending > 0); /* it overtook the backlog */
    assert_true(ms < 1000);
    assert_int_equal(nf_db_int(srv.db_url,
                               "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                               "event_type = 'otp.requested' AND channel = 'sms' AND "
                               "sent_at - event_created_at < interval '1 second'",
                               u.id),
                     1);
    nf_wait_quiet(srv.db_url, 240000); /* 3000 coalescing checks under a loaded machine */
    assert_int_equal(nf_db_int(srv.db_url,
                               "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                               "event_type = 'product.published' AND channel = 'email' AND "
                               "status = 'sent'",
                               s.id),
                     3000);
    assert_true(h_metric_value(&srv, "notification_delivery_seconds_count{channel=\"sms\"}") > 0);
}

/* ---- metrics (last: counts what the tests above sent) ---------------------------------------- */

static void test_metrics_exposed(void **state)
{
    (void)state;
    assert_true(h_metric_value(&srv, "notifications_sent_total{channel=\"sms\",status=\"sent\"}") >
                0);
    assert_true(
        h_metric_value(&srv, "notifications_sent_total{channel=\"email\",status=\"sent\"}") > 0);
    assert_true(
        h_metric_value(&srv, "notifications_sent_total{channel=\"email\",status=\"failed\"}") >= 0);
    double le1 =
        h_metric_value(&srv, "notification_delivery_seconds_bucket{channel=\"sms\",le=\"1\"}");
    assert_true(le1 > 0);
    assert_true(h_metric_value(&srv, "outbox_pending_events") >= 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signup_messages_and_masked_feed),
        cmocka_unit_test(test_order_placed_rupees),
        cmocka_unit_test(test_retry_after_503_then_one_delivery),
        cmocka_unit_test(test_permanent_failure_on_400),
        cmocka_unit_test(test_chat_throttle),
        cmocka_unit_test(test_bad_events),
        cmocka_unit_test(test_otp_fast_lane_under_backlog),
        cmocka_unit_test(test_metrics_exposed),
    };
    return HAAT_RUN_GROUP("notify_messages", tests, group_setup, group_teardown);
}
