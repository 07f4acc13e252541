/* Helpers and field tables shared by the jsonh unit tests (test_jsonh_fields.c,
 * test_jsonh_structure.c, test_jsonh_load.c). Each unit test binary is one file: this header
 * is included by each, and everything in it is static. */
#ifndef HAAT_TESTS_UNIT_JSONH_FIXTURES_H
#define HAAT_TESTS_UNIT_JSONH_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "pkg/json/jsonh.h"
#include "pkg/util/strbuf.h"

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

static inline void one_reset(struct one *o)
{
    o->s = SENTINEL_S;
    o->i = SENTINEL_I;
    o->b = true;
    o->j = NULL;
}

/* Loads text (NUL-terminated) as a body; fails the test when it does not load. */
static inline json_t *body(const char *text)
{
    char err[JSONH_ERR_LEN];
    json_t *doc = jsonh_load_body(text, strlen(text), err);
    if (!doc)
        fail_msg("body %s did not load: %s", text, err);
    return doc;
}

static inline void assert_error(const struct jsonh_errors *e, size_t i, const char *field,
                                const char *message)
{
    const json_t *item = json_array_get(e->list, i);
    assert_non_null(item);
    assert_int_equal(json_object_size(item), 2);
    assert_string_equal(json_string_value(json_object_get(item, "field")), field);
    assert_string_equal(json_string_value(json_object_get(item, "message")), message);
}

static inline void assert_errors(const struct jsonh_errors *e, size_t n)
{
    if (json_array_size(e->list) != n) {
        char *dump = json_dumps(e->list, JSON_COMPACT);
        fail_msg("expected %zu errors, got %s", n, dump);
    }
}

/* Parses text against fields into out and returns the presence mask; errors go to e. */
static inline uint64_t parse(const char *text, const struct jsonh_field *fields, void *out,
                             struct jsonh_errors *e, json_t **doc)
{
    *doc = body(text);
    jsonh_errors_init(e);
    return jsonh_parse(*doc, fields, out, e, NULL);
}

/* Expects text to yield exactly one error, field/message, against fields. */
static inline void expect_one_error(const struct jsonh_field *fields, const char *text,
                                    const char *field, const char *message)
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
static inline void expect_ok(const struct jsonh_field *fields, const char *text, struct one *out)
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

static inline char *repeat(const char *unit, size_t times)
{
    struct strbuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < times; i++)
        strbuf_puts(&sb, unit);
    return strbuf_detach(&sb, NULL);
}

/* ---- tables used by more than one file ----------------------------------------------------- */

static const struct jsonh_field str_req[] = {
    {.name = "s", .type = JSONH_STRING, .flags = JSONH_REQUIRED, .offset = offsetof(struct one, s)},
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
static const struct jsonh_field any_opt[] = {
    {.name = "j", .type = JSONH_ANY, .offset = offsetof(struct one, j)},
    {0},
};

#endif
