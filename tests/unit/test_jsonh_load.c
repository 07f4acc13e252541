/* Unit tests for pkg/json/jsonh, part 3: loading bodies (syntax errors and their positions,
 * numbers beyond int64, NUL, UTF-8, depth), the https URL check and the response builders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/json/jsonh.h"
#include "pkg/util/xalloc.h"
#include "tests/test_main.h"
#include "tests/unit/jsonh_fixtures.h"

/* ---- loading helpers ------------------------------------------------------------------------- */

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

/* ---- numbers beyond int64 -------------------------------------------------------------------- */

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
        cmocka_unit_test(test_int_overflow_is_validation_error),
        cmocka_unit_test(test_overflow_keeps_other_numbers),
        cmocka_unit_test(test_overflow_value_seen_by_any),
        cmocka_unit_test(test_overflow_in_strings_untouched),
        cmocka_unit_test(test_overflow_then_syntax_error_keeps_position),
        cmocka_unit_test(test_number_edge_cases),
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
    return HAAT_RUN_GROUP("jsonh_load", tests, NULL, NULL);
}
