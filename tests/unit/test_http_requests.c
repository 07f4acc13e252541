/* Unit tests for pkg/http, part 1: requests and what the server answers before a handler runs
 * (JSON replies, HEAD, path parameters, 404, 405, bodies: size, chunked, media type, invalid
 * JSON, nesting) and request ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "tests/test_main.h"
#include "tests/unit/http_test_server.h"

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_get_json(void **state)
{
    struct resp r;
    assert_int_equal(request("GET", "/t/hello?name=a%20b", NULL, NULL, &r), 200);
    assert_string_equal(header(&r, "Content-Type"), "application/json; charset=utf-8");
    assert_string_equal(member(r.json, "hello"), "world");
    assert_string_equal(member(r.json, "route"), "/t/hello");
    assert_string_equal(member(r.json, "name"), "a b");
    assert_null(json_object_get(r.json, "user_id")); /* anonymous */
    const char *rid = header(&r, "X-Request-ID");
    assert_non_null(rid);
    assert_int_equal(strlen(rid), 32);
    assert_int_equal(strspn(rid, "0123456789abcdef"), 32);
    resp_free(&r);
}

static void test_head_on_get_route(void **state)
{
    struct resp get, head;
    assert_int_equal(request("GET", "/t/hello", NULL, NULL, &get), 200);
    assert_int_equal(request("HEAD", "/t/hello", NULL, NULL, &head), 200);
    assert_int_equal(head.len, 0);
    assert_string_equal(header(&head, "Content-Type"), "application/json; charset=utf-8");
    char len[32];
    snprintf(len, sizeof len, "%zu", get.len);
    assert_string_equal(header(&head, "Content-Length"), len);
    resp_free(&get);
    resp_free(&head);
}

static void test_path_params(void **state)
{
    struct resp r;
    assert_int_equal(request("GET", "/t/items/abc-123", NULL, NULL, &r), 200);
    assert_string_equal(member(r.json, "id"), "abc-123");
    assert_null(json_object_get(r.json, "part"));
    resp_free(&r);
    assert_int_equal(request("GET", "/t/items/i9/parts/p_2", NULL, NULL, &r), 200);
    assert_string_equal(member(r.json, "id"), "i9");
    assert_string_equal(member(r.json, "part"), "p_2");
    resp_free(&r);
    assert_int_equal(request("DELETE", "/t/items/i9", NULL, NULL, &r), 204);
    assert_int_equal(r.len, 0);
    resp_free(&r);
}

static void test_not_found(void **state)
{
    struct resp r;
    request("GET", "/t/nothing-here", NULL, NULL, &r);
    expect_problem(&r, 404, "not_found");
    resp_free(&r);
    request("GET", "/t/hello/", NULL, NULL, &r);
    expect_problem(&r, 404, "not_found");
    resp_free(&r);
}

static void test_method_not_allowed(void **state)
{
    struct resp r;
    request("PUT", "/t/items/1", "{}", NULL, &r);
    expect_problem(&r, 405, "method_not_allowed");
    assert_string_equal(header(&r, "Allow"), "GET, HEAD, DELETE");
    resp_free(&r);
    request("GET", "/t/echo", NULL, NULL, &r);
    expect_problem(&r, 405, "method_not_allowed");
    assert_string_equal(header(&r, "Allow"), "POST");
    resp_free(&r);
}

static void test_post_json(void **state)
{
    struct resp r;
    assert_int_equal(request("POST", "/t/echo", "{\"a\":1,\"b\":[true,null]}", NULL, &r), 200);
    json_t *want = json_pack("{s:i,s:[b,n]}", "a", 1, "b", 1);
    assert_true(json_equal(r.json, want));
    json_decref(want);
    resp_free(&r);
    const char *utf8[] = {"Content-Type: application/json; charset=utf-8", NULL};
    assert_int_equal(request("POST", "/t/echo", "{\"x\":\"\xc3\xa9\"}", utf8, &r), 200);
    assert_string_equal(member(r.json, "x"), "\xc3\xa9");
    resp_free(&r);
}

