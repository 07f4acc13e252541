/* Hostile traffic against the user module (issue 14), each attack reproduced through the real
 * binary and shown to fail: SMS pumping (budgets per address and in all, the country
 * allow-list, no typed text in an SMS to an unverified phone), mail to unverified addresses
 * and repeated events, address squatting, per-address login floods, lock-outs used as a
 * weapon, OTP guessing at scale and destination enumeration by timing.
 *
 * The server trusts X-Forwarded-For from 127.0.0.1, so each test speaks from addresses of its
 * own (10.<test>.x.y); the limits are set explicitly here, not taken from configs/test.json
 * (which opens them wide for the functional tests). Budgets are per clock hour: each test
 * that counts sends starts by clearing send_budgets. */
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/integration/harness.h"
#include "tests/integration/user_fixtures.h"
#include "tests/test_main.h"

#define SMS_PER_IP   10
#define SMS_IN_ALL   25
#define AUTH_PER_MIN 1000 /* the flood test starts a server of its own with a low one */

static struct h_server srv;

static const char *const limits_env[] = {
    "HAAT_TRUSTED_PROXIES=127.0.0.1", "HAAT_LIMIT_AUTH_PER_IP_MIN=1000",
    "HAAT_LIMIT_SMS_PER_IP_HOUR=10",  "HAAT_LIMIT_EMAIL_PER_IP_HOUR=1000",
    "HAAT_LIMIT_SMS_PER_HOUR=25",     "HAAT_LIMIT_EMAIL_PER_HOUR=100000",
    "HAAT_SMS_COUNTRIES=+91",         NULL,
};

static int start(void **state)
{
    (void)state;
    h_server_start(&srv, limits_env);
    return 0;
}

static int stop(void **state)
{
    (void)state;
    h_server_stop(&srv);
    h_server_cleanup(&srv);
    return 0;
}

/* method path body from client address ip (X-Forwarded-For through the trusted 127.0.0.1). */
static long call_from(const struct h_server *s, const char *ip, const char *method,
                      const char *path, const char *body, struct h_resp *r)
{
    char xff[64];
    snprintf(xff, sizeof xff, "X-Forwarded-For: %s", ip);
    const char *hdrs[] = {xff, NULL};
    h_resp_cleanup(r);
    memset(r, 0, sizeof *r);
    return h_request(s, method, path, body, hdrs, r);
}

static long signup_from(const char *ip, const char *name, const char *email, const char *phone,
                        struct h_resp *r)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"" UF_PASSWORD "\"}",
             name, email, phone);
    return call_from(&srv, ip, "POST", "/v1/auth/signup", body, r);
}

static long login_from(const struct h_server *s, const char *ip, const char *who,
                       const char *password, struct h_resp *r)
{
    char body[512];
    snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"%s\"}", who, password);
    return call_from(s, ip, "POST", "/v1/auth/login", body, r);
}

