/* Unit tests for pkg/http/router: matching, parameters, specificity, 405 allow lists, limits.
 * router_add() aborts on a bad table (plain abort(), not mock_assert), so those cases run in a
 * forked child and check that it died of SIGABRT. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pkg/http/router.h"
#include "tests/test_main.h"

static void nop(struct http_req *req)
{
    (void)req;
}

static const struct http_route queries[] = {
    {"GET", "/", nop, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/healthz", nop, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/v1/products", nop, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/v1/products/search", nop, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/v1/products/{id}", nop, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/v1/products/{id}/stock/movements", nop, HTTP_AUTH_SELLER, 0, 0},
    {"GET", "/v1/seller/products", nop, HTTP_AUTH_SELLER, 0, 0},
    {"GET", "/v1/sellers/{id}", nop, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/v1/conversations/{cid}/messages/{mid}", nop, HTTP_AUTH_USER, 0, 0},
    {"GET", "/a/{x}/c", nop, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/a/b/{y}", nop, HTTP_AUTH_NONE, 0, 0},
};

static const struct http_route commands[] = {
    {"POST", "/v1/products", nop, HTTP_AUTH_SELLER, HTTP_JSON_BODY, 0},
    {"PATCH", "/v1/products/{id}", nop, HTTP_AUTH_SELLER, HTTP_JSON_BODY, 0},
    {"DELETE", "/v1/products/{id}", nop, HTTP_AUTH_SELLER, 0, 0},
    {"PUT", "/v1/products/{id}/stock", nop, HTTP_AUTH_SELLER, HTTP_JSON_BODY, 0},
    {"POST", "/v1/orders/{id}/cancel", nop, HTTP_AUTH_USER, HTTP_JSON_BODY, 0},
};

static int setup(void **state)
{
    struct router *r = router_new();
    router_add(r, HTTP_QUERIES, queries, sizeof queries / sizeof queries[0]);
    router_add(r, HTTP_COMMANDS, commands, sizeof commands / sizeof commands[0]);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    router_free(*state);
    return 0;
}

/* Matches and checks the outcome; returns the match for further checks. */
static struct router_match expect(void **state, const char *method, const char *path,
                                  enum router_result want, const char *want_pattern)
{
    struct router_match m;
    enum router_result got = router_match(*state, method, path, &m);
    if (got != want)
        print_error("%s %s: result %d, want %d\n", method, path, got, want);
    assert_int_equal(got, want);
    if (want == ROUTER_FOUND) {
        assert_non_null(m.route);
        assert_string_equal(m.route->pattern, want_pattern);
        assert_string_equal(m.route->method, strcmp(method, "HEAD") ? method : "GET");
    } else {
        assert_null(m.route);
    }
    return m;
}

static const char *param(const struct router_match *m, const char *name)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (m->params[i].name_len == strlen(name) &&
            memcmp(m->params[i].name, name, m->params[i].name_len) == 0)
            return m->params[i].value;
    return NULL;
}

static void test_literal_match(void **state)
{
    struct router_match m = expect(state, "GET", "/healthz", ROUTER_FOUND, "/healthz");
    assert_int_equal(m.nparams, 0);
    assert_int_equal(m.set, HTTP_QUERIES);
    m = expect(state, "POST", "/v1/products", ROUTER_FOUND, "/v1/products");
    assert_int_equal(m.set, HTTP_COMMANDS);
    assert_int_equal(m.route->flags, HTTP_JSON_BODY);
    assert_int_equal(m.route->auth, HTTP_AUTH_SELLER);
    expect(state, "GET", "/", ROUTER_FOUND, "/");
}

static void test_not_found(void **state)
{
    expect(state, "GET", "/nope", ROUTER_NOT_FOUND, NULL);
    expect(state, "GET", "/v1", ROUTER_NOT_FOUND, NULL);
    expect(state, "GET", "/v1/products/1/2", ROUTER_NOT_FOUND, NULL);
    expect(state, "GET", "/HEALTHZ", ROUTER_NOT_FOUND, NULL); /* case-sensitive */
    expect(state, "GET", "", ROUTER_NOT_FOUND, NULL);
    expect(state, "GET", "healthz", ROUTER_NOT_FOUND, NULL);
}

static void test_params(void **state)
{
    struct router_match m =
        expect(state, "GET", "/v1/products/0192-abc", ROUTER_FOUND, "/v1/products/{id}");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(param(&m, "id"), "0192-abc");
    assert_null(param(&m, "i"));
    assert_null(param(&m, "idx"));

    m = expect(state, "GET", "/v1/conversations/c1/messages/m22", ROUTER_FOUND,
               "/v1/conversations/{cid}/messages/{mid}");
    assert_int_equal(m.nparams, 2);
    assert_string_equal(param(&m, "cid"), "c1");
    assert_string_equal(param(&m, "mid"), "m22");

    m = expect(state, "GET", "/v1/products/p9/stock/movements", ROUTER_FOUND,
               "/v1/products/{id}/stock/movements");
    assert_string_equal(param(&m, "id"), "p9");
    m = expect(state, "POST", "/v1/orders/o-7/cancel", ROUTER_FOUND, "/v1/orders/{id}/cancel");
    assert_string_equal(param(&m, "id"), "o-7");
}