/* {"s":"aaa..."} of exactly size bytes. */
static char *json_of_size(size_t size)
{
    char *b = malloc(size + 1);
    assert_non_null(b);
    memset(b, 'a', size);
    memcpy(b, "{\"s\":\"", 6);
    memcpy(b + size - 2, "\"}", 2);
    b[size] = '\0';
    return b;
}

static void test_payload_too_large(void **state)
{
    struct resp r;
    char *max = json_of_size(HTTP_MAX_BODY);
    assert_int_equal(request_to(base_url, "POST", "/t/echo", max, HTTP_MAX_BODY, NULL, 0, &r), 200);
    assert_int_equal(strlen(member(r.json, "s")), HTTP_MAX_BODY - 8);
    resp_free(&r);
    free(max);

    char *big = json_of_size(HTTP_MAX_BODY + 1);
    request_to(base_url, "POST", "/t/echo", big, HTTP_MAX_BODY + 1, NULL, 0, &r);
    expect_problem(&r, 413, "payload_too_large");
    resp_free(&r);
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    request_to(base_url, "POST", "/t/echo", big, HTTP_MAX_BODY + 1, chunked, CHUNKED, &r);
    expect_problem(&r, 413, "payload_too_large");
    resp_free(&r);
    free(big);

    /* The connection pool still works afterwards. */
    assert_int_equal(request("GET", "/t/hello", NULL, NULL, &r), 200);
    resp_free(&r);
}

/* Each route has its own limit: the default (8 KiB) unless it declares another, checked on
 * the declared length and while a chunked body arrives. */
static void test_body_limit_per_route(void **state)
{
    static const struct {
        const char *path;
        size_t limit;
    } routes[] = {{"/t/small", HTTP_BODY_DEFAULT}, {"/t/kib", HTTP_KIB(1)}};
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        struct resp r;
        size_t n = routes[i].limit;
        char *fits = json_of_size(n);
        assert_int_equal(request_to(base_url, "POST", routes[i].path, fits, n, NULL, 0, &r), 200);
        resp_free(&r);
        free(fits);
        char *over = json_of_size(n + 1);
        request_to(base_url, "POST", routes[i].path, over, n + 1, NULL, 0, &r);
        expect_problem(&r, 413, "payload_too_large");
        resp_free(&r);
        request_to(base_url, "POST", routes[i].path, over, n + 1, chunked, CHUNKED, &r);
        expect_problem(&r, 413, "payload_too_large");
        resp_free(&r);
        free(over);
    }
}

static void test_chunked_body_accepted(void **state)
{
    struct resp r;
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    static const char body[] = "{\"chunked\":true}";
    request_to(base_url, "POST", "/t/echo", body, sizeof body - 1, chunked, CHUNKED, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "chunked")));
    resp_free(&r);
}

static void test_unsupported_media_type(void **state)
{
    const char *text[] = {"Content-Type: text/plain", NULL};
    expect_post_problem("/t/echo", "{\"a\":1}", text, 415, "unsupported_media_type");
    const char *jsonx[] = {"Content-Type: application/jsonx", NULL};
    expect_post_problem("/t/echo", "{\"a\":1}", jsonx, 415, "unsupported_media_type");
    const char *none[] = {"Content-Type:", NULL}; /* curl: send no Content-Type */
    expect_post_problem("/t/echo", "{\"a\":1}", none, 415, "unsupported_media_type");
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    expect_post_problem("/t/echo", "a=1", form, 415, "unsupported_media_type");
}

static void test_invalid_json(void **state)
{
    expect_post_problem("/t/echo", "{\"a\":", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "{'a':1}", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "[1,2,3]", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "\"just a string\"", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "{\"a\":1,\"a\":2}", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "{\"a\":\"\xff\xfe\"}", NULL, 400, "invalid_json");
    /* A NUL in a member name, or a NUL in a string of malformed JSON, stays invalid JSON. */
    expect_post_problem("/t/echo", "{\"a\\u0000\":1}", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "{\"a\":\"x\\u0000y\",}", NULL, 400, "invalid_json");
}