static long long count(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long count(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long long n = h_db_vint(srv.db_url, fmt, ap);
    va_end(ap);
    return n;
}

/* Lines of the log provider's file (sms.jsonl, email.jsonl) whose text holds needle. */
static size_t sent_with(const char *file, const char *needle)
{
    char *text = h_read_file(h_server_notify_file(&srv, file), NULL);
    size_t n = text ? h_count_lines_with(text, needle) : 0;
    free(text);
    return n;
}

/* Polls until the codes stored for SMS have all been written by the log provider. */
static void wait_sms_delivered(long long want)
{
    long long deadline = h_now_ms() + 15000;
    while (sent_with("sms.jsonl", "\"otp.requested\"") < (size_t)want && h_now_ms() < deadline)
        h_sleep_ms(50);
}

/* ---- SMS pumping ---------------------------------------------------------------------- */

static void test_sms_pumping(void **state)
{
    (void)state;
    struct h_resp r = {0};
    uf_sql(&srv, "DELETE FROM send_budgets");
    char marker[32];
    snprintf(marker, sizeof marker, "PUMP%u", randombytes_uniform(1000000));
    /* 60 signups from one address, each with a name an attacker wants read out. */
    long long t0 = h_now_ms();
    for (int i = 0; i < 60; i++) {
        struct uf_ident u;
        uf_new_ident(&u);
        char name[64];
        snprintf(name, sizeof name, "%s win cash at evil.example", marker);
        signup_from("10.1.0.1", name, u.email, u.phone, &r);
        h_assert_status(&r, 201);
    }
    long long one_addr = count("SELECT count(*) FROM otps WHERE channel = 'sms'");
    print_message("60 signups from one address in %lld ms: %lld SMS codes (budget %d)\n",
                  h_now_ms() - t0, one_addr, SMS_PER_IP);
    assert_int_equal(one_addr, SMS_PER_IP);
    /* 60 more from 60 addresses: the hourly total stops them. */
    for (int i = 0; i < 60; i++) {
        struct uf_ident u;
        uf_new_ident(&u);
        char ip[32];
        snprintf(ip, sizeof ip, "10.1.1.%d", i + 1);
        signup_from(ip, "Plain Name", u.email, u.phone, &r);
        h_assert_status(&r, 201);
    }
    long long all = count("SELECT count(*) FROM otps WHERE channel = 'sms'");
    print_message("after 60 more from 60 addresses: %lld SMS codes in all (budget %d)\n", all,
                  SMS_IN_ALL);
    assert_int_equal(all, SMS_IN_ALL);
    /* Foreign numbers get nothing: refused at signup and on a code request. */
    signup_from("10.1.2.1", "Far Away", "far-away@example.com", "+14155550123", &r);
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(uf_error_for(&r, "phone"));
    call_from(&srv, "10.1.2.1", "POST", "/v1/auth/otp",
              "{\"channel\":\"sms\",\"destination\":\"+447700900123\",\"purpose\":\"verify\"}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    /* Delivered: exactly the budget, none with the typed name, none abroad. */
    wait_sms_delivered(all);
    h_sleep_ms(500); /* anything beyond the budget would show up by now */
    size_t texts = sent_with("sms.jsonl", "\"to\"");
    print_message("SMS sent: %zu (before the fix: 120 for 60 signups, names inside)\n", texts);
    assert_int_equal(texts, (size_t)SMS_IN_ALL);
    assert_int_equal(sent_with("sms.jsonl", marker), 0);
    assert_int_equal(sent_with("sms.jsonl", "+1415"), 0);
    assert_int_equal(sent_with("sms.jsonl", "+4477"), 0);
    /* A code request past the address's budget is a 429 with the wait until the next hour. */
    call_from(&srv, "10.1.0.1", "POST", "/v1/auth/otp",
              "{\"channel\":\"sms\",\"destination\":\"+919812345678\",\"purpose\":\"verify\"}", &r);
    h_assert_problem(&r, 429, "rate_limited");
    int wait = uf_retry_after(&r);
    assert_true(wait >= 1 && wait <= 3600);
    h_resp_cleanup(&r);
}

/* ---- unverified addresses, repeated events -------------------------------------------- */

/* A token for user_id with the given roles JSON (signed like the server's). */
static char *token_for(const char *user_id, const char *roles)
{
    long long now = (long long)time(NULL);
    char claims[512];
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":%s,\"pv\":true,\"iat\":%lld,"
             "\"exp\":%lld}",
             user_id, roles, now, now + 600);
    return h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
}

static long as_user(const char *token, const char *method, const char *path, const char *body,
                    struct h_resp *r)
{
    char auth[1024];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *hdrs[] = {auth, "X-Forwarded-For: 10.2.0.1", NULL};
    h_resp_cleanup(r);
    memset(r, 0, sizeof *r);
    return h_request(&srv, method, path, body, hdrs, r);
}

static void test_unverified_email_gets_nothing(void **state)
{
    (void)state;
    struct h_resp r = {0};
    struct uf_ident u;
    uf_sql(&srv, "DELETE FROM send_budgets");
    uf_new_ident(&u);
    /* A seller whose phone is verified and whose email (someone else's) is not. */
    uf_signup(&srv, &u);
    uf_verify_phone(&srv, &u);
    uf_sql(&srv,
           "INSERT INTO sellers (user_id, display_name, payout_method, upi_vpa) "
           "VALUES ('%s', 'Toggle Shop', 'upi', 'shop@okbank')",
           u.id);
    char *tok = token_for(u.id, "[\"buyer\",\"seller\"]");
    as_user(tok, "POST", "/v1/products",
            "{\"title\":\"Toggle lamp\",\"category\":\"electronics\",\"condition\":\"used\","
            "\"price_minor\":150000,\"city\":\"Pune\",\"stock\":3,\"status\":\"draft\"}",
            &r);
    h_assert_status(&r, 201);
    char pid[40];
    snprintf(pid, sizeof pid, "%s", uf_str(r.json, "id"));
    char path[96];
    snprintf(path, sizeof path, "/v1/products/%s", pid);
    for (int i = 0; i < 100; i++) {
        as_user(tok, "PATCH", path, i % 2 ? "{\"status\":\"draft\"}" : "{\"status\":\"active\"}",
                &r);
        h_assert_status(&r, 200);
    }
    long long events = count("SELECT count(*) FROM outbox_events WHERE type = "
                             "'product.published' AND payload->>'product_id' = '%s'",
                             pid);
    /* Wait until the fan-out has processed every one of them. */
    long long deadline = h_now_ms() + 20000;
    while (count("SELECT count(*) FROM outbox_events WHERE type = 'product.published' AND "
                 "payload->>'product_id' = '%s' AND processed_at IS NULL",
                 pid) > 0 &&
           h_now_ms() < deadline)
        h_sleep_ms(100);
    long long email = count("SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                            "event_type = 'product.published' AND channel = 'email'",
                            u.id);
    long long sms = count("SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                          "event_type = 'product.published' AND channel = 'sms'",
                          u.id);
    print_message("100 toggles: %lld product.published events, %lld emails to the unverified "
                  "address, %lld SMS to the verified phone (before the fix: 50 emails)\n",
                  events, email, sms);
    assert_int_equal(events, 50);
    assert_int_equal(email, 0);
    assert_true(sms <= 1);
    assert_int_equal(sent_with("email.jsonl", "Toggle lamp"), 0);
    /* The welcome did not go to the unverified email either; only its code did. */
    assert_int_equal(count("SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                           "channel = 'email' AND event_type <> 'otp.requested'",
                           u.id),
                     0);
    free(tok);
    h_resp_cleanup(&r);
}

/* ---- squatting -------------------------------------------------------------------------- */

static void test_no_squatting(void **state)
{
    (void)state;
    struct h_resp r = {0};
    struct uf_ident squatter, owner;
    uf_sql(&srv, "DELETE FROM send_budgets");
    uf_new_ident(&owner);
    uf_new_ident(&squatter);
    /* The squatter signs up with the owner's email and their own phone, and verifies it. */
    snprintf(squatter.email, sizeof squatter.email, "%s", owner.email);
    uf_signup(&srv, &squatter);
    uf_verify_phone(&srv, &squatter);
    uf_age_sends(&srv); /* the owner's code is not held back by the 30 s gap */
    /* The owner can still sign up (before the fix: 409 forever) ... */
    signup_from("10.3.0.2", "Real Owner", owner.email, owner.phone, &r);
    h_assert_status(&r, 201);
    snprintf(owner.id, sizeof owner.id, "%s", uf_str(json_object_get(r.json, "user"), "id"));
    for (char *p = owner.email; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    /* ... gets the newest code, verifies first, and owns the address. */
    uf_wait_code(&srv, "email.jsonl", owner.email, 2, owner.code_email);
    uf_verify(&srv, &owner, "email", owner.code_email, "verify", &r);
    h_assert_status(&r, 200);
    assert_true(json_is_true(json_object_get(json_object_get(r.json, "user"), "email_verified")));
    /* The squatter lost the unverified claim; their first code no longer verifies anything. */
    assert_int_equal(
        count("SELECT count(*) FROM users WHERE id = '%s' AND email IS NULL", squatter.id), 1);
    uf_verify(&srv, &squatter, "email", squatter.code_email, "verify", &r);
    h_assert_problem(&r, 401, "invalid_code");
    /* Now the address is taken: a third signup with it is the 409 users need. */
    struct uf_ident third;
    uf_new_ident(&third);
    signup_from("10.3.0.3", "Third Person", owner.email, third.phone, &r);
    h_assert_problem(&r, 409, "already_exists");
    /* Nothing but codes ever went to the owner's address. */
    assert_int_equal(count("SELECT count(*) FROM notifications WHERE destination = '%s' AND "
                           "event_type <> 'otp.requested'",
                           owner.email),
                     0);
    /* A phone squatted the same way does not block its owner's verification either. */
    struct uf_ident p_owner, p_squat;
    uf_new_ident(&p_owner);
    uf_new_ident(&p_squat);
    snprintf(p_squat.phone, sizeof p_squat.phone, "%s", p_owner.phone);
    uf_signup(&srv, &p_squat);
    uf_age_sends(&srv);
    uf_signup(&srv, &p_owner);
    uf_wait_code(&srv, "sms.jsonl", p_owner.phone, 2, p_owner.code_sms);
    uf_verify_phone(&srv, &p_owner);
    assert_int_equal(
        count("SELECT count(*) FROM users WHERE id = '%s' AND phone IS NULL", p_squat.id), 1);
    uf_login(&srv, p_owner.phone, UF_PASSWORD, &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
}

static void test_unverified_accounts_deleted_after_7_days(void **state)
{
    (void)state;
    struct uf_ident old, fresh, verified;
    uf_sql(&srv, "DELETE FROM send_budgets");
    uf_new_ident(&old);
    uf_new_ident(&fresh);
    uf_new_ident(&verified);
    uf_signup(&srv, &old);
    uf_signup(&srv, &fresh);
    uf_signup(&srv, &verified);
    uf_verify_phone(&srv, &verified);
    uf_sql(&srv,
           "UPDATE users SET created_at = now() - interval '8 days' WHERE id IN "
           "('%s', '%s')",
           old.id, verified.id);
    uf_sql(&srv, "UPDATE users SET created_at = now() - interval '6 days' WHERE id = '%s'",
           fresh.id);
    /* Housekeeping runs at start. */
    h_server_stop(&srv);
    h_server_start(&srv, limits_env);
    long long deadline = h_now_ms() + 15000;
    while (count("SELECT count(*) FROM users WHERE id = '%s'", old.id) != 0 &&
           h_now_ms() < deadline)
        h_sleep_ms(100);
    assert_int_equal(count("SELECT count(*) FROM users WHERE id = '%s'", old.id), 0);
    assert_int_equal(count("SELECT count(*) FROM users WHERE id = '%s'", fresh.id), 1);
    assert_int_equal(count("SELECT count(*) FROM users WHERE id = '%s'", verified.id), 1);
}

/* ---- login floods (a server of its own: 5 a minute per address) ------------------------- */

static void test_login_flood_per_address(void **state)
{
    (void)state;
    struct h_server s = {0};
    const char *env[] = {"HAAT_TRUSTED_PROXIES=127.0.0.1", "HAAT_LIMIT_AUTH_PER_IP_MIN=5", NULL};
    h_server_start(&s, env);
    struct h_resp r = {0};
    struct uf_ident u;
    uf_new_ident(&u);
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"Real User\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"" UF_PASSWORD
             "\"}",
             u.email, u.phone);
    call_from(&s, "10.4.0.2", "POST", "/v1/auth/signup", body, &r);
    h_assert_status(&r, 201);
    uf_sql(&s, "UPDATE users SET phone_verified_at = now() WHERE phone = '%s'", u.phone);
    /* The flooding address: random names, 5 answered, then 429 before any hashing. */
    int limited = 0, answered = 0;
    for (int i = 0; i < 20; i++) {
        char who[64];
        snprintf(who, sizeof who, "nobody%u@example.com", randombytes_uniform(1000000000));
        login_from(&s, "10.4.0.1", who, "wrong password here", &r);
        if (r.status == 429) {
            h_assert_problem(&r, 429, "rate_limited");
            assert_true(uf_retry_after(&r) >= 1);
            limited++;
        } else {
            h_assert_problem(&r, 401, "invalid_credentials");
            answered++;
        }
    }
    print_message("flooding address: %d answered, %d refused 429 (limit 5/min)\n", answered,
                  limited);
    assert_int_equal(answered, 5);
    /* The same limit on signup, OTP requests and resets from that address. */
    call_from(&s, "10.4.0.1", "POST", "/v1/auth/signup", body, &r);
    h_assert_problem(&r, 429, "rate_limited");
    call_from(&s, "10.4.0.1", "POST", "/v1/auth/otp",
              "{\"channel\":\"sms\",\"destination\":\"+919800000000\",\"purpose\":\"login\"}", &r);
    h_assert_problem(&r, 429, "rate_limited");
    /* The real user, elsewhere, is served. */
    login_from(&s, "10.4.0.2", u.email, UF_PASSWORD, &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
    h_server_stop(&s);
    h_server_cleanup(&s);
}

/* ---- lock-out as a weapon --------------------------------------------------------------- */

static void test_lockout_is_per_address(void **state)
{
    (void)state;
    struct h_resp r = {0};
    struct uf_ident u;
    json_t *pair;
    uf_sql(&srv, "DELETE FROM send_budgets");
    uf_ready_user(&srv, &u, &pair);
    for (int i = 0; i < 10; i++) {
        login_from(&srv, "10.5.0.1", u.email, "wrong password here", &r);
        h_assert_problem(&r, 401, "invalid_credentials");
    }
    login_from(&srv, "10.5.0.1", u.email, UF_PASSWORD, &r);
    h_assert_problem(&r, 429, "rate_limited");
    /* The owner on another address is not locked out (before the fix: 429 for 15 min). */
    login_from(&srv, "10.5.0.2", u.email, UF_PASSWORD, &r);
    h_assert_status(&r, 200);
    /* And OTP login stays open, even from the attacker's address. */
    char code[8], body[256];
    snprintf(body, sizeof body,
             "{\"channel\":\"sms\",\"destination\":\"%s\",\"purpose\":\"login\"}", u.phone);
    uf_age_sends(&srv);
    call_from(&srv, "10.5.0.1", "POST", "/v1/auth/otp", body, &r);
    h_assert_status(&r, 202);
    uf_wait_code(&srv, "sms.jsonl", u.phone, 2, code);
    uf_verify(&srv, &u, "sms", code, "login", &r);
    h_assert_status(&r, 200);
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* ---- OTP guessing ----------------------------------------------------------------------- */

/* Asks a fresh login code for u's phone (the throttle aged) and returns the nth sent. */
static void login_code(const struct uf_ident *u, int nth, char code[8])
{
    struct h_resp r = {0};
    char body[256];
    snprintf(body, sizeof body,
             "{\"channel\":\"sms\",\"destination\":\"%s\",\"purpose\":\"login\"}", u->phone);
    uf_age_sends(&srv);
    call_from(&srv, "10.6.0.1", "POST", "/v1/auth/otp", body, &r);
    h_assert_status(&r, 202);
    uf_wait_code(&srv, "sms.jsonl", u->phone, nth, code);
    h_resp_cleanup(&r);
}

/* A code that is surely not code. */
static void wrong_code(const char *code, char out[8])
{
    snprintf(out, 8, "%06d", (atoi(code) + 1) % 1000000);
}

static void test_otp_guessing_capped(void **state)
{
    (void)state;
    struct h_resp r = {0};
    struct uf_ident u;
    json_t *pair;
    char code[8], bad[8];
    uf_sql(&srv, "DELETE FROM send_budgets");
    uf_ready_user(&srv, &u, &pair);
    int nth = 1; /* the signup's verify code was the first */
    int wrong = 0;
    /* 19 wrong guesses over four codes (5 kill a code): the right code still works. */
    while (wrong < 19) {
        login_code(&u, ++nth, code);
        wrong_code(code, bad);
        for (int k = 0; k < 5 && wrong < 19; k++, wrong++) {
            uf_verify(&srv, &u, "sms", bad, "login", &r);
            h_assert_problem(&r, 401, "invalid_code");
        }
    }
    login_code(&u, ++nth, code);
    uf_verify(&srv, &u, "sms", code, "login", &r);
    h_assert_status(&r, 200);
    /* The 20th wrong guess reaches the cap: a right code no longer logs in for the day. */
    login_code(&u, ++nth, code);
    wrong_code(code, bad);
    uf_verify(&srv, &u, "sms", bad, "login", &r);
    h_assert_problem(&r, 401, "invalid_code");
    login_code(&u, ++nth, code);
    uf_verify(&srv, &u, "sms", code, "login", &r);
    h_assert_problem(&r, 401, "invalid_code");
    /* The password still does, so the cap locks nobody out. */
    login_from(&srv, "10.6.0.2", u.email, UF_PASSWORD, &r);
    h_assert_status(&r, 200);
    /* The owner is told, on the verified phone. */
    assert_int_equal(count("SELECT count(*) FROM outbox_events WHERE type = 'user.otp_locked' "
                           "AND payload->>'user_id' = '%s'",
                           u.id),
                     1);
    long long deadline = h_now_ms() + 15000;
    while (sent_with("sms.jsonl", "wrong codes were tried") == 0 && h_now_ms() < deadline)
        h_sleep_ms(100);
    assert_true(sent_with("sms.jsonl", "wrong codes were tried") >= 1);
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* ---- enumeration by timing -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_otp_request_same_work(void **state)
{
    (void)state;
    enum { N = 30 };
    struct h_resp r = {0};
    struct uf_ident u;
    json_t *pair;
    double known[N], unknown[N];
    uf_sql(&srv, "DELETE FROM send_budgets");
    uf_ready_user(&srv, &u, &pair);
    uf_verify(&srv, &u, "email", u.code_email, "verify", &r); /* login codes go by email */
    h_assert_status(&r, 200);
    for (int i = 0; i < N; i++) {
        char body[256];
        long long otps = count("SELECT count(*) FROM otps");
        long long events = count("SELECT count(*) FROM outbox_events WHERE type LIKE 'otp.%%'");
        /* Past the destination's gap and hourly limit (10 an hour). */
        uf_sql(&srv, "UPDATE otp_sends SET sent_at = sent_at - interval '2 hours'");
        snprintf(body, sizeof body,
                 "{\"channel\":\"email\",\"destination\":\"%s\",\"purpose\":\"login\"}", u.email);
        call_from(&srv, "10.7.0.1", "POST", "/v1/auth/otp", body, &r);
        h_assert_status(&r, 202);
        known[i] = r.seconds;
        snprintf(body, sizeof body,
                 "{\"channel\":\"email\",\"destination\":\"ghost%d-%u@example.com\","
                 "\"purpose\":\"login\"}",
                 i, randombytes_uniform(1000000000));
        call_from(&srv, "10.7.0.1", "POST", "/v1/auth/otp", body, &r);
        h_assert_status(&r, 202);
        unknown[i] = r.seconds;
        /* The same work: one code row and one event each. */
        assert_int_equal(count("SELECT count(*) FROM otps"), otps + 2);
        assert_int_equal(count("SELECT count(*) FROM outbox_events WHERE type LIKE 'otp.%%'"),
                         events + 2);
    }
    qsort(known, N, sizeof known[0], cmp_double);
    qsort(unknown, N, sizeof unknown[0], cmp_double);
    double ratio = unknown[N / 2] / known[N / 2];
    print_message("POST /v1/auth/otp medians over %d: known %.2f ms, unknown %.2f ms "
                  "(ratio %.2f)\n",
                  N, known[N / 2] * 1000, unknown[N / 2] * 1000, ratio);
    assert_true(ratio > 0.33 && ratio < 3.0);
    /* Only the known destination's codes went out; the others were withheld. */
    assert_true(count("SELECT count(*) FROM outbox_events WHERE type = 'otp.withheld'") >= N);
    assert_int_equal(count("SELECT count(*) FROM otps WHERE user_id IS NULL AND closed_at IS NULL"),
                     0);
    json_decref(pair);
    h_resp_cleanup(&r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sms_pumping),
        cmocka_unit_test(test_unverified_email_gets_nothing),
        cmocka_unit_test(test_no_squatting),
        cmocka_unit_test(test_unverified_accounts_deleted_after_7_days),
        cmocka_unit_test(test_login_flood_per_address),
        cmocka_unit_test(test_lockout_is_per_address),
        cmocka_unit_test(test_otp_guessing_capped),
        cmocka_unit_test(test_otp_request_same_work),
    };
    return HAAT_RUN_GROUP("user_abuse", tests, start, stop);
}
