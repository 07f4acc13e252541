/* RFC 5322 / MIME message building for the SMTP provider: headers (RFC 2047 encoded words
 * for non-ASCII text), quoted-printable bodies, CRLF line ends. Pure functions. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal/notification/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

#define QP_LINE  76
#define WORD_MAX 75 /* RFC 2047: an encoded word is at most 75 characters */

static bool plain_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* Bytes of the UTF-8 sequence starting with c (1 for stray continuation bytes). */
static size_t utf8_seq_len(unsigned char c)
{
    return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

char *notify_mail_encode_header(const char *s)
{
    if (plain_ascii(s))
        return xstrdup(s);
    /* "=?UTF-8?B?" + base64 + "?=": 12 characters of frame, so 63 of base64 (a multiple of 4
     * below that: 60), i.e. 45 bytes of text per word, never splitting a character. */
    const size_t max_bytes = 45;
    struct strbuf sb;
    strbuf_init(&sb);
    size_t len = strlen(s), i = 0;
    while (i < len) {
        size_t take = 0;
        while (i + take < len) {
            size_t n = utf8_seq_len((unsigned char)s[i + take]);
            if (take + n > max_bytes || i + take + n > len)
                break;
            take += n;
        }
        if (take == 0)
            take = 1; /* a broken tail byte: encode it alone */
        char b64[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s + i, take,
                          sodium_base64_VARIANT_ORIGINAL);
        if (sb.len)
            strbuf_puts(&sb, "\r\n ");
        strbuf_printf(&sb, "=?UTF-8?B?%s?=", b64);
        i += take;
    }
    return strbuf_detach(&sb, NULL);
}

/* Appends a QP line piece, breaking softly ("=" CRLF) before the line exceeds 76. */
static void qp_put(struct strbuf *sb, size_t *col, const char *piece, size_t n)
{
    if (*col + n > QP_LINE - 1) { /* keep room for the soft break's "=" */
        strbuf_puts(sb, "=\r\n");
        *col = 0;
    }
    strbuf_append(sb, piece, n);
    *col += n;
}

char *notify_mail_qp(const char *s)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "", 0);
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n') {
            strbuf_puts(&sb, "\r\n");
            col = 0;
            continue;
        }
        bool at_eol = p[1] == '\n' || p[1] == '\0' || (p[1] == '\r' && p[2] == '\n');
        bool literal =
            (*p >= 33 && *p <= 126 && *p != '=') || ((*p == ' ' || *p == '\t') && !at_eol);
        /* A leading '.' is encoded so no line can end the SMTP DATA early. */
        if (*p == '.' && col == 0)
            literal = false;
        char enc[4];
        if (literal) {
            qp_put(&sb, &col, (const char *)p, 1);
        } else {
            snprintf(enc, sizeof enc, "=%02X", *p);
            qp_put(&sb, &col, enc, 3);
        }
    }
    return strbuf_detach(&sb, NULL);
}

void notify_mail_date(int64_t unix_s, char out[40])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *notify_mail_addr(const char *from)
{
    if (!from)
        return NULL;
    const char *lt = strrchr(from, '<');
    if (!lt)
        return notify_mail_addr_ok(from) ? xstrdup(from) : NULL;
    const char *gt = strchr(lt, '>');
    if (!gt)
        return NULL;
    char *a = xstrndup(lt + 1, (size_t)(gt - lt - 1));
    if (!notify_mail_addr_ok(a)) {
        free(a);
        return NULL;
    }
    return a;
}

bool notify_mail_addr_ok(const char *a)
{
    size_t len = a ? strlen(a) : 0;
    const char *at = a ? strrchr(a, '@') : NULL;
    if (len < 3 || len > 254 || !at || at == a || !at[1])
        return false;
    for (const char *p = a; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("<>()[],;:\"\\", *p))
            return false;
    return true;
}

/* The display name as a header phrase: an encoded word when not ASCII, else quoted. */
static void put_phrase(struct strbuf *sb, const char *name)
{
    if (!plain_ascii(name)) {
        char *enc = notify_mail_encode_header(name);
        strbuf_puts(sb, enc);
        free(enc);
        return;
    }
    strbuf_puts(sb, "\"");
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            strbuf_puts(sb, "\\");
        strbuf_append(sb, p, 1);
    }
    strbuf_puts(sb, "\"");
}

/* From as configured, when it is a clean "Name <addr>" or address; else the bare address. */
static void put_from(struct strbuf *sb, const char *from, const char *addr)
{
    const char *lt = strrchr(from, '<');
    size_t nlen = lt ? (size_t)(lt - from) : 0;
    while (nlen > 0 && from[nlen - 1] == ' ')
        nlen--;
    if (nlen == 0) {
        strbuf_printf(sb, "From: <%s>\r\n", addr);
        return;
    }
    char *name = xstrndup(from, nlen);
    if (name[0] == '"' && nlen >= 2 && name[nlen - 1] == '"') {
        memmove(name, name + 1, nlen - 2);
        name[nlen - 2] = '\0';
    }
    strbuf_puts(sb, "From: ");
    put_phrase(sb, name);
    strbuf_printf(sb, " <%s>\r\n", addr);
    free(name);
}

static bool body_is_7bit(const char *s)
{
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x80 || (*p < 0x20 && *p != '\n' && *p != '\t') || (*p == '.' && col == 0))
            return false;
        col = *p == '\n' ? 0 : col + 1;
        if (col > 900)
            return false;
    }
    return true;
}

char *notify_mail_build(const struct notify_mail *m, size_t *len)
{
    struct strbuf sb;
    strbuf_init(&sb);
    char date[40];
    notify_mail_date(m->unix_s, date);
    char *from_addr = notify_mail_addr(m->from);
    const char *fa = from_addr ? from_addr : "no-reply@localhost";
    const char *domain = strrchr(fa, '@') + 1;
    strbuf_printf(&sb, "Date: %s\r\n", date);
    put_from(&sb, m->from, fa);
    strbuf_puts(&sb, "To: ");
    if (m->to_name && *m->to_name) {
        put_phrase(&sb, m->to_name);
        strbuf_printf(&sb, " <%s>\r\n", m->to);
    } else {
        strbuf_printf(&sb, "<%s>\r\n", m->to);
    }
    char *subject = notify_mail_encode_header(m->subject);
    strbuf_printf(&sb, "Subject: %s\r\n", subject);
    free(subject);
    strbuf_printf(&sb, "Message-ID: <%s@%s>\r\n", m->id, domain);
    char tp[LOG_TRACEPARENT_LEN];
    if (log_traceparent(tp)) /* the trace of the work that sends it, for the mail provider */
        strbuf_printf(&sb, "traceparent: %s\r\n", tp);
    strbuf_puts(&sb, "MIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=UTF-8\r\n"
                     "Auto-Submitted: auto-generated\r\n");
    if (body_is_7bit(m->body)) {
        strbuf_puts(&sb, "Content-Transfer-Encoding: 7bit\r\n\r\n");
        for (const char *p = m->body; *p; p++) {
            if (*p == '\n')
                strbuf_puts(&sb, "\r\n");
            else
                strbuf_append(&sb, p, 1);
        }
    } else {
        char *qp = notify_mail_qp(m->body);
        strbuf_puts(&sb, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        strbuf_puts(&sb, qp);
        free(qp);
    }
    strbuf_puts(&sb, "\r\n");
    free(from_addr);
    return strbuf_detach(&sb, len);
}
