/* Unit tests of the auth hook and token shapes (internal/user/tokens.c, no database):
 * user_authenticate accepts exactly the access tokens user_access_token makes, maps roles and
 * the pv claim, and refuses anything else (bad claims, long lifetimes, future iat). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal/user/internal.h"
#include "tests/test_main.h"

#define SECRET "tokens-unit-test-secret-0123456789abcdef012"
#define UID    "01a1fe38-054d-7a0e-8da7-5b7e68faf872"

static int setup(void **state)
{
    return sec_init(SECRET);
}

static int teardown(void **state)
{
    sec_cleanup();
    return 0;
}

static struct user_rec sample(bool seller, bool admin, bool pv)
{
    struct user_rec u;
    memset(&u, 0, sizeof u);
    strcpy(u.id, UID);
    u.name = "Asha";
    u.email = "asha@example.com";
    u.phone = "+919876543210";
    u.is_seller = seller;
    u.is_admin = admin;
    u.phone_verified = pv;
    strcpy(u.created_at, "2026-11-21T10:00:00Z");
    return u;
}

static void test_roundtrip_roles_and_pv(void **state)
{
    struct {
        bool seller, admin, pv;
        unsigned roles;
    } cases[] = {
        {false, false, false, HTTP_ROLE_BUYER},
        {true, false, true, HTTP_ROLE_BUYER | HTTP_ROLE_SELLER},
        {false, true, true, HTTP_ROLE_BUYER | HTTP_ROLE_ADMIN},
        {true, true, true, HTTP_ROLE_BUYER | HTTP_ROLE_SELLER | HTTP_ROLE_ADMIN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct user_rec u = sample(cases[i].seller, cases[i].admin, cases[i].pv);
        char *t = user_access_token(&u);
        struct http_principal who;
        memset(&who, 0xAA, sizeof who);
        assert_int_equal(user_authenticate(t, &who), 0);
        assert_string_equal(who.user_id, UID);
        assert_int_equal(who.roles, cases[i].roles);
        assert_int_equal(who.phone_verified, cases[i].pv);
        assert_int_equal(user_rec_roles(&u), cases[i].roles);
        free(t);
    }
}

static void test_claims_shape(void **state)
{
    struct user_rec u = sample(true, false, true);
    char *t = user_access_token(&u);
    json_t *c = NULL;
    int64_t now = clock_unix_s();
    assert_int_equal(sec_jwt_verify(t, now, &c), 0);
    assert_string_equal(json_string_value(json_object_get(c, "sub")), UID);
    assert_true(json_is_true(json_object_get(c, "pv")));
    json_int_t iat = json_integer_value(json_object_get(c, "iat"));
    json_int_t exp = json_integer_value(json_object_get(c, "exp"));
    assert_true(iat >= now - 2 && iat <= now);
    assert_int_equal(exp - iat, 900);
    json_t *roles = json_object_get(c, "roles");
    assert_int_equal(json_array_size(roles), 2);
    assert_string_equal(json_string_value(json_array_get(roles, 0)), "buyer");
    assert_string_equal(json_string_value(json_array_get(roles, 1)), "seller");
    /* Nothing else travels in the token: no name, email, phone or hash. */
    assert_int_equal(json_object_size(c), 5);
    json_decref(c);
    free(t);
}

/* A token signed with our key whose claims are given. */
static int auth_with(json_t *claims)
{
    char *t = sec_jwt_sign(claims);
    struct http_principal who;
    int rc = user_authenticate(t, &who);
    free(t);
    json_decref(claims);
    return rc;
}

