/* Unit tests of internal/catalog without a database: keyset cursors (round trip, tampering,
 * kinds, ranges, keys), query-parameter and UTF-8 helpers, and the product body rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "internal/catalog/internal.h"
#include "pkg/log/log.h"
#include "tests/test_main.h"

#define SECRET "0123456789abcdef0123456789abcdef-unit"
#define UUID_A "0190f7c2-8a1e-7abc-8def-0123456789ab"

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    log_init("error", "json"); /* the category check reports the missing database */
    catalog_cursor_set_secret(SECRET, strlen(SECRET));
    return 0;
}

static void round_trip(char kind, int64_t key, const char *id)
{
    struct catalog_cursor c = {.kind = kind, .key = key}, back;
    snprintf(c.id, sizeof c.id, "%s", id);
    char text[CATALOG_CURSOR_SIZE];
    catalog_cursor_encode(&c, text);
    assert_true(strlen(text) > 20);
    assert_null(strpbrk(text, "+/=")); /* base64url, no padding: safe in a query string */
    assert_true(catalog_cursor_decode(text, kind, &back));
    assert_int_equal(back.kind, kind);
    assert_true(back.key == key);
    assert_string_equal(back.id, id);
}

static void test_cursor_round_trip(void **state)
{
    round_trip('n', 1763720000123456, UUID_A);
    round_trip('n', 0, UUID_A);
    round_trip('n', (INT64_C(1) << 53) - 1, "ffffffff-ffff-ffff-ffff-ffffffffffff");
    round_trip('a', 0, "00000000-0000-0000-0000-000000000000");
    round_trip('a', 1000000000, UUID_A);
    round_trip('d', 2000000000, UUID_A);
    round_trip('r', 109999999, UUID_A);
    round_trip('r', INT64_C(1) << 62, UUID_A);
    round_trip('s', 1763720000000001, UUID_A);
    round_trip('m', 1, "");
    round_trip('m', INT64_MAX, "");
}

static void encode(char kind, int64_t key, const char *id, char text[CATALOG_CURSOR_SIZE])
{
    struct catalog_cursor c = {.kind = kind, .key = key};
    snprintf(c.id, sizeof c.id, "%s", id);
    catalog_cursor_encode(&c, text);
}

static void test_cursor_wrong_kind(void **state)
{
    struct catalog_cursor back;
    char text[CATALOG_CURSOR_SIZE];
    encode('a', 500, UUID_A, text);
    assert_false(catalog_cursor_decode(text, 'd', &back));
    assert_false(catalog_cursor_decode(text, 'n', &back));
    assert_false(catalog_cursor_decode(text, 'r', &back));
    assert_false(catalog_cursor_decode(text, 'm', &back));
    assert_true(catalog_cursor_decode(text, 'a', &back));
}

/* Every single-character change, every truncation and every extension is refused. */
static void test_cursor_tampering(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct catalog_cursor back;
    char text[CATALOG_CURSOR_SIZE], t[CATALOG_CURSOR_SIZE + 2];
    encode('n', 1763720000123456, UUID_A, text);
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i++) {
        for (size_t a = 0; a < sizeof alphabet - 1; a += 5) {
            if (alphabet[a] == text[i])
                continue;
            memcpy(t, text, n + 1);
            t[i] = alphabet[a];
            assert_false(catalog_cursor_decode(t, 'n', &back));
        }
    }
    for (size_t len = 0; len < n; len++) {
        memcpy(t, text, len);
        t[len] = '\0';
        assert_false(catalog_cursor_decode(t, 'n', &back));
    }
    snprintf(t, sizeof t, "%sA", text);
    assert_false(catalog_cursor_decode(t, 'n', &back));
    snprintf(t, sizeof t, "%s=", text);
    assert_false(catalog_cursor_decode(t, 'n', &back));
    snprintf(t, sizeof t, "%s ", text);
    assert_false(catalog_cursor_decode(t, 'n', &back));
}