static void test_literal_beats_parameter(void **state)
{
    struct router_match m =
        expect(state, "GET", "/v1/products/search", ROUTER_FOUND, "/v1/products/search");
    assert_int_equal(m.nparams, 0);
    /* Either registration order: the earlier literal segment decides. */
    m = expect(state, "GET", "/a/b/c", ROUTER_FOUND, "/a/b/{y}");
    assert_string_equal(param(&m, "y"), "c");
    m = expect(state, "GET", "/a/z/c", ROUTER_FOUND, "/a/{x}/c");
    assert_string_equal(param(&m, "x"), "z");
    expect(state, "GET", "/v1/seller/products", ROUTER_FOUND, "/v1/seller/products");
    m = expect(state, "GET", "/v1/sellers/s1", ROUTER_FOUND, "/v1/sellers/{id}");
    assert_string_equal(param(&m, "id"), "s1");
}

static void test_method_not_allowed(void **state)
{
    struct router_match m =
        expect(state, "PUT", "/v1/products/p1", ROUTER_METHOD_NOT_ALLOWED, NULL);
    assert_string_equal(m.allow, "GET, HEAD, PATCH, DELETE");
    m = expect(state, "DELETE", "/v1/products", ROUTER_METHOD_NOT_ALLOWED, NULL);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    m = expect(state, "POST", "/healthz", ROUTER_METHOD_NOT_ALLOWED, NULL);
    assert_string_equal(m.allow, "GET, HEAD");
    m = expect(state, "GET", "/v1/orders/o1/cancel", ROUTER_METHOD_NOT_ALLOWED, NULL);
    assert_string_equal(m.allow, "POST");
    /* The more specific literal path decides; it does not fall back to {id} for POST. */
    m = expect(state, "POST", "/v1/products/search", ROUTER_METHOD_NOT_ALLOWED, NULL);
    assert_string_equal(m.allow, "GET, HEAD");
    /* Methods are case-sensitive (RFC 9110). */
    expect(state, "get", "/healthz", ROUTER_METHOD_NOT_ALLOWED, NULL);
}

static void test_head_is_get(void **state)
{
    struct router_match m =
        expect(state, "HEAD", "/v1/products/p1", ROUTER_FOUND, "/v1/products/{id}");
    assert_string_equal(param(&m, "id"), "p1");
    m = expect(state, "HEAD", "/v1/orders/o1/cancel", ROUTER_METHOD_NOT_ALLOWED, NULL);
    assert_string_equal(m.allow, "POST");
}

static void test_trailing_and_empty_segments(void **state)
{
    expect(state, "GET", "/healthz/", ROUTER_NOT_FOUND, NULL);
    expect(state, "GET", "/v1/products/", ROUTER_NOT_FOUND, NULL);
    expect(state, "GET", "//healthz", ROUTER_NOT_FOUND, NULL);
    expect(state, "GET", "/v1//products", ROUTER_NOT_FOUND, NULL);
    expect(state, "GET", "/v1/products/p1/", ROUTER_NOT_FOUND, NULL);
}

static void test_segment_limits(void **state)
{
    char path[512];
    char seg[ROUTER_MAX_SEGMENT + 1];
    memset(seg, 'x', sizeof seg);
    seg[ROUTER_MAX_SEGMENT - 1] = '\0'; /* 127 chars: the longest value that fits */
    snprintf(path, sizeof path, "/v1/products/%s", seg);
    struct router_match m = expect(state, "GET", path, ROUTER_FOUND, "/v1/products/{id}");
    assert_int_equal(strlen(param(&m, "id")), ROUTER_MAX_SEGMENT - 1);
    assert_string_equal(param(&m, "id"), seg);

    seg[ROUTER_MAX_SEGMENT - 1] = 'x';
    seg[ROUTER_MAX_SEGMENT] = '\0'; /* 128 chars: too long for a parameter */
    snprintf(path, sizeof path, "/v1/products/%s", seg);
    expect(state, "GET", path, ROUTER_NOT_FOUND, NULL);
    snprintf(path, sizeof path, "/v1/conversations/c/messages/%s", seg);
    expect(state, "GET", path, ROUTER_NOT_FOUND, NULL);

    /* Deeper than any pattern can be. */
    expect(state, "GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o", ROUTER_NOT_FOUND, NULL);
}

struct seen {
    size_t n, commands, queries;
    const char *first, *last;
};

