/* Unit tests for pkg/json/jsonh: field rules, paths, presence, and body loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/json/jsonh.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

/* ---- helpers ------------------------------------------------------------------------- */

/* A struct with one slot of every stored type, for single-field tables. */
struct one {
    const char *s;
    int64_t i;
    bool b;
    const json_t *j;
};

#define SENTINEL_S "untouched"
#define SENTINEL_I INT64_C(-4242)

static void one_reset(struct one *o)
{
    o->s = SENTINEL_S;
    o->i = SENTINEL_I;
    o->b = true;
    o->j = NULL;
}

/* Loads text (NUL-terminated) as a body; fails the test when it does not load. */
static json_t *body(const char *text)
{
    char err[JSONH_ERR_LEN];
    json_t *doc = jsonh_load_body(text, strlen(text), err);
    if (!doc)
        fail_msg("body %s did not load: %s", text, err);
    return doc;
}

/* Loads buf[0..len) expecting failure; returns the message in a static buffer. */
static const char *load_error_n(const char *buf, size_t len)
{
    static char err[JSONH_ERR_LEN];
    json_t *doc = jsonh_load_body(buf, len, err);
    if (doc) {
        json_decref(doc);
        fail_msg("body of %zu bytes loaded, expected an error", len);
    }
    assert_true(strlen(err) > 0 && strlen(err) < JSONH_ERR_LEN);
    return err;
}

static const char *load_error(const char *text)
{
    return load_error_n(text, strlen(text));
}

static void assert_error(const struct jsonh_errors *e, size_t i, const char *field,
                         const char *message)
{
    const json_t *item = json_array_get(e->list, i);
    assert_non_null(item);
    assert_int_equal(json_object_size(item), 2);
    assert_string_equal(json_string_value(json_object_get(item, "field")), field);
    assert_string_equal(json_string_value(json_object_get(item, "message")), message);
}

static void assert_errors(const struct jsonh_errors *e, size_t n)
{
    if (json_array_size(e->list) != n) {
        char *dump = json_dumps(e->list, JSON_COMPACT);
        fail_msg("expected %zu errors, got %s", n, dump);
    }
}

/* Parses text against fields into out and returns the presence mask; errors go to e. */
static uint64_t parse(const char *text, const struct jsonh_field *fields, void *out,
                      struct jsonh_errors *e, json_t **doc)
{
    *doc = body(text);
    jsonh_errors_init(e);
    return jsonh_parse(*doc, fields, out, e, NULL);
}

