/* Integration tests of users and identity against the real binary: the whole journey (signup,
 * codes read from the notification log providers, verify, login, me, refresh, logout, become
 * seller, public profile), OTP rules (wrong, expired, reused, 5 tries, throttle, oracle-free
 * answers), refresh rotation and family revocation, token forgery, BOLA, mass assignment,
 * login timing and lockout, seller validation, suspension, and secrets at rest.
 *
 * One server for the whole file; every test makes its own users (unique email and phone), and
 * moves the OTP send log back in time through SQL where it needs a second code sooner than
 * the 30 s throttle allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>

#include "tests/integration/harness.h"

#define PASSWORD        "correct horse battery"
#define CODE_TIMEOUT_MS 10000

static struct h_server srv;

struct ident {
    char email[96];
    char phone[20]; /* E.164 */
    char id[40];
    char code_sms[8];
    char code_email[8];
};

/* --- helpers ------------------------------------------------------------------------------ */

static int start(void **state)
{
    h_server_start(&srv, NULL);
    return 0;
}

static int stop(void **state)
{
    h_server_stop(&srv);
    h_server_cleanup(&srv);
    return 0;
}

static void new_ident(struct ident *u)
{
    static unsigned n;
    memset(u, 0, sizeof *u);
    unsigned r = randombytes_uniform(90000000) + 10000000; /* 8 digits */
    snprintf(u->email, sizeof u->email, "user%u.%u.%u@Example.COM", (unsigned)getpid(), ++n, r);
    snprintf(u->phone, sizeof u->phone, "+9197%08u", (r + n) % 100000000);
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void sql(const char *fmt, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    assert_int_equal(h_db_exec(srv.db_url, q), 0);
}

static char *scalar(const char *fmt, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    return h_db_scalar(srv.db_url, q);
}

/* Lets the next code to any destination go out now (the throttle counts sends in SQL). */
static void age_sends(void)
{
    sql("UPDATE otp_sends SET sent_at = sent_at - interval '31 seconds'");
}

static long post(const char *path, const char *token, struct h_resp *r, const char *fmt, ...)
{
    char body[4096], auth[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    const char *headers[2] = {NULL, NULL};
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        headers[0] = auth;
    }
    h_resp_cleanup(r);
    return h_request(&srv, "POST", path, body, headers, r);
}

static long call(const char *method, const char *path, const char *token, const char *body,
                 struct h_resp *r)
{
    char auth[2048];
    const char *headers[2] = {NULL, NULL};
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        headers[0] = auth;
    }
    h_resp_cleanup(r);
    return h_request(&srv, method, path, body, headers, r);
}

/* The 6-digit run in text (not part of a longer number), or "" when none. */
static void find_code(const char *text, char out[8])
{
    out[0] = '\0';
    for (const char *p = text; p && *p; p++) {
        if (*p < '0' || *p > '9' || (p > text && p[-1] >= '0' && p[-1] <= '9'))
            continue;
        size_t n = strspn(p, "0123456789");
        if (n == 6) {
            memcpy(out, p, 6);
            out[6] = '\0';
            return;
        }
    }
}

/* The otp.requested messages to `to` in the channel's log file, in order, one per
 * notification_id (delivery is at least once: a repeated line is the same message). New
 * reference: an array of the log lines. */
static json_t *otp_messages(const char *file, const char *to)
{
    json_t *lines = h_jsonl_read(h_server_notify_file(&srv, file));
    json_t *out = json_array(), *ids = json_object();
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        const char *ev = str(l, "event"), *dest = str(l, "to"), *id = str(l, "notification_id");
        if (!ev || !dest || !id || strcmp(ev, "otp.requested") != 0 || strcmp(dest, to) != 0 ||
            json_object_get(ids, id))
            continue;
        json_object_set_new(ids, id, json_true());
        json_array_append(out, l);
    }
    json_decref(ids);
    json_decref(lines);
    return out;
}

/* Waits for the nth (1-based) code sent to `to` and returns it. Fails the test after
 * CODE_TIMEOUT_MS. */
static void wait_code(const char *file, const char *to, int nth, char out[8])
{
    long long deadline = h_now_ms() + CODE_TIMEOUT_MS;
    for (;;) {
        json_t *msgs = otp_messages(file, to);
        out[0] = '\0';
        if (json_array_size(msgs) >= (size_t)nth)
            find_code(str(json_array_get(msgs, (size_t)nth - 1), "body"), out);
        json_decref(msgs);
        if (out[0])
            return;
        if (h_now_ms() > deadline)
            fail_msg("no code #%d for %s in %s after %d ms", nth, to, file, CODE_TIMEOUT_MS);
        h_sleep_ms(50);
    }
}

/* How many codes went to `to` so far. */
static int codes_sent(const char *file, const char *to)
{
    json_t *msgs = otp_messages(file, to);
    int n = (int)json_array_size(msgs);
    json_decref(msgs);
    return n;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

/* Signs up u (201) and reads both verification codes. */
static void signup(struct ident *u)
{
    struct h_resp r = {0};
    post("/v1/auth/signup", NULL, &r,
         "{\"name\":\"Test User\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"" PASSWORD "\"}",
         u->email, u->phone);
    h_assert_status(&r, 201);
    json_t *user = json_object_get(r.json, "user");
    snprintf(u->id, sizeof u->id, "%s", str(user, "id"));
    lower(u->email);
    assert_string_equal(str(user, "email"), u->email);
    assert_string_equal(str(user, "phone"), u->phone);
    wait_code("sms.jsonl", u->phone, 1, u->code_sms);
    wait_code("email.jsonl", u->email, 1, u->code_email);
    h_resp_cleanup(&r);
}

static long verify(const struct ident *u, const char *channel, const char *code,
                   const char *purpose, struct h_resp *r)
{
    return post("/v1/auth/otp/verify", NULL, r,
                "{\"channel\":\"%s\",\"destination\":\"%s\",\"code\":\"%s\",\"purpose\":\"%s\"}",
                channel, strcmp(channel, "sms") == 0 ? u->phone : u->email, code, purpose);
}

static void verify_phone(const struct ident *u)
{
    struct h_resp r = {0};
    verify(u, "sms", u->code_sms, "verify", &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
}

static long login(const char *who, const char *password, struct h_resp *r)
{
    return post("/v1/auth/login", NULL, r, "{\"login\":\"%s\",\"password\":\"%s\"}", who, password);
}

/* A signed-up, phone-verified user and a fresh token pair (new reference in *pair). */
static void ready_user(struct ident *u, json_t **pair)
{
    struct h_resp r = {0};
    new_ident(u);
    signup(u);
    verify_phone(u);
    login(u->email, PASSWORD, &r);
    h_assert_status(&r, 200);
    *pair = json_incref(r.json);
    h_resp_cleanup(&r);
}

static bool has_role(const json_t *user, const char *role)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(user, "roles"), i, v)
    {
        if (strcmp(json_string_value(v), role) == 0)
            return true;
    }
    return false;
}

