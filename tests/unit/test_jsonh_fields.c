/* Unit tests for pkg/json/jsonh, part 1: the rules of single fields (strings, custom checks,
 * integers within int64, booleans, any, null) and the errors list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pkg/json/jsonh.h"
#include "pkg/util/xalloc.h"
#include "tests/test_main.h"
#include "tests/unit/jsonh_fixtures.h"

/* ---- tables of one field --------------------------------------------------------------------- */

static const char *const conditions[] = {"new", "used", "refurbished", NULL};

static const struct jsonh_field str_opt[] = {
    {.name = "s", .type = JSONH_STRING, .offset = offsetof(struct one, s)},
    {0},
};
static const struct jsonh_field str_3_140[] = {
    {.name = "s", .type = JSONH_STRING, .min = 3, .max = 140, .offset = offsetof(struct one, s)},
    {0},
};
static const struct jsonh_field bool_opt[] = {
    {.name = "b", .type = JSONH_BOOL, .offset = offsetof(struct one, b)},
    {0},
};

/* ---- errors list ------------------------------------------------------------------------- */

static void test_errors_lifecycle(void **state)
{
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    assert_non_null(e.list);
    assert_false(jsonh_errors_any(&e));

    char field[16] = "title", message[32] = "is required";
    jsonh_errors_add(&e, field, message);
    strcpy(field, "XXXXX");
    strcpy(message, "YYYYY");
    assert_true(jsonh_errors_any(&e));
    assert_errors(&e, 1);
    assert_error(&e, 0, "title", "is required");

    jsonh_errors_add(&e, "price", "must be an integer");
    assert_errors(&e, 2);
    assert_error(&e, 1, "price", "must be an integer");

    jsonh_errors_cleanup(&e);
    assert_null(e.list);
    assert_false(jsonh_errors_any(&e));
    jsonh_errors_cleanup(&e); /* idempotent */
}

/* ---- strings ----------------------------------------------------------------------------- */