static void test_refuses_bad_claims(void **state)
{
    json_int_t now = clock_unix_s();
    assert_int_equal(auth_with(json_pack("{s:s,s:[s],s:b,s:I,s:I}", "sub", UID, "roles", "buyer",
                                         "pv", 1, "iat", now, "exp", now + 900)),
                     0);
    /* sub not a uuid, missing, not a string */
    assert_int_equal(auth_with(json_pack("{s:s,s:[s],s:b,s:I,s:I}", "sub", "admin", "roles",
                                         "buyer", "pv", 1, "iat", now, "exp", now + 900)),
                     -1);
    assert_int_equal(auth_with(json_pack("{s:[s],s:b,s:I,s:I}", "roles", "buyer", "pv", 1, "iat",
                                         now, "exp", now + 900)),
                     -1);
    assert_int_equal(auth_with(json_pack("{s:i,s:[s],s:b,s:I,s:I}", "sub", 7, "roles", "buyer",
                                         "pv", 1, "iat", now, "exp", now + 900)),
                     -1);
    /* roles not an array / holding a non-string; pv missing or not a boolean */
    assert_int_equal(auth_with(json_pack("{s:s,s:s,s:b,s:I,s:I}", "sub", UID, "roles", "admin",
                                         "pv", 1, "iat", now, "exp", now + 900)),
                     -1);
    assert_int_equal(auth_with(json_pack("{s:s,s:[i],s:b,s:I,s:I}", "sub", UID, "roles", 1, "pv", 1,
                                         "iat", now, "exp", now + 900)),
                     -1);
    assert_int_equal(auth_with(json_pack("{s:s,s:[s],s:I,s:I}", "sub", UID, "roles", "buyer", "iat",
                                         now, "exp", now + 900)),
                     -1);
    assert_int_equal(auth_with(json_pack("{s:s,s:[s],s:s,s:I,s:I}", "sub", UID, "roles", "buyer",
                                         "pv", "true", "iat", now, "exp", now + 900)),
                     -1);
    /* iat missing or in the future; a lifetime longer than we ever issue; expired */
    assert_int_equal(auth_with(json_pack("{s:s,s:[s],s:b,s:I}", "sub", UID, "roles", "buyer", "pv",
                                         1, "exp", now + 900)),
                     -1);
    assert_int_equal(auth_with(json_pack("{s:s,s:[s],s:b,s:I,s:I}", "sub", UID, "roles", "buyer",
                                         "pv", 1, "iat", now + 600, "exp", now + 900)),
                     -1);
    assert_int_equal(auth_with(json_pack("{s:s,s:[s],s:b,s:I,s:I}", "sub", UID, "roles", "buyer",
                                         "pv", 1, "iat", now, "exp", now + 86400)),
                     -1);
    assert_int_equal(auth_with(json_pack("{s:s,s:[s],s:b,s:I,s:I}", "sub", UID, "roles", "buyer",
                                         "pv", 1, "iat", now - 1000, "exp", now - 100)),
                     -1);
}

static void test_unknown_roles_grant_nothing(void **state)
{
    json_int_t now = clock_unix_s();
    json_t *c = json_pack("{s:s,s:[s,s],s:b,s:I,s:I}", "sub", UID, "roles", "superuser", "root",
                          "pv", 0, "iat", now, "exp", now + 900);
    char *t = sec_jwt_sign(c);
    struct http_principal who;
    assert_int_equal(user_authenticate(t, &who), 0);
    assert_int_equal(who.roles, HTTP_ROLE_BUYER);
    assert_false(who.phone_verified);
    free(t);
    json_decref(c);
}

static void test_refuses_garbage_and_foreign_keys(void **state)
{
    struct http_principal who;
    struct user_rec u = sample(false, false, true);
    assert_int_equal(user_authenticate("", &who), -1);
    assert_int_equal(user_authenticate("Bearer", &who), -1);
    assert_int_equal(user_authenticate("a.b.c", &who), -1);
    char *t = user_access_token(&u);
    assert_int_equal(sec_init("someone-elses-secret-0123456789abcdefghij"), 0);
    assert_int_equal(user_authenticate(t, &who), -1);
    assert_int_equal(sec_init(SECRET), 0);
    assert_int_equal(user_authenticate(t, &who), 0);
    free(t);
}

static void test_user_json_has_no_secrets(void **state)
{
    struct user_rec u = sample(true, true, true);
    u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
    json_t *j = user_rec_json(&u);
    static const char *const keys[] = {
        "id", "name", "email", "phone", "email_verified", "phone_verified", "roles", "created_at"};
    assert_int_equal(json_object_size(j), 8);
    for (size_t i = 0; i < 8; i++)
        assert_non_null(json_object_get(j, keys[i]));
    char *s = json_dumps(j, 0);
    assert_null(strstr(s, "argon2"));
    free(s);
    json_decref(j);
    json_t *pair = user_token_pair_json(&u, "refresh-token-value");
    assert_string_equal(json_string_value(json_object_get(pair, "token_type")), "Bearer");
    assert_int_equal(json_integer_value(json_object_get(pair, "expires_in")), 900);
    assert_string_equal(json_string_value(json_object_get(pair, "refresh_token")),
                        "refresh-token-value");
    assert_non_null(json_object_get(pair, "access_token"));
    assert_true(json_is_object(json_object_get(pair, "user")));
    json_decref(pair);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_roles_and_pv),
        cmocka_unit_test(test_claims_shape),
        cmocka_unit_test(test_refuses_bad_claims),
        cmocka_unit_test(test_unknown_roles_grant_nothing),
        cmocka_unit_test(test_refuses_garbage_and_foreign_keys),
        cmocka_unit_test(test_user_json_has_no_secrets),
    };
    return HAAT_RUN_GROUP("user_tokens", tests, setup, teardown);
}