/* The errors[] member of a 422 names field. */
static bool error_for(const struct h_resp *r, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r->json, "errors"), i, e)
    {
        if (strcmp(str(e, "field"), field) == 0)
            return true;
    }
    return false;
}

static void assert_user_object(const json_t *u)
{
    static const char *const keys[] = {
        "id", "name", "email", "phone", "email_verified", "phone_verified", "roles", "created_at"};
    assert_true(json_is_object(u));
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!json_object_get(u, keys[i]))
            fail_msg("user object lacks %s", keys[i]);
    assert_null(json_object_get(u, "password_hash"));
    assert_true(strlen(str(u, "created_at")) == 20 && str(u, "created_at")[19] == 'Z');
}

/* --- the journey -------------------------------------------------------------------------- */

static void test_journey(void **state)
{
    struct ident u;
    struct h_resp r = {0};
    new_ident(&u);
    signup(&u);
    assert_string_not_equal(u.code_sms, u.code_email);

    /* Not verified yet: login is refused after the password check. */
    login(u.email, PASSWORD, &r);
    h_assert_problem(&r, 403, "verification_required");

    verify(&u, "sms", u.code_sms, "verify", &r);
    h_assert_status(&r, 200);
    json_t *user = json_object_get(r.json, "user");
    assert_user_object(user);
    assert_true(json_is_true(json_object_get(user, "phone_verified")));
    assert_false(json_is_true(json_object_get(user, "email_verified")));
    verify(&u, "email", u.code_email, "verify", &r);
    h_assert_status(&r, 200);
    assert_true(json_is_true(json_object_get(json_object_get(r.json, "user"), "email_verified")));

    /* Login by phone in a local form. */
    char local[128];
    snprintf(local, sizeof local, "0%s", u.phone + 3);
    login(local, PASSWORD, &r);
    h_assert_status(&r, 200);
    assert_string_equal(str(r.json, "token_type"), "Bearer");
    assert_int_equal(json_integer_value(json_object_get(r.json, "expires_in")), 900);
    assert_user_object(json_object_get(r.json, "user"));
    char *access = strdup(str(r.json, "access_token"));
    char *refresh = strdup(str(r.json, "refresh_token"));
    assert_int_equal(strlen(refresh), 43);

    call("GET", "/v1/me", access, NULL, &r);
    h_assert_status(&r, 200);
    assert_user_object(r.json);
    assert_string_equal(str(r.json, "id"), u.id);
    assert_true(has_role(r.json, "buyer") && !has_role(r.json, "seller"));

    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", refresh);
    h_assert_status(&r, 200);
    char *refresh2 = strdup(str(r.json, "refresh_token"));
    char *access2 = strdup(str(r.json, "access_token"));
    assert_string_not_equal(refresh, refresh2);

    post("/v1/me/seller", access2, &r,
         "{\"display_name\":\"Test Crafts\",\"payout\":{\"method\":\"upi\",\"upi_vpa\":"
         "\"Test.User@OKICICI\"}}");
    h_assert_status(&r, 201);
    json_t *seller = json_object_get(r.json, "seller");
    assert_string_equal(str(seller, "id"), u.id); /* a seller's id is its user's id */
    assert_string_equal(str(seller, "display_name"), "Test Crafts");
    assert_string_equal(str(json_object_get(seller, "payout"), "method"), "upi");
    assert_string_equal(str(json_object_get(seller, "payout"), "upi_vpa"), "test.user@okicici");
    assert_non_null(str(seller, "joined_at"));
    assert_true(has_role(json_object_get(r.json, "user"), "seller"));

    /* The old token still says buyer; a refresh brings the seller role. */
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", refresh2);
    h_assert_status(&r, 200);
    assert_true(has_role(json_object_get(r.json, "user"), "seller"));
    char *access3 = strdup(str(r.json, "access_token"));
    char *refresh3 = strdup(str(r.json, "refresh_token"));

    char path[128];
    snprintf(path, sizeof path, "/v1/sellers/%s", u.id);
    h_resp_cleanup(&r);
    h_get(&srv, path, &r);
    h_assert_status(&r, 200);
    assert_string_equal(str(r.json, "id"), u.id);
    assert_string_equal(str(r.json, "display_name"), "Test Crafts");
    assert_true(json_is_null(json_object_get(r.json, "rating_avg")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "rating_count")), 0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "active_listings")), 0);
    assert_non_null(str(r.json, "joined_at"));
    assert_null(json_object_get(r.json, "payout"));

    /* Logout kills this session's family. */
    post("/v1/auth/logout", access3, &r, "{\"refresh_token\":\"%s\"}", refresh3);
    h_assert_status(&r, 204);
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", refresh3);
    h_assert_problem(&r, 401, "unauthorized");

    free(access);
    free(refresh);
    free(access2);
    free(refresh2);
    free(access3);
    free(refresh3);
    h_resp_cleanup(&r);
}

/* --- signup ------------------------------------------------------------------------------- */

static void test_signup_validation(void **state)
{
    struct h_resp r = {0};
    post("/v1/auth/signup", NULL, &r, "{}");
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(error_for(&r, "name") && error_for(&r, "email") && error_for(&r, "phone") &&
                error_for(&r, "password"));
    post("/v1/auth/signup", NULL, &r,
         "{\"name\":\"A\",\"email\":\"not-an-email\",\"phone\":\"12345\",\"password\":"
         "\"short\"}");
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(error_for(&r, "name") && error_for(&r, "email") && error_for(&r, "phone") &&
                error_for(&r, "password"));
    post("/v1/auth/signup", NULL, &r,
         "{\"name\":\"Okay Name\",\"email\":\"x@example.com\",\"phone\":9876543210,"
         "\"password\":\"" PASSWORD "\"}");
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(error_for(&r, "phone"));
    assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 1);
    h_resp_cleanup(&r);
}

