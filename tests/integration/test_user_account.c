/* Integration tests of users and identity, part 3: /v1/me (always the caller, no mass
 * assignment), becoming a seller (verified phone, payout validation), public seller profiles,
 * suspension, the admin grant, and secrets at rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
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

/* --- /v1/me: BOLA and mass assignment ------------------------------------------------------ */

static void test_me_is_always_the_caller(void **state)
{
    struct uf_ident a, b;
    json_t *pa, *pb;
    struct h_resp r = {0};
    uf_ready_user(&srv, &a, &pa);
    uf_ready_user(&srv, &b, &pb);
    const char *ta = uf_str(pa, "access_token");
    uf_call(&srv, "GET", "/v1/me", ta, NULL, &r);
    assert_string_equal(uf_str(r.json, "id"), a.id);
    /* Naming B anywhere changes nothing of B's. */
    char body[512];
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"user_id\":\"%s\",\"name\":\"Renamed A\"}", b.id,
             b.id);
    uf_call(&srv, "PATCH", "/v1/me", ta, body, &r);
    h_assert_status(&r, 200);
    assert_string_equal(uf_str(r.json, "id"), a.id);
    assert_string_equal(uf_str(r.json, "name"), "Renamed A");
    uf_call(&srv, "GET", "/v1/me", uf_str(pb, "access_token"), NULL, &r);
    assert_string_equal(uf_str(r.json, "name"), "Test User");
    char path[128];
    snprintf(path, sizeof path, "/v1/me?id=%s", b.id);
    uf_call(&srv, "GET", path, ta, NULL, &r);
    assert_string_equal(uf_str(r.json, "id"), a.id);
    snprintf(path, sizeof path, "/v1/users/%s", b.id);
    uf_call(&srv, "GET", path, ta, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    json_decref(pa);
    json_decref(pb);
    h_resp_cleanup(&r);
}

