/* The OpenAPI document and the program's router must agree (the contract requires it): every route
 * of app_router_new() is documented under the same path and method, and the document lists no path
 * + method the router lacks. Reads build/gen/openapi.json (generated from docs/openapi.yaml by the
 * Makefile; the test runs from the repository root) and prints every mismatch before failing. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "internal/app/app.h"
#include "pkg/http/router.h"
#include "tests/test_main.h"

#define OPENAPI_PATH "build/gen/openapi.json"

static const char *const http_methods[] = {"get",  "put",     "post",  "delete", "patch",
                                           "head", "options", "trace", NULL};

/* "GET" -> "get" into out. */
static void lower(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

struct check {
    json_t *paths; /* borrowed: the document's "paths" */
    json_t *seen;  /* "get /healthz" -> true, for every route of the router */
    int missing;
};

static void check_route(const struct http_route *route, enum http_route_set set, void *arg)
{
    struct check *c = arg;
    char method[16];
    lower(route->method, method, sizeof method);
    char *key = NULL;
    if (asprintf(&key, "%s %s", method, route->pattern) < 0)
        abort();
    json_object_set_new(c->seen, key, json_true());
    free(key);
    json_t *op = json_object_get(json_object_get(c->paths, route->pattern), method);
    if (!json_is_object(op)) {
        print_error("router has %s %s (%s), the OpenAPI document does not\n", route->method,
                    route->pattern, set == HTTP_COMMANDS ? "command" : "query");
        c->missing++;
    }
}

/* Document operations the router lacks. */
static int count_extra(const struct check *c)
{
    int extra = 0;
    const char *path;
    json_t *item;
    json_object_foreach(c->paths, path, item)
    {
        for (const char *const *m = http_methods; *m; m++) {
            if (!json_object_get(item, *m))
                continue;
            char key[512];
            snprintf(key, sizeof key, "%s %s", *m, path);
            if (!json_object_get(c->seen, key)) {
                print_error("the OpenAPI document has %s %s, the router does not\n", *m, path);
                extra++;
            }
        }
    }
    return extra;
}

static void test_router_matches_openapi(void **state)
{
    json_error_t err;
    json_t *doc = json_load_file(OPENAPI_PATH, 0, &err);
    if (!doc)
        print_error("%s: %s (line %d); run from the repository root after make\n", OPENAPI_PATH,
                    err.text, err.line);
    assert_non_null(doc);
    struct check c = {.paths = json_object_get(doc, "paths"), .seen = json_object()};
    assert_true(json_is_object(c.paths));
    assert_true(json_object_size(c.paths) > 0);

    struct router *r = app_router_new();
    router_foreach(r, check_route, &c);
    assert_true(json_object_size(c.seen) > 0);
    int extra = count_extra(&c);
    if (c.missing || extra)
        print_error("%d route(s) undocumented, %d documented operation(s) not routed\n", c.missing,
                    extra);
    router_free(r);
    json_decref(c.seen);
    json_decref(doc);
    assert_int_equal(c.missing, 0);
    assert_int_equal(extra, 0);
}

/* The parameter object prm, following a local "#/components/parameters/X" $ref. */
static json_t *resolve(json_t *doc, json_t *prm)
{
    const char *ref = json_string_value(json_object_get(prm, "$ref"));
    static const char prefix[] = "#/components/parameters/";
    if (!ref || strncmp(ref, prefix, sizeof prefix - 1) != 0)
        return prm;
    json_t *params = json_object_get(json_object_get(doc, "components"), "parameters");
    return json_object_get(params, ref + sizeof prefix - 1);
}

/* True when the array params declares the path parameter name. */
static bool declares(json_t *doc, json_t *params, const char *name)
{
    size_t i;
    json_t *prm;
    json_array_foreach(params, i, prm)
    {
        json_t *p = resolve(doc, prm);
        const char *n = json_string_value(json_object_get(p, "name"));
        const char *in = json_string_value(json_object_get(p, "in"));
        if (n && in && strcmp(n, name) == 0 && strcmp(in, "path") == 0)
            return true;
    }
    return false;
}

/* Every operation of a templated path declares each {name} as an "in: path" parameter, at the
 * path level or in the operation. */
static int check_path_params(json_t *doc, const char *path, json_t *item)
{
    int bad = 0;
    for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        assert_non_null(end);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
        bool at_path = declares(doc, json_object_get(item, "parameters"), name);
        for (const char *const *m = http_methods; *m; m++) {
            json_t *op = json_object_get(item, *m);
            if (!op || at_path || declares(doc, json_object_get(op, "parameters"), name))
                continue;
            print_error("%s %s: path parameter {%s} is not declared\n", *m, path, name);
            bad++;
        }
    }
    return bad;
}