static void test_signup_duplicates(void **state)
{
    struct ident a, b;
    struct h_resp r = {0}, r2 = {0};
    new_ident(&a);
    signup(&a);
    new_ident(&b);
    /* Same email in other case, new phone. */
    char upper[96];
    snprintf(upper, sizeof upper, "%s", a.email);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    post("/v1/auth/signup", NULL, &r,
         "{\"name\":\"Dup\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"" PASSWORD "\"}",
         upper, b.phone);
    h_assert_problem(&r, 409, "already_exists");
    /* Same phone in a local form, new email. */
    char local[128];
    snprintf(local, sizeof local, "0%s", a.phone + 3);
    post("/v1/auth/signup", NULL, &r2,
         "{\"name\":\"Dup\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"" PASSWORD "\"}",
         b.email, local);
    h_assert_problem(&r2, 409, "already_exists");
    /* The two answers do not say which field clashed. */
    assert_string_equal(str(r.json, "detail"), str(r2.json, "detail"));
    assert_null(json_object_get(r.json, "errors"));
    h_resp_cleanup(&r);
    h_resp_cleanup(&r2);
}

static void test_signup_mass_assignment(void **state)
{
    struct ident u;
    struct h_resp r = {0};
    new_ident(&u);
    post("/v1/auth/signup", NULL, &r,
         "{\"name\":\"Sneaky\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"" PASSWORD
         "\",\"roles\":[\"admin\",\"seller\"],\"phone_verified\":true,\"email_verified\":true,"
         "\"id\":\"00000000-0000-7000-8000-000000000001\",\"status\":\"active\","
         "\"is_admin\":true,\"seller_id\":\"x\"}",
         u.email, u.phone);
    h_assert_status(&r, 201);
    json_t *user = json_object_get(r.json, "user");
    assert_string_not_equal(str(user, "id"), "00000000-0000-7000-8000-000000000001");
    assert_false(json_is_true(json_object_get(user, "phone_verified")));
    assert_false(json_is_true(json_object_get(user, "email_verified")));
    assert_int_equal(json_array_size(json_object_get(user, "roles")), 1);
    assert_true(has_role(user, "buyer"));
    char *admin = scalar("SELECT is_admin FROM users WHERE id = '%s'", str(user, "id"));
    assert_string_equal(admin, "f");
    free(admin);
    h_resp_cleanup(&r);
}

/* --- OTP ---------------------------------------------------------------------------------- */

static void test_otp_wrong_reused_expired(void **state)
{
    struct ident u;
    struct h_resp r = {0};
    new_ident(&u);
    signup(&u);
    char wrong[8];
    snprintf(wrong, sizeof wrong, "%06d", (atoi(u.code_sms) + 1) % 1000000);
    verify(&u, "sms", wrong, "verify", &r);
    h_assert_problem(&r, 401, "invalid_code");
    verify(&u, "sms", u.code_sms, "verify", &r); /* one wrong try does not kill it */
    h_assert_status(&r, 200);
    verify(&u, "sms", u.code_sms, "verify", &r); /* single use */
    h_assert_problem(&r, 401, "invalid_code");
    /* The email code, expired through the database. */
    sql("UPDATE otps SET created_at = now() - interval '11 minutes', "
        "expires_at = now() - interval '1 minute' WHERE user_id = '%s' AND channel = 'email'",
        u.id);
    verify(&u, "email", u.code_email, "verify", &r);
    h_assert_problem(&r, 401, "invalid_code");
    char *ev = scalar("SELECT email_verified_at IS NULL FROM users WHERE id = '%s'", u.id);
    assert_string_equal(ev, "t");
    free(ev);
    /* Malformed codes are validation errors, not tries. */
    verify(&u, "sms", "12345", "verify", &r);
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(error_for(&r, "code"));
    verify(&u, "sms", "abcdef", "verify", &r);
    h_assert_problem(&r, 422, "validation_failed");
    verify(&u, "sms", u.code_sms, "reset_password", &r); /* resets have their own route */
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(error_for(&r, "purpose"));
    h_resp_cleanup(&r);
}

static void test_otp_five_wrong_tries_kill_the_code(void **state)
{
    struct ident a, b;
    struct h_resp r = {0};
    char wrong[8];
    new_ident(&a);
    signup(&a);
    for (int i = 1; i <= 4; i++) {
        snprintf(wrong, sizeof wrong, "%06d", (atoi(a.code_sms) + i) % 1000000);
        verify(&a, "sms", wrong, "verify", &r);
        h_assert_problem(&r, 401, "invalid_code");
    }
    verify(&a, "sms", a.code_sms, "verify", &r); /* 4 wrong: still alive */
    h_assert_status(&r, 200);

    new_ident(&b);
    signup(&b);
    for (int i = 1; i <= 5; i++) {
        snprintf(wrong, sizeof wrong, "%06d", (atoi(b.code_sms) + i) % 1000000);
        verify(&b, "sms", wrong, "verify", &r);
        h_assert_problem(&r, 401, "invalid_code");
    }
    verify(&b, "sms", b.code_sms, "verify", &r); /* 5 wrong: dead */
    h_assert_problem(&r, 401, "invalid_code");
    char *pv = scalar("SELECT phone_verified_at IS NULL FROM users WHERE id = '%s'", b.id);
    assert_string_equal(pv, "t");
    free(pv);
    h_resp_cleanup(&r);
}

static long request_otp(const char *channel, const char *dest, const char *purpose,
                        struct h_resp *r)
{
    return post("/v1/auth/otp", NULL, r,
                "{\"channel\":\"%s\",\"destination\":\"%s\",\"purpose\":\"%s\"}", channel, dest,
                purpose);
}

static int retry_after(const struct h_resp *r)
{
    const char *v = h_resp_header(r, "Retry-After");
    return v ? atoi(v) : -1;
}

static void test_otp_throttle(void **state)
{
    struct ident u, ghost;
    struct h_resp r = {0}, g = {0};
    new_ident(&u);
    signup(&u); /* the signup's two sends count */
    request_otp("sms", u.phone, "login", &r);
    h_assert_problem(&r, 429, "rate_limited");
    int wait = retry_after(&r);
    assert_true(wait >= 1 && wait <= 30);
    request_otp("email", u.email, "verify", &r);
    h_assert_problem(&r, 429, "rate_limited");

    /* An unknown destination: the same answers, the same throttle. */
    new_ident(&ghost);
    request_otp("sms", ghost.phone, "login", &g);
    h_assert_status(&g, 202);
    assert_int_equal(json_integer_value(json_object_get(g.json, "expires_in")), 600);
    assert_int_equal(json_object_size(g.json), 1);
    request_otp("sms", ghost.phone, "login", &g);
    h_assert_problem(&g, 429, "rate_limited");
    assert_true(retry_after(&g) >= 29 && retry_after(&g) <= 30);

    /* Ten sends an hour, then a wait of most of the hour. */
    age_sends();
    for (int i = 2; i <= 10; i++) {
        request_otp("sms", ghost.phone, "reset_password", &g);
        h_assert_status(&g, 202);
        age_sends();
    }
    request_otp("sms", ghost.phone, "reset_password", &g);
    h_assert_problem(&g, 429, "rate_limited");
    assert_true(retry_after(&g) > 30 && retry_after(&g) <= 3600);
    assert_int_equal(codes_sent("sms.jsonl", ghost.phone), 0); /* nothing went to a stranger */
    h_resp_cleanup(&r);
    h_resp_cleanup(&g);
}

