/* Unit tests for pkg/http, part 3: what real clients need beyond the contract's bodies —
 * CORS for browsers on other origins (preflights, OPTIONS, the headers on every answer),
 * gzip for clients on slow networks, connections kept open across error answers, HTTP
 * caching (Cache-Control, ETags, 304), absolute Location, RFC 6750 challenges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <zlib.h>

#include "tests/test_main.h"
#include "tests/unit/http_test_server.h"

#define OTHER_ORIGIN "http://evil.example"

static long preflight(const char *path, const char *origin, const char *method, struct resp *r)
{
    char o[128], m[128];
    snprintf(o, sizeof o, "Origin: %s", origin);
    snprintf(m, sizeof m, "Access-Control-Request-Method: %s", method);
    const char *h[] = {o, m, "Access-Control-Request-Headers: authorization,content-type", NULL};
    return request("OPTIONS", path, NULL, h, r);
}

/* A preflight from the listed origin for a command: every method of the path, every header
 * the API reads (Authorization included), a lifetime. */
static void test_preflight_listed_origin(void **state)
{
    struct resp r;
    assert_int_equal(preflight("/t/echo", TEST_ORIGIN, "POST", &r), 204);
    assert_int_equal(r.len, 0);
    assert_string_equal(header(&r, "Access-Control-Allow-Origin"), TEST_ORIGIN);
    assert_string_equal(header(&r, "Vary"), "Origin");
    assert_string_equal(header(&r, "Access-Control-Allow-Methods"), "POST, OPTIONS");
    const char *ah = header(&r, "Access-Control-Allow-Headers");
    assert_non_null(ah);
    for (const char *want = "Authorization\0Content-Type\0Idempotency-Key\0If-Match\0"
                            "If-None-Match\0X-Request-ID\0traceparent\0X-Haat-Consistency\0";
         *want; want += strlen(want) + 1)
        assert_non_null(strstr(ah, want));
    assert_string_equal(header(&r, "Access-Control-Max-Age"), "7200");
    assert_string_equal(header(&r, "Allow"), "POST, OPTIONS");
    resp_free(&r);
    assert_int_equal(preflight("/t/items/7", TEST_ORIGIN, "DELETE", &r), 204);
    assert_string_equal(header(&r, "Access-Control-Allow-Methods"), "GET, HEAD, DELETE, OPTIONS");
    resp_free(&r);
}

/* An unlisted origin: a command gets no CORS headers at all (the browser refuses); a public
 * read gets "*", without Authorization among the allowed headers. */
static void test_preflight_other_origin(void **state)
{
    struct resp r;
    assert_int_equal(preflight("/t/echo", OTHER_ORIGIN, "POST", &r), 204);
    assert_null(header(&r, "Access-Control-Allow-Origin"));
    assert_null(header(&r, "Access-Control-Allow-Methods"));
    assert_string_equal(header(&r, "Allow"), "POST, OPTIONS");
    resp_free(&r);
    assert_int_equal(preflight("/t/hello", OTHER_ORIGIN, "GET", &r), 204);
    assert_string_equal(header(&r, "Access-Control-Allow-Origin"), "*");
    assert_null(strstr(header(&r, "Access-Control-Allow-Headers"), "Authorization"));
    resp_free(&r);
    assert_int_equal(preflight("/t/me", OTHER_ORIGIN, "GET", &r), 204); /* needs a token */
    assert_null(header(&r, "Access-Control-Allow-Origin"));
    resp_free(&r);
}

/* Answers, errors included, name the origin and expose the headers clients read. */
static void test_actual_response_headers(void **state)
{
    struct resp r;
    const char *h[] = {"Origin: " TEST_ORIGIN, NULL};
    request("GET", "/t/me", NULL, h, &r);
    expect_problem(&r, 401, "unauthorized");
    assert_string_equal(header(&r, "Access-Control-Allow-Origin"), TEST_ORIGIN);
    assert_string_equal(header(&r, "Vary"), "Origin, Accept-Encoding");
    assert_string_equal(header(&r, "Access-Control-Expose-Headers"),
                        "ETag, Location, X-Request-ID, Retry-After, Idempotent-Replayed, "
                        "X-Haat-Consistency");
    resp_free(&r);
    const char *other[] = {"Origin: " OTHER_ORIGIN, "Authorization: Bearer user", NULL};
    assert_int_equal(request("GET", "/t/me", NULL, other, &r), 200);
    assert_null(header(&r, "Access-Control-Allow-Origin"));
    /* caches must keep the two apart */
    assert_string_equal(header(&r, "Vary"), "Origin, Accept-Encoding");
    resp_free(&r);
    assert_int_equal(request("GET", "/t/hello", NULL, other, &r), 200);
    assert_string_equal(header(&r, "Access-Control-Allow-Origin"), "*");
    resp_free(&r);
    request("GET", "/t/nothing-here", NULL, h, &r);
    expect_problem(&r, 404, "not_found");
    assert_string_equal(header(&r, "Access-Control-Allow-Origin"), TEST_ORIGIN);
    resp_free(&r);
    expect_post_problem("/t/echo", "{", h, 400, "invalid_json");
}

