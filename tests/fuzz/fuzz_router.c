/* libFuzzer target: the router's path matching. Input: "<METHOD> <path>" (split at the first
 * space; no space: the whole input is the path of a GET). Invariants checked: a match names a
 * route of the table, its parameters are NUL-terminated and shorter than a segment, and a 405
 * lists at least one allowed method. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/http/router.h"

static void nop(struct http_req *r)
{
    (void)r;
}

static const struct http_route queries[] = {
    {"GET", "/v1/products", nop, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/v1/products/{id}", nop, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/v1/products/{id}/stock/movements", nop, HTTP_AUTH_SELLER, 0, 0},
    {"GET", "/v1/seller/products", nop, HTTP_AUTH_SELLER, 0, 0},
    {"GET", "/v1/sellers/{id}", nop, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/v1/conversations/{cid}/messages/{mid}", nop, HTTP_AUTH_USER, 0, 0},
    {"GET", "/healthz", nop, HTTP_AUTH_NONE, 0, 0},
};

static const struct http_route commands[] = {
    {"POST", "/v1/products", nop, HTTP_AUTH_SELLER, HTTP_JSON_BODY, 0},
    {"PATCH", "/v1/products/{id}", nop, HTTP_AUTH_SELLER, HTTP_JSON_BODY, 0},
    {"DELETE", "/v1/products/{id}", nop, HTTP_AUTH_SELLER, 0, 0},
    {"POST", "/v1/orders/{id}/cancel", nop, HTTP_AUTH_USER, HTTP_JSON_BODY, 0},
};

static struct router *router;

static void check(enum router_result res, const struct router_match *m)
{
    if (res == ROUTER_FOUND) {
        if (!m->route || m->nparams > HTTP_MAX_PARAMS)
            abort();
        for (size_t i = 0; i < m->nparams; i++)
            if (strnlen(m->params[i].value, ROUTER_MAX_SEGMENT) >= ROUTER_MAX_SEGMENT)
                abort();
    } else if (res == ROUTER_METHOD_NOT_ALLOWED && m->allow[0] == '\0') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!router) {
        router = router_new();
        router_add(router, HTTP_QUERIES, queries, sizeof queries / sizeof queries[0]);
        router_add(router, HTTP_COMMANDS, commands, sizeof commands / sizeof commands[0]);
    }
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *space = strchr(buf, ' ');
    const char *method = "GET", *path = buf;
    if (space) {
        *space = '\0';
        method = buf;
        path = space + 1;
    }
    struct router_match m;
    check(router_match(router, method, path, &m), &m);
    free(buf);
    return 0;
}