static void test_otp_request_same_answer_known_unknown(void **state)
{
    struct ident u, ghost;
    struct h_resp known = {0}, unknown = {0};
    new_ident(&u);
    signup(&u);
    verify_phone(&u);
    new_ident(&ghost);
    age_sends();
    request_otp("sms", u.phone, "login", &known);
    request_otp("sms", ghost.phone, "login", &unknown);
    h_assert_status(&known, 202);
    h_assert_status(&unknown, 202);
    assert_string_equal(known.body, unknown.body);
    /* The known one got a code, and it logs in. */
    char code[8];
    wait_code("sms.jsonl", u.phone, 2, code);
    verify(&u, "sms", code, "login", &known);
    h_assert_status(&known, 200);
    assert_non_null(str(known.json, "access_token"));
    assert_non_null(str(known.json, "refresh_token"));
    assert_string_equal(str(json_object_get(known.json, "user"), "id"), u.id);
    verify(&u, "sms", code, "login", &known); /* single use */
    h_assert_problem(&known, 401, "invalid_code");
    /* A verify code is not sent for a channel already verified. */
    age_sends();
    request_otp("sms", u.phone, "verify", &known);
    h_assert_status(&known, 202);
    h_sleep_ms(1500);
    assert_int_equal(codes_sent("sms.jsonl", u.phone), 2);
    /* Bad input. */
    request_otp("sms", "not a phone", "login", &known);
    h_assert_problem(&known, 422, "validation_failed");
    assert_true(error_for(&known, "destination"));
    request_otp("fax", u.phone, "login", &known);
    h_assert_problem(&known, 422, "validation_failed");
    assert_true(error_for(&known, "channel"));
    request_otp("sms", u.phone, "admin", &known);
    h_assert_problem(&known, 422, "validation_failed");
    assert_true(error_for(&known, "purpose"));
    h_resp_cleanup(&known);
    h_resp_cleanup(&unknown);
}