static void test_string_stored_borrowed(void **state)
{
    struct one o;
    struct jsonh_errors e;
    json_t *doc;
    one_reset(&o);
    uint64_t mask = parse("{\"s\": \"hello\"}", str_req, &o, &e, &doc);
    assert_false(jsonh_errors_any(&e));
    assert_int_equal(mask, 1);
    assert_string_equal(o.s, "hello");
    assert_ptr_equal(o.s, json_string_value(json_object_get(doc, "s")));
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_string_wrong_types(void **state)
{
    static const char *const bodies[] = {
        "{\"s\": 1}",  "{\"s\": 1.5}",     "{\"s\": true}", "{\"s\": false}", "{\"s\": null}",
        "{\"s\": []}", "{\"s\": [\"a\"]}", "{\"s\": {}}",   "{\"s\": -0}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        expect_one_error(str_req, bodies[i], "s", "must be a string");
}

static void test_string_required_and_absent(void **state)
{
    expect_one_error(str_req, "{}", "s", "is required");
    expect_one_error(str_req, "{\"S\": \"x\", \"s \": \"y\"}", "s", "is required");

    struct one o;
    struct jsonh_errors e;
    json_t *doc;
    one_reset(&o);
    uint64_t mask = parse("{\"other\": 1}", str_opt, &o, &e, &doc);
    assert_false(jsonh_errors_any(&e));
    assert_int_equal(mask, 0);
    assert_string_equal(o.s, SENTINEL_S);
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_string_length_bounds(void **state)
{
    struct one o;
    char *s139 = repeat("a", 139), *s140 = repeat("a", 140), *s141 = repeat("a", 141);
    char *ok1 = xasprintf("{\"s\": \"%s\"}", s140), *ok2 = xasprintf("{\"s\": \"%s\"}", s139);
    char *bad = xasprintf("{\"s\": \"%s\"}", s141);

    expect_one_error(str_3_140, "{\"s\": \"\"}", "s", "must be at least 3 characters");
    expect_one_error(str_3_140, "{\"s\": \"ab\"}", "s", "must be at least 3 characters");
    expect_ok(str_3_140, "{\"s\": \"abc\"}", &o);
    expect_ok(str_3_140, ok1, &o);
    expect_ok(str_3_140, ok2, &o);
    expect_one_error(str_3_140, bad, "s", "must be at most 140 characters");

    free(s139), free(s140), free(s141), free(ok1), free(ok2), free(bad);
}

static void test_string_length_counts_code_points(void **state)
{
    static const struct jsonh_field exactly3[] = {
        {.name = "s", .type = JSONH_STRING, .min = 3, .max = 3},
        {0},
    };
    static const struct jsonh_field up_to_3[] = {
        {.name = "s", .type = JSONH_STRING, .min = 1, .max = 3},
        {0},
    };
    struct one o;
    expect_ok(exactly3, "{\"s\": \"₹₹₹\"}", &o);                   /* 9 bytes, 3 chars */
    expect_ok(exactly3, "{\"s\": \"\\u20b9\\u20b9\\u20b9\"}", &o); /* escaped form */
    expect_ok(exactly3, "{\"s\": \"😀é₹\"}", &o);                   /* 4 + 2 + 3 bytes */
    expect_ok(exactly3, "{\"s\": \"a\\ud83d\\ude00b\"}", &o);      /* surrogate pair = 1 */
    expect_one_error(exactly3, "{\"s\": \"₹₹\"}", "s", "must be exactly 3 characters");
    expect_one_error(up_to_3, "{\"s\": \"₹₹₹₹\"}", "s", "must be at most 3 characters");
    expect_ok(up_to_3, "{\"s\": \"₹\"}", &o);
}

static void test_string_length_wording(void **state)
{
    static const struct jsonh_field exactly1[] = {
        {.name = "s", .type = JSONH_STRING, .min = 1, .max = 1},
        {0},
    };
    static const struct jsonh_field at_least1[] = {
        {.name = "s", .type = JSONH_STRING, .min = 1, .max = 10},
        {0},
    };
    static const struct jsonh_field at_most1[] = {
        {.name = "s", .type = JSONH_STRING, .min = 0, .max = 1},
        {0},
    };
    expect_one_error(exactly1, "{\"s\": \"ab\"}", "s", "must be exactly 1 character");
    expect_one_error(at_least1, "{\"s\": \"\"}", "s", "must be at least 1 character");
    expect_one_error(at_most1, "{\"s\": \"ab\"}", "s", "must be at most 1 character");
}

static void test_string_unbounded_when_zero(void **state)
{
    struct one o;
    char *big = repeat("x", 10000);
    char *text = xasprintf("{\"s\": \"%s\"}", big);
    expect_ok(str_opt, text, &o);
    expect_ok(str_opt, "{\"s\": \"\"}", &o);
    free(big);
    free(text);
}

static void test_string_not_blank(void **state)
{
    static const struct jsonh_field nb[] = {
        {.name = "s", .type = JSONH_STRING, .flags = JSONH_NOT_BLANK | JSONH_REQUIRED},
        {0},
    };
    struct one o;
    expect_one_error(nb, "{\"s\": \"\"}", "s", "must not be blank");
    expect_one_error(nb, "{\"s\": \" \"}", "s", "must not be blank");
    expect_one_error(nb, "{\"s\": \" \\t\\n\\r \"}", "s", "must not be blank");
    expect_ok(nb, "{\"s\": \" x \"}", &o);
    expect_ok(nb, "{\"s\": \"₹\"}", &o);
    expect_one_error(nb, "{}", "s", "is required");
    expect_ok(str_opt, "{\"s\": \"   \"}", &o); /* without the flag blank is fine */
}

static void test_string_first_failing_rule(void **state)
{
    static const struct jsonh_field f[] = {
        {.name = "s",
         .type = JSONH_STRING,
         .flags = JSONH_NOT_BLANK,
         .min = 3,
         .max = 5,
         .one_of = conditions},
        {0},
    };
    expect_one_error(f, "{\"s\": 5}", "s", "must be a string");
    expect_one_error(f, "{\"s\": \" \"}", "s", "must not be blank");
    expect_one_error(f, "{\"s\": \"ne\"}", "s", "must be at least 3 characters");
    expect_one_error(f, "{\"s\": \"neww\"}", "s", "must be one of: new, used, refurbished");
}

static void test_string_one_of(void **state)
{
    static const struct jsonh_field f[] = {
        {.name = "condition",
         .type = JSONH_STRING,
         .flags = JSONH_REQUIRED,
         .one_of = conditions,
         .offset = offsetof(struct one, s)},
        {0},
    };
    static const char *const only[] = {"only", NULL};
    static const struct jsonh_field single[] = {
        {.name = "s", .type = JSONH_STRING, .one_of = only},
        {0},
    };
    const char *msg = "must be one of: new, used, refurbished";
    struct one o;
    expect_ok(f, "{\"condition\": \"new\"}", &o);
    expect_ok(f, "{\"condition\": \"used\"}", &o);
    expect_ok(f, "{\"condition\": \"refurbished\"}", &o);
    expect_one_error(f, "{\"condition\": \"broken\"}", "condition", msg);
    expect_one_error(f, "{\"condition\": \"NEW\"}", "condition", msg);
    expect_one_error(f, "{\"condition\": \"new \"}", "condition", msg);
    expect_one_error(f, "{\"condition\": \"\"}", "condition", msg);
    expect_one_error(f, "{\"condition\": 1}", "condition", "must be a string");
    expect_one_error(single, "{\"s\": \"other\"}", "s", "must be one of: only");
}

/* ---- custom checks ----------------------------------------------------------------------- */

static int check_calls;

static const char *no_x(const json_t *v)
{
    check_calls++;
    const char *s = json_string_value(v);
    return s && strchr(s, 'x') ? "must not contain x" : NULL;
}

static void test_custom_check(void **state)
{
    static const struct jsonh_field f[] = {
        {.name = "s",
         .type = JSONH_STRING,
         .flags = JSONH_NULLABLE,
         .min = 2,
         .max = 5,
         .check = no_x,
         .offset = offsetof(struct one, s)},
        {0},
    };
    struct one o;
    struct jsonh_errors e;
    json_t *doc;

    check_calls = 0;
    expect_ok(f, "{\"s\": \"abc\"}", &o);
    assert_int_equal(check_calls, 1);

    check_calls = 0;
    one_reset(&o);
    parse("{\"s\": \"axc\"}", f, &o, &e, &doc);
    assert_errors(&e, 1);
    assert_error(&e, 0, "s", "must not contain x");
    assert_string_equal(o.s, SENTINEL_S); /* not stored */
    assert_int_equal(check_calls, 1);
    jsonh_errors_cleanup(&e);
    json_decref(doc);

    check_calls = 0; /* built-in rules fail first: the check never runs */
    expect_one_error(f, "{\"s\": 7}", "s", "must be a string");
    expect_one_error(f, "{\"s\": \"x\"}", "s", "must be at least 2 characters");
    expect_ok(f, "{\"s\": null}", &o);
    expect_ok(f, "{}", &o);
    assert_int_equal(check_calls, 0);
}

static void test_check_on_int(void **state)
{
    static const struct jsonh_field f[] = {
        {.name = "i", .type = JSONH_INT, .check = no_x, .offset = offsetof(struct one, i)},
        {0},
    };
    struct one o;
    check_calls = 0;
    expect_ok(f, "{\"i\": 5}", &o);
    assert_int_equal(o.i, 5);
    assert_int_equal(check_calls, 1);
}

/* ---- integers ---------------------------------------------------------------------------- */

static void test_int_stored(void **state)
{
    struct one o;
    expect_ok(int_any, "{\"i\": 0}", &o);
    assert_int_equal(o.i, 0);
    expect_ok(int_any, "{\"i\": -0}", &o);
    assert_int_equal(o.i, 0);
    expect_ok(int_any, "{\"i\": -5}", &o);
    assert_true(o.i == -5);
    expect_ok(int_any, "{\"i\": 9223372036854775807}", &o);
    assert_true(o.i == INT64_MAX);
    expect_ok(int_any, "{\"i\": -9223372036854775808}", &o);
    assert_true(o.i == INT64_MIN);
    expect_ok(int_1_100, "{\"i\": 42}", &o);
    assert_int_equal(o.i, 42);
}

static void test_int_wrong_types(void **state)
{
    static const char *const bodies[] = {
        "{\"i\": 1.5}",   "{\"i\": 1.0}",  "{\"i\": 1e2}",   "{\"i\": 1E+2}", "{\"i\": -0.0}",
        "{\"i\": \"3\"}", "{\"i\": true}", "{\"i\": false}", "{\"i\": null}", "{\"i\": []}",
        "{\"i\": [3]}",   "{\"i\": {}}",   "{\"i\": \"\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        expect_one_error(int_1_100, bodies[i], "i", "must be an integer");
}

static void test_int_bounds(void **state)
{
    static const struct jsonh_field at_least[] = {
        {.name = "i", .type = JSONH_INT, .min = 1, .max = INT64_MAX},
        {0},
    };
    static const struct jsonh_field at_most[] = {
        {.name = "i", .type = JSONH_INT, .min = INT64_MIN, .max = 5},
        {0},
    };
    static const struct jsonh_field exactly[] = {
        {.name = "i", .type = JSONH_INT, .min = 7, .max = 7},
        {0},
    };
    static const struct jsonh_field negative[] = {
        {.name = "i", .type = JSONH_INT, .min = -10, .max = -1},
        {0},
    };
    struct one o;
    expect_one_error(int_1_100, "{\"i\": 0}", "i", "must be between 1 and 100");
    expect_one_error(int_1_100, "{\"i\": -1}", "i", "must be between 1 and 100");
    expect_one_error(int_1_100, "{\"i\": 101}", "i", "must be between 1 and 100");
    expect_one_error(int_1_100, "{\"i\": -9223372036854775808}", "i", "must be between 1 and 100");
    expect_ok(int_1_100, "{\"i\": 1}", &o);
    expect_ok(int_1_100, "{\"i\": 100}", &o);
    expect_one_error(at_least, "{\"i\": 0}", "i", "must be at least 1");
    expect_ok(at_least, "{\"i\": 9223372036854775807}", &o);
    expect_one_error(at_most, "{\"i\": 6}", "i", "must be at most 5");
    expect_ok(at_most, "{\"i\": -9223372036854775808}", &o);
    expect_one_error(exactly, "{\"i\": 8}", "i", "must be 7");
    expect_ok(exactly, "{\"i\": 7}", &o);
    expect_one_error(negative, "{\"i\": 0}", "i", "must be between -10 and -1");
    expect_ok(negative, "{\"i\": -10}", &o);
    expect_ok(int_any, "{\"i\": -9223372036854775808}", &o); /* 0..0: no bounds */
}

/* ---- booleans, any, null ----------------------------------------------------------------- */

static void test_bool(void **state)
{
    struct one o;
    expect_ok(bool_opt, "{\"b\": false}", &o);
    assert_false(o.b);
    o.b = false;
    expect_ok(bool_opt, "{\"b\": true}", &o);
    assert_true(o.b);
    static const char *const bodies[] = {
        "{\"b\": 0}", "{\"b\": 1}", "{\"b\": \"true\"}", "{\"b\": null}", "{\"b\": []}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        expect_one_error(bool_opt, bodies[i], "b", "must be a boolean");
}

static void test_any(void **state)
{
    static const struct jsonh_field nullable_any[] = {
        {.name = "j",
         .type = JSONH_ANY,
         .flags = JSONH_NULLABLE,
         .offset = offsetof(struct one, j)},
        {0},
    };
    static const char *const bodies[] = {
        "{\"j\": {\"k\": [1]}}", "{\"j\": 1.5}",  "{\"j\": \"s\"}",
        "{\"j\": false}",        "{\"j\": null}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct one o;
        struct jsonh_errors e;
        json_t *doc;
        one_reset(&o);
        parse(bodies[i], any_opt, &o, &e, &doc);
        assert_false(jsonh_errors_any(&e));
        assert_ptr_equal(o.j, json_object_get(doc, "j"));
        jsonh_errors_cleanup(&e);
        json_decref(doc);
    }
    struct one o;
    expect_ok(nullable_any, "{\"j\": null}", &o);
    assert_null(o.j); /* nullable: null is not stored */
}

static void test_nullable(void **state)
{
    static const struct jsonh_field f[] = {
        {.name = "s",
         .type = JSONH_STRING,
         .flags = JSONH_NULLABLE | JSONH_NOT_BLANK,
         .min = 1,
         .max = 5,
         .offset = offsetof(struct one, s)},
        {.name = "i",
         .type = JSONH_INT,
         .flags = JSONH_NULLABLE | JSONH_REQUIRED,
         .min = 1,
         .max = 2,
         .offset = offsetof(struct one, i)},
        {.name = "b",
         .type = JSONH_BOOL,
         .flags = JSONH_NULLABLE,
         .offset = offsetof(struct one, b)},
        {0},
    };
    struct one o;
    struct jsonh_errors e;
    json_t *doc;
    o.s = NULL;
    o.i = SENTINEL_I;
    o.b = true;
    doc = body("{\"s\": null, \"i\": null, \"b\": null}");
    jsonh_errors_init(&e);
    uint64_t mask = jsonh_parse(doc, f, &o, &e, "");
    assert_false(jsonh_errors_any(&e));
    assert_int_equal(mask, 7);
    assert_null(o.s);
    assert_true(o.i == SENTINEL_I);
    assert_true(o.b);
    jsonh_errors_cleanup(&e);
    json_decref(doc);

    expect_one_error(f, "{\"s\": null}", "i", "is required"); /* null != absent for REQUIRED */
    expect_one_error(f, "{\"i\": null, \"s\": 3}", "s", "must be a string");
    expect_one_error(f, "{\"i\": null, \"b\": \"x\"}", "b", "must be a boolean");
}

static void test_null_without_nullable(void **state)
{
    static const struct jsonh_field obj[] = {
        {.name = "o", .type = JSONH_OBJECT, .fields = str_opt},
        {0},
    };
    static const struct jsonh_field arr[] = {
        {.name = "a", .type = JSONH_ARRAY},
        {0},
    };
    expect_one_error(str_opt, "{\"s\": null}", "s", "must be a string");
    expect_one_error(int_any, "{\"i\": null}", "i", "must be an integer");
    expect_one_error(bool_opt, "{\"b\": null}", "b", "must be a boolean");
    expect_one_error(obj, "{\"o\": null}", "o", "must be an object");
    expect_one_error(arr, "{\"a\": null}", "a", "must be an array");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_lifecycle),
        cmocka_unit_test(test_string_stored_borrowed),
        cmocka_unit_test(test_string_wrong_types),
        cmocka_unit_test(test_string_required_and_absent),
        cmocka_unit_test(test_string_length_bounds),
        cmocka_unit_test(test_string_length_counts_code_points),
        cmocka_unit_test(test_string_length_wording),
        cmocka_unit_test(test_string_unbounded_when_zero),
        cmocka_unit_test(test_string_not_blank),
        cmocka_unit_test(test_string_first_failing_rule),
        cmocka_unit_test(test_string_one_of),
        cmocka_unit_test(test_custom_check),
        cmocka_unit_test(test_check_on_int),
        cmocka_unit_test(test_int_stored),
        cmocka_unit_test(test_int_wrong_types),
        cmocka_unit_test(test_int_bounds),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_any),
        cmocka_unit_test(test_nullable),
        cmocka_unit_test(test_null_without_nullable),
    };
    return HAAT_RUN_GROUP("jsonh_fields", tests, NULL, NULL);
}
