/* Integration tests of users and identity, part 2: login (identical answers for unknown
 * logins and wrong passwords, timing, lockout, parallel guesses, validation), refresh rotation
 * and family revocation, idempotency never replaying tokens, expired refresh tokens, logout of
 * one's own tokens only, and forged or expired access tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>

#include "tests/integration/harness.h"
#include "tests/integration/user_fixtures.h"
#include "tests/test_main.h"

/* This binary's server: started once for the whole file; every test makes its own users. */
static struct h_server srv;

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

/* --- login -------------------------------------------------------------------------------- */

static void test_invalid_credentials_identical(void **state)
{
    struct uf_ident u, ghost;
    json_t *pair;
    struct h_resp wrong = {0}, unknown = {0};
    uf_ready_user(&srv, &u, &pair);
    uf_new_ident(&ghost);
    uf_login(&srv, u.email, "not the password", &wrong);
    uf_login(&srv, ghost.email, "not the password", &unknown);
    h_assert_problem(&wrong, 401, "invalid_credentials");
    h_assert_problem(&unknown, 401, "invalid_credentials");
    assert_string_equal(uf_str(wrong.json, "type"), uf_str(unknown.json, "type"));
    assert_string_equal(uf_str(wrong.json, "title"), uf_str(unknown.json, "title"));
    assert_string_equal(uf_str(wrong.json, "detail"), uf_str(unknown.json, "detail"));
    uf_login(&srv, "neither-email-nor-phone", "x", &unknown);
    h_assert_problem(&unknown, 401, "invalid_credentials");
    assert_string_equal(uf_str(wrong.json, "detail"), uf_str(unknown.json, "detail"));
    /* An unverified account with a wrong password says nothing about verification. */
    struct uf_ident v;
    uf_new_ident(&v);
    uf_signup(&srv, &v);
    uf_login(&srv, v.email, "not the password", &unknown);
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
    struct uf_ident u, ghost;
    json_t *pair;
    struct h_resp r = {0};
    double known[N], unknown[N];
    uf_ready_user(&srv, &u, &pair);
    for (int i = 0; i < N; i++) {
        uf_new_ident(&ghost);
        uf_login(&srv, u.email, "wrong password here", &r);
        h_assert_problem(&r, 401, "invalid_credentials");
        known[i] = r.seconds;
        uf_login(&srv, ghost.email, "wrong password here", &r);
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
    struct uf_ident u, ghost;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    for (int i = 0; i < 10; i++) {
        /* Alternate email and phone: both count for the one account. */
        uf_login(&srv, i % 2 ? u.email : u.phone, "wrong password here", &r);
        h_assert_problem(&r, 401, "invalid_credentials");
    }
    uf_login(&srv, u.email, UF_PASSWORD, &r); /* even the right password, from this address */
    h_assert_problem(&r, 429, "rate_limited");
    int wait = uf_retry_after(&r);
    assert_true(wait > 0 && wait <= 60); /* 1 minute after the 10th failure */
    /* A minute later (moved back through SQL) one more try; failing it doubles the wait. */
    uf_sql(&srv, "UPDATE login_failures SET failed_at = failed_at - interval '61 seconds'");
    uf_login(&srv, u.phone, "wrong password here", &r);
    h_assert_problem(&r, 401, "invalid_credentials");
    uf_login(&srv, u.email, UF_PASSWORD, &r);
    h_assert_problem(&r, 429, "rate_limited");
    wait = uf_retry_after(&r);
    print_message("lock-out waits: 60 s after the 10th failure, %d s after the 11th\n", wait);
    assert_true(wait > 60 && wait <= 120);
    /* After the window (moved back through SQL) the account works again. */
    uf_sql(&srv, "UPDATE login_failures SET failed_at = failed_at - interval '15 minutes'");
    uf_login(&srv, u.email, UF_PASSWORD, &r);
    h_assert_status(&r, 200);
    /* An unknown login is locked the same way. */
    uf_new_ident(&ghost);
    for (int i = 0; i < 10; i++) {
        uf_login(&srv, ghost.email, "wrong password here", &r);
        h_assert_problem(&r, 401, "invalid_credentials");
    }
    uf_login(&srv, ghost.email, "wrong password here", &r);
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
    uf_login(&srv, b->login, "wrong password here", &r);
    b->status = r.status;
    h_resp_cleanup(&r);
    return NULL;
}

/* 16 wrong guesses at once: exactly 10 are checked (401), the rest refused (429) before any
 * hashing, because each attempt reserves its failure under a per-account lock. */
static void test_login_lockout_parallel(void **state)
{
    enum { N = 16 };
    struct uf_ident u;
    json_t *pair;
    struct burst b[N];
    int unauthorized = 0, limited = 0;
    uf_ready_user(&srv, &u, &pair);
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
    uf_post(&srv, "/v1/auth/login", NULL, &r, "{\"login\":\"x@example.com\"}");
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(uf_error_for(&r, "password"));
    uf_post(&srv, "/v1/auth/login", NULL, &r, "{\"login\":5,\"password\":\"x\"}");
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(uf_error_for(&r, "login"));
    h_resp_cleanup(&r);
}

/* --- refresh tokens ----------------------------------------------------------------------- */

static void test_refresh_rotation_and_family(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    /* A second, independent session. */
    uf_login(&srv, u.phone, UF_PASSWORD, &r);
    h_assert_status(&r, 200);
    char *other = strdup(uf_str(r.json, "refresh_token"));

    char *rt1 = strdup(uf_str(pair, "refresh_token"));
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt1);
    h_assert_status(&r, 200);
    char *rt2 = strdup(uf_str(r.json, "refresh_token"));
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt2);
    h_assert_status(&r, 200);
    char *rt3 = strdup(uf_str(r.json, "refresh_token"));
    /* Reuse of a rotated token: 401, and the newest of the family dies with it. */
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt1);
    h_assert_problem(&r, 401, "unauthorized");
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt3);
    h_assert_problem(&r, 401, "unauthorized");
    /* The other session is untouched. */
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", other);
    h_assert_status(&r, 200);
    /* Unknown and malformed tokens. */
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    h_assert_problem(&r, 401, "unauthorized");
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":42}");
    h_assert_problem(&r, 422, "validation_failed");
    /* An access token is not a refresh token. */
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}",
            uf_str(pair, "access_token"));
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
    struct uf_ident u;
    json_t *pair;
    struct h_resp r1 = {0}, r2 = {0};
    uf_ready_user(&srv, &u, &pair);
    char body[512];
    snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"%s\"}", u.phone, UF_PASSWORD);
    const char *key[] = {"Idempotency-Key: login-key-1", NULL};
    h_request(&srv, "POST", "/v1/auth/login", body, key, &r1);
    h_request(&srv, "POST", "/v1/auth/login", body, key, &r2);
    h_assert_status(&r1, 200);
    h_assert_status(&r2, 200);
    assert_null(h_resp_header(&r2, "Idempotent-Replayed"));
    assert_string_not_equal(uf_str(r1.json, "refresh_token"), uf_str(r2.json, "refresh_token"));
    char *stored =
        uf_scalar(&srv, "SELECT count(*) FROM idempotency_keys WHERE key = 'login-key-1'");
    assert_string_equal(stored, "0");
    free(stored);

    /* A signup with a key replays the first answer, flagged. */
    struct uf_ident v;
    uf_new_ident(&v);
    snprintf(body, sizeof body,
             "{\"name\":\"Replay Test\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"%s\"}",
             v.email, v.phone, UF_PASSWORD);
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

