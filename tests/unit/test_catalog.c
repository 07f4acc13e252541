/* Unit tests of internal/catalog without a database: what its cursors are bound to (a sort
 * order, a seller; the cursor mechanics are pkg/page's, tested in test_page.c), query-parameter
 * and UTF-8 helpers, and the product body rules. */
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

#define SECRET   "0123456789abcdef0123456789abcdef-unit"
#define UUID_A   "0190f7c2-8a1e-7abc-8def-0123456789ab"
#define SELLER_A "0190f7c2-8a1e-7abc-8def-00000000000a"
#define SELLER_B "0190f7c2-8a1e-7abc-8def-00000000000b"

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    log_init("error", "json");
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

/* A search cursor belongs to one sort order: every other sort refuses it. */
static void test_cursor_wrong_sort(void **state)
{
    static const enum catalog_sort sorts[] = {CATALOG_SORT_RELEVANCE, CATALOG_SORT_NEWEST,
                                              CATALOG_SORT_PRICE_ASC, CATALOG_SORT_PRICE_DESC};
    struct page_key back;
    char text[PAGE_CURSOR_SIZE];
    for (size_t i = 0; i < 4; i++) {
        encode(catalog_sort_listing(sorts[i]), NULL, 500, UUID_A, text);
        for (size_t j = 0; j < 4; j++)
            assert_true(page_cursor_decode(text, catalog_sort_listing(sorts[j]), NULL, &back) ==
                        (i == j));
        assert_false(page_cursor_decode(text, CATALOG_LISTING_SELLER_PRODUCTS, NULL, &back));
        assert_false(page_cursor_decode(text, CATALOG_LISTING_MOVEMENTS, NULL, &back));
    }
}

/* A seller's listings are issued to that seller: another seller's cursor does not verify. */
static void test_cursor_other_seller(void **state)
{
    static const char *const listings[] = {CATALOG_LISTING_SELLER_PRODUCTS,
                                           CATALOG_LISTING_MOVEMENTS};
    static const char *const ids[] = {UUID_A, ""};
    struct page_key back;
    char text[PAGE_CURSOR_SIZE];
    for (size_t i = 0; i < 2; i++) {
        encode(listings[i], SELLER_A, 77, ids[i], text);
        assert_true(page_cursor_decode(text, listings[i], SELLER_A, &back));
        assert_false(page_cursor_decode(text, listings[i], SELLER_B, &back));
        assert_false(page_cursor_decode(text, listings[i], NULL, &back));
        assert_false(page_cursor_decode(text, listings[1 - i], SELLER_A, &back));
    }
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
        /* cursors: what they are bound to */
        cmocka_unit_test(test_cursor_wrong_sort),
        cmocka_unit_test(test_cursor_other_seller),
        /* parameters and bodies */
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_create_rules),
        cmocka_unit_test(test_patch_rules),
    };
    return HAAT_RUN_GROUP("catalog", tests, setup, NULL);
}
