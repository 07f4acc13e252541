/* jsonh — declarative request-body parsing and validation over jansson.
 *
 * Integers beyond int64. jansson fails a whole document on an integer literal outside int64
 * ("too big integer") or a real literal outside double ("real number overflow"), yet the API
 * wants such a number to be a validation error of its field, not invalid_json. Reloading with
 * JSON_DECODE_INT_AS_REAL would turn every integer into a real, so jsonh_load_body instead
 * retries, only after jansson reported json_error_numeric_overflow, on a copy in which each
 * out-of-range number literal (outside strings) is rewritten in place, at the same length, into
 * an in-range real literal:
 *   - an integer of up to 308 digits loses its last two digits to "e2"
 *     (99999999999999999999 -> 999999999999999999e2), keeping its value to 17 digits;
 *   - a longer integer, or a real beyond double, saturates to +-1e308 ("1e" + zeros + "308").
 * The result is a real, which an integer field rejects like any other real ("must be an
 * integer"), a string field rejects as a number, and an ANY field sees as its nearest double.
 * Equal lengths keep jansson's line/column for any later syntax error exact. Overflow detection
 * for reals uses strtod and so assumes the default "C" numeric locale (no setlocale()). */
#include "pkg/json/jsonh.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

#define LOAD_FLAGS       (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)
#define URL_MAX_CHARS    2048
#define INT64_MAX_DIGITS "9223372036854775807"
#define INT64_MIN_DIGITS "9223372036854775808"
#define STR_(x)          #x
#define STR(x)           STR_(x)

/* ---- errors ---------------------------------------------------------------------------- */

/* jansson returns NULL only on OOM or invalid UTF-8; both are programming errors here. */
static json_t *must(json_t *v)
{
    if (!v)
        abort();
    return v;
}

void jsonh_errors_init(struct jsonh_errors *e)
{
    e->list = must(json_array());
}

void jsonh_errors_cleanup(struct jsonh_errors *e)
{
    json_decref(e->list);
    e->list = NULL;
}

/* field and message are copied; both must be valid UTF-8. */
void jsonh_errors_add(struct jsonh_errors *e, const char *field, const char *message)
{
    json_t *item = must(json_object());
    json_object_set_new(item, "field", must(json_string(field)));
    json_object_set_new(item, "message", must(json_string(message)));
    json_array_append_new(e->list, item);
}

bool jsonh_errors_any(const struct jsonh_errors *e)
{
    return e->list && json_array_size(e->list) > 0;
}

static size_t error_count(const struct jsonh_errors *e)
{
    return e->list ? json_array_size(e->list) : 0;
}

/* ---- text helpers ---------------------------------------------------------------------- */

/* Number of UTF-8 code points in s[0..n): bytes that are not continuation bytes. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

/* True when every byte of s[0..n) is one of set (vacuously true for n == 0). */
static bool only_bytes(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || !strchr(set, s[i]))
            return false;
    return true;
}

static const char *plural(int64_t n)
{
    return n == 1 ? "" : "s";
}

/* ---- field rules: each returns false after writing its message into msg ---------------- */

static bool bounded(const struct jsonh_field *f)
{
    return f->min < f->max || (f->min == f->max && f->min != 0);
}

/* Fails with "must <verb> at least|at most|exactly N <unit>[s]" when n is outside the bounds. */
static bool count_ok(int64_t n, const struct jsonh_field *f, const char *verb, const char *unit,
                     struct strbuf *msg)
{
    if (!bounded(f) || (n >= f->min && n <= f->max))
        return true;
    int64_t limit = n < f->min ? f->min : f->max;
    const char *how = f->min == f->max ? "exactly" : n < f->min ? "at least" : "at most";
    strbuf_printf(msg, "must %s %s %" PRId64 " %s%s", verb, how, limit, unit, plural(limit));
    return false;
}