/* Two tabs: the same token again within 10 s of its rotation answers the same successor
 * (stored sealed, never in clear); once the window is over it is a reuse and kills the family. */
static void test_refresh_grace_window(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    char *rt1 = strdup(uf_str(pair, "refresh_token"));
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt1);
    h_assert_status(&r, 200);
    char *rt2 = strdup(uf_str(r.json, "refresh_token"));
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt1);
    h_assert_status(&r, 200);
    assert_string_equal(uf_str(r.json, "refresh_token"), rt2);
    assert_non_null(uf_str(r.json, "access_token"));
    char *sealed = uf_scalar(&srv,
                             "SELECT successor_sealed FROM refresh_tokens WHERE user_id = '%s' "
                             "AND rotated_at IS NOT NULL",
                             u.id);
    assert_non_null(sealed);
    assert_null(strstr(sealed, rt2));
    free(sealed);
    /* The window is over: a reuse, and the successor dies with the family. */
    uf_sql(&srv,
           "UPDATE refresh_tokens SET rotated_at = now() - interval '11 seconds', "
           "created_at = created_at - interval '11 seconds' "
           "WHERE user_id = '%s' AND rotated_at IS NOT NULL",
           u.id);
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt1);
    h_assert_problem(&r, 401, "unauthorized");
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt2);
    h_assert_problem(&r, 401, "unauthorized");
    char *left = uf_scalar(&srv,
                           "SELECT count(*) FROM refresh_tokens WHERE user_id = '%s' "
                           "AND (successor_sealed IS NOT NULL OR revoked_at IS NULL)",
                           u.id);
    assert_string_equal(left, "0");
    free(left);
    free(rt1);
    free(rt2);
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* Inside the window, a rotated token whose successor was already used is a reuse. */
static void test_refresh_grace_successor_used(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    char *rt1 = strdup(uf_str(pair, "refresh_token"));
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt1);
    h_assert_status(&r, 200);
    char *rt2 = strdup(uf_str(r.json, "refresh_token"));
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt2);
    h_assert_status(&r, 200);
    char *rt3 = strdup(uf_str(r.json, "refresh_token"));
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt1);
    h_assert_problem(&r, 401, "unauthorized");
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", rt3);
    h_assert_problem(&r, 401, "unauthorized");
    free(rt1);
    free(rt2);
    free(rt3);
    json_decref(pair);
    h_resp_cleanup(&r);
}