static void test_password_reset(void **state)
{
    struct ident u;
    json_t *pair;
    struct h_resp r = {0};
    ready_user(&u, &pair);
    age_sends();
    request_otp("email", u.email, "reset_password", &r);
    h_assert_status(&r, 202);
    char code[8], wrong[8];
    wait_code("email.jsonl", u.email, 2, code);
    snprintf(wrong, sizeof wrong, "%06d", (atoi(code) + 7) % 1000000);
    post("/v1/auth/password/reset", NULL, &r,
         "{\"channel\":\"email\",\"destination\":\"%s\",\"code\":\"%s\",\"new_password\":"
         "\"a brand new secret\"}",
         u.email, wrong);
    h_assert_problem(&r, 401, "invalid_code");
    post("/v1/auth/password/reset", NULL, &r,
         "{\"channel\":\"email\",\"destination\":\"%s\",\"code\":\"%s\",\"new_password\":"
         "\"short\"}",
         u.email, code);
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(error_for(&r, "new_password"));
    post("/v1/auth/password/reset", NULL, &r,
         "{\"channel\":\"email\",\"destination\":\"%s\",\"code\":\"%s\",\"new_password\":"
         "\"a brand new secret\"}",
         u.email, code);
    h_assert_status(&r, 204);
    /* Every refresh token of the user is dead; the old password too. */
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", str(pair, "refresh_token"));
    h_assert_problem(&r, 401, "unauthorized");
    login(u.email, PASSWORD, &r);
    h_assert_problem(&r, 401, "invalid_credentials");
    login(u.email, "a brand new secret", &r);
    h_assert_status(&r, 200);
    /* The code was single use. */
    post("/v1/auth/password/reset", NULL, &r,
         "{\"channel\":\"email\",\"destination\":\"%s\",\"code\":\"%s\",\"new_password\":"
         "\"yet another secret\"}",
         u.email, code);
    h_assert_problem(&r, 401, "invalid_code");
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* --- login -------------------------------------------------------------------------------- */

static void test_invalid_credentials_identical(void **state)
{
    struct ident u, ghost;
    json_t *pair;
    struct h_resp wrong = {0}, unknown = {0};
    ready_user(&u, &pair);
    new_ident(&ghost);
    login(u.email, "not the password", &wrong);
    login(ghost.email, "not the password", &unknown);
    h_assert_problem(&wrong, 401, "invalid_credentials");
    h_assert_problem(&unknown, 401, "invalid_credentials");
    assert_string_equal(str(wrong.json, "type"), str(unknown.json, "type"));
    assert_string_equal(str(wrong.json, "title"), str(unknown.json, "title"));
    assert_string_equal(str(wrong.json, "detail"), str(unknown.json, "detail"));
    login("neither-email-nor-phone", "x", &unknown);
    h_assert_problem(&unknown, 401, "invalid_credentials");
    assert_string_equal(str(wrong.json, "detail"), str(unknown.json, "detail"));
    /* An unverified account with a wrong password says nothing about verification. */
    struct ident v;
    new_ident(&v);
    signup(&v);
    login(v.email, "not the password", &unknown);
    h_assert_problem(&unknown, 401, "invalid_credentials");
    json_decref(pair);
    h_resp_cleanup(&wrong);
    h_resp_cleanup(&unknown);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_login_timing(void **state)
{
    enum { N = 7 };
    struct ident u, ghost;
    json_t *pair;
    struct h_resp r = {0};
    double known[N], unknown[N];
    ready_user(&u, &pair);
    for (int i = 0; i < N; i++) {
        new_ident(&ghost);
        login(u.email, "wrong password here", &r);
        h_assert_problem(&r, 401, "invalid_credentials");
        known[i] = r.seconds;
        login(ghost.email, "wrong password here", &r);
        h_assert_problem(&r, 401, "invalid_credentials");
        unknown[i] = r.seconds;
    }
    qsort(known, N, sizeof known[0], cmp_double);
    qsort(unknown, N, sizeof unknown[0], cmp_double);
    double ratio = unknown[N / 2] / known[N / 2];
    print_message("login medians: wrong password %.1f ms, unknown user %.1f ms (ratio %.2f)\n",
                  known[N / 2] * 1000, unknown[N / 2] * 1000, ratio);
    assert_true(known[N / 2] > 0.005); /* a real Argon2id verification ran */
    assert_true(ratio > 0.5 && ratio < 2.0);
    json_decref(pair);
    h_resp_cleanup(&r);
}

static void test_login_lockout(void **state)
{
    struct ident u, ghost;
    json_t *pair;
    struct h_resp r = {0};
    ready_user(&u, &pair);
    for (int i = 0; i < 10; i++) {
        /* Alternate email and phone: both count for the one account. */
        login(i % 2 ? u.email : u.phone, "wrong password here", &r);
        h_assert_problem(&r, 401, "invalid_credentials");
    }
    login(u.email, PASSWORD, &r); /* even the right password now */
    h_assert_problem(&r, 429, "rate_limited");
    int wait = retry_after(&r);
    assert_true(wait > 800 && wait <= 900);
    /* After the window (moved back through SQL) the account works again. */
    sql("UPDATE login_failures SET failed_at = failed_at - interval '15 minutes'");
    login(u.email, PASSWORD, &r);
    h_assert_status(&r, 200);
    /* An unknown login is locked the same way. */
    new_ident(&ghost);
    for (int i = 0; i < 10; i++) {
        login(ghost.email, "wrong password here", &r);
        h_assert_problem(&r, 401, "invalid_credentials");
    }
    login(ghost.email, "wrong password here", &r);
    h_assert_problem(&r, 429, "rate_limited");
    json_decref(pair);
    h_resp_cleanup(&r);
}

struct burst {
    pthread_t tid;
    const char *login;
    long status;
};

static void *burst_login(void *arg)
{
    struct burst *b = arg;
    struct h_resp r = {0};
    login(b->login, "wrong password here", &r);
    b->status = r.status;
    h_resp_cleanup(&r);
    return NULL;
}

/* 16 wrong guesses at once: exactly 10 are checked (401), the rest refused (429) before any
 * hashing, because each attempt reserves its failure under a per-account lock. */
static void test_login_lockout_parallel(void **state)
{
    enum { N = 16 };
    struct ident u;
    json_t *pair;
    struct burst b[N];
    int unauthorized = 0, limited = 0;
    ready_user(&u, &pair);
    for (int i = 0; i < N; i++) {
        b[i] = (struct burst){.login = u.email};
        assert_int_equal(pthread_create(&b[i].tid, NULL, burst_login, &b[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(b[i].tid, NULL);
        unauthorized += b[i].status == 401;
        limited += b[i].status == 429;
    }
    print_message("parallel wrong logins: %d x 401, %d x 429\n", unauthorized, limited);
    assert_int_equal(unauthorized, 10);
    assert_int_equal(limited, N - 10);
    json_decref(pair);
}

static void test_login_validation(void **state)
{
    struct h_resp r = {0};
    post("/v1/auth/login", NULL, &r, "{\"login\":\"x@example.com\"}");
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(error_for(&r, "password"));
    post("/v1/auth/login", NULL, &r, "{\"login\":5,\"password\":\"x\"}");
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(error_for(&r, "login"));
    h_resp_cleanup(&r);
}

/* --- refresh tokens ----------------------------------------------------------------------- */

static void test_refresh_rotation_and_family(void **state)
{
    struct ident u;
    json_t *pair;
    struct h_resp r = {0};
    ready_user(&u, &pair);
    /* A second, independent session. */
    login(u.phone, PASSWORD, &r);
    h_assert_status(&r, 200);
    char *other = strdup(str(r.json, "refresh_token"));

    char *rt1 = strdup(str(pair, "refresh_token"));
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt1);
    h_assert_status(&r, 200);
    char *rt2 = strdup(str(r.json, "refresh_token"));
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt2);
    h_assert_status(&r, 200);
    char *rt3 = strdup(str(r.json, "refresh_token"));
    /* Reuse of a rotated token: 401, and the newest of the family dies with it. */
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt1);
    h_assert_problem(&r, 401, "unauthorized");
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt3);
    h_assert_problem(&r, 401, "unauthorized");
    /* The other session is untouched. */
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", other);
    h_assert_status(&r, 200);
    /* Unknown and malformed tokens. */
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}",
         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    h_assert_problem(&r, 401, "unauthorized");
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":42}");
    h_assert_problem(&r, 422, "validation_failed");
    /* An access token is not a refresh token. */
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", str(pair, "access_token"));
    h_assert_problem(&r, 401, "unauthorized");
    free(other);
    free(rt1);
    free(rt2);
    free(rt3);
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* Token-issuing routes ignore Idempotency-Key: credentials are never stored for replay, and a
 * replayed refresh could otherwise dodge reuse detection. Ordinary POSTs still replay. */
static void test_idempotency_never_replays_tokens(void **state)
{
    struct ident u;
    json_t *pair;
    struct h_resp r1 = {0}, r2 = {0};
    ready_user(&u, &pair);
    char body[512];
    snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"%s\"}", u.phone, PASSWORD);
    const char *key[] = {"Idempotency-Key: login-key-1", NULL};
    h_request(&srv, "POST", "/v1/auth/login", body, key, &r1);
    h_request(&srv, "POST", "/v1/auth/login", body, key, &r2);
    h_assert_status(&r1, 200);
    h_assert_status(&r2, 200);
    assert_null(h_resp_header(&r2, "Idempotent-Replayed"));
    assert_string_not_equal(str(r1.json, "refresh_token"), str(r2.json, "refresh_token"));
    char *stored = scalar("SELECT count(*) FROM idempotency_keys WHERE key = 'login-key-1'");
    assert_string_equal(stored, "0");
    free(stored);

    /* A signup with a key replays the first answer, flagged. */
    struct ident v;
    new_ident(&v);
    snprintf(body, sizeof body,
             "{\"name\":\"Replay Test\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"%s\"}",
             v.email, v.phone, PASSWORD);
    const char *skey[] = {"Idempotency-Key: signup-key-1", NULL};
    h_resp_cleanup(&r1);
    h_resp_cleanup(&r2);
    h_request(&srv, "POST", "/v1/auth/signup", body, skey, &r1);
    h_request(&srv, "POST", "/v1/auth/signup", body, skey, &r2);
    h_assert_status(&r1, 201);
    h_assert_status(&r2, 201);
    assert_non_null(h_resp_header(&r2, "Idempotent-Replayed"));
    assert_string_equal(r1.body, r2.body);
    json_decref(pair);
    h_resp_cleanup(&r1);
    h_resp_cleanup(&r2);
}