/* A cursor made with another secret (another deployment) does not verify. */
static void test_cursor_other_secret(void **state)
{
    struct catalog_cursor back;
    char text[CATALOG_CURSOR_SIZE];
    catalog_cursor_set_secret("another secret of at least 32 bytes!!", 37);
    encode('a', 100, UUID_A, text);
    catalog_cursor_set_secret(SECRET, strlen(SECRET));
    assert_false(catalog_cursor_decode(text, 'a', &back));
    encode('a', 100, UUID_A, text);
    assert_true(catalog_cursor_decode(text, 'a', &back));
}

/* Well signed but outside what the server ever makes: refused too. */
static void test_cursor_ranges(void **state)
{
    struct catalog_cursor back;
    char text[CATALOG_CURSOR_SIZE];
    encode('n', INT64_C(1) << 53, UUID_A, text);
    assert_false(catalog_cursor_decode(text, 'n', &back));
    encode('a', 2000000001, UUID_A, text);
    assert_false(catalog_cursor_decode(text, 'a', &back));
    encode('a', -1, UUID_A, text);
    assert_false(catalog_cursor_decode(text, 'a', &back));
    encode('r', (INT64_C(1) << 62) + 1, UUID_A, text);
    assert_false(catalog_cursor_decode(text, 'r', &back));
    encode('m', 0, "", text);
    assert_false(catalog_cursor_decode(text, 'm', &back));
    encode('m', 5, UUID_A, text); /* movements carry no id */
    assert_false(catalog_cursor_decode(text, 'm', &back));
    encode('a', 5, "", text);
    assert_false(catalog_cursor_decode(text, 'a', &back));
    encode('a', 5, "0190F7C2-8A1E-7ABC-8DEF-0123456789AB", text); /* not canonical */
    assert_false(catalog_cursor_decode(text, 'a', &back));
    encode('x', 5, UUID_A, text);
    assert_false(catalog_cursor_decode(text, 'x', &back));
}

