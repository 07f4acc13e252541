/* Integration tests of users and identity, part 1: the whole journey (signup, codes read from
 * the notification log providers, verify, login, me, refresh, logout, become seller, public
 * profile), signup validation, duplicates and mass assignment, OTP rules (wrong, expired,
 * reused, 5 tries, throttle, oracle-free answers) and password reset.
 *
 * Moves the OTP send log back in time through SQL where a test needs a second code sooner than
 * the 30 s throttle allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* --- the journey -------------------------------------------------------------------------- */

static void test_journey(void **state)
{
    struct uf_ident u;
    struct h_resp r = {0};
    uf_new_ident(&u);
    uf_signup(&srv, &u);
    assert_string_not_equal(u.code_sms, u.code_email);

    /* Not verified yet: login is refused after the password check. */
    uf_login(&srv, u.email, UF_PASSWORD, &r);
    h_assert_problem(&r, 403, "verification_required");

    uf_verify(&srv, &u, "sms", u.code_sms, "verify", &r);
    h_assert_status(&r, 200);
    json_t *user = json_object_get(r.json, "user");
    uf_assert_user_object(user);
    assert_true(json_is_true(json_object_get(user, "phone_verified")));
    assert_false(json_is_true(json_object_get(user, "email_verified")));
    uf_verify(&srv, &u, "email", u.code_email, "verify", &r);
    h_assert_status(&r, 200);
    assert_true(json_is_true(json_object_get(json_object_get(r.json, "user"), "email_verified")));

    /* Login by phone in a local form. */
    char local[128];
    snprintf(local, sizeof local, "0%s", u.phone + 3);
    uf_login(&srv, local, UF_PASSWORD, &r);
    h_assert_status(&r, 200);
    assert_string_equal(uf_str(r.json, "token_type"), "Bearer");
    assert_int_equal(json_integer_value(json_object_get(r.json, "expires_in")), 900);
    uf_assert_user_object(json_object_get(r.json, "user"));
    char *access = strdup(uf_str(r.json, "access_token"));
    char *refresh = strdup(uf_str(r.json, "refresh_token"));
    assert_int_equal(strlen(refresh), 43);

    uf_call(&srv, "GET", "/v1/me", access, NULL, &r);
    h_assert_status(&r, 200);
    uf_assert_user_object(r.json);
    assert_string_equal(uf_str(r.json, "id"), u.id);
    assert_true(uf_has_role(r.json, "buyer") && !uf_has_role(r.json, "seller"));

    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", refresh);
    h_assert_status(&r, 200);
    char *refresh2 = strdup(uf_str(r.json, "refresh_token"));
    char *access2 = strdup(uf_str(r.json, "access_token"));
    assert_string_not_equal(refresh, refresh2);

    uf_post(&srv, "/v1/me/seller", access2, &r,
            "{\"display_name\":\"Test Crafts\",\"payout\":{\"method\":\"upi\",\"upi_vpa\":"
            "\"Test.User@OKICICI\"}}");
    h_assert_status(&r, 201);
    json_t *seller = json_object_get(r.json, "seller");
    assert_string_equal(uf_str(seller, "id"), u.id); /* a seller's id is its user's id */
    assert_string_equal(uf_str(seller, "display_name"), "Test Crafts");
    assert_string_equal(uf_str(json_object_get(seller, "payout"), "method"), "upi");
    assert_string_equal(uf_str(json_object_get(seller, "payout"), "upi_vpa"), "test.user@okicici");
    assert_non_null(uf_str(seller, "joined_at"));
    assert_true(uf_has_role(json_object_get(r.json, "user"), "seller"));

    /* The old token still says buyer; a refresh brings the seller role. */
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", refresh2);
    h_assert_status(&r, 200);
    assert_true(uf_has_role(json_object_get(r.json, "user"), "seller"));
    char *access3 = strdup(uf_str(r.json, "access_token"));
    char *refresh3 = strdup(uf_str(r.json, "refresh_token"));

    char path[128];
    snprintf(path, sizeof path, "/v1/sellers/%s", u.id);
    h_resp_cleanup(&r);
    h_get(&srv, path, &r);
    h_assert_status(&r, 200);
    assert_string_equal(uf_str(r.json, "id"), u.id);
    assert_string_equal(uf_str(r.json, "display_name"), "Test Crafts");
    assert_true(json_is_null(json_object_get(r.json, "rating_avg")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "rating_count")), 0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "active_listings")), 0);
    assert_non_null(uf_str(r.json, "joined_at"));
    assert_null(json_object_get(r.json, "payout"));

    /* Logout kills this session's family. */
    uf_post(&srv, "/v1/auth/logout", access3, &r, "{\"refresh_token\":\"%s\"}", refresh3);
    h_assert_status(&r, 204);
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}", refresh3);
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
    uf_post(&srv, "/v1/auth/signup", NULL, &r, "{}");
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(uf_error_for(&r, "name") && uf_error_for(&r, "email") &&
                uf_error_for(&r, "phone") && uf_error_for(&r, "password"));
    uf_post(&srv, "/v1/auth/signup", NULL, &r,
            "{\"name\":\"A\",\"email\":\"not-an-email\",\"phone\":\"12345\",\"password\":"
            "\"short\"}");
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(uf_error_for(&r, "name") && uf_error_for(&r, "email") &&
                uf_error_for(&r, "phone") && uf_error_for(&r, "password"));
    uf_post(&srv, "/v1/auth/signup", NULL, &r,
            "{\"name\":\"Okay Name\",\"email\":\"x@example.com\",\"phone\":9876543210,"
            "\"password\":\"" UF_PASSWORD "\"}");
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(uf_error_for(&r, "phone"));
    assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 1);
    h_resp_cleanup(&r);
}

