/* Unit tests for pkg/json/text.c: the free-text rule (jsonh_check_plain_text, its multi-line
 * variant) and what JSONH_NOT_BLANK counts as blank. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "pkg/json/jsonh.h"
#include "tests/test_main.h"

/* The message check gives for s (NULL when it passes). */
static const char *plain(const char *s)
{
    json_t *v = json_string(s);
    assert_non_null(v);
    const char *m = jsonh_check_plain_text(v);
    json_decref(v);
    return m;
}

static const char *multi(const char *s)
{
    json_t *v = json_string(s);
    assert_non_null(v);
    const char *m = jsonh_check_multiline_text(v);
    json_decref(v);
    return m;
}

static void test_plain_accepts_text(void **state)
{
    (void)state;
    assert_null(plain("Asha Rao — हाट"));
    assert_null(plain("Café, Łódź (2nd floor) ✓ 😀"));
    assert_null(plain("")); /* bounds decide about empty strings */
    assert_null(plain("  padded  "));
    assert_null(jsonh_check_plain_text(NULL));
}

static void test_plain_refuses_controls(void **state)
{
    (void)state;
    const char *controls = "must not contain control characters";
    assert_string_equal(plain("Asha\tRao"), controls);
    assert_string_equal(plain("Asha\nRao"), controls);
    assert_string_equal(plain("Asha\rRao"), controls);
    assert_string_equal(plain("Asha\x7fRao"), controls);
    assert_string_equal(plain("red \x1b[31mtitle\x1b[0m"), controls); /* ANSI escape */
    assert_string_equal(plain("C1 \xc2\x9b"
                              "31m"),
                        controls);                              /* U+009B CSI */
    assert_string_equal(plain("next line \xc2\x85"), controls); /* U+0085 NEL */
}

static void test_plain_refuses_bidi(void **state)
{
    (void)state;
    const char *bidi = "must not contain bidirectional control characters";
    assert_string_equal(plain("invoice\xe2\x80\xaegpj.exe"), bidi); /* U+202E RLO */
    assert_string_equal(plain("a\xe2\x80\xaa"
                              "b"),
                        bidi); /* U+202A LRE */
    assert_string_equal(plain("a\xe2\x80\xac"
                              "b"),
                        bidi); /* U+202C PDF */
    assert_string_equal(plain("a\xe2\x81\xa6"
                              "b"),
                        bidi); /* U+2066 LRI */
    assert_string_equal(plain("a\xe2\x81\xa9"
                              "b"),
                        bidi); /* U+2069 PDI */
    assert_null(plain("a\xe2\x81\xaa"
                      "b")); /* U+206A: outside */
}

static void test_plain_refuses_blank(void **state)
{
    (void)state;
    const char *blank = "must not be blank";
    assert_string_equal(plain(" "), blank);
    assert_string_equal(plain("\xc2\xa0\xc2\xa0"), blank);         /* NBSP */
    assert_string_equal(plain("\xe3\x80\x80"), blank);             /* ideographic space */
    assert_string_equal(plain("\xe2\x80\x8b\xe2\x80\x83"), blank); /* ZWSP, em space */
    assert_string_equal(plain("\xef\xbb\xbf "), blank);            /* BOM */
    assert_null(plain("\xc2\xa0x"));
}

static void test_multiline(void **state)
{
    (void)state;
    assert_null(multi("line one\nline two\n\tindented"));
    assert_string_equal(multi("a\r\nb"), "must not contain control characters");
    assert_string_equal(multi("\x1b[2J"), "must not contain control characters");
    assert_string_equal(multi("a\xe2\x80\xae"
                              "b"),
                        "must not contain bidirectional control characters");
    assert_string_equal(multi("\n\t \n"), "must not be blank");
}

/* JSONH_NOT_BLANK counts Unicode spaces and invisible characters as blank. */
static void test_not_blank_flag_unicode(void **state)
{
    (void)state;
    struct out {
        const char *s;
    } o = {0};
    static const struct jsonh_field spec[] = {
        {.name = "s", .type = JSONH_STRING, .flags = JSONH_NOT_BLANK | JSONH_REQUIRED},
        {0},
    };
    json_t *body = json_pack("{s:s}", "s", "\xc2\xa0\xe2\x80\x8b\xe3\x80\x80");
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    jsonh_parse(body, spec, &o, &e, NULL);
    assert_true(jsonh_errors_any(&e));
    json_t *err = json_array_get(e.list, 0);
    assert_string_equal(json_string_value(json_object_get(err, "field")), "s");
    assert_string_equal(json_string_value(json_object_get(err, "message")), "must not be blank");
    jsonh_errors_cleanup(&e);
    json_decref(body);
    assert_true(jsonh_text_blank("", 0));
    assert_false(jsonh_text_blank("x", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_accepts_text), cmocka_unit_test(test_plain_refuses_controls),
        cmocka_unit_test(test_plain_refuses_bidi), cmocka_unit_test(test_plain_refuses_blank),
        cmocka_unit_test(test_multiline),          cmocka_unit_test(test_not_blank_flag_unicode),
    };
    return HAAT_RUN_GROUP("jsonh_text", tests, NULL, NULL);
}
