/* Integration tests of the notification module against the real binary, a real SMTP server
 * (infra/dev/smtp_sink.py) and a Twilio-compatible capture server (infra/dev/http_capture.py):
 * what is actually received (recipient, subject, body, rupee amounts), OTP codes that really
 * verify, retries after 503s, permanent failure on 400, preferences honoured at fan-out, the
 * feed (masked codes, other users' rows never visible, keyset pages), the chat throttle, bad
 * events dead-lettered, the OTP fast lane under a backlog (< 1 s), no duplicates with several
 * instances, and nothing lost when a worker is SIGKILLed mid-send.
 *
 * Events are produced both ways: inserted into outbox_events with pg_notify through libpq
 * (the producers of most events may not exist yet), and through the real signup route. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "tests/integration/harness.h"

#define SID            "AC00000000000000000000000000000001"
#define TOKEN          "twilio-secret-token"
#define SMS_FROM       "+15005550006"
#define MAIL_FROM_ADDR "no-reply@haat.test"
#define MASK           "••••••"

static struct h_sink smtp, sms;
static struct h_server srv;
static unsigned seq;

/* ---- set-up --------------------------------------------------------------------------------- */

/* The provider settings pointing at the given sinks, NULL-terminated in env (which must hold
 * 16 entries), plus up to two extra "NAME=value" strings. */
static void provider_env(char buf[10][256], const char *env[16], const struct h_sink *mail,
                         const struct h_sink *text, const char *extra1, const char *extra2)
{
    snprintf(buf[0], 256, "HAAT_EMAIL_PROVIDER=smtp");
    snprintf(buf[1], 256, "HAAT_SMTP_URL=%s", mail->url);
    snprintf(buf[2], 256, "HAAT_SMTP_TLS=none");
    snprintf(buf[3], 256, "HAAT_SMTP_FROM=haat <" MAIL_FROM_ADDR ">");
    snprintf(buf[4], 256, "HAAT_SMS_PROVIDER=twilio");
    snprintf(buf[5], 256, "HAAT_TWILIO_BASE_URL=%s", text->url);
    snprintf(buf[6], 256, "HAAT_TWILIO_ACCOUNT_SID=" SID);
    snprintf(buf[7], 256, "HAAT_TWILIO_AUTH_TOKEN=" TOKEN);
    snprintf(buf[8], 256, "HAAT_TWILIO_FROM=" SMS_FROM);
    snprintf(buf[9], 256, "HAAT_PUBLIC_BASE_URL=https://haat.test");
    int n = 0;
    for (; n < 10; n++)
        env[n] = buf[n];
    if (extra1)
        env[n++] = extra1;
    if (extra2)
        env[n++] = extra2;
    env[n] = NULL;
}

static int group_setup(void **state)
{
    (void)state;
    h_smtp_sink_start(&smtp);
    h_http_capture_start(&sms);
    char buf[10][256];
    const char *env[16];
    provider_env(buf, env, &smtp, &sms, NULL, NULL);
    h_server_start(&srv, env);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    h_server_cleanup(&srv);
    h_sink_stop(&smtp);
    h_sink_stop(&sms);
    return 0;
}

/* ---- helpers -------------------------------------------------------------------------------- */

struct user {
    char id[64];
    char name[64];
    char email[128];
    char phone[32];
};

/* A fresh user through the real signup route. */
static void signup(const struct h_server *s, struct user *u, const char *name)
{
    unsigned n = ++seq;
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->email, sizeof u->email, "u%d-%u-%u@example.com", (int)getpid(), n,
             randombytes_uniform(1000000));
    snprintf(u->phone, sizeof u->phone, "+9198%08u", randombytes_uniform(100000000));
    char *body = NULL;
    json_t *b = json_pack("{s:s,s:s,s:s,s:s}", "name", name, "email", u->email, "phone", u->phone,
                          "password", "correct horse battery staple");
    body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    struct h_resp r = {0};
    h_request(s, "POST", "/v1/auth/signup", body, NULL, &r);
    h_assert_status(&r, 201);
    snprintf(u->id, sizeof u->id, "%s",
             json_string_value(json_object_get(json_object_get(r.json, "user"), "id")));
    assert_int_equal(strlen(u->id), 36);
    h_resp_cleanup(&r);
    free(body);
}

/* "Authorization: Bearer <forged access token for user_id>" (signed with the test secret,
 * exactly as the server signs them). Caller frees. */
static char *auth_header(const char *user_id)
{
    long long now = (long long)time(NULL);
    char claims[256];
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\"],\"pv\":true,\"iat\":%lld,\"exp\":%lld}",
             user_id, now, now + 600);
    char *jwt = h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    char *h = NULL;
    assert_true(asprintf(&h, "Authorization: Bearer %s", jwt) > 0);
    free(jwt);
    return h;
}

static long api(const struct h_server *s, const char *method, const char *path, const char *user_id,
                const char *body, struct h_resp *r)
{
    char *auth = user_id ? auth_header(user_id) : NULL;
    const char *headers[] = {auth, NULL};
    long st = h_request(s, method, path, body, auth ? headers : NULL, r);
    free(auth);
    return st;
}

/* Inserts an event the way outbox_emit does (row + pg_notify in one transaction). Returns the
 * event id in out (37 bytes). */