static void test_me_patch_mass_assignment(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    const char *t = uf_str(pair, "access_token");
    uf_call(&srv, "PATCH", "/v1/me", t,
            "{\"name\":\"Only The Name\",\"roles\":[\"admin\",\"seller\"],\"email\":"
            "\"evil@example.com\",\"phone\":\"+14155550100\",\"email_verified\":true,"
            "\"phone_verified\":false,\"status\":\"active\",\"seller_id\":\"x\",\"is_admin\":true,"
            "\"password\":\"new password 123\"}",
            &r);
    h_assert_status(&r, 200);
    assert_string_equal(uf_str(r.json, "name"), "Only The Name");
    assert_string_equal(uf_str(r.json, "email"), u.email);
    assert_string_equal(uf_str(r.json, "phone"), u.phone);
    assert_false(json_is_true(json_object_get(r.json, "email_verified")));
    assert_true(json_is_true(json_object_get(r.json, "phone_verified")));
    assert_int_equal(json_array_size(json_object_get(r.json, "roles")), 1);
    uf_login(&srv, u.email, UF_PASSWORD, &r); /* the password did not change either */
    h_assert_status(&r, 200);
    uf_call(&srv, "PATCH", "/v1/me", t, "{\"name\":\"X\"}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(uf_error_for(&r, "name"));
    uf_call(&srv, "PATCH", "/v1/me", t, "{\"name\":\"   \"}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    uf_call(&srv, "PATCH", "/v1/me", t, "{\"name\":7}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* --- sellers ------------------------------------------------------------------------------ */

static char *token_for(const struct uf_ident *u, bool pv)
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
    struct uf_ident u;
    struct h_resp r = {0};
    uf_new_ident(&u);
    uf_signup(&srv, &u);
    static const char body[] =
        "{\"display_name\":\"Too Early\",\"payout\":{\"method\":\"upi\",\"upi_vpa\":"
        "\"early@okaxis\"}}";
    /* A token without pv: the router refuses. */
    char *t = token_for(&u, false);
    uf_call(&srv, "POST", "/v1/me/seller", t, body, &r);
    h_assert_problem(&r, 403, "verification_required");
    /* A token claiming pv for an unverified phone: the handler checks the row too. */
    char *t2 = token_for(&u, true);
    uf_call(&srv, "POST", "/v1/me/seller", t2, body, &r);
    h_assert_problem(&r, 403, "verification_required");
    char *n = uf_scalar(&srv, "SELECT count(*) FROM sellers WHERE user_id = '%s'", u.id);
    assert_string_equal(n, "0");
    free(n);
    free(t);
    free(t2);
    h_resp_cleanup(&r);
}

static void test_become_seller_validation(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    const char *t = uf_str(pair, "access_token");
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
        uf_call(&srv, "POST", "/v1/me/seller", t, cases[i].body, &r);
        h_assert_problem(&r, 422, "validation_failed");
        if (!uf_error_for(&r, cases[i].field)) {
            h_resp_print(&r);
            fail_msg("no error for %s in case %zu", cases[i].field, i);
        }
    }
    /* A bank payout: the number never comes back in full. */
    uf_call(&srv, "POST", "/v1/me/seller", t,
            "{\"display_name\":\"Bank Shop\",\"payout\":{\"method\":\"bank\",\"account_name\":"
            "\"Test User\",\"account_number\":\"001234567896789\",\"ifsc\":\"hdfc0001234\","
            "\"upi_vpa\":\"ignored@okaxis\"},\"roles\":[\"admin\"],\"seller_id\":\"x\"}",
            &r);
    h_assert_status(&r, 201);
    assert_null(strstr(r.body, "001234567896789"));
    assert_null(strstr(r.body, "ignored@okaxis"));
    json_t *payout = json_object_get(json_object_get(r.json, "seller"), "payout");
    assert_string_equal(uf_str(payout, "method"), "bank");
    assert_string_equal(uf_str(payout, "account_number_last4"), "6789");
    assert_string_equal(uf_str(payout, "ifsc"), "HDFC0001234");
    assert_string_equal(uf_str(payout, "account_name"), "Test User");
    assert_null(json_object_get(payout, "account_number"));
    assert_false(uf_has_role(json_object_get(r.json, "user"), "admin"));
    /* Once only. */
    uf_call(&srv, "POST", "/v1/me/seller", t,
            "{\"display_name\":\"Again\",\"payout\":{\"method\":\"upi\",\"upi_vpa\":"
            "\"again@okaxis\"}}",
            &r);
    h_assert_problem(&r, 409, "already_exists");
    char path[128];
    snprintf(path, sizeof path, "/v1/sellers/%s", u.id);
    h_resp_cleanup(&r);
    h_get(&srv, path, &r);
    assert_null(strstr(r.body, "6789"));
    assert_string_equal(uf_str(r.json, "display_name"), "Bank Shop");
    json_decref(pair);
    h_resp_cleanup(&r);
}

static void test_seller_profile_not_found(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
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
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    uf_sql(&srv, "UPDATE users SET suspended_at = now() WHERE id = '%s'", u.id);
    uf_login(&srv, u.email, UF_PASSWORD, &r);
    h_assert_problem(&r, 403, "account_suspended");
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}",
            uf_str(pair, "refresh_token"));
    h_assert_problem(&r, 401, "unauthorized");
    /* The handler refuses at once (403); within 2 s the auth hook's suspension list refuses
     * the token before the handler runs (401; test_user_suspension.c covers that). */
    uf_call(&srv, "GET", "/v1/me", uf_str(pair, "access_token"), NULL, &r);
    if (r.status == 401)
        h_assert_problem(&r, 401, "unauthorized");
    else
        h_assert_problem(&r, 403, "account_suspended");
    /* Lifting the suspension does not bring the revoked family back. */
    uf_sql(&srv, "UPDATE users SET suspended_at = NULL WHERE id = '%s'", u.id);
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}",
            uf_str(pair, "refresh_token"));
    h_assert_problem(&r, 401, "unauthorized");
    json_decref(pair);
    h_resp_cleanup(&r);
}