static bool one_of_ok(const char *s, const struct jsonh_field *f, struct strbuf *msg)
{
    if (!f->one_of)
        return true;
    for (const char *const *p = f->one_of; *p; p++)
        if (strcmp(s, *p) == 0)
            return true;
    strbuf_puts(msg, "must be one of: ");
    for (const char *const *p = f->one_of; *p; p++)
        strbuf_printf(msg, "%s%s", p == f->one_of ? "" : ", ", *p);
    return false;
}

static bool string_ok(const json_t *v, const struct jsonh_field *f, struct strbuf *msg)
{
    if (!json_is_string(v)) {
        strbuf_puts(msg, "must be a string");
        return false;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if ((f->flags & JSONH_NOT_BLANK) && jsonh_text_blank(s, n)) {
        strbuf_puts(msg, "must not be blank");
        return false;
    }
    return count_ok((int64_t)utf8_chars(s, n), f, "be", "character", msg) && one_of_ok(s, f, msg);
}

static bool int_ok(const json_t *v, const struct jsonh_field *f, struct strbuf *msg)
{
    if (!json_is_integer(v)) {
        strbuf_puts(msg, "must be an integer");
        return false;
    }
    json_int_t n = json_integer_value(v);
    if (!bounded(f) || (n >= f->min && n <= f->max))
        return true;
    if (f->min == f->max)
        strbuf_printf(msg, "must be %" PRId64, f->min);
    else if (f->max == INT64_MAX)
        strbuf_printf(msg, "must be at least %" PRId64, f->min);
    else if (f->min == INT64_MIN)
        strbuf_printf(msg, "must be at most %" PRId64, f->max);
    else
        strbuf_printf(msg, "must be between %" PRId64 " and %" PRId64, f->min, f->max);
    return false;
}

static bool bool_ok(const json_t *v, struct strbuf *msg)
{
    if (json_is_boolean(v))
        return true;
    strbuf_puts(msg, "must be a boolean");
    return false;
}

/* Runs f->check on v; a failure becomes the error of path. */
static bool check_ok(const json_t *v, const struct jsonh_field *f, const char *path,
                     struct jsonh_errors *e)
{
    const char *m = f->check ? f->check(v) : NULL;
    if (m)
        jsonh_errors_add(e, path, m);
    return m == NULL;
}

/* ---- validation ------------------------------------------------------------------------ */

static bool validate(const json_t *v, const struct jsonh_field *f, const char *path, void *out,
                     struct jsonh_errors *e);

/* Where f's value goes, or NULL when validating without decoding. */
static void *slot(void *out, const struct jsonh_field *f)
{
    return out ? (char *)out + f->offset : NULL;
}

/* Stores the (validated) value v of f at p. */
static void store(const json_t *v, const struct jsonh_field *f, void *p)
{
    if (f->type == JSONH_STRING)
        *(const char **)p = json_string_value(v);
    else if (f->type == JSONH_INT)
        *(int64_t *)p = json_integer_value(v);
    else if (f->type == JSONH_BOOL)
        *(bool *)p = json_is_true(v);
    else
        *(const json_t **)p = v;
}

static bool validate_scalar(const json_t *v, const struct jsonh_field *f, const char *path,
                            void *out, struct jsonh_errors *e)
{
    struct strbuf msg;
    strbuf_init(&msg);
    bool ok = f->type == JSONH_STRING ? string_ok(v, f, &msg)
              : f->type == JSONH_INT  ? int_ok(v, f, &msg)
              : f->type == JSONH_BOOL ? bool_ok(v, &msg)
                                      : true; /* JSONH_ANY */
    if (!ok)
        jsonh_errors_add(e, path, msg.buf);
    strbuf_cleanup(&msg);
    if (!ok || !check_ok(v, f, path, e))
        return false;
    if (out)
        store(v, f, slot(out, f));
    return true;
}

static bool validate_object(const json_t *v, const struct jsonh_field *f, const char *path,
                            void *out, struct jsonh_errors *e)
{
    if (!json_is_object(v)) {
        jsonh_errors_add(e, path, "must be an object");
        return false;
    }
    size_t before = error_count(e);
    if (f->fields)
        jsonh_parse(v, f->fields, slot(out, f), e, path);
    return error_count(e) == before && check_ok(v, f, path, e);
}

static bool validate_array(const json_t *v, const struct jsonh_field *f, const char *path,
                           void *out, struct jsonh_errors *e)
{
    struct strbuf msg;
    strbuf_init(&msg);
    bool ok = json_is_array(v);
    if (!ok)
        strbuf_puts(&msg, "must be an array");
    else
        ok = count_ok((int64_t)json_array_size(v), f, "have", "item", &msg);
    if (!ok)
        jsonh_errors_add(e, path, msg.buf);
    strbuf_cleanup(&msg);
    if (!ok)
        return false;
    for (size_t i = 0; f->item && i < json_array_size(v); i++) {
        char *item_path = xasprintf("%s[%zu]", path, i);
        if (!validate(json_array_get(v, i), f->item, item_path, NULL, e))
            ok = false;
        free(item_path);
    }
    if (!ok || !check_ok(v, f, path, e))
        return false;
    if (out)
        *(const json_t **)slot(out, f) = v;
    return true;
}

/* Validates a present v against f and, when out is non-NULL and v passed, stores the value at
 * out + f->offset. Errors go to e under path. Returns whether v passed. */
static bool validate(const json_t *v, const struct jsonh_field *f, const char *path, void *out,
                     struct jsonh_errors *e)
{
    if (json_is_null(v) && (f->flags & JSONH_NULLABLE))
        return true;
    switch (f->type) {
    case JSONH_OBJECT:
        return validate_object(v, f, path, out, e);
    case JSONH_ARRAY:
        return validate_array(v, f, path, out, e);
    default:
        return validate_scalar(v, f, path, out, e);
    }
}

/* out may be NULL: the fields are then validated but nothing is stored (array items). */
uint64_t jsonh_parse(const json_t *obj, const struct jsonh_field *fields, void *out,
                     struct jsonh_errors *e, const char *prefix)
{
    uint64_t present = 0;
    for (size_t i = 0; fields[i].name; i++) {
        const struct jsonh_field *f = &fields[i];
        char *path = prefix && *prefix ? xasprintf("%s.%s", prefix, f->name) : xstrdup(f->name);
        const json_t *v = json_object_get(obj, f->name);
        if (!v) {
            if (f->flags & JSONH_REQUIRED)
                jsonh_errors_add(e, path, "is required");
        } else {
            if (i < 64)
                present |= UINT64_C(1) << i;
            validate(v, f, path, out, e);
        }
        free(path);
    }
    return present;
}

/* ---- loading --------------------------------------------------------------------------- */

/* Index just past the string whose opening quote is at buf[i], or len when unterminated. */
static size_t skip_string(const char *buf, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (buf[i] == '\\')
            i++;
        else if (buf[i] == '"')
            return i + 1;
    }
    return len;
}

