/* Unit tests of pkg/page: limit clamping, cursor round trips, and every way a cursor can be
 * foreign or forged (another listing, another owner, another secret, any edited byte). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/test_main.h"
#include <sodium.h>

#include "pkg/page/page.h"

#define SECRET "0123456789abcdef0123456789abcdef-unit"
#define UUID_A "0190f7c2-8a1e-7abc-8def-0123456789ab"
#define USER_A "0190f7c2-8a1e-7abc-8def-00000000000a"
#define USER_B "0190f7c2-8a1e-7abc-8def-00000000000b"

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    page_set_secret(SECRET, strlen(SECRET));
    return 0;
}

static void encode(const char *listing, const char *owner, int64_t key, const char *id,
                   char text[PAGE_CURSOR_SIZE])
{
    struct page_key k = {.key = key};
    snprintf(k.id, sizeof k.id, "%s", id);
    page_cursor_encode(listing, owner, &k, text);
}

static void round_trip(const char *listing, const char *owner, int64_t key, const char *id)
{
    char text[PAGE_CURSOR_SIZE];
    struct page_key back;
    encode(listing, owner, key, id, text);
    assert_true(strlen(text) > 20);
    assert_null(strpbrk(text, "+/=")); /* base64url, no padding: safe in a query string */
    assert_true(page_cursor_decode(text, listing, owner, &back));
    assert_true(back.key == key);
    assert_string_equal(back.id, id);
}

static void test_limit(void **state)
{
    int v = 0;
    assert_true(page_parse_limit(NULL, &v));
    assert_int_equal(v, PAGE_LIMIT_DEFAULT);
    assert_true(page_parse_limit("1", &v));
    assert_int_equal(v, 1);
    assert_true(page_parse_limit("100", &v));
    assert_int_equal(v, 100);
    assert_true(page_parse_limit("101", &v));
    assert_int_equal(v, PAGE_LIMIT_MAX);
    assert_true(page_parse_limit("999999999", &v));
    assert_int_equal(v, PAGE_LIMIT_MAX);
    assert_true(page_parse_limit("99999999999999999999999", &v)); /* an integer above 100 */
    assert_int_equal(v, PAGE_LIMIT_MAX);
    assert_true(page_parse_limit("007", &v));
    assert_int_equal(v, 7);
    static const char *const bad[] = {"0", "00", "-1", "", "1.5", "+5", " 5", "5 ", "abc", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(page_parse_limit(bad[i], &v));
}

static void test_round_trip(void **state)
{
    round_trip("catalog.newest", NULL, 1763720000123456, UUID_A);
    round_trip("catalog.newest", "", 0, UUID_A);
    round_trip("notify.feed", USER_A, INT64_MAX, "ffffffff-ffff-ffff-ffff-ffffffffffff");
    round_trip("catalog.movements", USER_A, 1, "");
}

/* A cursor of one listing, or issued to one caller, is refused anywhere else. */
static void test_foreign_cursors(void **state)
{
    char text[PAGE_CURSOR_SIZE];
    struct page_key back;
    encode("notify.feed", USER_A, 42, UUID_A, text);
    assert_true(page_cursor_decode(text, "notify.feed", USER_A, &back));
    assert_false(page_cursor_decode(text, "notify.feed", USER_B, &back));
    assert_false(page_cursor_decode(text, "notify.feed", NULL, &back));
    assert_false(page_cursor_decode(text, "notify.fee", USER_A, &back));
    assert_false(page_cursor_decode(text, "catalog.newest", USER_A, &back));
    encode("catalog.newest", NULL, 42, UUID_A, text);
    assert_true(page_cursor_decode(text, "catalog.newest", "", &back)); /* NULL == "" */
    assert_false(page_cursor_decode(text, "catalog.price_asc", NULL, &back));
}

/* Every single-character change, every truncation and every extension is refused. */
static void test_tampering(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct page_key back;
    char text[PAGE_CURSOR_SIZE], t[PAGE_CURSOR_SIZE + 2];
    encode("catalog.newest", NULL, 1763720000123456, UUID_A, text);
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i++) {
        for (size_t a = 0; a < sizeof alphabet - 1; a += 5) {
            if (alphabet[a] == text[i])
                continue;
            memcpy(t, text, n + 1);
            t[i] = alphabet[a];
            assert_false(page_cursor_decode(t, "catalog.newest", NULL, &back));
        }
    }
    for (size_t len = 0; len < n; len++) {
        memcpy(t, text, len);
        t[len] = '\0';
        assert_false(page_cursor_decode(t, "catalog.newest", NULL, &back));
    }
    snprintf(t, sizeof t, "%sA", text);
    assert_false(page_cursor_decode(t, "catalog.newest", NULL, &back));
    snprintf(t, sizeof t, "%s=", text);
    assert_false(page_cursor_decode(t, "catalog.newest", NULL, &back));
    assert_false(page_cursor_decode("", "catalog.newest", NULL, &back));
    assert_false(page_cursor_decode("not a cursor!", "catalog.newest", NULL, &back));
}

/* A cursor made with another secret (another deployment) does not verify. */
static void test_other_secret(void **state)
{
    char text[PAGE_CURSOR_SIZE];
    struct page_key back;
    page_set_secret("another secret of at least 32 bytes!!", 37);
    encode("catalog.newest", NULL, 100, UUID_A, text);
    page_set_secret(SECRET, strlen(SECRET));
    assert_false(page_cursor_decode(text, "catalog.newest", NULL, &back));
    encode("catalog.newest", NULL, 100, UUID_A, text);
    assert_true(page_cursor_decode(text, "catalog.newest", NULL, &back));
}

/* Well signed but not what the server makes: a negative key or an id that is not a UUID. */
static void test_malformed_payloads(void **state)
{
    char text[PAGE_CURSOR_SIZE];
    struct page_key back;
    encode("catalog.newest", NULL, -1, UUID_A, text);
    assert_false(page_cursor_decode(text, "catalog.newest", NULL, &back));
    encode("catalog.newest", NULL, 5, "not-a-uuid", text);
    assert_false(page_cursor_decode(text, "catalog.newest", NULL, &back));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit),           cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_foreign_cursors), cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_other_secret),    cmocka_unit_test(test_malformed_payloads),
    };
    return HAAT_RUN_GROUP("page", tests, setup, NULL);
}