static void emit_at(const char *db_url, const char *type, const char *payload, char out[37])
{
    PGconn *pg = PQconnectdb(db_url);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *res = PQexec(pg, "BEGIN");
    PQclear(res);
    const char *params[] = {type, payload};
    res = PQexecParams(pg,
                       "WITH e AS (INSERT INTO outbox_events (event_id, type, payload) "
                       "VALUES (gen_random_uuid(), $1, $2::jsonb) RETURNING event_id, type) "
                       "SELECT event_id, pg_notify('haat_outbox', type) FROM e",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("emit %s: %s", type, PQerrorMessage(pg));
    if (out)
        snprintf(out, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    res = PQexec(pg, "COMMIT");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(pg);
}

static void emit(const char *type, const char *payload, char out[37])
{
    emit_at(srv.db_url, type, payload, out);
}

static long long db_int(const char *url, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static long long db_int(const char *url, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *v = h_db_scalar(url, sql);
    long long n = v ? atoll(v) : -1;
    free(v);
    return n;
}

static const char *member(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* Captured SMS requests to `to` whose Body contains needle. */
static size_t count_sms(const json_t *all, const char *to, const char *needle)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const json_t *form = json_object_get(e, "form");
        const char *body = member(form, "Body");
        if (body && (!to || strcmp(member(form, "To") ? member(form, "To") : "", to) == 0) &&
            (!needle || strstr(body, needle)))
            n++;
    }
    return n;
}

/* Polls the capture until count_sms(to, needle) >= want. Returns the last read (new ref). */
static json_t *wait_sms(const struct h_sink *k, const char *to, const char *needle, size_t want,
                        int timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        json_t *all = h_jsonl_read(k->out);
        if (count_sms(all, to, needle) >= want || h_now_ms() > deadline)
            return all;
        json_decref(all);
        h_sleep_ms(10);
    }
}

/* The first captured SMS to `to` containing needle (borrowed from all), or NULL. */
static const json_t *find_sms(const json_t *all, const char *to, const char *needle)
{
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const json_t *form = json_object_get(e, "form");
        const char *body = member(form, "Body"), *t = member(form, "To");
        if (body && t && strcmp(t, to) == 0 && (!needle || strstr(body, needle)))
            return e;
    }
    return NULL;
}

static size_t count_mail(const json_t *all, const char *to, const char *subject_part)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const char *rcpt = json_string_value(json_array_get(json_object_get(e, "rcpt_tos"), 0));
        const char *subj = member(e, "subject");
        if (rcpt && subj && strcmp(rcpt, to) == 0 && strstr(subj, subject_part))
            n++;
    }
    return n;
}

static const json_t *find_mail(const json_t *all, const char *to, const char *subject_part)
{
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const char *rcpt = json_string_value(json_array_get(json_object_get(e, "rcpt_tos"), 0));
        const char *subj = member(e, "subject");
        if (rcpt && subj && strcmp(rcpt, to) == 0 && strstr(subj, subject_part))
            return e;
    }
    return NULL;
}

static json_t *wait_mail(const struct h_sink *k, const char *to, const char *subject_part,
                         size_t want, int timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        json_t *all = h_jsonl_read(k->out);
        if (count_mail(all, to, subject_part) >= want || h_now_ms() > deadline)
            return all;
        json_decref(all);
        h_sleep_ms(20);
    }
}

/* Waits until no notification of the database is queued and no event is unprocessed. */
static void wait_quiet(const char *url, int timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    while (h_now_ms() < deadline) {
        if (db_int(url, "SELECT (SELECT count(*) FROM notifications WHERE status = 'queued') + "
                        "(SELECT count(*) FROM outbox_events WHERE processed_at IS NULL)") == 0)
            return;
        h_sleep_ms(50);
    }
    fail_msg("notifications still queued after %d ms", timeout_ms);
}

/* The 6-digit code in s, or "" (out holds 7). */
static void code_in(const char *s, char out[7])
{
    out[0] = '\0';
    for (const char *p = s; p && *p; p++) {
        if (strspn(p, "0123456789") == 6 && (p == s || p[-1] < '0' || p[-1] > '9')) {
            memcpy(out, p, 6);
            out[6] = '\0';
            return;
        }
    }
}

