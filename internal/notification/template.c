/* Templates: "{{name}}" and "{{ name | filter }}" placeholders over literal UTF-8 text.
 * Parsing and checking happen once at start-up; rendering never meets an unknown name. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/notification/internal.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

#define MAX_NAME    64
#define SHORT_CHARS 8 /* {{order_id|short}}: the first 8 characters, enough to tell ids apart */

static const char *const filter_names[] = {"", "rupees", "short", "yesno"};
#define N_FILTERS (sizeof filter_names / sizeof filter_names[0])

static const char *filter_name(enum tpl_filter f)
{
    return (unsigned)f < N_FILTERS ? filter_names[f] : "?";
}

static void add_seg(struct tpl *t, const char *text, size_t len, char *var, enum tpl_filter f)
{
    t->segs = xrealloc(t->segs, (t->n + 1) * sizeof *t->segs);
    struct tpl_seg *s = &t->segs[t->n++];
    s->text = NULL;
    if (!var) { /* exactly len bytes: a NUL inside the text must not shorten the copy */
        s->text = xmalloc(len + 1);
        memcpy(s->text, text, len);
        s->text[len] = '\0';
    }
    s->len = var ? 0 : len;
    s->var = var;
    s->filter = f;
}

static int line_of(const char *src, const char *at)
{
    int line = 1;
    for (const char *p = src; p < at; p++)
        line += *p == '\n';
    return line;
}

/* Reads [a-z0-9_]+ at *p (after spaces) into out. Returns its length (0: none). */
static size_t read_word(const char **p, const char *end, char out[MAX_NAME])
{
    while (*p < end && **p == ' ')
        (*p)++;
    size_t n = 0;
    while (*p < end && (islower((unsigned char)**p) || isdigit((unsigned char)**p) || **p == '_')) {
        if (n + 1 < MAX_NAME)
            out[n] = **p;
        n++;
        (*p)++;
    }
    out[n < MAX_NAME ? n : MAX_NAME - 1] = '\0';
    while (*p < end && **p == ' ')
        (*p)++;
    return n;
}

static int parse_filter(const char *name, enum tpl_filter *f)
{
    for (size_t i = 1; i < N_FILTERS; i++) {
        if (strcmp(name, filter_names[i]) == 0) {
            *f = (enum tpl_filter)i;
            return 0;
        }
    }
    return -1;
}

/* Parses the inside of one placeholder, [open+2, close). */
static int parse_placeholder(struct tpl *t, const char *src, const char *open, const char *close,
                             char *err, size_t errlen)
{
    const char *p = open + 2;
    char name[MAX_NAME], fname[MAX_NAME];
    enum tpl_filter f = TPL_F_NONE;
    size_t n = read_word(&p, close, name);
    if (n == 0 || n >= MAX_NAME) {
        snprintf(err, errlen, "line %d: a placeholder needs a name of [a-z0-9_] characters",
                 line_of(src, open));
        return -1;
    }
    if (p < close && *p == '|') {
        p++;
        if (read_word(&p, close, fname) == 0 || parse_filter(fname, &f) != 0) {
            snprintf(err, errlen, "line %d: unknown filter in {{%s|...}} (rupees, short, yesno)",
                     line_of(src, open), name);
            return -1;
        }
    }
    if (p != close) {
        snprintf(err, errlen, "line %d: unexpected character '%c' in {{%s}}", line_of(src, open),
                 *p, name);
        return -1;
    }
    add_seg(t, NULL, 0, xstrdup(name), f);
    return 0;
}

int notify_tpl_parse(struct tpl *t, const char *src, size_t len, char *err, size_t errlen)
{
    const char *p = src, *end = src + len;
    t->segs = NULL;
    t->n = 0;
    while (p < end) {
        const char *open = memmem(p, (size_t)(end - p), "{{", 2);
        const char *lit_end = open ? open : end;
        const char *stray = memmem(p, (size_t)(lit_end - p), "}}", 2);
        if (stray) {
            snprintf(err, errlen, "line %d: '}}' without '{{'", line_of(src, stray));
            return -1;
        }
        if (lit_end > p)
            add_seg(t, p, (size_t)(lit_end - p), NULL, TPL_F_NONE);
        if (!open)
            break;
        const char *close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
        const char *nl = memchr(open, '\n', (size_t)(end - open));
        if (!close || (nl && nl < close)) {
            snprintf(err, errlen, "line %d: unterminated '{{'", line_of(src, open));
            return -1;
        }
        if (parse_placeholder(t, src, open, close, err, errlen) != 0)
            return -1;
        p = close + 2;
    }
    return 0;
}

void notify_tpl_free(struct tpl *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->segs[i].text);
        free(t->segs[i].var);
    }
    free(t->segs);
    t->segs = NULL;
    t->n = 0;
}

bool notify_tpl_uses(const struct tpl *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->segs[i].var && strcmp(t->segs[i].var, name) == 0)
            return true;
    return false;
}

static const struct nf_field *find_field(const struct nf_field *const *sets, const char *name)
{
    for (; *sets; sets++)
        for (const struct nf_field *f = *sets; f->name; f++)
            if (strcmp(f->name, name) == 0)
                return f;
    return NULL;
}

