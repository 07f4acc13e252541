/* strbuf — a growable byte string, always NUL-terminated. Caller-owned struct. */
#ifndef HAAT_PKG_UTIL_STRBUF_H
#define HAAT_PKG_UTIL_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *buf; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
};

void strbuf_init(struct strbuf *sb);
void strbuf_cleanup(struct strbuf *sb);
/* Makes room for extra more bytes (plus the NUL) in one allocation of exactly that size when
 * the buffer is empty, so a known final size never costs a doubling. */
void strbuf_reserve(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const char *data, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the buffer to the caller (who frees it) and resets sb. Never NULL. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