static void test_refresh_expired(void **state)
{
    struct ident u;
    json_t *pair;
    struct h_resp r = {0};
    ready_user(&u, &pair);
    sql("UPDATE refresh_tokens SET created_at = now() - interval '31 days', "
        "expires_at = now() - interval '1 day' WHERE user_id = '%s'",
        u.id);
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", str(pair, "refresh_token"));
    h_assert_problem(&r, 401, "unauthorized");
    json_decref(pair);
    h_resp_cleanup(&r);
}

static void test_logout_only_own_tokens(void **state)
{
    struct ident a, b;
    json_t *pa, *pb;
    struct h_resp r = {0};
    ready_user(&a, &pa);
    ready_user(&b, &pb);
    /* A presents B's refresh token: 204, and B's session lives on. */
    post("/v1/auth/logout", str(pa, "access_token"), &r, "{\"refresh_token\":\"%s\"}",
         str(pb, "refresh_token"));
    h_assert_status(&r, 204);
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", str(pb, "refresh_token"));
    h_assert_status(&r, 200);
    /* Without an access token: 401. */
    post("/v1/auth/logout", NULL, &r, "{\"refresh_token\":\"%s\"}", str(pa, "refresh_token"));
    h_assert_problem(&r, 401, "unauthorized");
    json_decref(pa);
    json_decref(pb);
    h_resp_cleanup(&r);
}

/* --- access tokens ------------------------------------------------------------------------ */