/* Why filter f cannot render a field of type ty, or NULL when it can. */
static const char *filter_misfit(enum tpl_filter f, enum nf_type ty)
{
    switch (f) {
    case TPL_F_NONE:
        return ty == NF_MONEY ? "a money field must be rendered with |rupees" : NULL;
    case TPL_F_RUPEES:
        return ty == NF_MONEY || ty == NF_INT ? NULL : "|rupees needs an integer field";
    case TPL_F_SHORT:
        return ty == NF_STR || ty == NF_UUID ? NULL : "|short needs a string field";
    case TPL_F_YESNO:
        return ty == NF_BOOL ? NULL : "|yesno needs a boolean field";
    }
    return "unknown filter";
}

int notify_tpl_check(const struct tpl *t, const struct nf_field *const *sets, char *err,
                     size_t errlen)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct tpl_seg *s = &t->segs[i];
        if (!s->var)
            continue;
        const struct nf_field *f = find_field(sets, s->var);
        if (!f) {
            snprintf(err, errlen, "placeholder {{%s}} is not a field of this event", s->var);
            return -1;
        }
        const char *why = filter_misfit(s->filter, f->type);
        if (why) {
            snprintf(err, errlen, "placeholder {{%s}}: %s", s->var, why);
            return -1;
        }
    }
    return 0;
}

void notify_rupees(int64_t minor, char out[NOTIFY_RUPEES_LEN])
{
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    uint64_t rupees = mag / 100;
    unsigned paise = (unsigned)(mag % 100);
    char digits[24], grouped[40];
    int nd = snprintf(digits, sizeof digits, "%" PRIu64, rupees);
    /* Indian grouping: the last three digits, then groups of two (12,34,56,789). */
    size_t g = 0;
    for (int i = 0; i < nd; i++) {
        int left = nd - i; /* digits from here to the end */
        if (i > 0 && (left == 3 || (left > 3 && (left - 3) % 2 == 0)))
            grouped[g++] = ',';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    snprintf(out, NOTIFY_RUPEES_LEN, "%s\u20b9%s.%02u", minor < 0 ? "-" : "", grouped, paise);
}

/* Appends s, dropping control characters other than \n and \t (all of them, and turning line
 * breaks into spaces, when one_line). Invalid UTF-8 is kept as is: it came from jansson,
 * which only hands out valid UTF-8. */
static void append_clean(struct strbuf *sb, const char *s, size_t len, bool one_line)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            if (one_line && (c == '\n' || c == '\t'))
                strbuf_append(sb, " ", 1);
            else if (!one_line && (c == '\n' || c == '\t'))
                strbuf_append(sb, (const char *)&s[i], 1);
            continue;
        }
        strbuf_append(sb, (const char *)&s[i], 1);
    }
}

/* Bytes of the first n UTF-8 characters of s. */
static size_t prefix_chars(const char *s, size_t n)
{
    size_t i = 0;
    while (s[i] && n > 0) {
        i++;
        while (((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
        n--;
    }
    return i;
}

static const struct nf_field *field_in(const struct nf_field *fields, const char *name)
{
    for (const struct nf_field *f = fields; f && f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* Renders one value with its filter. Returns 0, or -1 with err. */
static int render_value(struct strbuf *sb, const struct tpl_seg *s, const json_t *v, bool one_line,
                        char *err, size_t errlen)
{
    char buf[NOTIFY_RUPEES_LEN];
    switch (s->filter) {
    case TPL_F_RUPEES:
        if (!json_is_integer(v))
            break;
        notify_rupees((int64_t)json_integer_value(v), buf);
        strbuf_puts(sb, buf);
        return 0;
    case TPL_F_YESNO:
        if (!json_is_boolean(v))
            break;
        strbuf_puts(sb, json_is_true(v) ? "yes" : "no");
        return 0;
    case TPL_F_SHORT:
        if (!json_is_string(v))
            break;
        append_clean(sb, json_string_value(v), prefix_chars(json_string_value(v), SHORT_CHARS),
                     one_line);
        return 0;
    case TPL_F_NONE:
        if (json_is_string(v)) {
            append_clean(sb, json_string_value(v), json_string_length(v), one_line);
            return 0;
        }
        if (json_is_integer(v)) {
            strbuf_printf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            return 0;
        }
        if (json_is_boolean(v)) {
            strbuf_puts(sb, json_is_true(v) ? "true" : "false");
            return 0;
        }
        break;
    }
    snprintf(err, errlen, "field %s has the wrong type for {{%s%s%s}}", s->var, s->var,
             s->filter ? "|" : "", filter_name(s->filter));
    return -1;
}

char *notify_tpl_render(const struct tpl *t, const json_t *vars, unsigned flags,
                        const struct nf_field *fields, char *err, size_t errlen)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "", 0);
    bool one_line = flags & TPL_ONE_LINE;
    for (size_t i = 0; i < t->n; i++) {
        const struct tpl_seg *s = &t->segs[i];
        if (!s->var) {
            strbuf_append(&sb, s->text, s->len);
            continue;
        }
        const json_t *v = json_object_get(vars, s->var);
        if (!v || json_is_null(v)) {
            const struct nf_field *f = field_in(fields, s->var);
            if (f && (f->flags & NF_OPTIONAL))
                continue;
            snprintf(err, errlen, "field %s is missing", s->var);
            strbuf_cleanup(&sb);
            return NULL;
        }
        if (render_value(&sb, s, v, one_line, err, errlen) != 0) {
            strbuf_cleanup(&sb);
            return NULL;
        }
    }
    return strbuf_detach(&sb, NULL);
}