static void uuid_new(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* ---- signup: OTP codes that verify, welcome messages, the masked feed, latency ----------------
 */

static void test_signup_messages_and_masked_feed(void **state)
{
    (void)state;
    struct user u;
    signup(&srv, &u, "Asha Rao");
    long long t0 = h_now_ms(); /* the events committed before the 201 */
    json_t *all = wait_sms(&sms, u.phone, "is your haat code", 1, 5000);
    long long otp_ms = h_now_ms() - t0;
    const json_t *otp = find_sms(all, u.phone, "is your haat code");
    if (!otp)
        fail_msg("no OTP SMS to %s", u.phone);
    print_message("signup: SMS OTP received %lld ms after the signup answer\n", otp_ms);
    assert_true(otp_ms < 1000);
    /* The Twilio request itself. */
    assert_string_equal(member(otp, "method"), "POST");
    assert_string_equal(member(otp, "path"), "/2010-04-01/Accounts/" SID "/Messages.json");
    const json_t *form = json_object_get(otp, "form");
    assert_string_equal(member(form, "From"), SMS_FROM);
    assert_string_equal(member(form, "To"), u.phone);
    const json_t *hdrs = json_object_get(otp, "headers");
    char basic[128], b64[96];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)SID ":" TOKEN, strlen(SID ":" TOKEN),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(basic, sizeof basic, "Basic %s", b64);
    assert_string_equal(member(hdrs, "Authorization"), basic);
    assert_non_null(strstr(member(hdrs, "Content-Type"), "application/x-www-form-urlencoded"));
    char sms_code[7];
    code_in(member(form, "Body"), sms_code);
    assert_int_equal(strlen(sms_code), 6);
    assert_non_null(strstr(member(form, "Body"), "to verify your account"));
    json_decref(all);

    all = wait_sms(&sms, u.phone, "Welcome to haat, Asha Rao!", 1, 5000);
    assert_int_equal(count_sms(all, u.phone, "Welcome to haat, Asha Rao!"), 1);
    json_decref(all);

    all = wait_mail(&smtp, u.email, "Your haat verification code", 1, 5000);
    const json_t *mail = find_mail(all, u.email, "Your haat verification code");
    assert_non_null(mail);
    char mail_code[7];
    code_in(member(mail, "body"), mail_code);
    assert_int_equal(strlen(mail_code), 6);
    assert_string_equal(member(mail, "mail_from"), MAIL_FROM_ADDR);
    const json_t *mh = json_object_get(mail, "headers");
    assert_non_null(strstr(member(mh, "From"), "<" MAIL_FROM_ADDR ">"));
    assert_non_null(strstr(member(mh, "To"), u.email));
    assert_non_null(strstr(member(mh, "Message-ID"), "@haat.test>"));
    assert_string_equal(member(mh, "MIME-Version"), "1.0");
    assert_non_null(strstr(member(mh, "Content-Type"), "text/plain"));
    assert_non_null(member(mh, "Date"));
    json_decref(all);
    all = wait_mail(&smtp, u.email, "Welcome to haat, Asha Rao", 1, 5000);
    mail = find_mail(all, u.email, "Welcome to haat, Asha Rao");
    assert_non_null(mail);
    assert_non_null(strstr(member(mail, "body"), "Hi Asha Rao,"));
    assert_non_null(strstr(member(mail, "body"), "https://haat.test"));
    json_decref(all);

    /* The code that arrived is the real one: it verifies the phone. */
    char body[256];
    snprintf(body, sizeof body,
             "{\"channel\":\"sms\",\"destination\":\"%s\",\"code\":\"%s\",\"purpose\":\"verify\"}",
             u.phone, sms_code);
    struct h_resp r = {0};
    h_request(&srv, "POST", "/v1/auth/otp/verify", body, NULL, &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);

    /* The feed: four messages, codes masked, the secrets gone from the database. */
    wait_quiet(srv.db_url, 5000);
    api(&srv, "GET", "/v1/me/notifications", u.id, NULL, &r);
    h_assert_status(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 4);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    size_t i, otps = 0;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *fields[] = {"id",   "event",  "channel",    "subject",
                                "body", "status", "created_at", "sent_at"};
        for (size_t f = 0; f < 8; f++)
            assert_non_null(json_object_get(it, fields[f]));
        assert_string_equal(member(it, "status"), "sent");
        assert_true(json_is_string(json_object_get(it, "sent_at")));
        assert_null(strstr(member(it, "body"), sms_code));
        assert_null(strstr(member(it, "body"), mail_code));
        bool is_sms = strcmp(member(it, "channel"), "sms") == 0;
        assert_true(is_sms ? json_is_null(json_object_get(it, "subject"))
                           : json_is_string(json_object_get(it, "subject")));
        if (strcmp(member(it, "event"), "otp.requested") == 0) {
            otps++;
            assert_non_null(strstr(member(it, "body"), MASK));
        }
    }
    assert_int_equal(otps, 2);
    assert_null(strstr(r.body, sms_code));
    h_resp_cleanup(&r);
    assert_int_equal(db_int(srv.db_url,
                            "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                            "body_sealed IS NOT NULL",
                            u.id),
                     0);
    /* Server-side: event commit -> SMS accepted, both OTPs under a second. */
    assert_int_equal(db_int(srv.db_url,
                            "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                            "event_type = 'otp.requested' AND sent_at - event_created_at < "
                            "interval '1 second'",
                            u.id),
                     2);
}

/* ---- an order: both parties, both channels, rupees ------------------------------------------ */

static void test_order_placed_rupees(void **state)
{
    (void)state;
    struct user buyer, seller;
    signup(&srv, &buyer, "Bala Buyer");
    signup(&srv, &seller, "Sita Seller");
    char order[37], payload[512];
    uuid_new(order);
    snprintf(payload, sizeof payload,
             "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\",\"total_minor\":129900,"
             "\"currency\":\"INR\",\"item_count\":2}",
             order, buyer.id, seller.id);
    emit("order.placed", payload, NULL);
    char subj[128], short_id[9];
    snprintf(short_id, sizeof short_id, "%.8s", order);

    snprintf(subj, sizeof subj, "Order %s placed: ₹1,299.00", short_id);
    json_t *all = wait_mail(&smtp, buyer.email, subj, 1, 5000);
    const json_t *m = find_mail(all, buyer.email, subj);
    if (!m)
        fail_msg("no buyer email \"%s\"", subj);
    assert_non_null(strstr(member(m, "body"), "Hi Bala Buyer,"));
    assert_non_null(strstr(member(m, "body"), "2 item(s) for ₹1,299.00"));
    assert_non_null(strstr(member(m, "body"), order));
    json_decref(all);
    snprintf(subj, sizeof subj, "New order %s: ₹1,299.00", short_id);
    all = wait_mail(&smtp, seller.email, subj, 1, 5000);
    m = find_mail(all, seller.email, subj);
    assert_non_null(m);
    assert_non_null(strstr(member(m, "body"), "Hi Sita Seller,"));
    json_decref(all);

    all = wait_sms(&sms, buyer.phone, short_id, 1, 5000);
    const json_t *s = find_sms(all, buyer.phone, short_id);
    assert_non_null(s);
    assert_non_null(strstr(member(json_object_get(s, "form"), "Body"), "₹1,299.00"));
    json_decref(all);
    all = wait_sms(&sms, seller.phone, short_id, 1, 5000);
    assert_non_null(find_sms(all, seller.phone, "new order"));
    json_decref(all);

    /* One lakh, Indian grouping, through a payout. */
    char payout[37];
    uuid_new(payout);
    snprintf(payload, sizeof payload,
             "{\"payout_id\":\"%s\",\"seller_id\":\"%s\",\"amount_minor\":10000000,"
             "\"currency\":\"INR\",\"destination\":\"sita@upi\"}",
             payout, seller.id);
    emit("payout.paid", payload, NULL);
    all = wait_sms(&sms, seller.phone, "payout of ₹1,00,000.00 sent to sita@upi", 1, 5000);
    assert_int_equal(count_sms(all, seller.phone, "payout of ₹1,00,000.00 sent to sita@upi"), 1);
    json_decref(all);

    /* Exactly one message per party and channel for the order. */
    wait_quiet(srv.db_url, 5000);
    all = h_jsonl_read(sms.out);
    assert_int_equal(count_sms(all, buyer.phone, short_id), 1);
    assert_int_equal(count_sms(all, seller.phone, short_id), 1);
    json_decref(all);
    all = h_jsonl_read(smtp.out);
    assert_int_equal(count_mail(all, buyer.email, short_id), 1);
    assert_int_equal(count_mail(all, seller.email, short_id), 1);
    json_decref(all);
}

