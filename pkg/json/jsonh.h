/* jsonh — declarative request-body parsing and validation over jansson.
 *
 * A handler declares its body as a table of struct jsonh_field and calls jsonh_parse(), which
 * checks every field (type, required, bounds, allowed values, custom check), records one error
 * per failing field with its path ("payout.upi_vpa", "items[0].quantity", "images[2]"), and
 * stores the decoded values into the handler's struct at each field's offset.
 *
 * Types are strict: an integer field accepts only a JSON integer within int64 (1.5, "3", true
 * and null are errors, never coerced). Unknown members are ignored. Strings are borrowed from
 * the json_t they came from: they live as long as that document. */
#ifndef HAAT_PKG_JSON_JSONH_H
#define HAAT_PKG_JSON_JSONH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONH_MAX_DEPTH 32
#define JSONH_ERR_LEN   160

enum jsonh_type {
    JSONH_STRING, /* stored as const char * (borrowed); NULL when absent */
    JSONH_INT,    /* stored as int64_t; left untouched when absent */
    JSONH_BOOL,   /* stored as bool; left untouched when absent */
    JSONH_OBJECT, /* validated against .fields and decoded into the struct at .offset */
    JSONH_ARRAY,  /* stored as const json_t * (borrowed); every item validated against .item */
    JSONH_ANY,    /* stored as const json_t * (borrowed); no type check */
};

enum jsonh_flags {
    JSONH_REQUIRED = 1u << 0, /* absent -> "is required" */
    JSONH_NULLABLE =
        1u << 1, /* explicit null is accepted (treated as absent, but marked present) */
    JSONH_NOT_BLANK = 1u << 2, /* STRING: must contain a non-space character */
};

/* A custom check: return NULL when v is fine, else a static message ("must be an https URL"). */
typedef const char *(*jsonh_check_fn)(const json_t *v);

struct jsonh_field {
    const char *name; /* member name; NULL terminates a table */
    enum jsonh_type type;
    unsigned flags;
    /* Bounds, inclusive, applied when min < max or min == max != 0:
     * STRING: length in characters (UTF-8 code points); INT: value; ARRAY: item count. */
    int64_t min, max;
    const char *const *one_of;        /* STRING: allowed values, NULL-terminated (or NULL) */
    jsonh_check_fn check;             /* optional, runs after the built-in checks pass */
    size_t offset;                    /* where the value goes in the output struct */
    const struct jsonh_field *fields; /* OBJECT: member table */
    const struct jsonh_field *item;   /* ARRAY: one field describing every item (name unused) */
};

/* Accumulated validation errors: a JSON array of {"field","message"}. Caller-owned struct. */
struct jsonh_errors {
    json_t *list; /* owned, new reference */
};

void jsonh_errors_init(struct jsonh_errors *e);
void jsonh_errors_cleanup(struct jsonh_errors *e);
void jsonh_errors_add(struct jsonh_errors *e, const char *field, const char *message);
bool jsonh_errors_any(const struct jsonh_errors *e);

/* Validates obj against fields and decodes into out. Returns a bitmask of the fields present
 * in obj (bit i = fields[i]; tables hold at most 64 fields), errors go to e. Decoding happens
 * only for fields that passed, so check jsonh_errors_any() before using out. prefix is the
 * path of obj itself ("" or NULL at the top). */
uint64_t jsonh_parse(const json_t *obj, const struct jsonh_field *fields, void *out,
                     struct jsonh_errors *e, const char *prefix);

/* Parses a request body: must be a JSON object, nesting <= JSONH_MAX_DEPTH, valid UTF-8, no
 * NUL in strings. Returns a new reference, or NULL with err saying what and where
 * ("line 1, column 9: unexpected token"). */
json_t *jsonh_load_body(const char *buf, size_t len, char err[JSONH_ERR_LEN]);
/* For a body jsonh_load_body refused: true when it is otherwise a valid object and its only
 * fault is string values holding NUL (\u0000); each such string is then added to e under its
 * path ("name", "items[0].note") as "must not contain NUL characters". */
bool jsonh_nul_string_errors(const char *buf, size_t len, struct jsonh_errors *e);

/* Common custom checks. */
const char *jsonh_check_https_url(const json_t *v); /* https://host/..., no spaces */
/* Free text (text.c): no control characters (C0, DEL, C1; so no ANSI escapes), no
 * bidirectional embedding, override or isolate controls (U+202A..U+202E, U+2066..U+2069), and
 * not only whitespace or invisible characters ("" passes: bounds and JSONH_NOT_BLANK decide). */
const char *jsonh_check_plain_text(const json_t *v);
/* The same rule, but line feeds and tabs are allowed (message bodies, descriptions). */
const char *jsonh_check_multiline_text(const json_t *v);
/* True when s[0..n) holds only whitespace or invisible characters (true for n == 0): what
 * JSONH_NOT_BLANK refuses. */
bool jsonh_text_blank(const char *s, size_t n);

/* Helpers for building responses: a json string or null. */
json_t *jsonh_string_or_null(const char *s);

#endif