/* Well-formed JSON whose strings hold NUL (\u0000): 422, one error per such string. */
static void test_nul_in_string(void **state)
{
    struct resp r;
    request("POST", "/t/echo", "{\"a\":\"x\\u0000y\",\"b\":[\"ok\",{\"c\":\"\\u0000\"}]}", NULL,
            &r);
    expect_problem(&r, 422, "validation_failed");
    json_t *errs = json_object_get(r.json, "errors");
    assert_int_equal(json_array_size(errs), 2);
    assert_string_equal(member(json_array_get(errs, 0), "field"), "a");
    assert_string_equal(member(json_array_get(errs, 1), "field"), "b[1].c");
    assert_string_equal(member(json_array_get(errs, 0), "message"),
                        "must not contain NUL characters");
    resp_free(&r);
}

/* {"d": followed by depth-1 arrays: depth levels in all. */
static char *nested(int depth)
{
    size_t n = (size_t)depth * 2 + 16;
    char *b = calloc(1, n);
    assert_non_null(b);
    strcat(b, "{\"d\":");
    for (int i = 1; i < depth; i++)
        strcat(b, "[");
    for (int i = 1; i < depth; i++)
        strcat(b, "]");
    strcat(b, "}");
    return b;
}

static void test_nesting_depth(void **state)
{
    struct resp r;
    char *ok = nested(32);
    assert_int_equal(request("POST", "/t/echo", ok, NULL, &r), 200);
    resp_free(&r);
    free(ok);
    char *deep = nested(33);
    expect_post_problem("/t/echo", deep, NULL, 400, "invalid_json");
    free(deep);
}

static void test_request_id(void **state)
{
    struct resp r;
    const char *given[] = {"X-Request-ID: abc.DEF_123:x-y", NULL};
    request("GET", "/t/hello", NULL, given, &r);
    assert_string_equal(header(&r, "X-Request-ID"), "abc.DEF_123:x-y");
    resp_free(&r);

    request("GET", "/t/missing", NULL, given, &r);
    expect_problem(&r, 404, "not_found");
    assert_string_equal(member(r.json, "request_id"), "abc.DEF_123:x-y");
    resp_free(&r);

    char h64[100], h65[120];
    snprintf(h64, sizeof h64, "X-Request-ID: %s",
             "0123456789012345678901234567890123456789"
             "012345678901234567890123");
    snprintf(h65, sizeof h65, "%s4", h64);
    const char *keep[] = {h64, NULL};
    request("GET", "/t/hello", NULL, keep, &r);
    assert_string_equal(header(&r, "X-Request-ID"), h64 + 14);
    resp_free(&r);

    const char *const bad_ids[] = {h65, "X-Request-ID: has spaces", "X-Request-ID: a/b",
                                   "X-Request-ID: semi;colon", NULL};
    for (const char *const *b = bad_ids; *b; b++) {
        const char *hdr[] = {*b, NULL};
        request("POST", "/t/echo", "[]", hdr, &r);
        expect_problem(&r, 400, "invalid_json");
        const char *rid = header(&r, "X-Request-ID");
        assert_int_equal(strlen(rid), 32);
        assert_int_equal(strspn(rid, "0123456789abcdef"), 32);
        resp_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_json),
        cmocka_unit_test(test_head_on_get_route),
        cmocka_unit_test(test_path_params),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_post_json),
        cmocka_unit_test(test_payload_too_large),
        cmocka_unit_test(test_body_limit_per_route),
        cmocka_unit_test(test_chunked_body_accepted),
        cmocka_unit_test(test_unsupported_media_type),
        cmocka_unit_test(test_invalid_json),
        cmocka_unit_test(test_nul_in_string),
        cmocka_unit_test(test_nesting_depth),
        cmocka_unit_test(test_request_id),
    };
    return HAAT_RUN_GROUP("http", tests, setup, teardown);
}