/* Expects text to yield exactly one error, field/message, against fields. */
static void expect_one_error(const struct jsonh_field *fields, const char *text, const char *field,
                             const char *message)
{
    struct one o;
    struct jsonh_errors e;
    json_t *doc;
    one_reset(&o);
    parse(text, fields, &o, &e, &doc);
    assert_errors(&e, 1);
    assert_error(&e, 0, field, message);
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

/* Expects text to pass fields; the decoded values are copied into *out (borrowed strings
 * are not usable afterwards, so only their presence is meaningful to callers). */
static void expect_ok(const struct jsonh_field *fields, const char *text, struct one *out)
{
    struct jsonh_errors e;
    json_t *doc;
    one_reset(out);
    parse(text, fields, out, &e, &doc);
    assert_errors(&e, 0);
    assert_false(jsonh_errors_any(&e));
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static char *repeat(const char *unit, size_t times)
{
    struct strbuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < times; i++)
        strbuf_puts(&sb, unit);
    return strbuf_detach(&sb, NULL);
}

/* ---- tables ------------------------------------------------------------------------------ */

static const char *const conditions[] = {"new", "used", "refurbished", NULL};

static const struct jsonh_field str_req[] = {
    {.name = "s", .type = JSONH_STRING, .flags = JSONH_REQUIRED, .offset = offsetof(struct one, s)},
    {0},
};
static const struct jsonh_field str_opt[] = {
    {.name = "s", .type = JSONH_STRING, .offset = offsetof(struct one, s)},
    {0},
};
static const struct jsonh_field str_3_140[] = {
    {.name = "s", .type = JSONH_STRING, .min = 3, .max = 140, .offset = offsetof(struct one, s)},
    {0},
};
static const struct jsonh_field int_1_100[] = {
    {.name = "i",
     .type = JSONH_INT,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = 100,
     .offset = offsetof(struct one, i)},
    {0},
};
static const struct jsonh_field int_any[] = {
    {.name = "i", .type = JSONH_INT, .offset = offsetof(struct one, i)},
    {0},
};
static const struct jsonh_field bool_opt[] = {
    {.name = "b", .type = JSONH_BOOL, .offset = offsetof(struct one, b)},
    {0},
};
static const struct jsonh_field any_opt[] = {
    {.name = "j", .type = JSONH_ANY, .offset = offsetof(struct one, j)},
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

static void test_int_overflow_is_validation_error(void **state)
{
    char *digits400 = repeat("9", 400);
    char *huge = xasprintf("{\"i\": %s}", digits400);
    char *neg_huge = xasprintf("{\"i\": -%s}", digits400);
    const char *bodies[] = {
        "{\"i\": 9223372036854775808}",
        "{\"i\": -9223372036854775809}",
        "{\"i\": 10000000000000000000}",
        "{\"i\": 99999999999999999999}",
        "{\"i\": -99999999999999999999}",
        "{\"i\":12345678901234567890123456789}",
        "{\"i\": 1e400}",
        "{\"i\": -1e400}",
        "{\"i\": 1.5E+999}",
        "{\"i\": 9e308}",
        huge,
        neg_huge,
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        expect_one_error(int_1_100, bodies[i], "i", "must be an integer");
    free(digits400);
    free(huge);
    free(neg_huge);
}

static void test_overflow_keeps_other_numbers(void **state)
{
    static const struct jsonh_field f[] = {
        {.name = "a", .type = JSONH_INT, .offset = offsetof(struct one, i)},
        {.name = "n", .type = JSONH_INT},
        {.name = "b", .type = JSONH_ANY, .offset = offsetof(struct one, j)},
        {0},
    };
    struct one o;
    struct jsonh_errors e;
    json_t *doc;
    one_reset(&o);
    parse("{\"a\": -7, \"n\": 99999999999999999999, \"b\": [1, 2.5, 9223372036854775807]}", f, &o,
          &e, &doc);
    assert_errors(&e, 1);
    assert_error(&e, 0, "n", "must be an integer");
    assert_true(o.i == -7);
    assert_true(json_is_integer(json_array_get(o.j, 0)));
    assert_true(json_is_real(json_array_get(o.j, 1)));
    assert_true(json_integer_value(json_array_get(o.j, 2)) == INT64_MAX);
    jsonh_errors_cleanup(&e);
    json_decref(doc);
}

static void test_overflow_value_seen_by_any(void **state)
{
    char *digits400 = repeat("1", 400);
    char *text = xasprintf("{\"a\": 12345678901234567890123, \"b\": -%s, \"c\": 1e999,"
                           " \"d\": -9223372036854775809}",
                           digits400);
    json_t *doc = body(text);
    double a = json_real_value(json_object_get(doc, "a"));
    assert_true(json_is_real(json_object_get(doc, "a")));
    assert_true(fabs(a - 12345678901234567890123.0) <= 1e-15 * a);
    assert_true(json_real_value(json_object_get(doc, "b")) == -1e308);
    assert_true(json_real_value(json_object_get(doc, "c")) == 1e308);
    assert_true(json_real_value(json_object_get(doc, "d")) <= -9223372036854775808.0);
    json_decref(doc);
    free(digits400);
    free(text);
}

static void test_overflow_in_strings_untouched(void **state)
{
    json_t *doc = body("{\"s\": \"99999999999999999999\", \"t\": \"x\\\"1e400\\\\\","
                       " \"n\": 99999999999999999999, \"99999999999999999999\": 1e400}");
    assert_string_equal(json_string_value(json_object_get(doc, "s")), "99999999999999999999");
    assert_string_equal(json_string_value(json_object_get(doc, "t")), "x\"1e400\\");
    assert_true(json_is_real(json_object_get(doc, "n")));
    assert_true(json_is_real(json_object_get(doc, "99999999999999999999")));
    json_decref(doc);
}

static void test_overflow_then_syntax_error_keeps_position(void **state)
{
    /* The rewrite keeps lengths, so the later error is reported where it really is. */
    char expected[JSONH_ERR_LEN];
    snprintf(expected, sizeof expected, "%s", load_error("{\"n\": 123456789.1234567890 x}"));
    const char *got = load_error("{\"n\": 99999999999999999999 x}");
    assert_string_equal(got, expected);
    assert_non_null(strstr(got, "line 1, column 28: "));

    snprintf(expected, sizeof expected, "%s", load_error("{\"n\":\n 1.2345,\n \"m\": 1 x}"));
    assert_string_equal(load_error("{\"n\":\n 1e9999,\n \"m\": 1 x}"), expected);
    assert_non_null(strstr(expected, "line 3, column "));
}

static void test_number_edge_cases(void **state)
{
    struct one o;
    expect_one_error(int_any, "{\"i\": 1e-400}", "i", "must be an integer"); /* underflow: 0.0 */
    expect_ok(any_opt, "{\"j\": 1e-400}", &o);
    assert_string_not_equal(load_error("{\"i\": 0123}"), "");
    assert_string_not_equal(load_error("{\"i\": 00}"), "");
    assert_string_not_equal(load_error("{\"i\": 1.}"), "");
    assert_string_not_equal(load_error("{\"i\": .5}"), "");
    assert_string_not_equal(load_error("{\"i\": 1e}"), "");
    assert_string_not_equal(load_error("{\"i\": +1}"), "");
    assert_string_not_equal(load_error("{\"i\": -}"), "");
    assert_string_not_equal(load_error("{\"i\": 99999999999999999999.}"), "");
    assert_string_not_equal(load_error("{\"i\": 099999999999999999999}"), "");
    assert_string_not_equal(load_error("{\"i\": NaN}"), "");
    assert_string_not_equal(load_error("{\"i\": Infinity}"), "");
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

/* ---- jsonh_load_body --------------------------------------------------------------------- */

static void test_load_ok(void **state)
{
    json_t *doc = body(" \n{\"a\": [1, {\"b\": \"c\"}], \"d\": \"₹\"}\n ");
    assert_true(json_is_object(doc));
    assert_int_equal(doc->refcount, 1);
    assert_string_equal(json_string_value(json_object_get(doc, "d")), "₹");
    json_decref(doc);

    char err[JSONH_ERR_LEN];
    const char raw[] = "{\"a\":1}GARBAGE"; /* not NUL-terminated at len */
    doc = jsonh_load_body(raw, 7, err);
    assert_non_null(doc);
    json_decref(doc);
}

static void test_load_empty(void **state)
{
    char err[JSONH_ERR_LEN];
    assert_null(jsonh_load_body(NULL, 0, err));
    assert_string_equal(err, "body is empty");
    assert_string_equal(load_error_n("{}", 0), "body is empty");
    assert_string_equal(load_error(""), "body is empty");
    assert_string_equal(load_error(" \t\r\n "), "body is empty");
}

static void test_load_not_an_object(void **state)
{
    static const char *const bodies[] = {
        "[]", "[1, 2]", "\"s\"", "1", "-1.5", "null", "true", " 42 \n", "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        assert_string_equal(load_error(bodies[i]), "body must be a JSON object");
}

static void test_load_syntax_errors(void **state)
{
    assert_string_equal(load_error("{\"a\":}"), "line 1, column 6: unexpected token near '}'");
    assert_string_equal(load_error("{\"a\":1} x"),
                        "line 1, column 9: end of file expected near 'x'");
    assert_string_equal(load_error("{\"a\":1}{}"),
                        "line 1, column 8: end of file expected near '{'");
    assert_non_null(strstr(load_error("{\"a\":1}]"), "end of file expected"));
    assert_non_null(strstr(load_error("{\n  \"a\": 1,\n  }"), "line 3, column 3: "));
    assert_non_null(strstr(load_error("{\"a\":1,}"), "line 1, column 8: "));
    assert_non_null(strstr(load_error("{\"₹\":x}"), "line 1, column 6: "));
    assert_non_null(strstr(load_error("{\"a\":\"abc"), "line 1, "));
    assert_non_null(strstr(load_error("{\"a\":\"\\"), "line 1, "));
    assert_non_null(strstr(load_error("{\"a\""), "line 1, "));
    assert_non_null(strstr(load_error("}}}}]]{"), "line 1, "));
    assert_non_null(strstr(load_error("{'a': 1}"), "line 1, "));
    assert_non_null(strstr(load_error("{\"a\": tru}"), "line 1, "));
    assert_non_null(strstr(load_error("\xef\xbb\xbf{}"), "line 1, ")); /* BOM */
}

static void test_load_error_fits(void **state)
{
    char *junk = repeat("x", 1000);
    char *text = xasprintf("{\"a\": %s}", junk);
    const char *err = load_error(text);
    assert_true(strlen(err) < JSONH_ERR_LEN);
    assert_true(strncmp(err, "line 1, column ", 15) == 0);
    free(junk);
    free(text);
}

static void test_load_nul(void **state)
{
    assert_non_null(strstr(load_error("{\"a\":\"x\\u0000y\"}"), "\\u0000"));
    assert_non_null(strstr(load_error("{\"a\\u0000\":1}"), "\\u0000"));
    static const char raw_in_string[] = "{\"a\":\"x\0y\"}";
    assert_non_null(strstr(load_error_n(raw_in_string, sizeof raw_in_string - 1), "line 1, "));
    static const char raw_outside[] = "{\"a\":1\0}"; /* jansson alone would accept this */
    assert_string_equal(load_error_n(raw_outside, sizeof raw_outside - 1),
                        "line 1, column 7: NUL byte");
    static const char raw_spaces[] = "{\"a\": 1 \0 }";
    assert_string_equal(load_error_n(raw_spaces, sizeof raw_spaces - 1),
                        "line 1, column 9: NUL byte");
    static const char raw_end[] = "{}\0";
    assert_string_equal(load_error_n(raw_end, sizeof raw_end - 1), "line 1, column 3: NUL byte");
}

static void test_load_duplicates_and_utf8(void **state)
{
    assert_non_null(strstr(load_error("{\"a\":1,\"a\":2}"), "duplicate object key"));
    assert_non_null(strstr(load_error("{\"a\":{\"b\":1,\"b\":1}}"), "duplicate object key"));
    assert_non_null(strstr(load_error("{\"a\":\"\xff\"}"), "line 1, "));
    assert_non_null(strstr(load_error("{\"a\":\"\xc0\xaf\"}"), "line 1, "));     /* overlong */
    assert_non_null(strstr(load_error("{\"a\":\"\xed\xa0\x80\"}"), "line 1, ")); /* surrogate */
    assert_non_null(strstr(load_error("{\"a\":\"\\ud800\"}"), "line 1, ")); /* lone surrogate */
}

/* {"a": followed by n-1 '[' and the matching closers: n levels in all. */
static char *nested(size_t n)
{
    char *open = repeat("[", n - 1), *close = repeat("]", n - 1);
    char *text = xasprintf("{\"a\":%s%s}", open, close);
    free(open);
    free(close);
    return text;
}

static void test_load_depth_limit(void **state)
{
    char *ok = nested(32), *deep = nested(33);
    json_t *doc = body(ok);
    json_decref(doc);
    /* the 33rd level opens at byte 5 + 31 = 36, column 37 */
    assert_string_equal(load_error(deep), "line 1, column 37: nesting deeper than 32 levels");
    free(ok);
    free(deep);

    char *objs = repeat("{\"a\":", 32), *ends = repeat("}", 32);
    char *text = xasprintf("%s1%s", objs, ends);
    doc = body(text); /* 32 nested objects */
    json_decref(doc);
    free(text);
    text = xasprintf("%s{}%s", objs, ends);
    assert_non_null(strstr(load_error(text), "nesting deeper than 32"));
    free(objs);
    free(ends);
    free(text);
}

static void test_load_depth_counts_closers(void **state)
{
    char *open = repeat("[", 31), *close = repeat("]", 31);
    char *text = xasprintf("{\"a\":%s%s,\"b\":%s%s}", open, close, open, close);
    json_t *doc = body(text);
    json_decref(doc);
    free(text);
    /* line and column of the offending bracket, counted in code points */
    text = xasprintf("{\n\"₹\":%s[[]]}", open);
    assert_string_equal(load_error(text), "line 2, column 36: nesting deeper than 32 levels");
    free(text);
    free(open);
    free(close);
}

static void test_load_depth_huge(void **state)
{
    size_t n = 100000;
    char *open = repeat("[", n), *close = repeat("]", n);
    char *text = xasprintf("{\"a\":%s%s}", open, close);
    assert_string_equal(load_error(text), "line 1, column 37: nesting deeper than 32 levels");
    free(text);
    text = xasprintf("%s", open); /* unterminated, top level array */
    assert_non_null(strstr(load_error(text), "nesting deeper than 32"));
    free(text);
    free(open);
    free(close);
}

static void test_load_depth_ignores_strings(void **state)
{
    char *braces = repeat("{[", 40);
    char *open31 = repeat("[", 31), *close31 = repeat("]", 31);
    static const char *const around[][2] = {
        {"{\"s\":\"", "\"}"},                /* brackets inside a string */
        {"{\"s\":\"\\\"", "\\\"\"}"},        /* behind escaped quotes */
        {"{\"s\":\"\\\\\",\"t\":\"", "\"}"}, /* "\\" closes its string */
        {"{\"s\":\"\\\\\\\"", "\"}"},        /* \\ then \" stays inside */
        {"{\"", "\":1}"},                    /* in a key */
    };
    for (size_t i = 0; i < sizeof around / sizeof around[0]; i++) {
        char *text = xasprintf("%s%s%s", around[i][0], braces, around[i][1]);
        json_t *doc = body(text);
        json_decref(doc);
        free(text);
    }
    /* strings with escapes before real nesting do not hide brackets either */
    char *text = xasprintf("{\"s\":\"a\\\"b\\\\\",\"x\":%s[]%s}", open31, close31);
    assert_non_null(strstr(load_error(text), "nesting deeper than 32"));
    free(text);
    text = xasprintf("{\"s\":\"a\\\"]]]]\\\\\",\"x\":%s%s}", open31, close31);
    json_decref(body(text));
    free(text);
    free(braces);
    free(open31);
    free(close31);
}

/* ---- https URLs and builders ------------------------------------------------------------- */

static const char *check_url(const char *s)
{
    json_t *v = json_string(s);
    assert_non_null(v);
    const char *r = jsonh_check_https_url(v);
    json_decref(v);
    return r;
}

static void test_https_url_ok(void **state)
{
    static const char *const good[] = {
        "https://example.com",
        "https://example.com/",
        "https://a.example/x/y.jpg?w=1#frag",
        "https://h:8443/x",
        "https://user@host.example/",
        "https://[::1]:443/p",
        "https://bücher.example/₹",
        "https://x",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (check_url(good[i]))
            fail_msg("%s was rejected", good[i]);

    char *path = repeat("a", 2048 - strlen("https://h/"));
    char *url = xasprintf("https://h/%s", path);
    assert_null(check_url(url)); /* exactly 2048 */
    free(path);
    free(url);
    path = repeat("₹", 2048 - strlen("https://h/")); /* 2048 chars, more bytes */
    url = xasprintf("https://h/%s", path);
    assert_null(check_url(url));
    free(path);
    free(url);
}

static void test_https_url_bad(void **state)
{
    static const char *const bad[] = {
        "http://example.com",
        "HTTPS://example.com",
        "ftp://x",
        "https:/x",
        "https:x",
        "https://",
        "https:///path",
        "https://?q",
        "https://#f",
        "https://:443/",
        "https://user@/",
        "https://[]/",
        "https://exa mple.com",
        " https://x",
        "https://x ",
        "https://x/\n",
        "https://x/\t",
        "https://x/\x7f",
        "https://x/\x01",
        "",
        "example.com",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *r = check_url(bad[i]);
        if (!r)
            fail_msg("'%s' was accepted", bad[i]);
        assert_string_equal(r, "must be an https URL");
    }
    char *path = repeat("a", 2049 - strlen("https://h/"));
    char *url = xasprintf("https://h/%s", path);
    assert_non_null(check_url(url));
    free(path);
    free(url);

    json_t *others[] = {json_integer(1), json_null(),   json_true(),
                        json_array(),    json_object(), json_stringn("https://x/\0y", 12)};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        assert_string_equal(jsonh_check_https_url(others[i]), "must be an https URL");
        json_decref(others[i]);
    }
}

static void test_string_or_null(void **state)
{
    json_t *v = jsonh_string_or_null("₹ hi");
    assert_true(json_is_string(v));
    assert_string_equal(json_string_value(v), "₹ hi");
    json_decref(v);
    v = jsonh_string_or_null(NULL);
    assert_true(json_is_null(v));
    json_decref(v);
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
        cmocka_unit_test(test_int_overflow_is_validation_error),
        cmocka_unit_test(test_overflow_keeps_other_numbers),
        cmocka_unit_test(test_overflow_value_seen_by_any),
        cmocka_unit_test(test_overflow_in_strings_untouched),
        cmocka_unit_test(test_overflow_then_syntax_error_keeps_position),
        cmocka_unit_test(test_number_edge_cases),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_any),
        cmocka_unit_test(test_nullable),
        cmocka_unit_test(test_null_without_nullable),
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
        cmocka_unit_test(test_load_ok),
        cmocka_unit_test(test_load_empty),
        cmocka_unit_test(test_load_not_an_object),
        cmocka_unit_test(test_load_syntax_errors),
        cmocka_unit_test(test_load_error_fits),
        cmocka_unit_test(test_load_nul),
        cmocka_unit_test(test_load_duplicates_and_utf8),
        cmocka_unit_test(test_load_depth_limit),
        cmocka_unit_test(test_load_depth_counts_closers),
        cmocka_unit_test(test_load_depth_huge),
        cmocka_unit_test(test_load_depth_ignores_strings),
        cmocka_unit_test(test_https_url_ok),
        cmocka_unit_test(test_https_url_bad),
        cmocka_unit_test(test_string_or_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
