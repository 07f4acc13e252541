/* Unit tests of the auth hook's suspension list (internal/user/suspended_set.c, auth_cache.c;
 * no database): UUID parsing, the sorted set (order, duplicates, hits and misses), and
 * user_authenticate with a list installed — a listed user's valid token is refused, others
 * pass, nothing is refused before a list is loaded (fail open) — and readers racing list
 * swaps (run under ASan: a set freed under a reader would be a use after free). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "internal/user/internal.h"
#include "tests/test_main.h"

#define SECRET "suspended-set-unit-test-secret-0123456789abc"
#define UID_A  "01a1fe38-054d-7a0e-8da7-5b7e68faf872"
#define UID_B  "01a1fe38-054d-7a0e-8da7-5b7e68faf873"
#define UID_C  "ffffffff-ffff-4fff-bfff-ffffffffffff"

static int setup(void **state)
{
    return sec_init(SECRET) != 0 || sodium_init() < 0;
}

static int teardown(void **state)
{
    user_auth_cache_install(NULL);
    sec_cleanup();
    return 0;
}

static struct user_suspension susp(const char *id, int64_t at)
{
    struct user_suspension s;
    memset(&s, 0, sizeof s);
    assert_true(user_uuid_parse(id, s.id));
    s.at = at;
    return s;
}

static bool has(const struct user_suspended_set *s, const char *id, int64_t *at)
{
    unsigned char b[USER_UUID_BYTES];
    assert_true(user_uuid_parse(id, b));
    return user_suspended_set_find(s, b, at);
}

/* A valid access token for id, as login would issue it. */
static char *token_for(const char *id)
{
    struct user_rec u;
    memset(&u, 0, sizeof u);
    snprintf(u.id, sizeof u.id, "%s", id);
    u.phone_verified = true;
    return user_access_token(&u);
}

static int auth(const char *token)
{
    struct http_principal who;
    return user_authenticate(token, &who);
}

