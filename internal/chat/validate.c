/* The chat's input checks and text helpers. Pure. */
#include <string.h>

#include "internal/chat/internal.h"
#include "pkg/util/xalloc.h"

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *chat_trim(const char *s)
{
    while (is_space((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space((unsigned char)s[n - 1]))
        n--;
    return xstrndup(s, n);
}

/* UTF-8 code points in s[0, n) (continuation bytes are not counted). */
static size_t chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* The characters of v after trimming, or -1 when v is not a string. */
static long trimmed_chars(const json_t *v)
{
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    while (is_space((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space((unsigned char)s[n - 1]))
        n--;
    return (long)chars(s, n);
}

const char *chat_check_body(const json_t *v)
{
    long n = trimmed_chars(v);
    if (n < 1 || n > CHAT_BODY_MAX_CHARS)
        return "must be 1 to 4000 characters (after trimming)";
    return jsonh_check_multiline_text(v);
}

const char *chat_check_reason(const json_t *v)
{
    long n = trimmed_chars(v);
    if (n < 1 || n > CHAT_REASON_MAX_CHARS)
        return "must be 1 to 1000 characters (after trimming)";
    return jsonh_check_plain_text(v);
}

const char *chat_check_uuid(const json_t *v)
{
    return json_is_string(v) && ids_is_uuid(json_string_value(v)) ? NULL : "must be an id";
}

char *chat_preview(const char *s, size_t max)
{
    size_t i = 0, k = 0;
    while (s[i] && k < max) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        k++;
    }
    if (!s[i])
        return xstrdup(s);
    char *out = xmalloc(i + 4);
    memcpy(out, s, i);
    memcpy(out + i, "\xE2\x80\xA6", 4); /* … and the NUL */
    return out;
}
