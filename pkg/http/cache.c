/* HTTP caching: Cache-Control by what the answer holds, ETags and 304 for every read.
 *
 * Cache-Control, unless the handler set one:
 * - routes flagged HTTP_NO_STORE (tokens, codes, account and payout data): "no-store", on
 *   every answer;
 * - other reads (GET/HEAD) answered 200 or 304: "private, no-cache" when the route needs a
 *   token, "no-cache" for the public ones (listings, product pages): any cache may keep them
 *   but must revalidate with the ETag;
 * - other read answers (errors): "no-store";
 * - commands: nothing (their answers are not cacheable anyway).
 * Every 200 to a read carries an ETag: the handler's (a resource version) or W/"<hash of the
 * body>". When If-None-Match names it (weak comparison, or "*"), the answer becomes a 304 with
 * the same headers and no body; libmicrohttpd then sends the Content-Length of the body that
 * a 200 would have had, which RFC 9110 allows (never a misleading "Content-Length: 0"). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pkg/http/internal.h"

static bool is_read(const struct http_req *r)
{
    return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
}

/* FNV-1a, 64 bits: a validator for one URL's successive bodies, not a security measure. */
static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3u;
    return h;
}

/* Whether the If-None-Match list names etag (W/ prefixes ignored on both sides). */
static bool none_match_hit(const char *inm, const char *etag)
{
    if (strncmp(etag, "W/", 2) == 0)
        etag += 2;
    size_t n = strlen(etag);
    for (const char *p = inm; p && *p;) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static const char *cache_control(const struct http_req *r, int status)
{
    if (r->route && (r->route->flags & HTTP_NO_STORE))
        return "no-store";
    if (!is_read(r))
        return NULL;
    if (status != 200 && status != 304)
        return "no-store";
    return r->route && r->route->auth != HTTP_AUTH_NONE ? "private, no-cache" : "no-cache";
}

int cache_prepare(struct http_req *r, int status, const char *body, size_t len,
                  char etag[CACHE_ETAG_LEN])
{
    etag[0] = '\0';
    if (is_read(r) && status == 200 && !reply_header(r, "ETag")) {
        snprintf(etag, CACHE_ETAG_LEN, "W/\"%016llx\"", (unsigned long long)fnv1a(body, len));
    }
    const char *tag = etag[0] ? etag : reply_header(r, "ETag");
    if (is_read(r) && status == 200 && tag &&
        none_match_hit(http_req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH), tag))
        return 304;
    return status;
}

void cache_add_headers(const struct http_req *r, struct MHD_Response *resp, int status,
                       const char *etag)
{
    if (etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    const char *cc = reply_header(r, "Cache-Control") ? NULL : cache_control(r, status);
    if (cc)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
}
