/* harness — small utilities, start-up, failure reports and JWT forging (see harness.h). */
#include "tests/integration/harness_internal.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

/* ---- small utilities ------------------------------------------------------------------------- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

char *hi_xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

char *hi_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

void hi_buf_add(struct hi_buf *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

char *hi_buf_take(struct hi_buf *b, size_t *len)
{
    if (!b->p)
        hi_buf_add(b, "", 0);
    char *p = b->p;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}

long long h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

const char *h_test_name(void)
{
    return program_invocation_short_name;
}

char *h_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct hi_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        hi_buf_add(&b, chunk, n);
    fclose(f);
    return hi_buf_take(&b, len);
}

size_t h_count_lines_with(const char *text, const char *needle)
{
    size_t count = 0;
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (memmem(line, n, needle, strlen(needle)))
            count++;
        line = nl ? nl + 1 : NULL;
    }
    return count;
}

void hi_mkdir_p(const char *path)
{
    char tmp[H_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

void hi_fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("ERROR: %s\n", msg);
    _fail(file, line);
    abort(); /* _fail longjmps out of the test; not reached */
}

void hi_print_tail(const char *path, int n)
{
    size_t len = 0;
    char *text = h_read_file(path, &len);
    if (!text) {
        print_error("harness: (no log at %s)\n", path);
        return;
    }
    const char *start = text + len;
    int lines = 0;
    while (start > text && lines <= n) {
        start--;
        if (*start == '\n' && start + 1 < text + len)
            lines++;
    }
    if (lines > n)
        start++;
    print_error("harness: log %s (last %d lines):\n%s%s", path, n, start,
                len && text[len - 1] != '\n' ? "\n" : "");
    free(text);
}

/* ---- start-up -------------------------------------------------------------------------------- */

static void init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_ALL) != 0 || sodium_init() < 0)
        abort();
    hi_http_init();
    signal(SIGPIPE, SIG_IGN);
    atexit(hi_cleanup_at_exit);
}

void hi_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}

/* ---- JWT ------------------------------------------------------------------------------------- */

static char *b64url(const void *data, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = xmalloc(cap);
    sodium_bin2base64(out, cap, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

char *h_jwt_sign(const char *header_json, const char *claims_json, const char *secret)
{
    hi_init();
    char *h = b64url(header_json, strlen(header_json));
    char *c = b64url(claims_json, strlen(claims_json));
    char *signing = hi_xasprintf("%s.%s", h, c);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)signing, strlen(signing));
    crypto_auth_hmacsha256_final(&st, mac);
    char *sig = b64url(mac, sizeof mac);
    char *jwt = hi_xasprintf("%s.%s", signing, sig);
    free(h);
    free(c);
    free(signing);
    free(sig);
    return jwt;
}