static void test_signup_duplicates(void **state)
{
    struct uf_ident a, b;
    struct h_resp r = {0}, r2 = {0};
    uf_new_ident(&a);
    uf_signup(&srv, &a);
    /* Only verified addresses are taken (an unverified claim never blocks a signup). */
    uf_verify_phone(&srv, &a);
    uf_verify(&srv, &a, "email", a.code_email, "verify", &r);
    h_assert_status(&r, 200);
    uf_new_ident(&b);
    /* Same email in other case, new phone. */
    char upper[96];
    snprintf(upper, sizeof upper, "%s", a.email);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    uf_post(&srv, "/v1/auth/signup", NULL, &r,
            "{\"name\":\"Dup\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"" UF_PASSWORD "\"}",
            upper, b.phone);
    h_assert_problem(&r, 409, "already_exists");
    /* Same phone in a local form, new email. */
    char local[128];
    snprintf(local, sizeof local, "0%s", a.phone + 3);
    uf_post(&srv, "/v1/auth/signup", NULL, &r2,
            "{\"name\":\"Dup\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"" UF_PASSWORD "\"}",
            b.email, local);
    h_assert_problem(&r2, 409, "already_exists");
    /* The two answers do not say which field clashed. */
    assert_string_equal(uf_str(r.json, "detail"), uf_str(r2.json, "detail"));
    assert_null(json_object_get(r.json, "errors"));
    h_resp_cleanup(&r);
    h_resp_cleanup(&r2);
}

static void test_signup_mass_assignment(void **state)
{
    struct uf_ident u;
    struct h_resp r = {0};
    uf_new_ident(&u);
    uf_post(&srv, "/v1/auth/signup", NULL, &r,
            "{\"name\":\"Sneaky\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"" UF_PASSWORD
            "\",\"roles\":[\"admin\",\"seller\"],\"phone_verified\":true,\"email_verified\":true,"
            "\"id\":\"00000000-0000-7000-8000-000000000001\",\"status\":\"active\","
            "\"is_admin\":true,\"seller_id\":\"x\"}",
            u.email, u.phone);
    h_assert_status(&r, 201);
    json_t *user = json_object_get(r.json, "user");
    assert_string_not_equal(uf_str(user, "id"), "00000000-0000-7000-8000-000000000001");
    assert_false(json_is_true(json_object_get(user, "phone_verified")));
    assert_false(json_is_true(json_object_get(user, "email_verified")));
    assert_int_equal(json_array_size(json_object_get(user, "roles")), 1);
    assert_true(uf_has_role(user, "buyer"));
    char *admin = uf_scalar(&srv, "SELECT is_admin FROM users WHERE id = '%s'", uf_str(user, "id"));
    assert_string_equal(admin, "f");
    free(admin);
    h_resp_cleanup(&r);
}