static void test_refresh_expired(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    uf_sql(&srv,
           "UPDATE refresh_tokens SET created_at = now() - interval '31 days', "
           "expires_at = now() - interval '1 day' WHERE user_id = '%s'",
           u.id);
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}",
            uf_str(pair, "refresh_token"));
    h_assert_problem(&r, 401, "unauthorized");
    json_decref(pair);
    h_resp_cleanup(&r);
}

static void test_logout_only_own_tokens(void **state)
{
    struct uf_ident a, b;
    json_t *pa, *pb;
    struct h_resp r = {0};
    uf_ready_user(&srv, &a, &pa);
    uf_ready_user(&srv, &b, &pb);
    /* A presents B's refresh token: 204, and B's session lives on. */
    uf_post(&srv, "/v1/auth/logout", uf_str(pa, "access_token"), &r, "{\"refresh_token\":\"%s\"}",
            uf_str(pb, "refresh_token"));
    h_assert_status(&r, 204);
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}",
            uf_str(pb, "refresh_token"));
    h_assert_status(&r, 200);
    /* Without an access token: 401. */
    uf_post(&srv, "/v1/auth/logout", NULL, &r, "{\"refresh_token\":\"%s\"}",
            uf_str(pa, "refresh_token"));
    h_assert_problem(&r, 401, "unauthorized");
    json_decref(pa);
    json_decref(pb);
    h_resp_cleanup(&r);
}

/* --- access tokens ------------------------------------------------------------------------ */

