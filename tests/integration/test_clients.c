/* What real clients see on the real routes: Cache-Control by what an answer holds (no-store
 * for tokens, codes and account data), RFC 6750 challenges, the docs (offline, a favicon, the
 * spec's server from HAAT_PUBLIC_URL), the API's front door (GET /v1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/integration/harness.h"
#include "tests/integration/user_fixtures.h"
#include "tests/test_main.h"

static struct h_server srv;

static int start(void **state)
{
    h_server_start(&srv, NULL);
    return 0;
}

static int stop(void **state)
{
    h_server_cleanup(&srv);
    return 0;
}

static void expect_cache(const struct h_resp *r, const char *want)
{
    const char *cc = h_resp_header(r, "Cache-Control");
    if (!cc || strcmp(cc, want) != 0)
        h_resp_print(r);
    assert_non_null(cc);
    assert_string_equal(cc, want);
}

static void test_no_store_on_credentials_and_account_data(void **state)
{
    struct uf_ident u;
    json_t *pair = NULL;
    struct h_resp r = {0};
    uf_ready_user(&srv, &u, &pair);
    const char *access = uf_str(pair, "access_token");
    uf_login(&srv, u.email, UF_PASSWORD, &r);
    expect_cache(&r, "no-store");
    uf_post(&srv, "/v1/auth/refresh", NULL, &r, "{\"refresh_token\":\"%s\"}",
            uf_str(pair, "refresh_token"));
    h_assert_status(&r, 200);
    expect_cache(&r, "no-store");
    uf_call(&srv, "GET", "/v1/me", access, NULL, &r);
    h_assert_status(&r, 200);
    expect_cache(&r, "no-store");
    uf_call(&srv, "POST", "/v1/me/seller", access,
            "{\"display_name\":\"Cache Shop\",\"payout\":{\"method\":\"upi\","
            "\"upi_vpa\":\"cache@okaxis\"}}",
            &r);
    h_assert_status(&r, 201);
    expect_cache(&r, "no-store");
    /* Another authenticated read: private, revalidated with its ETag. */
    uf_call(&srv, "GET", "/v1/me/notifications", access, NULL, &r);
    h_assert_status(&r, 200);
    expect_cache(&r, "private, no-cache");
    assert_non_null(h_resp_header(&r, "ETag"));
    h_resp_cleanup(&r);
    json_decref(pair);
}

static void test_public_listing_revalidates(void **state)
{
    struct h_resp r = {0}, nm = {0};
    h_get(&srv, "/v1/products?limit=5", &r);
    h_assert_status(&r, 200);
    expect_cache(&r, "no-cache");
    const char *etag = h_resp_header(&r, "ETag");
    assert_non_null(etag);
    char inm[96];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    h_request(&srv, "GET", "/v1/products?limit=5", NULL, h, &nm);
    h_assert_status(&nm, 304);
    assert_string_equal(h_resp_header(&nm, "ETag"), etag);
    h_resp_cleanup(&nm);
    h_resp_cleanup(&r);
}

static void test_invalid_token_challenge(void **state)
{
    struct h_resp r = {0};
    uf_call(&srv, "GET", "/v1/me", "not-a-token", NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    assert_string_equal(h_resp_header(&r, "WWW-Authenticate"), "Bearer error=\"invalid_token\"");
    uf_call(&srv, "GET", "/v1/me", NULL, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    assert_string_equal(h_resp_header(&r, "WWW-Authenticate"), "Bearer");
    h_resp_cleanup(&r);
}

static void test_docs_are_self_contained(void **state)
{
    struct h_resp r = {0};
    h_get(&srv, "/openapi.json", &r);
    h_assert_status(&r, 200);
    /* HAAT_PUBLIC_URL defaults to http:// + HAAT_HTTP_ADDR: the server's own address. */
    const json_t *server = json_array_get(json_object_get(r.json, "servers"), 0);
    assert_string_equal(uf_str(server, "url"), srv.base_url);
    h_resp_cleanup(&r);
    h_get(&srv, "/docs/redoc.standalone.js", &r);
    h_assert_status(&r, 200);
    assert_null(strstr(r.body, "cdn.redoc.ly"));
    assert_non_null(strstr(r.body, "\"/favicon.svg\""));
    h_resp_cleanup(&r);
    h_get(&srv, "/docs", &r);
    h_assert_status(&r, 200);
    assert_non_null(strstr(r.body, "href=\"/favicon.svg\""));
    assert_null(strstr(r.body, "http://"));
    assert_null(strstr(r.body, "https://"));
    const char *icons[] = {"/favicon.ico", "/favicon.svg"};
    for (size_t i = 0; i < 2; i++) {
        h_resp_cleanup(&r);
        h_get(&srv, icons[i], &r);
        h_assert_status(&r, 200);
        assert_string_equal(h_resp_header(&r, "Content-Type"), "image/svg+xml");
        assert_non_null(strstr(r.body, "<svg"));
    }
    h_resp_cleanup(&r);
}

/* GET /v1 names the service, the version `haat version` prints, and where the docs are. */
static void test_api_root(void **state)
{
    const char *args[] = {"version", NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, NULL, &code, &out), 0);
    assert_int_equal(code, 0);
    char version[128];
    assert_int_equal(sscanf(out, "haat %127s", version), 1);
    free(out);
    struct h_resp r = {0};
    h_get(&srv, "/v1", &r);
    h_assert_status(&r, 200);
    json_t *want = json_pack("{s:s,s:s,s:s,s:s}", "name", "haat", "version", version, "docs",
                             "/docs", "openapi", "/openapi.json");
    if (!json_equal(r.json, want))
        h_resp_print(&r);
    assert_true(json_equal(r.json, want));
    json_decref(want);
    h_resp_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_store_on_credentials_and_account_data),
        cmocka_unit_test(test_public_listing_revalidates),
        cmocka_unit_test(test_invalid_token_challenge),
        cmocka_unit_test(test_docs_are_self_contained),
        cmocka_unit_test(test_api_root),
    };
    return HAAT_RUN_GROUP("clients", tests, start, stop);
}
