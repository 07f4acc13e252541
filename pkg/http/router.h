/* router — matches method + path against two route sets (commands and queries).
 *
 * Patterns are literal segments and {name} parameters ("/v1/products/{id}/stock"). A path that
 * matches no pattern is ROUTER_NOT_FOUND; one that matches a pattern but not its method is
 * ROUTER_METHOD_NOT_ALLOWED with the allowed methods listed. Literal segments win over
 * parameters when two patterns could match ("/v1/seller/products" vs "/v1/sellers/{id}"). */
#ifndef HAAT_PKG_HTTP_ROUTER_H
#define HAAT_PKG_HTTP_ROUTER_H

#include <stddef.h>

#include "pkg/http/http.h"

#define ROUTER_MAX_SEGMENT 128

enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED };

struct router_param {
    const char *name; /* borrowed from the pattern, not NUL-terminated: name_len */
    size_t name_len;
    char value[ROUTER_MAX_SEGMENT];
};

struct router_match {
    const struct http_route *route;
    enum http_route_set set;
    size_t nparams;
    struct router_param params[HTTP_MAX_PARAMS];
    char allow[64];      /* "GET, PATCH, DELETE" for ROUTER_METHOD_NOT_ALLOWED */
    const char *pattern; /* the matched pattern, also for ROUTER_METHOD_NOT_ALLOWED */
};

struct router *router_new(void);
void router_free(struct router *r);
/* Adds routes (static data; not copied). Aborts — at start-up, when the tables are built — on
 * a malformed pattern, a duplicate, a body limit above HTTP_MAX_BODY, a GET/HEAD route in the
 * command set or any other method in the query set (queries never write; commands never answer a
 * read). */
void router_add(struct router *r, enum http_route_set set, const struct http_route *routes,
                size_t n);
enum router_result router_match(const struct router *r, const char *method, const char *path,
                                struct router_match *m);
/* Calls fn for every route in registration order. */
void router_foreach(const struct router *r,
                    void (*fn)(const struct http_route *route, enum http_route_set set, void *arg),
                    void *arg);

#endif
