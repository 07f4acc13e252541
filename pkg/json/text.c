/* The one rule for free text people type (names, titles, addresses, reasons, messages). */
#include <stdint.h>
#include <string.h>

#include "pkg/json/jsonh.h"

/* The code point starting at s[*i] (s valid UTF-8, as jansson guarantees); advances *i. */
static uint32_t next_cp(const char *s, size_t n, size_t *i)
{
    unsigned char c = (unsigned char)s[*i];
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t k = 1; k < len && *i + k < n; k++)
        cp = (cp << 6) | ((unsigned char)s[*i + k] & 0x3Fu);
    *i += len;
    return cp;
}

/* C0 controls, DEL and C1 controls (ESC among them, so every ANSI escape sequence). */
static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Bidirectional embeddings and overrides (U+202A..U+202E) and isolates (U+2066..U+2069). */
static bool is_bidi_control(uint32_t cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Whitespace (Unicode White_Space) and the invisible characters that show as nothing. */
static bool is_blank(uint32_t cp)
{
    static const uint32_t one[] = {0x20,   0x85,   0xA0,   0x061C, 0x1680, 0x180E, 0x2028,
                                   0x2029, 0x202F, 0x205F, 0x2060, 0x3000, 0xFEFF};
    if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x2000 && cp <= 0x200F))
        return true;
    for (size_t k = 0; k < sizeof one / sizeof one[0]; k++)
        if (cp == one[k])
            return true;
    return false;
}

bool jsonh_text_blank(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n)
        if (!is_blank(next_cp(s, n, &i)))
            return false;
    return true;
}

/* NULL when v's text passes the rule; keep_lines allows \n and \t. */
static const char *text_rule(const json_t *v, bool keep_lines)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), i = 0;
    if (!s)
        return NULL; /* the type rule reports non-strings */
    while (i < n) {
        uint32_t cp = next_cp(s, n, &i);
        if (is_control(cp) && !(keep_lines && (cp == '\n' || cp == '\t')))
            return "must not contain control characters";
        if (is_bidi_control(cp))
            return "must not contain bidirectional control characters";
    }
    return n > 0 && jsonh_text_blank(s, n) ? "must not be blank" : NULL;
}

const char *jsonh_check_plain_text(const json_t *v)
{
    return text_rule(v, false);
}

const char *jsonh_check_multiline_text(const json_t *v)
{
    return text_rule(v, true);
}