static void test_admin_grant(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    char dburl[300];
    snprintf(dburl, sizeof dburl, "DATABASE_URL=%s", srv.db_url);
    const char *env[] = {dburl, NULL};
    const char *args[] = {"--config", H_TEST_CONFIG, "admin", "grant", u.email, NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, env, &code, &out), 0);
    if (code != 0)
        fail_msg("admin grant exited %d: %s", code, out ? out : "");
    free(out);
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}",
            uf_str(pair, "refresh_token"));
    h_assert_status(&r, 200);
    assert_true(uf_has_role(json_object_get(r.json, "user"), "admin"));
    const char *bad[] = {"--config", H_TEST_CONFIG, "admin", "grant", "nobody@example.com", NULL};
    assert_int_equal(h_run(bad, env, &code, NULL), 0);
    assert_int_equal(code, 1);
    json_decref(pair);
    h_resp_cleanup(&r);
}

/* --- secrets at rest ---------------------------------------------------------------------- */

static void test_no_secrets_at_rest(void **state)
{
    struct uf_ident u;
    json_t *pair;
    uf_ready_user(&srv, &u, &pair);
    char *hash = uf_scalar(&srv, "SELECT password_hash FROM users WHERE id = '%s'", u.id);
    assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
    assert_non_null(strstr(hash, "m=65536"));
    free(hash);
    /* No code in clear, in the otps rows or in the events. */
    char *n =
        uf_scalar(&srv,
                  "SELECT count(*) FROM otps WHERE user_id = '%s' AND (code_hash LIKE '%%%s%%'"
                  " OR code_hash LIKE '%%%s%%')",
                  u.id, u.code_sms, u.code_email);
    assert_string_equal(n, "0");
    free(n);
    n = uf_scalar(&srv,
                  "SELECT count(*) FROM outbox_events WHERE aggregate_id = '%s' AND "
                  "(payload::text LIKE '%%%s%%' OR payload::text LIKE '%%%s%%')",
                  u.id, u.code_sms, u.code_email);
    assert_string_equal(n, "0");
    free(n);
    n = uf_scalar(&srv,
                  "SELECT count(*) FROM outbox_events WHERE aggregate_id = '%s' AND type = "
                  "'otp.requested' AND payload ? 'code_sealed' AND payload->>'purpose' = 'verify'",
                  u.id);
    assert_string_equal(n, "2");
    free(n);
    n = uf_scalar(&srv,
                  "SELECT count(*) FROM outbox_events WHERE aggregate_id = '%s' AND type = "
                  "'user.signed_up' AND payload->>'user_id' = '%s'",
                  u.id, u.id);
    assert_string_equal(n, "1");
    free(n);
    /* Refresh tokens are stored as their SHA-256 only. */
    const char *rt = uf_str(pair, "refresh_token");
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)rt, strlen(rt));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    n = uf_scalar(&srv, "SELECT count(*) FROM refresh_tokens WHERE token_hash = '%s'", hex);
    assert_string_equal(n, "1");
    free(n);
    n = uf_scalar(&srv, "SELECT count(*) FROM refresh_tokens WHERE token_hash = '%s'", rt);
    assert_string_equal(n, "0");
    free(n);
    /* The notification feed shows codes masked (the contract: no answer ever holds a code). */
    struct h_resp r = {0};
    uf_call(&srv, "GET", "/v1/me/notifications", uf_str(pair, "access_token"), NULL, &r);
    h_assert_status(&r, 200);
    assert_null(strstr(r.body, u.code_sms));
    assert_null(strstr(r.body, u.code_email));
    json_decref(pair);
    h_resp_cleanup(&r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_me_is_always_the_caller),
        cmocka_unit_test(test_me_patch_mass_assignment),
        cmocka_unit_test(test_become_seller_needs_verified_phone),
        cmocka_unit_test(test_become_seller_validation),
        cmocka_unit_test(test_seller_profile_not_found),
        cmocka_unit_test(test_suspended_user),
        cmocka_unit_test(test_admin_grant),
        cmocka_unit_test(test_no_secrets_at_rest),
    };
    return HAAT_RUN_GROUP("user_account", tests, start, stop);
}