/* --- OTP ---------------------------------------------------------------------------------- */

static void test_otp_wrong_reused_expired(void **state)
{
    struct uf_ident u;
    struct h_resp r = {0};
    uf_new_ident(&u);
    uf_signup(&srv, &u);
    char wrong[8];
    snprintf(wrong, sizeof wrong, "%06d", (atoi(u.code_sms) + 1) % 1000000);
    uf_verify(&srv, &u, "sms", wrong, "verify", &r);
    h_assert_problem(&r, 401, "invalid_code");
    uf_verify(&srv, &u, "sms", u.code_sms, "verify", &r); /* one wrong try does not kill it */
    h_assert_status(&r, 200);
    uf_verify(&srv, &u, "sms", u.code_sms, "verify", &r); /* single use */
    h_assert_problem(&r, 401, "invalid_code");
    /* The email code, expired through the database. */
    uf_sql(&srv,
           "UPDATE otps SET created_at = now() - interval '11 minutes', "
           "expires_at = now() - interval '1 minute' WHERE user_id = '%s' AND channel = 'email'",
           u.id);
    uf_verify(&srv, &u, "email", u.code_email, "verify", &r);
    h_assert_problem(&r, 401, "invalid_code");
    char *ev = uf_scalar(&srv, "SELECT email_verified_at IS NULL FROM users WHERE id = '%s'", u.id);
    assert_string_equal(ev, "t");
    free(ev);
    /* Malformed codes are validation errors, not tries. */
    uf_verify(&srv, &u, "sms", "12345", "verify", &r);
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(uf_error_for(&r, "code"));
    uf_verify(&srv, &u, "sms", "abcdef", "verify", &r);
    h_assert_problem(&r, 422, "validation_failed");
    uf_verify(&srv, &u, "sms", u.code_sms, "reset_password", &r); /* resets have their own route */
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(uf_error_for(&r, "purpose"));
    h_resp_cleanup(&r);
}

static void test_otp_five_wrong_tries_kill_the_code(void **state)
{
    struct uf_ident a, b;
    struct h_resp r = {0};
    char wrong[8];
    uf_new_ident(&a);
    uf_signup(&srv, &a);
    for (int i = 1; i <= 4; i++) {
        snprintf(wrong, sizeof wrong, "%06d", (atoi(a.code_sms) + i) % 1000000);
        uf_verify(&srv, &a, "sms", wrong, "verify", &r);
        h_assert_problem(&r, 401, "invalid_code");
    }
    uf_verify(&srv, &a, "sms", a.code_sms, "verify", &r); /* 4 wrong: still alive */
    h_assert_status(&r, 200);

    uf_new_ident(&b);
    uf_signup(&srv, &b);
    for (int i = 1; i <= 5; i++) {
        snprintf(wrong, sizeof wrong, "%06d", (atoi(b.code_sms) + i) % 1000000);
        uf_verify(&srv, &b, "sms", wrong, "verify", &r);
        h_assert_problem(&r, 401, "invalid_code");
    }
    uf_verify(&srv, &b, "sms", b.code_sms, "verify", &r); /* 5 wrong: dead */
    h_assert_problem(&r, 401, "invalid_code");
    char *pv = uf_scalar(&srv, "SELECT phone_verified_at IS NULL FROM users WHERE id = '%s'", b.id);
    assert_string_equal(pv, "t");
    free(pv);
    h_resp_cleanup(&r);
}

static long request_otp(const char *channel, const char *dest, const char *purpose,
                        struct h_resp *r)
{
    return uf_post(&srv, "/v1/auth/otp", NULL, r,
                   "{\"channel\":\"%s\",\"destination\":\"%s\",\"purpose\":\"%s\"}", channel, dest,
                   purpose);
}