static void test_forged_and_expired_tokens(void **state)
{
    struct ident u;
    json_t *pair;
    struct h_resp r = {0};
    char claims[512];
    long long now = time(NULL);
    ready_user(&u, &pair);
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\",\"admin\"],\"pv\":true,\"iat\":%lld,"
             "\"exp\":%lld}",
             u.id, now, now + 600);
    /* Correctly signed with the server's key: accepted (the control). */
    char *good = h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    call("GET", "/v1/me", good, NULL, &r);
    h_assert_status(&r, 200);
    /* alg none, with and without a signature. */
    char *none = h_jwt_sign("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    call("GET", "/v1/me", none, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    *(strrchr(none, '.') + 1) = '\0';
    call("GET", "/v1/me", none, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    char *hs512 = h_jwt_sign("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    call("GET", "/v1/me", hs512, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    char *wrong_key =
        h_jwt_sign("{\"alg\":\"HS256\"}", claims, "not-the-server-secret-0123456789abcdef0123");
    call("GET", "/v1/me", wrong_key, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\"],\"pv\":true,\"iat\":%lld,\"exp\":%lld}", u.id,
             now - 1000, now - 100);
    char *expired = h_jwt_sign("{\"alg\":\"HS256\"}", claims, h_jwt_secret());
    call("GET", "/v1/me", expired, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    /* The issued token, tampered. */
    char *tampered = strdup(str(pair, "access_token"));
    char *sig = strrchr(tampered, '.') + 1;
    sig[3] = sig[3] == 'A' ? 'B' : 'A';
    call("GET", "/v1/me", tampered, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    call("GET", "/v1/me", "garbage", NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    call("GET", "/v1/me", NULL, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    /* A valid signature for an account that does not exist. */
    snprintf(claims, sizeof claims,
             "{\"sub\":\"01a1fe38-0000-7000-8000-000000000000\",\"roles\":[\"buyer\"],"
             "\"pv\":true,\"iat\":%lld,\"exp\":%lld}",
             now, now + 600);
    char *ghost = h_jwt_sign("{\"alg\":\"HS256\"}", claims, h_jwt_secret());
    call("GET", "/v1/me", ghost, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    free(good);
    free(none);
    free(hs512);
    free(wrong_key);
    free(expired);
    free(tampered);
    free(ghost);
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* --- /v1/me: BOLA and mass assignment ------------------------------------------------------ */

static void test_me_is_always_the_caller(void **state)
{
    struct ident a, b;
    json_t *pa, *pb;
    struct h_resp r = {0};
    ready_user(&a, &pa);
    ready_user(&b, &pb);
    const char *ta = str(pa, "access_token");
    call("GET", "/v1/me", ta, NULL, &r);
    assert_string_equal(str(r.json, "id"), a.id);
    /* Naming B anywhere changes nothing of B's. */
    char body[512];
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"user_id\":\"%s\",\"name\":\"Renamed A\"}", b.id,
             b.id);
    call("PATCH", "/v1/me", ta, body, &r);
    h_assert_status(&r, 200);
    assert_string_equal(str(r.json, "id"), a.id);
    assert_string_equal(str(r.json, "name"), "Renamed A");
    call("GET", "/v1/me", str(pb, "access_token"), NULL, &r);
    assert_string_equal(str(r.json, "name"), "Test User");
    char path[128];
    snprintf(path, sizeof path, "/v1/me?id=%s", b.id);
    call("GET", path, ta, NULL, &r);
    assert_string_equal(str(r.json, "id"), a.id);
    snprintf(path, sizeof path, "/v1/users/%s", b.id);
    call("GET", path, ta, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    json_decref(pa);
    json_decref(pb);
    h_resp_cleanup(&r);
}

static void test_me_patch_mass_assignment(void **state)
{
    struct ident u;
    json_t *pair;
    struct h_resp r = {0};
    ready_user(&u, &pair);
    const char *t = str(pair, "access_token");
    call("PATCH", "/v1/me", t,
         "{\"name\":\"Only The Name\",\"roles\":[\"admin\",\"seller\"],\"email\":"
         "\"evil@example.com\",\"phone\":\"+14155550100\",\"email_verified\":true,"
         "\"phone_verified\":false,\"status\":\"active\",\"seller_id\":\"x\",\"is_admin\":true,"
         "\"password\":\"new password 123\"}",
         &r);
    h_assert_status(&r, 200);
    assert_string_equal(str(r.json, "name"), "Only The Name");
    assert_string_equal(str(r.json, "email"), u.email);
    assert_string_equal(str(r.json, "phone"), u.phone);
    assert_false(json_is_true(json_object_get(r.json, "email_verified")));
    assert_true(json_is_true(json_object_get(r.json, "phone_verified")));
    assert_int_equal(json_array_size(json_object_get(r.json, "roles")), 1);
    login(u.email, PASSWORD, &r); /* the password did not change either */
    h_assert_status(&r, 200);
    call("PATCH", "/v1/me", t, "{\"name\":\"X\"}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(error_for(&r, "name"));
    call("PATCH", "/v1/me", t, "{\"name\":\"   \"}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    call("PATCH", "/v1/me", t, "{\"name\":7}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* --- sellers ------------------------------------------------------------------------------ */

static char *token_for(const struct ident *u, bool pv)
{
    char claims[512];
    long long now = time(NULL);
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\"],\"pv\":%s,\"iat\":%lld,\"exp\":%lld}", u->id,
             pv ? "true" : "false", now, now + 600);
    return h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
}

static void test_become_seller_needs_verified_phone(void **state)
{
    struct ident u;
    struct h_resp r = {0};
    new_ident(&u);
    signup(&u);
    static const char body[] =
        "{\"display_name\":\"Too Early\",\"payout\":{\"method\":\"upi\",\"upi_vpa\":"
        "\"early@okaxis\"}}";
    /* A token without pv: the router refuses. */
    char *t = token_for(&u, false);
    call("POST", "/v1/me/seller", t, body, &r);
    h_assert_problem(&r, 403, "verification_required");
    /* A token claiming pv for an unverified phone: the handler checks the row too. */
    char *t2 = token_for(&u, true);
    call("POST", "/v1/me/seller", t2, body, &r);
    h_assert_problem(&r, 403, "verification_required");
    char *n = scalar("SELECT count(*) FROM sellers WHERE user_id = '%s'", u.id);
    assert_string_equal(n, "0");
    free(n);
    free(t);
    free(t2);
    h_resp_cleanup(&r);
}

static void test_become_seller_validation(void **state)
{
    struct ident u;
    json_t *pair;
    struct h_resp r = {0};
    ready_user(&u, &pair);
    const char *t = str(pair, "access_token");
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"display_name\":\"Shop\",\"payout\":{\"method\":\"upi\",\"upi_vpa\":\"nobank\"}}",
         "payout.upi_vpa"},
        {"{\"display_name\":\"Shop\",\"payout\":{\"method\":\"upi\",\"upi_vpa\":\"a@b1\"}}",
         "payout.upi_vpa"},
        {"{\"display_name\":\"Shop\",\"payout\":{\"method\":\"upi\"}}", "payout.upi_vpa"},
        {"{\"display_name\":\"Shop\",\"payout\":{\"method\":\"bank\",\"account_name\":\"A "
         "B\",\"account_number\":\"123456789\",\"ifsc\":\"HDFC1234567\"}}",
         "payout.ifsc"},
        {"{\"display_name\":\"Shop\",\"payout\":{\"method\":\"bank\",\"account_name\":\"A "
         "B\",\"account_number\":\"12345678\",\"ifsc\":\"HDFC0001234\"}}",
         "payout.account_number"},
        {"{\"display_name\":\"Shop\",\"payout\":{\"method\":\"bank\",\"account_name\":\"A "
         "B\",\"ifsc\":\"HDFC0001234\"}}",
         "payout.account_number"},
        {"{\"display_name\":\"Shop\",\"payout\":{\"method\":\"bank\",\"account_number\":"
         "\"123456789\",\"ifsc\":\"HDFC0001234\"}}",
         "payout.account_name"},
        {"{\"display_name\":\"Shop\",\"payout\":{\"method\":\"cash\"}}", "payout.method"},
        {"{\"display_name\":\"Shop\"}", "payout"},
        {"{\"display_name\":\"Shop\",\"payout\":\"upi\"}", "payout"},
        {"{\"display_name\":\"S\",\"payout\":{\"method\":\"upi\",\"upi_vpa\":\"ok@okaxis\"}}",
         "display_name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        call("POST", "/v1/me/seller", t, cases[i].body, &r);
        h_assert_problem(&r, 422, "validation_failed");
        if (!error_for(&r, cases[i].field)) {
            h_resp_print(&r);
            fail_msg("no error for %s in case %zu", cases[i].field, i);
        }
    }
    /* A bank payout: the number never comes back in full. */
    call("POST", "/v1/me/seller", t,
         "{\"display_name\":\"Bank Shop\",\"payout\":{\"method\":\"bank\",\"account_name\":"
         "\"Test User\",\"account_number\":\"001234567896789\",\"ifsc\":\"hdfc0001234\","
         "\"upi_vpa\":\"ignored@okaxis\"},\"roles\":[\"admin\"],\"seller_id\":\"x\"}",
         &r);
    h_assert_status(&r, 201);
    assert_null(strstr(r.body, "001234567896789"));
    assert_null(strstr(r.body, "ignored@okaxis"));
    json_t *payout = json_object_get(json_object_get(r.json, "seller"), "payout");
    assert_string_equal(str(payout, "method"), "bank");
    assert_string_equal(str(payout, "account_number_last4"), "6789");
    assert_string_equal(str(payout, "ifsc"), "HDFC0001234");
    assert_string_equal(str(payout, "account_name"), "Test User");
    assert_null(json_object_get(payout, "account_number"));
    assert_false(has_role(json_object_get(r.json, "user"), "admin"));
    /* Once only. */
    call("POST", "/v1/me/seller", t,
         "{\"display_name\":\"Again\",\"payout\":{\"method\":\"upi\",\"upi_vpa\":"
         "\"again@okaxis\"}}",
         &r);
    h_assert_problem(&r, 409, "already_exists");
    char path[128];
    snprintf(path, sizeof path, "/v1/sellers/%s", u.id);
    h_resp_cleanup(&r);
    h_get(&srv, path, &r);
    assert_null(strstr(r.body, "6789"));
    assert_string_equal(str(r.json, "display_name"), "Bank Shop");
    json_decref(pair);
    h_resp_cleanup(&r);
}

static void test_seller_profile_not_found(void **state)
{
    struct ident u;
    json_t *pair;
    struct h_resp r = {0};
    ready_user(&u, &pair);
    char path[128];
    snprintf(path, sizeof path, "/v1/sellers/%s", u.id); /* a user, not a seller */
    h_resp_cleanup(&r);
    h_get(&srv, path, &r);
    h_assert_problem(&r, 404, "not_found");
    h_resp_cleanup(&r);
    h_get(&srv, "/v1/sellers/01a1fe38-0000-7000-8000-000000000000", &r);
    h_assert_problem(&r, 404, "not_found");
    h_resp_cleanup(&r);
    h_get(&srv, "/v1/sellers/not-a-uuid", &r);
    h_assert_problem(&r, 404, "not_found");
    h_resp_cleanup(&r);
    h_get(&srv, "/v1/sellers/1", &r);
    h_assert_problem(&r, 404, "not_found");
    snprintf(path, sizeof path, "/v1/sellers/%sab", u.id);
    h_resp_cleanup(&r);
    h_get(&srv, path, &r);
    h_assert_problem(&r, 404, "not_found");
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* --- suspension, admin --------------------------------------------------------------------- */

static void test_suspended_user(void **state)
{
    struct ident u;
    json_t *pair;
    struct h_resp r = {0};
    ready_user(&u, &pair);
    sql("UPDATE users SET suspended_at = now() WHERE id = '%s'", u.id);
    login(u.email, PASSWORD, &r);
    h_assert_problem(&r, 403, "account_suspended");
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", str(pair, "refresh_token"));
    h_assert_problem(&r, 401, "unauthorized");
    call("GET", "/v1/me", str(pair, "access_token"), NULL, &r);
    h_assert_problem(&r, 403, "account_suspended");
    /* Lifting the suspension does not bring the revoked family back. */
    sql("UPDATE users SET suspended_at = NULL WHERE id = '%s'", u.id);
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", str(pair, "refresh_token"));
    h_assert_problem(&r, 401, "unauthorized");
    json_decref(pair);
    h_resp_cleanup(&r);
}

static void test_admin_grant(void **state)
{
    struct ident u;
    json_t *pair;
    struct h_resp r = {0};
    ready_user(&u, &pair);
    char dburl[300];
    snprintf(dburl, sizeof dburl, "DATABASE_URL=%s", srv.db_url);
    const char *env[] = {dburl, NULL};
    const char *args[] = {"--config", H_TEST_CONFIG, "admin", "grant", u.email, NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, env, &code, &out), 0);
    if (code == 2 && out && strstr(out, "unknown")) {
        print_message("haat admin grant is not wired into main.c yet: skipped\n");
        free(out);
        json_decref(pair);
        skip();
    }
    if (code != 0)
        fail_msg("admin grant exited %d: %s", code, out ? out : "");
    free(out);
    post("/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", str(pair, "refresh_token"));
    h_assert_status(&r, 200);
    assert_true(has_role(json_object_get(r.json, "user"), "admin"));
    const char *bad[] = {"--config", H_TEST_CONFIG, "admin", "grant", "nobody@example.com", NULL};
    assert_int_equal(h_run(bad, env, &code, NULL), 0);
    assert_int_equal(code, 1);
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* --- secrets at rest ---------------------------------------------------------------------- */

static void test_no_secrets_at_rest(void **state)
{
    struct ident u;
    json_t *pair;
    ready_user(&u, &pair);
    char *hash = scalar("SELECT password_hash FROM users WHERE id = '%s'", u.id);
    assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
    assert_non_null(strstr(hash, "m=65536"));
    free(hash);
    /* No code in clear, in the otps rows or in the events. */
    char *n = scalar("SELECT count(*) FROM otps WHERE user_id = '%s' AND (code_hash LIKE '%%%s%%'"
                     " OR code_hash LIKE '%%%s%%')",
                     u.id, u.code_sms, u.code_email);
    assert_string_equal(n, "0");
    free(n);
    n = scalar("SELECT count(*) FROM outbox_events WHERE aggregate_id = '%s' AND "
               "(payload::text LIKE '%%%s%%' OR payload::text LIKE '%%%s%%')",
               u.id, u.code_sms, u.code_email);
    assert_string_equal(n, "0");
    free(n);
    n = scalar("SELECT count(*) FROM outbox_events WHERE aggregate_id = '%s' AND type = "
               "'otp.requested' AND payload ? 'code_sealed' AND payload->>'purpose' = 'verify'",
               u.id);
    assert_string_equal(n, "2");
    free(n);
    n = scalar("SELECT count(*) FROM outbox_events WHERE aggregate_id = '%s' AND type = "
               "'user.signed_up' AND payload->>'user_id' = '%s'",
               u.id, u.id);
    assert_string_equal(n, "1");
    free(n);
    /* Refresh tokens are stored as their SHA-256 only. */
    const char *rt = str(pair, "refresh_token");
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)rt, strlen(rt));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    n = scalar("SELECT count(*) FROM refresh_tokens WHERE token_hash = '%s'", hex);
    assert_string_equal(n, "1");
    free(n);
    n = scalar("SELECT count(*) FROM refresh_tokens WHERE token_hash = '%s'", rt);
    assert_string_equal(n, "0");
    free(n);
    /* The notification feed shows codes masked (API.md). */
    struct h_resp r = {0};
    call("GET", "/v1/me/notifications", str(pair, "access_token"), NULL, &r);
    if (r.status == 200) {
        assert_null(strstr(r.body, u.code_sms));
        assert_null(strstr(r.body, u.code_email));
    }
    json_decref(pair);
    h_resp_cleanup(&r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    if (getenv("HAAT_TEST_FILTER")) /* e.g. HAAT_TEST_FILTER='test_login_*' */
        cmocka_set_test_filter(getenv("HAAT_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journey),
        cmocka_unit_test(test_signup_validation),
        cmocka_unit_test(test_signup_duplicates),
        cmocka_unit_test(test_signup_mass_assignment),
        cmocka_unit_test(test_otp_wrong_reused_expired),
        cmocka_unit_test(test_otp_five_wrong_tries_kill_the_code),
        cmocka_unit_test(test_otp_throttle),
        cmocka_unit_test(test_otp_request_same_answer_known_unknown),
        cmocka_unit_test(test_password_reset),
        cmocka_unit_test(test_invalid_credentials_identical),
        cmocka_unit_test(test_login_timing),
        cmocka_unit_test(test_login_lockout),
        cmocka_unit_test(test_login_lockout_parallel),
        cmocka_unit_test(test_login_validation),
        cmocka_unit_test(test_refresh_rotation_and_family),
        cmocka_unit_test(test_idempotency_never_replays_tokens),
        cmocka_unit_test(test_refresh_expired),
        cmocka_unit_test(test_logout_only_own_tokens),
        cmocka_unit_test(test_forged_and_expired_tokens),
        cmocka_unit_test(test_me_is_always_the_caller),
        cmocka_unit_test(test_me_patch_mass_assignment),
        cmocka_unit_test(test_become_seller_needs_verified_phone),
        cmocka_unit_test(test_become_seller_validation),
        cmocka_unit_test(test_seller_profile_not_found),
        cmocka_unit_test(test_suspended_user),
        cmocka_unit_test(test_admin_grant),
        cmocka_unit_test(test_no_secrets_at_rest),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