static void count_route(const struct http_route *route, enum http_route_set set, void *arg)
{
    struct seen *s = arg;
    if (!s->first)
        s->first = route->pattern;
    s->last = route->pattern;
    s->n++;
    if (set == HTTP_COMMANDS)
        s->commands++;
    else
        s->queries++;
}

static void test_foreach(void **state)
{
    struct seen s = {0};
    router_foreach(*state, count_route, &s);
    size_t nq = sizeof queries / sizeof queries[0], nc = sizeof commands / sizeof commands[0];
    assert_int_equal(s.n, nq + nc);
    assert_int_equal(s.queries, nq);
    assert_int_equal(s.commands, nc);
    assert_string_equal(s.first, "/");
    assert_string_equal(s.last, "/v1/orders/{id}/cancel");
}

static void test_same_pattern_other_set(void **state)
{
    struct router *r = router_new();
    static const struct http_route q[] = {{"GET", "/x/{id}", nop, HTTP_AUTH_NONE, 0, 0}};
    static const struct http_route c[] = {{"POST", "/x/{id}", nop, HTTP_AUTH_USER, 0, 0}};
    router_add(r, HTTP_QUERIES, q, 1);
    router_add(r, HTTP_COMMANDS, c, 1);
    struct router_match m;
    assert_int_equal(router_match(r, "POST", "/x/1", &m), ROUTER_FOUND);
    assert_int_equal(m.set, HTTP_COMMANDS);
    assert_int_equal(router_match(r, "GET", "/x/1", &m), ROUTER_FOUND);
    assert_int_equal(m.set, HTTP_QUERIES);
    router_free(r);
}

/* Runs router_add(set, table) in a child; true when the child was killed by SIGABRT. */
static bool add_to_aborts(enum http_route_set set, const struct http_route *table, size_t n)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2); /* the router's message is expected */
        struct router *r = router_new();
        router_add(r, set, table, n);
        router_free(r);
        _exit(0);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    return WIFSIGNALED(ws) && WTERMSIG(ws) == SIGABRT;
}

static bool add_aborts(const struct http_route *table, size_t n)
{
    return add_to_aborts(HTTP_QUERIES, table, n);
}

static void test_bad_tables_abort(void **state)
{
    static const struct http_route dup[] = {
        {"GET", "/d/{id}", nop, HTTP_AUTH_NONE, 0, 0},
        {"GET", "/d/{id}", nop, HTTP_AUTH_USER, 0, 0},
    };
    static const struct http_route ok[] = {
        {"GET", "/d/{id}", nop, HTTP_AUTH_NONE, 0, 0},
        {"HEAD", "/d/{id}/x", nop, HTTP_AUTH_USER, 0, 0},
    };
    static const struct http_route relative[] = {{"GET", "d", nop, HTTP_AUTH_NONE, 0, 0}};
    static const struct http_route slash[] = {{"GET", "/d/", nop, HTTP_AUTH_NONE, 0, 0}};
    static const struct http_route deep[] = {
        {"GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13", nop, HTTP_AUTH_NONE, 0, 0}};
    assert_true(add_aborts(dup, 2));
    assert_false(add_aborts(ok, 2));
    assert_true(add_aborts(relative, 1));
    assert_true(add_aborts(slash, 1));
    assert_true(add_aborts(deep, 1));
}

/* CQRS: the command set takes no read, the query set no write. */
static void test_sets_refuse_the_wrong_methods(void **state)
{
    static const struct http_route get[] = {{"GET", "/c", nop, HTTP_AUTH_NONE, 0, 0}};
    static const struct http_route head[] = {{"HEAD", "/c", nop, HTTP_AUTH_NONE, 0, 0}};
    static const struct http_route writes[][1] = {
        {{"POST", "/q", nop, HTTP_AUTH_NONE, 0, 0}},
        {{"PUT", "/q", nop, HTTP_AUTH_NONE, 0, 0}},
        {{"PATCH", "/q", nop, HTTP_AUTH_NONE, 0, 0}},
        {{"DELETE", "/q", nop, HTTP_AUTH_NONE, 0, 0}},
    };
    assert_true(add_to_aborts(HTTP_COMMANDS, get, 1));
    assert_true(add_to_aborts(HTTP_COMMANDS, head, 1));
    assert_false(add_to_aborts(HTTP_QUERIES, get, 1));
    assert_false(add_to_aborts(HTTP_QUERIES, head, 1));
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        assert_true(add_to_aborts(HTTP_QUERIES, writes[i], 1));
        assert_false(add_to_aborts(HTTP_COMMANDS, writes[i], 1));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_literal_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literal_beats_parameter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_is_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_and_empty_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach, setup, teardown),
        cmocka_unit_test(test_same_pattern_other_set),
        cmocka_unit_test(test_bad_tables_abort),
        cmocka_unit_test(test_sets_refuse_the_wrong_methods),
    };
    return HAAT_RUN_GROUP("router", tests, NULL, NULL);
}