static void test_otp_throttle(void **state)
{
    struct uf_ident u, ghost;
    struct h_resp r = {0}, g = {0};
    uf_new_ident(&u);
    uf_signup(&srv, &u); /* the signup's two sends count */
    request_otp("sms", u.phone, "login", &r);
    h_assert_problem(&r, 429, "rate_limited");
    int wait = uf_retry_after(&r);
    assert_true(wait >= 1 && wait <= 30);
    request_otp("email", u.email, "verify", &r);
    h_assert_problem(&r, 429, "rate_limited");

    /* An unknown destination: the same answers, the same throttle. */
    uf_new_ident(&ghost);
    request_otp("sms", ghost.phone, "login", &g);
    h_assert_status(&g, 202);
    assert_int_equal(json_integer_value(json_object_get(g.json, "expires_in")), 600);
    assert_int_equal(json_object_size(g.json), 1);
    request_otp("sms", ghost.phone, "login", &g);
    h_assert_problem(&g, 429, "rate_limited");
    assert_true(uf_retry_after(&g) >= 29 && uf_retry_after(&g) <= 30);

    /* Ten sends an hour, then a wait of most of the hour. */
    uf_age_sends(&srv);
    for (int i = 2; i <= 10; i++) {
        request_otp("sms", ghost.phone, "reset_password", &g);
        h_assert_status(&g, 202);
        uf_age_sends(&srv);
    }
    request_otp("sms", ghost.phone, "reset_password", &g);
    h_assert_problem(&g, 429, "rate_limited");
    assert_true(uf_retry_after(&g) > 30 && uf_retry_after(&g) <= 3600);
    assert_int_equal(uf_codes_sent(&srv, "sms.jsonl", ghost.phone),
                     0); /* nothing went to a stranger */
    h_resp_cleanup(&r);
    h_resp_cleanup(&g);
}

static void test_otp_request_same_answer_known_unknown(void **state)
{
    struct uf_ident u, ghost;
    struct h_resp known = {0}, unknown = {0};
    uf_new_ident(&u);
    uf_signup(&srv, &u);
    uf_verify_phone(&srv, &u);
    uf_new_ident(&ghost);
    uf_age_sends(&srv);
    request_otp("sms", u.phone, "login", &known);
    request_otp("sms", ghost.phone, "login", &unknown);
    h_assert_status(&known, 202);
    h_assert_status(&unknown, 202);
    assert_string_equal(known.body, unknown.body);
    /* The known one got a code, and it logs in. */
    char code[8];
    uf_wait_code(&srv, "sms.jsonl", u.phone, 2, code);
    uf_verify(&srv, &u, "sms", code, "login", &known);
    h_assert_status(&known, 200);
    assert_non_null(uf_str(known.json, "access_token"));
    assert_non_null(uf_str(known.json, "refresh_token"));
    assert_string_equal(uf_str(json_object_get(known.json, "user"), "id"), u.id);
    uf_verify(&srv, &u, "sms", code, "login", &known); /* single use */
    h_assert_problem(&known, 401, "invalid_code");
    /* A verify code is not sent for a channel already verified. */
    uf_age_sends(&srv);
    request_otp("sms", u.phone, "verify", &known);
    h_assert_status(&known, 202);
    h_sleep_ms(1500);
    assert_int_equal(uf_codes_sent(&srv, "sms.jsonl", u.phone), 2);
    /* Bad input. */
    request_otp("sms", "not a phone", "login", &known);
    h_assert_problem(&known, 422, "validation_failed");
    assert_true(uf_error_for(&known, "destination"));
    request_otp("fax", u.phone, "login", &known);
    h_assert_problem(&known, 422, "validation_failed");
    assert_true(uf_error_for(&known, "channel"));
    request_otp("sms", u.phone, "admin", &known);
    h_assert_problem(&known, 422, "validation_failed");
    assert_true(uf_error_for(&known, "purpose"));
    h_resp_cleanup(&known);
    h_resp_cleanup(&unknown);
}

/* An unverified channel never opens the account: an email typed wrong at signup (or someone
 * else's address registered with the attacker's phone) gets no login or reset code, with the
 * same 202 answer, and a code issued before for verification is no key either. */
