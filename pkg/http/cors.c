/* CORS: which browser origins may read the API's answers, preflights, and OPTIONS.
 *
 * The policy is a list of exact origins and, optionally, "*". An exact origin may call every
 * route, with a bearer token. "*" covers only what needs no credentials: the public reads
 * (query routes whose auth kind is HTTP_AUTH_NONE: listings, product pages, the docs) and the
 * answers for unknown paths; a wildcard preflight never lists Authorization among the allowed
 * headers, so a page on an unlisted origin cannot send a token anywhere. Commands (login,
 * signup, ...) need an exact origin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/http/internal.h"
#include "pkg/util/xalloc.h"

#define ALLOW_HEADERS_PUBLIC                                                              \
    "Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Request-ID, traceparent, " \
    "X-Haat-Consistency"
#define ALLOW_HEADERS "Authorization, " ALLOW_HEADERS_PUBLIC
#define EXPOSE_HEADERS \
    "ETag, Location, X-Request-ID, Retry-After, Idempotent-Replayed, X-Haat-Consistency"
/* Chromium caps a preflight's lifetime at 2 h; Firefox at 24 h. */
#define MAX_AGE "7200"

void cors_init(struct cors_policy *p, const char *list)
{
    memset(p, 0, sizeof *p);
    for (const char *s = list ? list : ""; *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t n = strcspn(s, ", ");
        if (n == 1 && *s == '*') {
            p->any = true;
        } else if (n) {
            p->origins = xrealloc(p->origins, (p->n + 1) * sizeof *p->origins);
            p->origins[p->n++] = xstrndup(s, n);
        }
        s += n;
    }
}

void cors_cleanup(struct cors_policy *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->origins[i]);
    free(p->origins);
    memset(p, 0, sizeof *p);
}

bool cors_enabled(const struct cors_policy *p)
{
    return p->any || p->n > 0;
}

static bool public_read(const struct http_route *route, enum http_route_set set)
{
    return !route || (route->auth == HTTP_AUTH_NONE && set == HTTP_QUERIES);
}

/* The Access-Control-Allow-Origin value for origin on route (NULL: no route), or NULL when
 * that origin may not read the answer. Origins compare without regard to case (scheme and
 * host are case-insensitive; browsers send them in lower case). */
static const char *allowed_origin(const struct cors_policy *p, const char *origin,
                                  const struct http_route *route, enum http_route_set set)
{
    if (!origin || !*origin)
        return NULL;
    for (size_t i = 0; i < p->n; i++)
        if (strcasecmp(p->origins[i], origin) == 0)
            return origin;
    return p->any && public_read(route, set) ? "*" : NULL;
}

void cors_reply_options(struct http_req *r)
{
    char allow[sizeof r->match.allow + 16];
    snprintf(allow, sizeof allow, "%s, OPTIONS", r->match.allow);
    http_set_header(r, "Allow", allow);
    const char *want = http_req_header(r, "Access-Control-Request-Method");
    r->cors_preflight = r->origin && want;
    if (r->cors_preflight) {
        struct router_match m;
        bool found = router_match(r->srv->router, want, r->path, &m) == ROUTER_FOUND;
        r->cors_origin = allowed_origin(&r->srv->cors, r->origin, found ? m.route : NULL, m.set);
    }
    http_reply_status(r, 204);
}

void cors_add_headers(const struct http_req *r, struct MHD_Response *resp)
{
    const struct cors_policy *p = &r->srv->cors;
    if (!cors_enabled(p))
        return;
    const char *origin =
        r->cors_preflight ? r->cors_origin : allowed_origin(p, r->origin, r->route, r->match.set);
    if (!origin)
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
    if (!r->cors_preflight) {
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", EXPOSE_HEADERS);
        return;
    }
    char methods[sizeof r->match.allow + 16];
    snprintf(methods, sizeof methods, "%s, OPTIONS", r->match.allow);
    MHD_add_response_header(resp, "Access-Control-Allow-Methods", methods);
    MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                            strcmp(origin, "*") == 0 ? ALLOW_HEADERS_PUBLIC : ALLOW_HEADERS);
    MHD_add_response_header(resp, "Access-Control-Max-Age", MAX_AGE);
}