/* Offset of the first '[' or '{' (outside strings) that opens level JSONH_MAX_DEPTH + 1, or
 * SIZE_MAX. One pass, no recursion; closers below level 0 are left for jansson to report. */
static size_t too_deep_at(const char *buf, size_t len)
{
    size_t depth = 0;
    for (size_t i = 0; i < len;) {
        char c = buf[i];
        if (c == '"') {
            i = skip_string(buf, len, i);
            continue;
        }
        if (c == '[' || c == '{') {
            if (++depth > JSONH_MAX_DEPTH)
                return i;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
        i++;
    }
    return SIZE_MAX;
}

/* Writes "line L, column C: what" for byte offset at, counting as jansson does (1-based
 * lines, columns in code points). */
static void error_at(const char *buf, size_t at, const char *what, char err[JSONH_ERR_LEN])
{
    size_t line = 1, column = 0;
    for (size_t i = 0; i <= at; i++) {
        if (buf[i] == '\n') {
            line++;
            column = 0;
        } else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
            column++;
        }
    }
    snprintf(err, JSONH_ERR_LEN, "line %zu, column %zu: %s", line, column, what);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t skip_digits(const char *s, size_t n, size_t i)
{
    while (i < n && is_digit(s[i]))
        i++;
    return i;
}

/* Length of the number token at s[0..n) under jansson's lexer, 0 when it is not a valid JSON
 * number. *is_int says it has neither fraction nor exponent. */
static size_t number_token(const char *s, size_t n, bool *is_int)
{
    size_t i = s[0] == '-';
    if (i >= n || !is_digit(s[i]))
        return 0;
    i = s[i] == '0' ? i + 1 : skip_digits(s, n, i);
    if (i < n && is_digit(s[i]))
        return 0; /* leading zero */
    *is_int = true;
    if (i < n && s[i] == '.') {
        if (i + 1 >= n || !is_digit(s[i + 1]))
            return 0;
        i = skip_digits(s, n, i + 1);
        *is_int = false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i += i + 1 < n && (s[i + 1] == '+' || s[i + 1] == '-') ? 2 : 1;
        if (i >= n || !is_digit(s[i]))
            return 0;
        i = skip_digits(s, n, i);
        *is_int = false;
    }
    return i;
}

/* Whether the number token s[0..n) is outside what jansson accepts (int64 / finite double). */
static bool number_overflows(const char *s, size_t n, bool is_int)
{
    if (is_int) {
        bool neg = s[0] == '-';
        size_t digits = n - neg;
        if (digits != 19)
            return digits > 19;
        return memcmp(s + neg, neg ? INT64_MIN_DIGITS : INT64_MAX_DIGITS, 19) > 0;
    }
    char *copy = xstrndup(s, n);
    errno = 0;
    double d = strtod(copy, NULL);
    free(copy);
    return errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
}

/* Rewrites the overflowing number token s[0..n) in place, at the same length, into a finite
 * real beyond int64 (see the top of this file). */
static void tame_number(char *s, size_t n, bool is_int)
{
    size_t sign = s[0] == '-';
    if (is_int && n - sign <= 308) {
        memcpy(s + n - 2, "e2", 2);
        return;
    }
    if (n - sign < 5)
        return; /* cannot happen: the shortest double overflow is "1e309" */
    memcpy(s + sign, "1e", 2);
    memset(s + sign + 2, '0', n - sign - 5);
    memcpy(s + n - 3, "308", 3);
}

/* A copy of buf[0..len) with every overflowing number outside strings tamed; caller frees. */
static char *tame_numbers(const char *buf, size_t len)
{
    char *copy = xmalloc(len);
    memcpy(copy, buf, len);
    for (size_t i = 0; i < len;) {
        bool is_int = false;
        size_t n = 0;
        if (copy[i] == '"') {
            i = skip_string(copy, len, i);
            continue;
        }
        if (copy[i] == '-' || is_digit(copy[i]))
            n = number_token(copy + i, len - i, &is_int);
        if (n > 0 && number_overflows(copy + i, n, is_int))
            tame_number(copy + i, n, is_int);
        i += n > 0 ? n : 1;
    }
    return copy;
}

/* json_loadb, retried with tamed numbers when the first attempt hit a numeric overflow. */
static json_t *load(const char *buf, size_t len, size_t flags, json_error_t *jerr)
{
    json_t *doc = json_loadb(buf, len, flags, jerr);
    if (doc || json_error_code(jerr) != json_error_numeric_overflow)
        return doc;
    char *copy = tame_numbers(buf, len);
    doc = json_loadb(copy, len, flags, jerr);
    free(copy);
    return doc;
}

/* Checks, in order: empty body, raw NUL byte, nesting depth (one pass over the raw bytes, so
 * no recursion however deep), then jansson (syntax, UTF-8, \u0000, duplicate keys), then the
 * object type. buf need not be NUL-terminated; NULL is fine when len is 0. */
json_t *jsonh_load_body(const char *buf, size_t len, char err[JSONH_ERR_LEN])
{
    json_error_t jerr;
    err[0] = '\0';
    if (len == 0 || only_bytes(buf, len, " \t\n\r")) {
        snprintf(err, JSONH_ERR_LEN, "body is empty");
        return NULL;
    }
    /* jansson skips a raw NUL that follows a number ({"a":1<NUL>} loads), so catch it here */
    const char *nul = memchr(buf, '\0', len);
    if (nul) {
        error_at(buf, (size_t)(nul - buf), "NUL byte", err);
        return NULL;
    }
    size_t at = too_deep_at(buf, len);
    if (at != SIZE_MAX) {
        error_at(buf, at, "nesting deeper than " STR(JSONH_MAX_DEPTH) " levels", err);
        return NULL;
    }
    json_t *doc = load(buf, len, LOAD_FLAGS, &jerr);
    if (!doc) {
        /* jansson's text ends with "near '<token>'", which may be cut short to fit err. */
        snprintf(err, JSONH_ERR_LEN, "line %d, column %d: %.120s", jerr.line, jerr.column,
                 jerr.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        snprintf(err, JSONH_ERR_LEN, "body must be a JSON object");
        return NULL;
    }
    return doc;
}

/* Adds an error for every string under v (at path) that holds a NUL character. */
static void nul_string_errors(json_t *v, const char *path, struct jsonh_errors *e)
{
    if (json_is_string(v)) {
        if (memchr(json_string_value(v), '\0', json_string_length(v)))
            jsonh_errors_add(e, path, "must not contain NUL characters");
    } else if (json_is_object(v)) {
        const char *key;
        json_t *member;
        json_object_foreach(v, key, member)
        {
            char *p = *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
            nul_string_errors(member, p, e);
            free(p);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            char *p = xasprintf("%s[%zu]", path, i);
            nul_string_errors(json_array_get(v, i), p, e);
            free(p);
        }
    }
}

/* The body jsonh_load_body refused again, this time with \u0000 allowed in strings: when that
 * loads an object, the only fault was strings holding NUL, one error each. */
bool jsonh_nul_string_errors(const char *buf, size_t len, struct jsonh_errors *e)
{
    if (len == 0 || memchr(buf, '\0', len) || too_deep_at(buf, len) != SIZE_MAX)
        return false;
    json_error_t jerr;
    json_t *doc = load(buf, len, LOAD_FLAGS | JSON_ALLOW_NUL, &jerr);
    size_t before = error_count(e);
    if (json_is_object(doc))
        nul_string_errors(doc, "", e);
    json_decref(doc);
    return error_count(e) > before;
}

/* ---- checks and builders --------------------------------------------------------------- */

/* The host of the authority auth[0..n): after any "user@", before any ":port". */
static bool host_present(const char *auth, size_t n)
{
    const char *at = memrchr(auth, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    if (n > 0 && auth[0] == '[') {
        const char *close = memchr(auth, ']', n);
        return close && close > auth + 1;
    }
    return n > 0 && auth[0] != ':';
}

const char *jsonh_check_https_url(const json_t *v)
{
    static const char bad[] = "must be an https URL";
    static const char scheme[] = "https://";
    if (!json_is_string(v))
        return bad;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n < sizeof scheme - 1 || memcmp(s, scheme, sizeof scheme - 1) != 0)
        return bad;
    if (utf8_chars(s, n) > URL_MAX_CHARS)
        return bad;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return bad;
    const char *auth = s + sizeof scheme - 1;
    size_t auth_len = strcspn(auth, "/?#");
    return host_present(auth, auth_len) ? NULL : bad;
}

/* New reference: a string holding a copy of s (which must be valid UTF-8), or null. */
json_t *jsonh_string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}