static void test_unverified_channel_cannot_log_in_or_reset(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair); /* phone verified, email not */
    int before = uf_codes_sent(&srv, "email.jsonl", u.email);
    uf_age_sends(&srv);
    request_otp("email", u.email, "reset_password", &r);
    h_assert_status(&r, 202);
    uf_age_sends(&srv);
    request_otp("email", u.email, "login", &r);
    h_assert_status(&r, 202);
    /* The verified phone does get a code (so the worker is running), the email none. */
    uf_age_sends(&srv);
    request_otp("sms", u.phone, "reset_password", &r);
    h_assert_status(&r, 202);
    char sms_code[8];
    uf_wait_code(&srv, "sms.jsonl", u.phone, 2, sms_code);
    usleep(300 * 1000);
    assert_int_equal(uf_codes_sent(&srv, "email.jsonl", u.email), before);
    /* The email's signup (verify) code cannot be used to log in or reset. */
    uf_verify(&srv, &u, "email", u.code_email, "login", &r);
    h_assert_problem(&r, 401, "invalid_code");
    uf_post(&srv, "/v1/auth/password/reset", NULL, &r,
            "{\"channel\":\"email\",\"destination\":\"%s\",\"code\":\"%s\",\"new_password\":"
            "\"taken over 123\"}",
            u.email, u.code_email);
    h_assert_problem(&r, 401, "invalid_code");
    uf_login(&srv, u.email, "taken over 123", &r);
    h_assert_problem(&r, 401, "invalid_credentials");
    json_decref(pair);
    h_resp_cleanup(&r);
}

static void test_password_reset(void **state)
{
    struct uf_ident u;
    json_t *pair;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    /* Reset codes go only to verified channels: verify the email first. */
    uf_verify(&srv, &u, "email", u.code_email, "verify", &r);
    h_assert_status(&r, 200);
    uf_age_sends(&srv);
    request_otp("email", u.email, "reset_password", &r);
    h_assert_status(&r, 202);
    char code[8], wrong[8];
    uf_wait_code(&srv, "email.jsonl", u.email, 2, code);
    snprintf(wrong, sizeof wrong, "%06d", (atoi(code) + 7) % 1000000);
    uf_post(&srv, "/v1/auth/password/reset", NULL, &r,
            "{\"channel\":\"email\",\"destination\":\"%s\",\"code\":\"%s\",\"new_password\":"
            "\"a brand new secret\"}",
            u.email, wrong);
    h_assert_problem(&r, 401, "invalid_code");
    uf_post(&srv, "/v1/auth/password/reset", NULL, &r,
            "{\"channel\":\"email\",\"destination\":\"%s\",\"code\":\"%s\",\"new_password\":"
            "\"short\"}",
            u.email, code);
    h_assert_problem(&r, 422, "validation_failed");
    assert_true(uf_error_for(&r, "new_password"));
    uf_post(&srv, "/v1/auth/password/reset", NULL, &r,
            "{\"channel\":\"email\",\"destination\":\"%s\",\"code\":\"%s\",\"new_password\":"
            "\"a brand new secret\"}",
            u.email, code);
    h_assert_status(&r, 204);
    /* Every refresh token of the user is dead; the old password too. */
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}",
            uf_str(pair, "refresh_token"));
    h_assert_problem(&r, 401, "unauthorized");
    uf_login(&srv, u.email, UF_PASSWORD, &r);
    h_assert_problem(&r, 401, "invalid_credentials");
    uf_login(&srv, u.email, "a brand new secret", &r);
    h_assert_status(&r, 200);
    /* The code was single use. */
    uf_post(&srv, "/v1/auth/password/reset", NULL, &r,
            "{\"channel\":\"email\",\"destination\":\"%s\",\"code\":\"%s\",\"new_password\":"
            "\"yet another secret\"}",
            u.email, code);
    h_assert_problem(&r, 401, "invalid_code");
    json_decref(pair);
    h_resp_cleanup(&r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
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
        cmocka_unit_test(test_unverified_channel_cannot_log_in_or_reset),
    };
    return HAAT_RUN_GROUP("user_signup_otp", tests, start, stop);
}