/* ---- provider failures --------------------------------------------------------------------- */

static void test_retry_after_503_then_one_delivery(void **state)
{
    (void)state;
    struct user seller;
    signup(&srv, &seller, "Ravi Retry");
    wait_quiet(srv.db_url, 5000);
    double retries0 =
        h_metric_value(&srv, "notifications_sent_total{channel=\"sms\",status=\"retry\"}");
    assert_int_equal(h_capture_control(&sms, "{\"fail_next\":2,\"status\":503}"), 200);
    char payout[37], payload[512], dest[64];
    uuid_new(payout);
    snprintf(dest, sizeof dest, "retry-%u@upi", randombytes_uniform(1000000));
    snprintf(payload, sizeof payload,
             "{\"payout_id\":\"%s\",\"seller_id\":\"%s\",\"amount_minor\":500,"
             "\"currency\":\"INR\",\"destination\":\"%s\"}",
             payout, seller.id, dest);
    char ev[37];
    emit("payout.paid", payload, ev);
    json_t *all = wait_sms(&sms, seller.phone, dest, 3, 15000);
    assert_int_equal(count_sms(all, seller.phone, dest), 3); /* 503, 503, 201 */
    json_decref(all);
    wait_quiet(srv.db_url, 5000);
    assert_int_equal(db_int(srv.db_url,
                            "SELECT count(*) FROM notifications WHERE event_id = '%s' AND "
                            "channel = 'sms' AND status = 'sent' AND attempts = 3 AND "
                            "last_error IS NULL",
                            ev),
                     1);
    h_sleep_ms(2500); /* nothing more arrives: exactly one delivered message */
    all = h_jsonl_read(sms.out);
    assert_int_equal(count_sms(all, seller.phone, dest), 3);
    json_decref(all);
    double retries1 =
        h_metric_value(&srv, "notifications_sent_total{channel=\"sms\",status=\"retry\"}");
    assert_true(retries1 - retries0 >= 2);
    /* The email of the same event went through at once. */
    assert_int_equal(db_int(srv.db_url,
                            "SELECT attempts FROM notifications WHERE event_id = '%s' AND "
                            "channel = 'email' AND status = 'sent'",
                            ev),
                     1);
}

static void test_permanent_failure_on_400(void **state)
{
    (void)state;
    struct user seller;
    signup(&srv, &seller, "Pari Permanent");
    wait_quiet(srv.db_url, 5000);
    double failed0 =
        h_metric_value(&srv, "notifications_sent_total{channel=\"sms\",status=\"failed\"}");
    assert_int_equal(h_capture_control(&sms, "{\"fail_next\":1,\"status\":400,\"body\":"
                                             "{\"code\":21211,\"message\":\"invalid To\"}}"),
                     200);
    char payout[37], payload[512], dest[64], ev[37];
    uuid_new(payout);
    snprintf(dest, sizeof dest, "perm-%u@upi", randombytes_uniform(1000000));
    snprintf(payload, sizeof payload,
             "{\"payout_id\":\"%s\",\"seller_id\":\"%s\",\"amount_minor\":99,"
             "\"currency\":\"INR\",\"destination\":\"%s\"}",
             payout, seller.id, dest);
    emit("payout.paid", payload, ev);
    wait_quiet(srv.db_url, 5000);
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
    assert_int_equal(count_sms(all, seller.phone, dest), 1);
    json_decref(all);
    double failed1 =
        h_metric_value(&srv, "notifications_sent_total{channel=\"sms\",status=\"failed\"}");
    assert_true(failed1 - failed0 >= 1);
    /* The feed says so. */
    struct h_resp r = {0};
    api(&srv, "GET", "/v1/me/notifications?limit=100", seller.id, NULL, &r);
    h_assert_status(&r, 200);
    size_t i, found = 0;
    json_t *it;
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        if (strcmp(member(it, "event"), "payout.paid") != 0)
            continue;
        found++;
        bool is_sms = strcmp(member(it, "channel"), "sms") == 0;
        assert_string_equal(member(it, "status"), is_sms ? "failed" : "sent");
        assert_true(is_sms == json_is_null(json_object_get(it, "sent_at")));
    }
    assert_int_equal(found, 2);
    h_resp_cleanup(&r);
}

/* ---- preferences and the feed -----------------------------------------------------------------
 */