/* OPTIONS that is no preflight: 204 with Allow on a known path, 404 on an unknown one. */
static void test_plain_options(void **state)
{
    struct resp r;
    assert_int_equal(request("OPTIONS", "/t/items/1", NULL, NULL, &r), 204);
    assert_string_equal(header(&r, "Allow"), "GET, HEAD, DELETE, OPTIONS");
    assert_null(header(&r, "Access-Control-Allow-Origin"));
    resp_free(&r);
    request("OPTIONS", "/t/nothing-here", NULL, NULL, &r);
    expect_problem(&r, 404, "not_found");
    resp_free(&r);
}

/* The gunzipped body of r, NUL-terminated (caller frees), or NULL when it is not gzip. */
static char *gunzip(const struct resp *r)
{
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    z.next_in = (Bytef *)r->body;
    z.avail_in = (uInt)r->len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)(cap - 1);
    int rc = inflate(&z, Z_FINISH);
    out[z.total_out] = '\0';
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

static void test_gzip_json(void **state)
{
    struct resp plain, gz;
    assert_int_equal(request("GET", "/t/big", NULL, NULL, &plain), 200);
    assert_null(header(&plain, "Content-Encoding"));
    assert_string_equal(header(&plain, "Vary"), "Origin, Accept-Encoding");
    const char *h[] = {"Accept-Encoding: br, gzip;q=0.8", NULL};
    assert_int_equal(request("GET", "/t/big", NULL, h, &gz), 200);
    assert_string_equal(header(&gz, "Content-Encoding"), "gzip");
    assert_string_equal(header(&gz, "Vary"), "Origin, Accept-Encoding");
    assert_string_equal(header(&gz, "Content-Type"), "application/json; charset=utf-8");
    assert_true(gz.len * 4 < plain.len);
    char *text = gunzip(&gz);
    assert_non_null(text);
    assert_string_equal(text, plain.body);
    free(text);
    resp_free(&plain);
    resp_free(&gz);
}

/* Not compressed: small bodies, refused gzip (q=0), event streams. */
static void test_gzip_not_applied(void **state)
{
    struct resp r;
    const char *h[] = {"Accept-Encoding: gzip", NULL};
    assert_int_equal(request("GET", "/t/hello", NULL, h, &r), 200);
    assert_null(header(&r, "Content-Encoding"));
    assert_string_equal(header(&r, "Vary"), "Origin, Accept-Encoding");
    resp_free(&r);
    const char *refused[] = {"Accept-Encoding: gzip;q=0, identity", NULL};
    assert_int_equal(request("GET", "/t/big", NULL, refused, &r), 200);
    assert_null(header(&r, "Content-Encoding"));
    resp_free(&r);
    assert_int_equal(request("GET", "/t/events", NULL, h, &r), 200);
    assert_null(header(&r, "Content-Encoding"));
    assert_string_equal(header(&r, "Vary"), "Origin");
    assert_true(r.len > 1024);
    resp_free(&r);
}

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    return size * n;
}

/* One request on the caller's handle (its connection reused). Returns the status; *connects
 * gets how many new connections the transfer opened. */
static long on_handle(CURL *h, const char *method, const char *path, const char *body, size_t len,
                      const char *ctype, long *connects)
{
    char url[256], ct[96];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
    struct curl_slist *list = curl_slist_append(NULL, ct);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    long status = 0;
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, connects);
    curl_slist_free_all(list);
    return status;
}

/* Answers decided before the body is read (404, 405, 401, 415, 413) keep the connection:
 * one handle, one connection for all of them; a body of up to 4 MiB is drained for a 413. */
static void test_keep_alive_on_errors(void **state)
{
    CURL *h = curl_easy_init();
    long connects = 0, total = 0;
    size_t big_len = 3 * HTTP_MAX_BODY;
    char *big = malloc(big_len);
    memset(big, ' ', big_len);
    struct {
        const char *method, *path, *body, *ctype;
        size_t len;
        long status;
    } cases[] = {
        {"GET", "/t/hello", NULL, NULL, 0, 200},
        {"GET", "/t/me", NULL, NULL, 0, 401},
        {"POST", "/t/verified-post", "{}", NULL, 2, 401},
        {"GET", "/t/nothing-here", NULL, NULL, 0, 404},
        {"POST", "/t/nothing-here", "{}", NULL, 2, 404},
        {"PUT", "/t/items/1", "{}", NULL, 2, 405},
        {"POST", "/t/echo", "hello", "text/plain", 5, 415},
        {"POST", "/t/echo", big, NULL, big_len, 413},
        {"GET", "/t/hello", NULL, NULL, 0, 200},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long st = on_handle(h, cases[i].method, cases[i].path, cases[i].body, cases[i].len,
                            cases[i].ctype, &connects);
        if (st != cases[i].status || (i > 0 && connects != 0))
            print_error("%s %s: %ld, %ld new connection(s)\n", cases[i].method, cases[i].path, st,
                        connects);
        assert_int_equal(st, cases[i].status);
        total += connects;
    }
    assert_int_equal(total, 1);
    free(big);
    curl_easy_cleanup(h);
}

