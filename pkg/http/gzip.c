/* Response compression: gzip for JSON, problem+json and the docs assets, when the client
 * accepts it and the body is at least HTTP_GZIP_MIN bytes. Never for text/event-stream (each
 * event must reach the client when it is written). Bodies that live for the whole program
 * (http_reply_static: the OpenAPI document, the Redoc bundle) are compressed once and kept. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "pkg/http/internal.h"
#include "pkg/util/xalloc.h"

#define STATIC_CACHE 8

struct gz_cached {
    const void *body; /* the static body, the cache key */
    size_t len;
    char *gz; /* owned for the life of the program */
    size_t gz_len;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gz_cached cache[STATIC_CACHE];
static size_t ncached;

bool gzip_type(const char *ctype)
{
    static const char *const types[] = {"application/json", "application/problem+json",
                                        "application/javascript", "text/html", "text/plain"};
    if (!ctype)
        return false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t n = strlen(types[i]);
        if (strncasecmp(ctype, types[i], n) == 0 && (ctype[n] == '\0' || ctype[n] == ';'))
            return true;
    }
    return false;
}

/* Whether Accept-Encoding names gzip (or "*") with a q-value above 0. */
bool gzip_accepted(const char *accept)
{
    for (const char *p = accept; p && *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ";, \t");
        bool named = (n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*');
        const char *end = p + strcspn(p, ",");
        const char *q = strstr(p, "q=");
        bool zero = q && q < end && strtod(q + 2, NULL) <= 0;
        if (named && !zero)
            return true;
        p = end;
    }
    return false;
}

/* gzip of body into a new malloc'd buffer (*out_len), or NULL when zlib fails or the result
 * would not be smaller. */
static char *deflate_gzip(const char *body, size_t len, size_t *out_len)
{
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, (uLong)len);
    char *out = xmalloc(cap);
    z.next_in = (Bytef *)(uintptr_t)body;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || *out_len >= len) {
        free(out);
        return NULL;
    }
    return out;
}

static const struct gz_cached *cached_static(const char *body, size_t len)
{
    const struct gz_cached *hit = NULL;
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < ncached && !hit; i++)
        if (cache[i].body == body && cache[i].len == len)
            hit = &cache[i];
    if (!hit && ncached < STATIC_CACHE) {
        size_t gz_len = 0;
        char *gz = deflate_gzip(body, len, &gz_len);
        if (gz) {
            cache[ncached] = (struct gz_cached){body, len, gz, gz_len};
            hit = &cache[ncached++];
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

bool gzip_body(const char **body, size_t *len, enum MHD_ResponseMemoryMode *mem)
{
    if (*mem == MHD_RESPMEM_PERSISTENT) {
        const struct gz_cached *c = cached_static(*body, *len);
        if (!c)
            return false;
        *body = c->gz;
        *len = c->gz_len;
        return true;
    }
    size_t gz_len = 0;
    char *gz = deflate_gzip(*body, *len, &gz_len);
    if (!gz)
        return false;
    if (*mem == MHD_RESPMEM_MUST_FREE)
        free((void *)(uintptr_t)*body);
    *body = gz;
    *len = gz_len;
    *mem = MHD_RESPMEM_MUST_FREE;
    return true;
}