static void test_preferences(void **state)
{
    (void)state;
    struct user a;
    signup(&srv, &a, "Priya Prefs");
    struct h_resp r = {0};
    api(&srv, "GET", "/v1/me/notification-preferences", NULL, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    h_resp_cleanup(&r);
    api(&srv, "GET", "/v1/me/notification-preferences", a.id, NULL, &r);
    h_assert_status(&r, 200);
    json_t *want =
        json_pack("{s:{s:b,s:b,s:b,s:b,s:b,s:b,s:b},s:{s:b,s:b,s:b,s:b,s:b,s:b,s:b}}", "email",
                  "security", 1, "account", 1, "listings", 1, "orders", 1, "payments", 1, "chat", 1,
                  "marketing", 0, "sms", "security", 1, "account", 1, "listings", 1, "orders", 1,
                  "payments", 1, "chat", 1, "marketing", 0);
    assert_true(json_equal(r.json, want));
    h_resp_cleanup(&r);

    api(&srv, "PUT", "/v1/me/notification-preferences", a.id,
        "{\"sms\":{\"orders\":false},\"email\":{\"marketing\":true,\"bogus\":false},\"push\":{}}",
        &r);
    h_assert_status(&r, 200);
    json_object_set_new(json_object_get(want, "sms"), "orders", json_false());
    json_object_set_new(json_object_get(want, "email"), "marketing", json_true());
    assert_true(json_equal(r.json, want));
    h_resp_cleanup(&r);
    api(&srv, "GET", "/v1/me/notification-preferences", a.id, NULL, &r);
    assert_true(json_equal(r.json, want));
    h_resp_cleanup(&r);

    /* Security messages cannot be switched off; a bad PUT stores nothing at all. */
    api(&srv, "PUT", "/v1/me/notification-preferences", a.id,
        "{\"email\":{\"chat\":false,\"security\":false}}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    json_t *errs = json_object_get(r.json, "errors");
    assert_int_equal(json_array_size(errs), 1);
    assert_string_equal(member(json_array_get(errs, 0), "field"), "email.security");
    h_resp_cleanup(&r);
    api(&srv, "PUT", "/v1/me/notification-preferences", a.id,
        "{\"email\":{\"orders\":\"no\"},\"sms\":5}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 2);
    h_resp_cleanup(&r);
    api(&srv, "PUT", "/v1/me/notification-preferences", a.id, "{\"email\":{\"orders\":null}}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    h_resp_cleanup(&r);
    api(&srv, "PUT", "/v1/me/notification-preferences", a.id, "[true]", &r);
    assert_true(r.status == 400 || r.status == 422);
    h_resp_cleanup(&r);
    api(&srv, "PUT", "/v1/me/notification-preferences", a.id, "{\"email\":{\"security\":true}}",
        &r);
    h_assert_status(&r, 200);
    assert_true(json_equal(r.json, want)); /* chat untouched by the refused PUT */
    h_resp_cleanup(&r);

    /* Another user's preferences are their own. */
    struct user b;
    signup(&srv, &b, "Bina Other");
    api(&srv, "GET", "/v1/me/notification-preferences", b.id, NULL, &r);
    assert_true(json_is_true(json_object_get(json_object_get(r.json, "sms"), "orders")));
    h_resp_cleanup(&r);
    json_decref(want);
}

/* A switched-off kind creates no message; the other channel still goes out. */
static void test_switched_off_kind_not_delivered(void **state)
{
    (void)state;
    struct user buyer, seller;
    signup(&srv, &buyer, "Kiran Quiet");
    signup(&srv, &seller, "Mohan Ships");
    struct h_resp r = {0};
    api(&srv, "PUT", "/v1/me/notification-preferences", buyer.id, "{\"sms\":{\"orders\":false}}",
        &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
    char order[37], payload[512], ev[37], tracking[32];
    uuid_new(order);
    snprintf(tracking, sizeof tracking, "TRK%u", randombytes_uniform(100000000));
    snprintf(payload, sizeof payload,
             "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\",\"carrier\":"
             "\"Delhivery\",\"tracking_number\":\"%s\"}",
             order, buyer.id, seller.id, tracking);
    emit("order.shipped", payload, ev);
    json_t *all = wait_mail(&smtp, buyer.email, "is on its way", 1, 5000);
    const json_t *m = find_mail(all, buyer.email, "is on its way");
    assert_non_null(m);
    assert_non_null(strstr(member(m, "body"), tracking));
    json_decref(all);
    wait_quiet(srv.db_url, 5000);
    all = h_jsonl_read(sms.out);
    assert_int_equal(count_sms(all, NULL, tracking), 0);
    json_decref(all);
    assert_int_equal(
        db_int(srv.db_url, "SELECT count(*) FROM notifications WHERE event_id = '%s'", ev), 1);
    /* Orders still reach the seller by SMS (their preferences are untouched). */
    char ev2[37];
    snprintf(payload, sizeof payload,
             "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\"}", order, buyer.id,
             seller.id);
    emit("order.delivered", payload, ev2);
    all = wait_sms(&sms, seller.phone, "delivered", 1, 5000);
    assert_int_equal(count_sms(all, seller.phone, "delivered"), 1);
    json_decref(all);
}

static void test_feed_is_private_and_paged(void **state)
{
    (void)state;
    struct user a, b;
    signup(&srv, &a, "Feed Alpha");
    signup(&srv, &b, "Feed Beta");
    char payload[512];
    for (int i = 0; i < 3; i++) { /* a is the buyer, b the seller: both get rows */
        char order[37];
        uuid_new(order);
        snprintf(payload, sizeof payload,
                 "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\",\"total_minor\":%d,"
                 "\"currency\":\"INR\",\"item_count\":1}",
                 order, a.id, b.id, 100 * (i + 1));
        emit("order.placed", payload, NULL);
    }
    wait_quiet(srv.db_url, 10000);
    long long total =
        db_int(srv.db_url, "SELECT count(*) FROM notifications WHERE user_id = '%s'", a.id);
    assert_int_equal(total, 4 + 6); /* signup (2 OTP + 2 welcome) + 3 orders x 2 channels */

    /* Page through a's feed two at a time. */
    json_t *seen = json_object();
    char path[512] = "/v1/me/notifications?limit=2";
    char last_created[32] = "9999";
    int pages = 0;
    for (;;) {
        struct h_resp r = {0};
        api(&srv, "GET", path, a.id, NULL, &r);
        h_assert_status(&r, 200);
        json_t *items = json_object_get(r.json, "items");
        assert_true(json_array_size(items) <= 2);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            const char *id = member(it, "id");
            assert_null(json_object_get(seen, id)); /* no repeats across pages */
            json_object_set_new(seen, id, json_true());
            assert_true(strcmp(member(it, "created_at"), last_created) <= 0); /* newest first */
            snprintf(last_created, sizeof last_created, "%s", member(it, "created_at"));
            assert_int_equal(db_int(srv.db_url,
                                    "SELECT count(*) FROM notifications WHERE id = '%s' AND "
                                    "user_id = '%s'",
                                    id, a.id),
                             1);
        }
        pages++;
        const char *next = member(r.json, "next_cursor");
        if (!next) {
            assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
            h_resp_cleanup(&r);
            break;
        }
        snprintf(path, sizeof path, "/v1/me/notifications?limit=2&cursor=%s", next);
        h_resp_cleanup(&r);
        assert_true(pages < 20);
    }
    assert_int_equal(json_object_size(seen), (size_t)total);
    assert_int_equal(pages, 5);

    /* b's feed never shows a's rows. */
    struct h_resp r = {0};
    api(&srv, "GET", "/v1/me/notifications?limit=100", b.id, NULL, &r);
    h_assert_status(&r, 200);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(r.json, "items"), i, it)
        assert_null(json_object_get(seen, member(it, "id")));
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 10);
    h_resp_cleanup(&r);
    /* A user with nothing; bad parameters; no token. */
    char nobody[37];
    uuid_new(nobody);
    api(&srv, "GET", "/v1/me/notifications", nobody, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    h_resp_cleanup(&r);
    const char *bad[] = {"limit=0",
                         "limit=-1",
                         "limit=abc",
                         "limit=1.5",
                         "limit=",
                         "cursor=!!!",
                         "cursor=bm90LWEtY3Vyc29y",
                         "cursor=MXxub3QtYS11dWlk"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(path, sizeof path, "/v1/me/notifications?%s", bad[k]);
        api(&srv, "GET", path, a.id, NULL, &r);
        h_assert_problem(&r, 422, "validation_failed");
        h_resp_cleanup(&r);
    }
    api(&srv, "GET", "/v1/me/notifications?limit=1000", a.id, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), (size_t)total);
    h_resp_cleanup(&r);
    api(&srv, "GET", "/v1/me/notifications", NULL, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    h_resp_cleanup(&r);
    json_decref(seen);
}

/* ---- chat throttle, bad events ------------------------------------------------------------- */

static void test_chat_throttle(void **state)
{
    (void)state;
    struct user a, b;
    signup(&srv, &a, "Chatty Buyer");
    signup(&srv, &b, "Chatty Seller");
    char c1[37], c2[37], product[37], payload[512];
    uuid_new(c1);
    uuid_new(c2);
    uuid_new(product);
    const char *convs[] = {c1, c1, c2};
    const char *previews[] = {"first-msg", "second-msg", "other-conv"};
    for (int i = 0; i < 3; i++) {
        char msg[37];
        uuid_new(msg);
        snprintf(payload, sizeof payload,
                 "{\"conversation_id\":\"%s\",\"message_id\":\"%s\",\"sender_id\":\"%s\","
                 "\"recipient_id\":\"%s\",\"product_id\":\"%s\",\"preview\":\"%s\"}",
                 convs[i], msg, a.id, b.id, product, previews[i]);
        emit("message.received", payload, NULL);
    }
    wait_quiet(srv.db_url, 5000);
    json_t *all = h_jsonl_read(sms.out);
    assert_int_equal(count_sms(all, b.phone, "first-msg"), 1);
    assert_int_equal(count_sms(all, b.phone, "second-msg"), 0); /* same conversation, < 10 min */
    assert_int_equal(count_sms(all, b.phone, "other-conv"), 1);
    assert_int_equal(count_sms(all, a.phone, "new message"), 0); /* the sender gets nothing */
    json_decref(all);
    assert_int_equal(db_int(srv.db_url,
                            "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                            "event_type = 'message.received'",
                            b.id),
                     4);
}

static void test_bad_events(void **state)
{
    (void)state;
    struct user s;
    signup(&srv, &s, "Edge Case");
    char ev_missing[37], ev_unknown[37], ev_nouser[37], payload[512], order[37], ghost[37];
    uuid_new(order);
    uuid_new(ghost);
    snprintf(payload, sizeof payload,
             "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\",\"currency\":\"INR\","
             "\"item_count\":1}",
             order, s.id, s.id);
    emit("order.placed", payload, ev_missing);
    emit("thing.happened", "{\"x\":1}", ev_unknown);
    snprintf(payload, sizeof payload,
             "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\",\"total_minor\":1,"
             "\"currency\":\"INR\",\"item_count\":1}",
             order, ghost, s.id);
    emit("order.placed", payload, ev_nouser);
    /* A payload that breaks the contract is dead-lettered at once, with the reason. */
    long long deadline = h_now_ms() + 5000;
    while (h_now_ms() < deadline &&
           db_int(srv.db_url,
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
           db_int(srv.db_url, "SELECT attempts FROM outbox_events WHERE event_id = '%s'",
                  ev_nouser) < 2)
        h_sleep_ms(100);
    assert_true(db_int(srv.db_url, "SELECT attempts FROM outbox_events WHERE event_id = '%s'",
                       ev_nouser) >= 2);
    assert_int_equal(db_int(srv.db_url,
                            "SELECT count(*) FROM outbox_events WHERE event_id = '%s' AND "
                            "processed_at IS NULL AND last_error LIKE 'no contact for user%%'",
                            ev_nouser),
                     1);
    assert_int_equal(db_int(srv.db_url,
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
    struct user s;
    signup(&srv, &s, "Busy Seller");
    wait_quiet(srv.db_url, 5000);
    struct h_resp r = {0};
    api(&srv, "PUT", "/v1/me/notification-preferences", s.id, "{\"sms\":{\"listings\":false}}", &r);
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
    struct user u;
    signup(&srv, &u, "Urgent Login");
    long long t0 = h_now_ms();
    json_t *all = wait_sms(&sms, u.phone, "is your haat code", 1, 5000);
    long long ms = h_now_ms() - t0;
    long long pending =
        db_int(srv.db_url, "SELECT (SELECT count(*) FROM outbox_events WHERE processed_at IS "
                           "NULL) + (SELECT count(*) FROM notifications WHERE status = "
                           "'queued')");
    assert_int_equal(count_sms(all, u.phone, "is your haat code"), 1);
    json_decref(all);
    print_message("fast lane: OTP SMS %lld ms after signup with %lld events/messages still "
                  "waiting\n",
                  ms, pending);
    assert_true(pending > 0); /* it overtook the backlog */
    assert_true(ms < 1000);
    assert_int_equal(db_int(srv.db_url,
                            "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                            "event_type = 'otp.requested' AND channel = 'sms' AND "
                            "sent_at - event_created_at < interval '1 second'",
                            u.id),
                     1);
    wait_quiet(srv.db_url, 120000);
    assert_int_equal(db_int(srv.db_url,
                            "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                            "event_type = 'product.published' AND channel = 'email' AND "
                            "status = 'sent'",
                            s.id),
                     3000);
    assert_true(h_metric_value(&srv, "notification_delivery_seconds_count{channel=\"sms\"}") > 0);
}

/* ---- several instances, crashes ------------------------------------------------------------- */

static void test_no_duplicates_with_three_instances(void **state)
{
    (void)state;
    struct user s;
    signup(&srv, &s, "Dup Check");
    wait_quiet(srv.db_url, 5000);
    char buf[10][256];
    const char *env[16];
    provider_env(buf, env, &smtp, &sms, NULL, NULL);
    struct h_server second = {0}, worker = {0};
    snprintf(second.db_url, sizeof second.db_url, "%s", srv.db_url);
    second.no_migrate = true;
    h_server_start(&second, env);
    snprintf(worker.db_url, sizeof worker.db_url, "%s", srv.db_url);
    worker.no_migrate = true;
    worker.command = "worker";
    worker.no_wait = true;
    h_server_start(&worker, env);
    h_sleep_ms(500);
    char tag[32], sql[1024];
    snprintf(tag, sizeof tag, "dup%u-", randombytes_uniform(1000000));
    snprintf(sql, sizeof sql,
             "WITH e AS (INSERT INTO outbox_events (event_id, type, payload) "
             "SELECT gen_random_uuid(), 'product.published', jsonb_build_object('product_id', "
             "gen_random_uuid(), 'seller_id', '%s', 'title', '%s' || i || '.', "
             "'price_minor', 100 * i, 'currency', 'INR') FROM generate_series(1, 300) i "
             "RETURNING 1) SELECT pg_notify('haat_outbox', 'product.published') "
             "FROM (SELECT count(*) FROM e) c",
             s.id, tag);
    assert_int_equal(h_db_exec(srv.db_url, sql), 0);
    wait_quiet(srv.db_url, 60000);
    /* Every listing reached the seller exactly once per channel. */
    json_t *texts = h_jsonl_read(sms.out), *mails = h_jsonl_read(smtp.out);
    for (int i = 1; i <= 300; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "\"%s%d.\"", tag, i);
        size_t ns = count_sms(texts, s.phone, needle), nm = 0, k;
        json_t *e;
        json_array_foreach(mails, k, e)
        {
            const char *subj = member(e, "subject");
            nm += subj && strstr(subj, needle) != NULL;
        }
        if (ns != 1 || nm != 1)
            fail_msg("listing %s%d: %zu SMS and %zu emails (want 1 and 1)", tag, i, ns, nm);
    }
    json_decref(texts);
    json_decref(mails);
    assert_int_equal(db_int(srv.db_url,
                            "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                            "event_type = 'product.published' AND status = 'sent' AND attempts = 1",
                            s.id),
                     600);
    /* All three did some of the work (each logs its sends at debug only: count jobs runs). */
    assert_int_equal(h_server_stop(&second), 0);
    assert_int_equal(h_server_stop(&worker), 0);
    h_server_cleanup(&second);
    h_server_cleanup(&worker);
}

static void test_worker_killed_mid_send_loses_nothing(void **state)
{
    (void)state;
    struct h_sink smtp2 = {0}, sms2 = {0};
    h_smtp_sink_start(&smtp2);
    h_http_capture_start(&sms2);
    char buf[10][256];
    const char *env[16];
    /* An API-only server for signups, and separate worker processes. */
    provider_env(buf, env, &smtp2, &sms2, "HAAT_WORKERS=off", NULL);
    struct h_server api_srv = {0}, w1 = {0}, w2 = {0};
    h_server_start(&api_srv, env);
    struct user s;
    signup(&api_srv, &s, "Crash Seller");
    char payload[512], dests[8][64];
    for (int i = 0; i < 8; i++) {
        char payout[37];
        uuid_new(payout);
        snprintf(dests[i], sizeof dests[i], "crash%d-%u@upi", i, randombytes_uniform(1000000));
        snprintf(payload, sizeof payload,
                 "{\"payout_id\":\"%s\",\"seller_id\":\"%s\",\"amount_minor\":%d,"
                 "\"currency\":\"INR\",\"destination\":\"%s\"}",
                 payout, s.id, 1000 + i, dests[i]);
        emit_at(api_srv.db_url, "payout.paid", payload, NULL);
    }
    /* The SMS provider hangs for 3 s on every request: the worker is mid-send when killed. */
    assert_int_equal(h_capture_control(&sms2, "{\"delay_ms\":3000}"), 200);
    provider_env(buf, env, &smtp2, &sms2, NULL, NULL);
    snprintf(w1.db_url, sizeof w1.db_url, "%s", api_srv.db_url);
    w1.no_migrate = true;
    w1.command = "worker";
    w1.no_wait = true;
    h_server_start(&w1, env);
    json_t *all = wait_sms(&sms2, NULL, NULL, 2, 10000);
    assert_true(json_array_size(all) >= 2); /* requests in flight */
    json_decref(all);
    long long leased =
        db_int(api_srv.db_url, "SELECT count(*) FROM notifications WHERE status = 'queued' AND "
                               "locked_until > now()");
    assert_true(leased >= 1);
    h_server_kill(&w1);
    print_message("killed the worker with %lld message(s) mid-send\n", leased);
    assert_int_equal(h_capture_control(&sms2, "{\"reset\":true}"), 200);
    snprintf(w2.db_url, sizeof w2.db_url, "%s", api_srv.db_url);
    w2.no_migrate = true;
    w2.command = "worker";
    w2.no_wait = true;
    h_server_start(&w2, env);
    wait_quiet(api_srv.db_url, 45000); /* the leases (15 s) run out, then w2 sends */
    all = h_jsonl_read(sms2.out);
    for (int i = 0; i < 8; i++)
        if (count_sms(all, s.phone, dests[i]) < 1)
            fail_msg("payout SMS %s never sent", dests[i]);
    assert_true(count_sms(all, s.phone, "is your haat code") >= 1);
    json_decref(all);
    all = h_jsonl_read(smtp2.out);
    for (int i = 0; i < 8; i++) { /* at least once: a killed send may be repeated */
        size_t k, n = 0;
        json_t *e;
        json_array_foreach(all, k, e) n += member(e, "body") && strstr(member(e, "body"), dests[i]);
        assert_true(n >= 1);
    }
    json_decref(all);
    assert_int_equal(
        db_int(api_srv.db_url, "SELECT count(*) FROM notifications WHERE status <> 'sent'"), 0);
    assert_int_equal(h_server_stop(&w2), 0);
    h_server_cleanup(&w2);
    h_server_cleanup(&w1);
    h_server_cleanup(&api_srv);
    h_sink_stop(&smtp2);
    h_sink_stop(&sms2);
}

/* A template that uses a field its event does not declare stops start-up, naming the file. */
static void test_bad_template_stops_startup(void **state)
{
    (void)state;
    char dir[] = "/tmp/haat_itpl_XXXXXX", cmd[512], env_dir[300], env_db[300];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "cp configs/templates/*.txt %s/ && printf 'Subject: Paid\\n\\n"
             "{{amount_minor|rupees}} to {{bank_account}}\\n' > %s/payout.paid.email.txt",
             dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(env_dir, sizeof env_dir, "HAAT_TEMPLATES_DIR=%s", dir);
    snprintf(env_db, sizeof env_db, "DATABASE_URL=%s", srv.db_url);
    const char *args[] = {"--config", H_TEST_CONFIG, "serve", NULL};
    const char *env[] = {env_dir, env_db, "HAAT_HTTP_ADDR=127.0.0.1:0", NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, env, &code, &out), 0);
    assert_int_not_equal(code, 0);
    assert_non_null(strstr(out, "payout.paid.email.txt"));
    assert_non_null(strstr(out, "{{bank_account}} is not a field of this event"));
    free(out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* SIGTERM while a provider call hangs: the server still exits 0 within 10 s, the send is
 * aborted and left queued for the next worker (nothing lost, nothing freed under a thread). */
static void test_shutdown_during_hung_send(void **state)
{
    (void)state;
    struct h_sink smtp3 = {0}, sms3 = {0};
    h_smtp_sink_start(&smtp3);
    h_http_capture_start(&sms3);
    char buf[10][256];
    const char *env[16];
    provider_env(buf, env, &smtp3, &sms3, NULL, NULL);
    struct h_server s = {0};
    h_server_start(&s, env);
    struct user u;
    signup(&s, &u, "Hung Provider");
    wait_quiet(s.db_url, 5000);
    assert_int_equal(h_capture_control(&sms3, "{\"delay_ms\":9500}"), 200);
    char payout[37], payload[512], ev[37];
    uuid_new(payout);
    snprintf(payload, sizeof payload,
             "{\"payout_id\":\"%s\",\"seller_id\":\"%s\",\"amount_minor\":700,"
             "\"currency\":\"INR\",\"destination\":\"hung@upi\"}",
             payout, u.id);
    emit_at(s.db_url, "payout.paid", payload, ev);
    json_t *all = wait_sms(&sms3, u.phone, "hung@upi", 1, 5000); /* the request hangs now */
    assert_int_equal(count_sms(all, u.phone, "hung@upi"), 1);
    json_decref(all);
    long long t0 = h_now_ms();
    assert_int_equal(h_server_stop(&s), 0);
    long long took = h_now_ms() - t0;
    print_message("stopped %lld ms after SIGTERM with a provider call hanging\n", took);
    assert_true(took < 10000);
    char *log = h_server_log(&s);
    assert_null(strstr(log, "AddressSanitizer"));
    free(log);
    assert_int_equal(db_int(s.db_url,
                            "SELECT count(*) FROM notifications WHERE event_id = '%s' AND "
                            "channel = 'sms' AND status = 'queued'",
                            ev),
                     1);
    h_server_cleanup(&s);
    h_sink_stop(&smtp3);
    h_sink_stop(&sms3);
}

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
        cmocka_unit_test(test_preferences),
        cmocka_unit_test(test_switched_off_kind_not_delivered),
        cmocka_unit_test(test_feed_is_private_and_paged),
        cmocka_unit_test(test_chat_throttle),
        cmocka_unit_test(test_bad_events),
        cmocka_unit_test(test_otp_fast_lane_under_backlog),
        cmocka_unit_test(test_no_duplicates_with_three_instances),
        cmocka_unit_test(test_worker_killed_mid_send_loses_nothing),
        cmocka_unit_test(test_bad_template_stops_startup),
        cmocka_unit_test(test_shutdown_during_hung_send),
        cmocka_unit_test(test_metrics_exposed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