static void test_uuid_parse(void **state)
{
    unsigned char a[USER_UUID_BYTES], b[USER_UUID_BYTES];
    assert_true(user_uuid_parse(UID_A, a));
    assert_int_equal(a[0], 0x01);
    assert_int_equal(a[15], 0x72);
    assert_true(user_uuid_parse("01A1FE38-054D-7A0E-8DA7-5B7E68FAF872", b));
    assert_memory_equal(a, b, sizeof a); /* case does not matter */
    assert_true(user_uuid_parse("00000000-0000-0000-0000-000000000000", b));
    static const char *const bad[] = {
        "",
        "01a1fe38-054d-7a0e-8da7-5b7e68faf87",   /* short */
        "01a1fe38-054d-7a0e-8da7-5b7e68faf8722", /* long */
        "01a1fe38x054d-7a0e-8da7-5b7e68faf872",  /* no dash */
        "01a1fe38-054d-7a0e-8da7-5b7e68faf87g",  /* not hex */
        "01a1fe38-054d-7a0e-8da7-5b7e68faf8 2",
        "01a1fe38054d7a0e8da75b7e68faf872",       /* no dashes at all */
        "{01a1fe38-054d-7a0e-8da7-5b7e68faf872}", /* braces */
        "01a1fe38-054d-7a0e-8da7-5b7e68faf872\n", /* trailing byte */
        "-1a1fe38-054d-7a0e-8da7-5b7e68faf872",   /* sign */
        "01a1fe38-054d-7a0e-8da7-5b7e68faf\0"
        "872", /* NUL inside */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (user_uuid_parse(bad[i], b))
            fail_msg("accepted bad uuid #%zu \"%s\"", i, bad[i]);
    assert_false(user_uuid_parse(NULL, b));
}

static void test_set_sorted_dedup_find(void **state)
{
    struct user_suspension v[] = {susp(UID_C, 30), susp(UID_A, 10), susp(UID_C, 50),
                                  susp(UID_A, 5)};
    struct user_suspended_set *s = user_suspended_set_new(v, 4);
    assert_int_equal(user_suspended_set_size(s), 2);
    int64_t at = 0;
    assert_true(has(s, UID_A, &at));
    assert_int_equal(at, 10); /* a repeated id keeps its latest time */
    assert_true(has(s, UID_C, &at));
    assert_int_equal(at, 50);
    assert_true(has(s, "01A1FE38-054D-7A0E-8DA7-5B7E68FAF872", NULL));
    assert_false(has(s, UID_B, NULL)); /* differs from A in the last byte only */
    assert_false(has(s, "00000000-0000-0000-0000-000000000000", NULL));
    user_suspended_set_free(s);

    struct user_suspended_set *e = user_suspended_set_new(NULL, 0);
    assert_int_equal(user_suspended_set_size(e), 0);
    assert_false(has(e, UID_A, NULL));
    user_suspended_set_free(e);
    assert_int_equal(user_suspended_set_size(NULL), 0);
    assert_false(has(NULL, UID_A, NULL));
    user_suspended_set_free(NULL);
}

/* Many random ids: every member found, non-members not (binary search edges included). */
static void test_set_large(void **state)
{
    enum { N = 5000 };
    struct user_suspension *v = calloc(N, sizeof *v);
    for (int i = 0; i < N; i++) {
        randombytes_buf(v[i].id, USER_UUID_BYTES);
        v[i].id[0] = (unsigned char)(v[i].id[0] & 0xfe); /* members: even first byte */
        v[i].at = i;
    }
    struct user_suspended_set *s = user_suspended_set_new(v, N);
    assert_int_equal(user_suspended_set_size(s), N);
    for (int i = 0; i < N; i++) {
        int64_t at = -1;
        assert_true(user_suspended_set_find(s, v[i].id, &at));
        assert_int_equal(at, i);
        unsigned char other[USER_UUID_BYTES];
        memcpy(other, v[i].id, sizeof other);
        other[0] |= 1; /* odd first byte: never a member */
        assert_false(user_suspended_set_find(s, other, NULL));
    }
    unsigned char lo[USER_UUID_BYTES] = {0}, hi[USER_UUID_BYTES];
    memset(hi, 0xff, sizeof hi);
    lo[0] = 1;
    assert_false(user_suspended_set_find(s, lo, NULL));
    assert_false(user_suspended_set_find(s, hi, NULL));
    user_suspended_set_free(s);
    free(v);
}

static void install(const char *const *ids, size_t n)
{
    struct user_suspension v[8];
    for (size_t i = 0; i < n; i++)
        v[i] = susp(ids[i], 1700000000);
    user_auth_cache_install(user_suspended_set_new(v, n));
}

static void test_hook_refuses_listed_users(void **state)
{
    char *ta = token_for(UID_A), *tb = token_for(UID_B);
    /* Never loaded: fail open. */
    user_auth_cache_install(NULL);
    assert_int_equal(auth(ta), 0);
    assert_int_equal(auth(tb), 0);
    /* A suspended: A's valid token refused, B untouched. */
    static const char *const only_a[] = {UID_A};
    install(only_a, 1);
    assert_true(user_auth_cache_refuses(UID_A));
    assert_false(user_auth_cache_refuses(UID_B));
    assert_int_equal(auth(ta), -1);
    assert_int_equal(auth(tb), 0);
    /* A token naming A in upper case (only someone holding the key could make one). */
    json_int_t now = clock_unix_s();
    json_t *cl = json_pack("{s:s,s:[s],s:b,s:I,s:I}", "sub", "01A1FE38-054D-7A0E-8DA7-5B7E68FAF872",
                           "roles", "buyer", "pv", 1, "iat", now, "exp", now + 900);
    char *tu = sec_jwt_sign(cl);
    assert_int_equal(auth(tu), -1);
    /* Lifted (A no longer listed): accepted again; an empty list refuses nobody. */
    static const char *const only_c[] = {UID_C};
    install(only_c, 1);
    assert_int_equal(auth(ta), 0);
    assert_int_equal(auth(tu), 0);
    install(NULL, 0);
    assert_int_equal(auth(ta), 0);
    assert_int_equal(auth(tb), 0);
    /* Forgotten (stop): back to fail open. */
    install(only_a, 1);
    user_auth_cache_install(NULL);
    assert_int_equal(auth(ta), 0);
    /* The list never makes a bad token good. */
    assert_int_equal(auth("a.b.c"), -1);
    json_decref(cl);
    free(tu);
    free(ta);
    free(tb);
}

/* Readers (like HTTP threads) search while a writer keeps swapping lists that always hold A
 * and never B: every answer must be right, and ASan catches a list freed under a reader. */
struct race {
    atomic_bool stop;
    atomic_long wrong, reads;
};

static void *reader(void *arg)
{
    struct race *r = arg;
    long n = 0;
    while (!atomic_load(&r->stop)) {
        if (!user_auth_cache_refuses(UID_A) || user_auth_cache_refuses(UID_B))
            atomic_fetch_add(&r->wrong, 1);
        n++;
    }
    atomic_fetch_add(&r->reads, n);
    return NULL;
}

static void test_swaps_under_readers(void **state)
{
    enum { READERS = 4, SWAPS = 20000 };
    static const char *const ids[] = {UID_A, UID_C};
    install(ids, 1);
    struct race r = {0};
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
    for (int i = 0; i < SWAPS; i++)
        install(ids, 1 + (size_t)(i % 2));
    atomic_store(&r.stop, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&r.wrong), 0);
    assert_true(atomic_load(&r.reads) > 0);
    user_auth_cache_install(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_parse),
        cmocka_unit_test(test_set_sorted_dedup_find),
        cmocka_unit_test(test_set_large),
        cmocka_unit_test(test_hook_refuses_listed_users),
        cmocka_unit_test(test_swaps_under_readers),
    };
    return HAAT_RUN_GROUP("user_suspended_set", tests, setup, teardown);
}
