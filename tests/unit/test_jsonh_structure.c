/* Unit tests for pkg/json/jsonh, part 2: nested objects, arrays, paths of errors, the
 * presence bitmask and decoding only what passed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/json/jsonh.h"
#include "pkg/util/xalloc.h"
#include "tests/test_main.h"
#include "tests/unit/jsonh_fixtures.h"

/* Calls of the custom checks below (the tests that count them reset it first). */
static int check_calls;

/* ---- nested objects ---------------------------------------------------------------------- */

struct address {
    int64_t pin;
    const char *city;
};

struct payout {
    const char *upi_vpa;
    bool primary;
    struct address addr;
};

struct seller {
    const char *name;
    struct payout payout;
    int64_t tail;
};

static const struct jsonh_field address_fields[] = {
    {.name = "pin",
     .type = JSONH_INT,
     .flags = JSONH_REQUIRED,
     .min = 100000,
     .max = 999999,
     .offset = offsetof(struct address, pin)},
    {.name = "city", .type = JSONH_STRING, .offset = offsetof(struct address, city)},
    {0},
};

static const struct jsonh_field payout_fields[] = {
    {.name = "upi_vpa",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 3,
     .max = 50,
     .offset = offsetof(struct payout, upi_vpa)},
    {.name = "primary", .type = JSONH_BOOL, .offset = offsetof(struct payout, primary)},
    {.name = "addr",
     .type = JSONH_OBJECT,
     .offset = offsetof(struct payout, addr),
     .fields = address_fields},
    {0},
};

static const struct jsonh_field seller_fields[] = {
    {.name = "name",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .offset = offsetof(struct seller, name)},
    {.name = "payout",
     .type = JSONH_OBJECT,
     .flags = JSONH_REQUIRED,
     .offset = offsetof(struct seller, payout),
     .fields = payout_fields},
    {.name = "tail", .type = JSONH_INT, .offset = offsetof(struct seller, tail)},
    {0},
};