/* Every read's 200 has an ETag; If-None-Match with it answers 304: same ETag, no body, no
 * "Content-Length: 0". Public reads: no-cache. */
static void test_etag_and_304(void **state)
{
    struct resp r, nm;
    assert_int_equal(request("GET", "/t/hello", NULL, NULL, &r), 200);
    assert_string_equal(header(&r, "Cache-Control"), "no-cache");
    char etag[64];
    snprintf(etag, sizeof etag, "%s", header(&r, "ETag"));
    assert_int_equal(strncmp(etag, "W/\"", 3), 0);
    char inm[96];
    snprintf(inm, sizeof inm, "If-None-Match: \"x\", %s", etag);
    const char *h[] = {inm, NULL};
    assert_int_equal(request("GET", "/t/hello", NULL, h, &nm), 304);
    assert_int_equal(nm.len, 0);
    assert_string_equal(header(&nm, "ETag"), etag);
    assert_string_equal(header(&nm, "Cache-Control"), "no-cache");
    assert_null(header(&nm, "Content-Type")); /* no representation headers */
    const char *cl = header(&nm, "Content-Length");
    assert_true(!cl || atoi(cl) == (int)r.len); /* never a misleading 0 */
    resp_free(&nm);
    resp_free(&r);
    /* The handler's own ETag (a version), compared weakly. */
    const char *v[] = {"If-None-Match: W/\"7\"", NULL};
    assert_int_equal(request("GET", "/t/versioned", NULL, v, &nm), 304);
    assert_string_equal(header(&nm, "ETag"), "\"7\"");
    assert_null(header(&nm, "Transfer-Encoding"));
    resp_free(&nm);
    const char *stale[] = {"If-None-Match: \"6\"", NULL};
    assert_int_equal(request("GET", "/t/versioned", NULL, stale, &nm), 200);
    resp_free(&nm);
}

static void test_cache_control(void **state)
{
    struct resp r;
    const char *user[] = {"Authorization: Bearer user", NULL};
    assert_int_equal(request("GET", "/t/me", NULL, user, &r), 200);
    assert_string_equal(header(&r, "Cache-Control"), "private, no-cache");
    assert_non_null(header(&r, "ETag"));
    resp_free(&r);
    assert_int_equal(request("GET", "/t/secret", NULL, user, &r), 200);
    assert_string_equal(header(&r, "Cache-Control"), "no-store");
    resp_free(&r);
    request("GET", "/t/nothing-here", NULL, NULL, &r);
    assert_string_equal(header(&r, "Cache-Control"), "no-store");
    resp_free(&r);
    assert_int_equal(request("POST", "/t/echo", "{}", NULL, &r), 200);
    assert_null(header(&r, "Cache-Control"));
    assert_null(header(&r, "ETag"));
    resp_free(&r);
}

/* 401: a bare Bearer challenge without a token, error="invalid_token" with a bad one. */
static void test_bearer_challenges(void **state)
{
    struct resp r;
    request("GET", "/t/me", NULL, NULL, &r);
    expect_problem(&r, 401, "unauthorized");
    assert_string_equal(header(&r, "WWW-Authenticate"), "Bearer");
    resp_free(&r);
    const char *bad[] = {"Authorization: Bearer forged", NULL};
    request("GET", "/t/me", NULL, bad, &r);
    expect_problem(&r, 401, "unauthorized");
    assert_string_equal(header(&r, "WWW-Authenticate"), "Bearer error=\"invalid_token\"");
    resp_free(&r);
}

static void test_location_absolute(void **state)
{
    struct resp r;
    assert_int_equal(request("POST", "/t/located", NULL, NULL, &r), 201);
    assert_string_equal(header(&r, "Location"), TEST_PUBLIC_URL "/t/items/1");
    resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preflight_listed_origin),
        cmocka_unit_test(test_preflight_other_origin),
        cmocka_unit_test(test_actual_response_headers),
        cmocka_unit_test(test_plain_options),
        cmocka_unit_test(test_gzip_json),
        cmocka_unit_test(test_gzip_not_applied),
        cmocka_unit_test(test_keep_alive_on_errors),
        cmocka_unit_test(test_etag_and_304),
        cmocka_unit_test(test_cache_control),
        cmocka_unit_test(test_bearer_challenges),
        cmocka_unit_test(test_location_absolute),
    };
    return HAAT_RUN_GROUP("http_clients", tests, setup, teardown);
}