static void test_cursor_garbage(void **state)
{
    struct catalog_cursor back;
    static const char *const bad[] = {"",     "abc", "!!!!", "bm90LWEtY3Vyc29y", "a|5|" UUID_A,
                                      "====", "%00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(catalog_cursor_decode(bad[i], 'a', &back));
    assert_false(catalog_cursor_decode(NULL, 'a', &back));
    char huge[400];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_false(catalog_cursor_decode(huge, 'a', &back));
}

static void test_parse_int(void **state)
{
    int64_t v = 0;
    assert_true(catalog_parse_int("0", 0, 10, &v));
    assert_true(v == 0);
    assert_true(catalog_parse_int("1000000000", 0, 1000000000, &v));
    assert_true(v == 1000000000);
    assert_true(catalog_parse_int("-5", -10, 10, &v));
    assert_true(v == -5);
    assert_true(catalog_parse_int("9223372036854775807", 0, INT64_MAX, &v));
    assert_true(v == INT64_MAX);
    static const char *const bad[] = {"",
                                      "-",
                                      "+5",
                                      " 5",
                                      "5 ",
                                      "5.0",
                                      "1e3",
                                      "0x1",
                                      "abc",
                                      "--1",
                                      "9223372036854775808",
                                      "99999999999999999999",
                                      "1000000001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(catalog_parse_int(bad[i], 0, 1000000000, &v));
    assert_false(catalog_parse_int("-1", 0, 10, &v));
    assert_false(catalog_parse_int(NULL, 0, 10, &v));
}

static void test_parse_limit(void **state)
{
    int n = 0;
    assert_true(catalog_parse_limit(NULL, &n));
    assert_int_equal(n, 20);
    assert_true(catalog_parse_limit("1", &n));
    assert_int_equal(n, 1);
    assert_true(catalog_parse_limit("100", &n));
    assert_int_equal(n, 100);
    assert_true(catalog_parse_limit("101", &n));
    assert_int_equal(n, 100);
    assert_true(catalog_parse_limit("007", &n));
    assert_int_equal(n, 7);
    assert_true(catalog_parse_limit("99999999999999999999999999", &n));
    assert_int_equal(n, 100);
    static const char *const bad[] = {"0", "-1", "", "abc", "1.5", "1e2", " 5", "5 ", "+5", "00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(catalog_parse_limit(bad[i], &n));
}

static void test_utf8(void **state)
{
    size_t n = 0;
    assert_true(catalog_utf8_chars("Pune", &n));
    assert_int_equal(n, 4);
    assert_true(catalog_utf8_chars("\xe0\xa4\xaa\xe0\xa5\x81\xe0\xa4\xa3\xe0\xa5\x87", &n));
    assert_int_equal(n, 4); /* पुणे */
    assert_true(catalog_utf8_chars("\xf0\x9f\x93\xb1 phone", &n));
    assert_int_equal(n, 7);
    assert_true(catalog_utf8_chars("", &n));
    assert_int_equal(n, 0);
    static const char *const bad[] = {"\xff",         "\xc0\xaf",         "\xe0\x80\xaf",
                                      "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\xa4",
                                      "a\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(catalog_utf8_chars(bad[i], &n));
}

/* Validates text as a create (or patch) body; returns the comma-joined error fields. */
static void fields_of(const char *text, bool patch, char *out, size_t n)
{
    json_t *body = json_loads(text, 0, NULL);
    assert_non_null(body);
    struct catalog_product_input in;
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    if (patch)
        catalog_parse_patch(body, &in, &e);
    else
        catalog_parse_create(body, &in, &e);
    size_t i, used = 0;
    json_t *err;
    out[0] = '\0';
    json_array_foreach(e.list, i, err)
    {
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "," : "",
                                 json_string_value(json_object_get(err, "field")));
    }
    jsonh_errors_cleanup(&e);
    json_decref(body);
}

#define VALID                                                                 \
    "\"title\":\"Boxed kettle\",\"category\":\"home\",\"condition\":\"new\"," \
    "\"price_minor\":1000,\"city\":\"Pune\""

static void test_create_rules(void **state)
{
    char got[256];
    json_t *body =
        json_loads("{" VALID ",\"id\":\"x\",\"seller_id\":\"y\",\"version\":9}", 0, NULL);
    struct catalog_product_input in;
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    catalog_parse_create(body, &in, &e);
    assert_false(jsonh_errors_any(&e)); /* id, seller_id, version: ignored */
    assert_string_equal(in.currency, "INR");
    assert_string_equal(in.status, "active");
    assert_true(in.stock == 1);
    assert_null(in.description);
    assert_null(in.images);
    jsonh_errors_cleanup(&e);
    json_decref(body);

    fields_of("{}", false, got, sizeof got);
    assert_string_equal(got, "title,category,condition,price_minor,city");
    fields_of("{" VALID ",\"status\":\"archived\",\"stock\":-1}", false, got, sizeof got);
    assert_string_equal(got, "status,stock");
    fields_of("{" VALID ",\"images\":[\"https://a.b/c\",\"http://a.b/c\",\"https://\"]}", false,
              got, sizeof got);
    assert_string_equal(got, "images[1],images[2]");
    fields_of("{" VALID ",\"description\":null}", false, got, sizeof got);
    assert_string_equal(got, "");
}

static void test_patch_rules(void **state)
{
    char got[256];
    fields_of("{}", true, got, sizeof got);
    assert_string_equal(got, "");
    fields_of("{\"stock\":3}", true, got, sizeof got);
    assert_string_equal(got, "stock");
    fields_of("{\"title\":null,\"price_minor\":0,\"status\":\"sold_out\"}", true, got, sizeof got);
    assert_string_equal(got, "title,price_minor,status");

    json_t *body = json_loads("{\"description\":null,\"price_minor\":5}", 0, NULL);
    struct catalog_product_input in;
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    catalog_parse_patch(body, &in, &e);
    assert_false(jsonh_errors_any(&e));
    assert_true(in.description_set); /* present as null: clears it */
    assert_null(in.description);
    assert_true(in.has_price);
    assert_true(in.price_minor == 5);
    assert_null(in.title);
    assert_null(in.status);
    jsonh_errors_cleanup(&e);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_round_trip),
        cmocka_unit_test(test_cursor_wrong_kind),
        cmocka_unit_test(test_cursor_tampering),
        cmocka_unit_test(test_cursor_other_secret),
        cmocka_unit_test(test_cursor_ranges),
        cmocka_unit_test(test_cursor_garbage),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_parse_limit),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_create_rules),
        cmocka_unit_test(test_patch_rules),
    };
    return HAAT_RUN_GROUP("catalog", tests, setup, NULL);
}