static void test_object_nested_decode(void **state)
{
    struct seller s = {.tail = 1};
    struct jsonh_errors e;
    json_t *doc;
    uint64_t mask = parse("{\"name\": \"Asha\", \"payout\": {\"upi_vpa\": \"asha@upi\","
                          " \"primary\": true, \"addr\": {\"pin\": 560001, \"city\": \"BLR\"}},"
                          " \"tail\": 9}",
                          seller_fields, &s, &e, &doc);
    assert_false(jsonh_errors_any(&e));
    assert_int_equal(mask, 7);
    assert_string_equal(s.name, "Asha");
    assert_string_equal(s.payout.upi_vpa, "asha@upi");
    assert_true(s.payout.primary);
    assert_int_equal(s.payout.addr.pin, 560001);
    assert_string_equal(s.payout.addr.city, "BLR");
    assert_int_equal(s.tail, 9);
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_object_paths(void **state)
{
    struct seller s = {0};
    struct jsonh_errors e;
    json_t *doc;
    parse("{\"payout\": {\"primary\": \"yes\", \"addr\": {\"pin\": 12, \"city\": 5}}}",
          seller_fields, &s, &e, &doc);
    assert_errors(&e, 5);
    assert_error(&e, 0, "name", "is required");
    assert_error(&e, 1, "payout.upi_vpa", "is required");
    assert_error(&e, 2, "payout.primary", "must be a boolean");
    assert_error(&e, 3, "payout.addr.pin", "must be between 100000 and 999999");
    assert_error(&e, 4, "payout.addr.city", "must be a string");
    jsonh_errors_cleanup(&e);
    json_decref(doc);

    parse("{\"name\": \"A\", \"payout\": {\"upi_vpa\": \"ab\", \"addr\": {}}}", seller_fields, &s,
          &e, &doc);
    assert_errors(&e, 2);
    assert_error(&e, 0, "payout.upi_vpa", "must be at least 3 characters");
    assert_error(&e, 1, "payout.addr.pin", "is required");
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_object_wrong_type_and_absent(void **state)
{
    static const char *const bodies[] = {
        "{\"name\": \"A\", \"payout\": []}",   "{\"name\": \"A\", \"payout\": \"x\"}",
        "{\"name\": \"A\", \"payout\": 1}",    "{\"name\": \"A\", \"payout\": null}",
        "{\"name\": \"A\", \"payout\": true}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct seller s = {0};
        struct jsonh_errors e;
        json_t *doc;
        parse(bodies[i], seller_fields, &s, &e, &doc);
        assert_errors(&e, 1);
        assert_error(&e, 0, "payout", "must be an object");
        jsonh_errors_cleanup(&e);
        json_decref(doc);
    }
    struct seller s = {0};
    struct jsonh_errors e;
    json_t *doc;
    parse("{\"name\": \"A\"}", seller_fields, &s, &e, &doc);
    assert_errors(&e, 1);
    assert_error(&e, 0, "payout", "is required");
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_prefix(void **state)
{
    struct seller s = {0};
    struct jsonh_errors e;
    json_t *doc = body("{\"payout\": {\"upi_vpa\": 1}}");
    jsonh_errors_init(&e);
    jsonh_parse(doc, seller_fields, &s, &e, "data");
    assert_errors(&e, 2);
    assert_error(&e, 0, "data.name", "is required");
    assert_error(&e, 1, "data.payout.upi_vpa", "must be a string");
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static const char *forbid_k(const json_t *v)
{
    check_calls++;
    return json_object_get(v, "k") ? "must not have k" : NULL;
}

static void test_object_check_after_members(void **state)
{
    static const struct jsonh_field inner[] = {
        {.name = "n", .type = JSONH_INT, .flags = JSONH_REQUIRED},
        {0},
    };
    static const struct jsonh_field f[] = {
        {.name = "o", .type = JSONH_OBJECT, .fields = inner, .check = forbid_k},
        {0},
    };
    check_calls = 0;
    expect_one_error(f, "{\"o\": {\"k\": 1}}", "o.n", "is required");
    assert_int_equal(check_calls, 0);
    expect_one_error(f, "{\"o\": {\"n\": 1, \"k\": 1}}", "o", "must not have k");
    assert_int_equal(check_calls, 1);
}

/* ---- arrays ------------------------------------------------------------------------------ */

struct order_line {
    const json_t *items;
    const json_t *images;
};

static const struct jsonh_field line_fields[] = {
    {.name = "product_id", .type = JSONH_STRING, .flags = JSONH_REQUIRED | JSONH_NOT_BLANK},
    {.name = "quantity", .type = JSONH_INT, .flags = JSONH_REQUIRED, .min = 1, .max = 100},
    {0},
};

static const struct jsonh_field order_fields[] = {
    {.name = "items",
     .type = JSONH_ARRAY,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = 10,
     .offset = offsetof(struct order_line, items),
     .item = &(const struct jsonh_field){.type = JSONH_OBJECT, .fields = line_fields}},
    {.name = "images",
     .type = JSONH_ARRAY,
     .max = 10,
     .offset = offsetof(struct order_line, images),
     .item = &(const struct jsonh_field){.type = JSONH_STRING, .check = jsonh_check_https_url}},
    {0},
};

static void test_array_stored(void **state)
{
    struct order_line ol = {0};
    struct jsonh_errors e;
    json_t *doc;
    uint64_t mask = parse("{\"items\": [{\"product_id\": \"p1\", \"quantity\": 2}],"
                          " \"images\": [\"https://cdn.example/a.jpg\"]}",
                          order_fields, &ol, &e, &doc);
    assert_false(jsonh_errors_any(&e));
    assert_int_equal(mask, 3);
    assert_ptr_equal(ol.items, json_object_get(doc, "items"));
    assert_ptr_equal(ol.images, json_object_get(doc, "images"));
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_array_item_paths(void **state)
{
    struct order_line ol = {0};
    struct jsonh_errors e;
    json_t *doc;
    parse("{\"items\": [{\"product_id\": \"p\", \"quantity\": 1}, {\"quantity\": 0},"
          " {\"product_id\": \" \", \"quantity\": \"2\"}, 7],"
          " \"images\": [\"https://a.example/1\", \"http://b.example\", 3,"
          " \"https://c.example\", \"https://\"]}",
          order_fields, &ol, &e, &doc);
    assert_errors(&e, 8);
    assert_error(&e, 0, "items[1].product_id", "is required");
    assert_error(&e, 1, "items[1].quantity", "must be between 1 and 100");
    assert_error(&e, 2, "items[2].product_id", "must not be blank");
    assert_error(&e, 3, "items[2].quantity", "must be an integer");
    assert_error(&e, 4, "items[3]", "must be an object");
    assert_error(&e, 5, "images[1]", "must be an https URL");
    assert_error(&e, 6, "images[2]", "must be a string");
    assert_error(&e, 7, "images[4]", "must be an https URL");
    assert_null(ol.items); /* failed arrays are not stored */
    assert_null(ol.images);
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_array_counts(void **state)
{
    struct order_line ol = {0};
    struct jsonh_errors e;
    json_t *doc;
    char *eleven = repeat("3,", 10);
    char *text = xasprintf("{\"items\": [], \"images\": [%s3]}", eleven);
    parse(text, order_fields, &ol, &e, &doc);
    assert_errors(&e, 2); /* items are not validated once the count fails */
    assert_error(&e, 0, "items", "must have at least 1 item");
    assert_error(&e, 1, "images", "must have at most 10 items");
    jsonh_errors_cleanup(&e);
    json_decref(doc);
    free(eleven);
    free(text);

    static const struct jsonh_field exactly2[] = {
        {.name = "a", .type = JSONH_ARRAY, .min = 2, .max = 2},
        {0},
    };
    static const struct jsonh_field exactly1[] = {
        {.name = "a", .type = JSONH_ARRAY, .min = 1, .max = 1},
        {0},
    };
    struct one o;
    expect_one_error(exactly2, "{\"a\": [1]}", "a", "must have exactly 2 items");
    expect_one_error(exactly1, "{\"a\": []}", "a", "must have exactly 1 item");
    expect_ok(exactly2, "{\"a\": [1, \"x\"]}", &o);
}

static void test_array_wrong_type(void **state)
{
    static const char *const bodies[] = {
        "{\"items\": {}}",
        "{\"items\": \"[]\"}",
        "{\"items\": null}",
        "{\"items\": 0}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct order_line ol = {0};
        struct jsonh_errors e;
        json_t *doc;
        parse(bodies[i], order_fields, &ol, &e, &doc);
        assert_errors(&e, 1);
        assert_error(&e, 0, "items", "must be an array");
        jsonh_errors_cleanup(&e);
        json_decref(doc);
    }
}

static void test_array_nested_and_nullable_items(void **state)
{
    static const struct jsonh_field digit = {.type = JSONH_INT, .min = 0, .max = 9};
    static const struct jsonh_field row = {.type = JSONH_ARRAY, .max = 3, .item = &digit};
    static const struct jsonh_field matrix[] = {
        {.name = "m", .type = JSONH_ARRAY, .item = &row},
        {0},
    };
    static const struct jsonh_field tag = {.type = JSONH_STRING, .flags = JSONH_NULLABLE};
    static const struct jsonh_field tags[] = {
        {.name = "t", .type = JSONH_ARRAY, .item = &tag},
        {0},
    };
    static const struct jsonh_field untyped[] = {
        {.name = "u", .type = JSONH_ARRAY, .offset = offsetof(struct one, j)},
        {0},
    };
    struct one o;
    struct jsonh_errors e;
    json_t *doc;
    parse("{\"m\": [[1, 2], [3, \"x\", 10], 5, [1, 1, 1, 1]]}", matrix, &o, &e, &doc);
    assert_errors(&e, 4);
    assert_error(&e, 0, "m[1][1]", "must be an integer");
    assert_error(&e, 1, "m[1][2]", "must be between 0 and 9");
    assert_error(&e, 2, "m[2]", "must be an array");
    assert_error(&e, 3, "m[3]", "must have at most 3 items");
    jsonh_errors_cleanup(&e);
    json_decref(doc);

    expect_ok(tags, "{\"t\": [null, \"a\", null]}", &o);
    expect_one_error(tags, "{\"t\": [\"a\", 1]}", "t[1]", "must be a string");
    expect_ok(untyped, "{\"u\": [1, \"a\", null, {}]}", &o);
    assert_non_null(o.j);
}

static const char *at_most_two(const json_t *v)
{
    check_calls++;
    return json_array_size(v) > 2 ? "must have at most 2 entries" : NULL;
}

static void test_array_check_after_items(void **state)
{
    static const struct jsonh_field an_int = {.type = JSONH_INT};
    static const struct jsonh_field f[] = {
        {.name = "a", .type = JSONH_ARRAY, .check = at_most_two, .item = &an_int},
        {0},
    };
    struct one o;
    check_calls = 0;
    expect_one_error(f, "{\"a\": [1, 2, \"3\"]}", "a[2]", "must be an integer");
    assert_int_equal(check_calls, 0);
    expect_one_error(f, "{\"a\": [1, 2, 3]}", "a", "must have at most 2 entries");
    expect_ok(f, "{\"a\": [1, 2]}", &o);
    assert_int_equal(check_calls, 2);
}

/* ---- presence and general behaviour ------------------------------------------------------ */

static void test_presence_bitmask(void **state)
{
    static const struct jsonh_field f[] = {
        {.name = "a", .type = JSONH_STRING},
        {.name = "b", .type = JSONH_STRING},
        {.name = "c", .type = JSONH_INT},
        {.name = "d", .type = JSONH_INT, .flags = JSONH_NULLABLE},
        {.name = "e", .type = JSONH_BOOL},
        {0},
    };
    struct one o;
    struct jsonh_errors e;
    json_t *doc;
    /* present = a (valid), c (invalid), d (null): bits 0, 2, 3 */
    uint64_t mask =
        parse("{\"a\": \"x\", \"c\": \"bad\", \"d\": null, \"zzz\": 1}", f, &o, &e, &doc);
    assert_int_equal(mask, 0xD);
    assert_errors(&e, 1);
    assert_error(&e, 0, "c", "must be an integer");
    jsonh_errors_cleanup(&e);
    json_decref(doc);

    mask = parse("{}", f, &o, &e, &doc);
    assert_int_equal(mask, 0);
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_presence_bit_63(void **state)
{
    static char names[64][16];
    struct jsonh_field f[65];
    memset(f, 0, sizeof f);
    for (int i = 0; i < 64; i++) {
        snprintf(names[i], sizeof names[i], "f%d", i);
        f[i].name = names[i];
        f[i].type = JSONH_ANY;
    }
    struct jsonh_errors e;
    json_t *doc = body("{\"f63\": 1, \"f0\": 2, \"f31\": 3, \"f32\": 4}");
    jsonh_errors_init(&e);
    uint64_t mask = jsonh_parse(doc, f, NULL, &e, NULL);
    assert_true(mask == (UINT64_C(1) << 63 | UINT64_C(1) << 32 | UINT64_C(1) << 31 | 1));
    assert_false(jsonh_errors_any(&e));
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_decode_only_passing_fields(void **state)
{
    static const struct jsonh_field f[] = {
        {.name = "s", .type = JSONH_STRING, .min = 5, .max = 9, .offset = offsetof(struct one, s)},
        {.name = "i", .type = JSONH_INT, .offset = offsetof(struct one, i)},
        {.name = "b", .type = JSONH_BOOL, .offset = offsetof(struct one, b)},
        {0},
    };
    struct one o;
    struct jsonh_errors e;
    json_t *doc;
    one_reset(&o);
    parse("{\"s\": \"abc\", \"i\": 12, \"b\": 1}", f, &o, &e, &doc);
    assert_errors(&e, 2);
    assert_error(&e, 0, "s", "must be at least 5 characters");
    assert_error(&e, 1, "b", "must be a boolean");
    assert_string_equal(o.s, SENTINEL_S);
    assert_int_equal(o.i, 12);
    assert_true(o.b);
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_parse_non_object_and_empty_table(void **state)
{
    static const struct jsonh_field none[] = {{0}};
    struct one o;
    struct jsonh_errors e;
    json_t *arr = json_pack("[i]", 1);
    jsonh_errors_init(&e);
    assert_int_equal(jsonh_parse(arr, str_req, &o, &e, NULL), 0);
    assert_errors(&e, 1);
    assert_error(&e, 0, "s", "is required");
    assert_int_equal(jsonh_parse(arr, none, &o, &e, NULL), 0);
    assert_errors(&e, 1);
    jsonh_errors_cleanup(&e);
    json_decref(arr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_nested_decode),
        cmocka_unit_test(test_object_paths),
        cmocka_unit_test(test_object_wrong_type_and_absent),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_object_check_after_members),
        cmocka_unit_test(test_array_stored),
        cmocka_unit_test(test_array_item_paths),
        cmocka_unit_test(test_array_counts),
        cmocka_unit_test(test_array_wrong_type),
        cmocka_unit_test(test_array_nested_and_nullable_items),
        cmocka_unit_test(test_array_check_after_items),
        cmocka_unit_test(test_presence_bitmask),
        cmocka_unit_test(test_presence_bit_63),
        cmocka_unit_test(test_decode_only_passing_fields),
        cmocka_unit_test(test_parse_non_object_and_empty_table),
    };
    return HAAT_RUN_GROUP("jsonh_structure", tests, NULL, NULL);
}