static void test_forged_and_expired_tokens(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    char claims[512];
    long long now = time(NULL);
    uf_ready_user(&srv, &u, &pair);
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\",\"admin\"],\"pv\":true,\"iat\":%lld,"
             "\"exp\":%lld}",
             u.id, now, now + 600);
    /* Correctly signed with the server's key: accepted (the control). */
    char *good = h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    uf_call(&srv, "GET", "/v1/me", good, NULL, &r);
    h_assert_status(&r, 200);
    /* alg none, with and without a signature. */
    char *none = h_jwt_sign("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    uf_call(&srv, "GET", "/v1/me", none, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    *(strrchr(none, '.') + 1) = '\0';
    uf_call(&srv, "GET", "/v1/me", none, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    char *hs512 = h_jwt_sign("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    uf_call(&srv, "GET", "/v1/me", hs512, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    char *wrong_key =
        h_jwt_sign("{\"alg\":\"HS256\"}", claims, "not-the-server-secret-0123456789abcdef0123");
    uf_call(&srv, "GET", "/v1/me", wrong_key, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\"],\"pv\":true,\"iat\":%lld,\"exp\":%lld}", u.id,
             now - 1000, now - 100);
    char *expired = h_jwt_sign("{\"alg\":\"HS256\"}", claims, h_jwt_secret());
    uf_call(&srv, "GET", "/v1/me", expired, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    /* The issued token, tampered. */
    char *tampered = strdup(uf_str(pair, "access_token"));
    char *sig = strrchr(tampered, '.') + 1;
    sig[3] = sig[3] == 'A' ? 'B' : 'A';
    uf_call(&srv, "GET", "/v1/me", tampered, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    uf_call(&srv, "GET", "/v1/me", "garbage", NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    uf_call(&srv, "GET", "/v1/me", NULL, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    /* A valid signature for an account that does not exist. */
    snprintf(claims, sizeof claims,
             "{\"sub\":\"01a1fe38-0000-7000-8000-000000000000\",\"roles\":[\"buyer\"],"
             "\"pv\":true,\"iat\":%lld,\"exp\":%lld}",
             now, now + 600);
    char *ghost = h_jwt_sign("{\"alg\":\"HS256\"}", claims, h_jwt_secret());
    uf_call(&srv, "GET", "/v1/me", ghost, NULL, &r);
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

/* A hash made with weaker limits than the server's is upgraded at the next good login (out of
 * the transaction), and the password keeps working. */
static void test_login_rehashes_weak_hash(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    char weak[crypto_pwhash_STRBYTES];
    assert_int_equal(crypto_pwhash_str(weak, UF_PASSWORD, strlen(UF_PASSWORD),
                                       crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN),
                     0);
    uf_sql(&srv, "UPDATE users SET password_hash = '%s' WHERE id = '%s'", weak, u.id);
    uf_login(&srv, u.phone, UF_PASSWORD, &r);
    h_assert_status(&r, 200);
    char *stored = uf_scalar(&srv, "SELECT password_hash FROM users WHERE id = '%s'", u.id);
    assert_non_null(stored);
    assert_string_not_equal(stored, weak);
    assert_int_equal(crypto_pwhash_str_needs_rehash(stored, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                    crypto_pwhash_MEMLIMIT_INTERACTIVE) == -1,
                     0);
    free(stored);
    uf_login(&srv, u.phone, UF_PASSWORD, &r);
    h_assert_status(&r, 200);
    json_decref(pair);
    h_resp_cleanup(&r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_credentials_identical),
        cmocka_unit_test(test_login_timing),
        cmocka_unit_test(test_login_lockout),
        cmocka_unit_test(test_login_lockout_parallel),
        cmocka_unit_test(test_login_validation),
        cmocka_unit_test(test_login_rehashes_weak_hash),
        cmocka_unit_test(test_refresh_rotation_and_family),
        cmocka_unit_test(test_idempotency_never_replays_tokens),
        cmocka_unit_test(test_refresh_grace_window),
        cmocka_unit_test(test_refresh_grace_successor_used),
        cmocka_unit_test(test_refresh_expired),
        cmocka_unit_test(test_logout_only_own_tokens),
        cmocka_unit_test(test_forged_and_expired_tokens),
    };
    return HAAT_RUN_GROUP("user_login_tokens", tests, start, stop);
}