static void test_path_parameters_declared(void **state)
{
    json_t *doc = json_load_file(OPENAPI_PATH, 0, NULL);
    assert_non_null(doc);
    int bad = 0;
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item) bad +=
        check_path_params(doc, path, item);
    json_decref(doc);
    assert_int_equal(bad, 0);
}

/* Routes that answer 429 rate_limited (their handlers call http_reply_rate_limited). */
static const char *const rate_limited[] = {
    "POST /v1/auth/login",
    "POST /v1/auth/otp",
    "POST /v1/conversations",
    "POST /v1/conversations/{id}/messages",
    NULL,
};

static bool is_rate_limited(const struct http_route *route)
{
    char key[256];
    snprintf(key, sizeof key, "%s %s", route->method, route->pattern);
    for (const char *const *p = rate_limited; *p; p++)
        if (strcmp(*p, key) == 0)
            return true;
    return false;
}

struct statuses {
    json_t *paths;
    int missing;
};

static void need(const struct http_route *route, json_t *responses, const char *status,
                 const char *why, int *missing)
{
    if (json_object_get(responses, status))
        return;
    print_error("%s %s: status %s is not documented (%s)\n", route->method, route->pattern, status,
                why);
    (*missing)++;
}

/* Every status the server itself can answer for a route is documented: 400 (invalid JSON, a
 * bad Idempotency-Key), 413 and 415 on every operation with a JSON body, 413 on a raw one,
 * 401 where a token is needed, 403 where a role or a verified phone is, 429 where limited,
 * 503 on every /v1/ route but the front door (they use the database), and 304 on every GET
 * (pkg/http answers If-None-Match for every read). */
static void check_statuses(const struct http_route *route, enum http_route_set set, void *arg)
{
    struct statuses *c = arg;
    char method[16];
    lower(route->method, method, sizeof method);
    json_t *op = json_object_get(json_object_get(c->paths, route->pattern), method);
    json_t *rs = json_object_get(op, "responses");
    if (!rs)
        return; /* test_router_matches_openapi reports it */
    bool json_body = route->flags & HTTP_JSON_BODY;
    bool idem = strcmp(route->method, "POST") == 0 && !(route->flags & HTTP_NO_IDEMPOTENCY);
    if (json_body || idem)
        need(route, rs, "400", json_body ? "invalid JSON" : "a bad Idempotency-Key", &c->missing);
    if (json_body || (route->flags & HTTP_RAW_BODY))
        need(route, rs, "413", "a body over the route's limit", &c->missing);
    if (json_body)
        need(route, rs, "415", "not application/json", &c->missing);
    if (route->auth != HTTP_AUTH_NONE)
        need(route, rs, "401", "no or a bad token", &c->missing);
    if (route->auth == HTTP_AUTH_VERIFIED || route->auth == HTTP_AUTH_SELLER ||
        route->auth == HTTP_AUTH_ADMIN)
        need(route, rs, "403", "role or verified phone", &c->missing);
    if (is_rate_limited(route))
        need(route, rs, "429", "rate limited", &c->missing);
    if (strncmp(route->pattern, "/v1/", 4) == 0)
        need(route, rs, "503", "the database", &c->missing);
    if (strcmp(route->method, "GET") == 0)
        need(route, rs, "304", "If-None-Match", &c->missing);
}

static void test_statuses_documented(void **state)
{
    json_t *doc = json_load_file(OPENAPI_PATH, 0, NULL);
    assert_non_null(doc);
    struct statuses c = {.paths = json_object_get(doc, "paths")};
    struct router *r = app_router_new();
    router_foreach(r, check_statuses, &c);
    router_free(r);
    /* limit: above 100 is clamped, not refused, so the schema has no maximum. */
    json_t *limit =
        json_object_get(json_object_get(json_object_get(doc, "components"), "parameters"), "Limit");
    assert_null(json_object_get(json_object_get(limit, "schema"), "maximum"));
    const char *d = json_string_value(json_object_get(limit, "description"));
    assert_non_null(d);
    assert_non_null(strstr(d, "above 100"));
    json_decref(doc);
    if (c.missing)
        print_error("%d status(es) undocumented\n", c.missing);
    assert_int_equal(c.missing, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_matches_openapi),
        cmocka_unit_test(test_path_parameters_declared),
        cmocka_unit_test(test_statuses_documented),
    };
    return HAAT_RUN_GROUP("openapi", tests, NULL, NULL);
}
