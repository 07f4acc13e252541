/* Idempotency-Key across a crash: the key completes in the command's own transaction, so a
 * server that dies between the effect and the reply leaves a key whose retry replays the first
 * answer (Location and ETag included) instead of running the command again.
 *
 * The crash is the failpoint http_after_commit (HAAT_FAILPOINTS): the process ends with
 * _exit(86) right after COMMIT, before a byte of the reply is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/test_main.h"

#include "tests/integration/catalog_fixtures.h"

#define FAILPOINT_EXIT 86

static const char *const crash_env[] = {"HAAT_FAILPOINTS=http_after_commit", NULL};

static long post_keyed(const struct actor *a, const char *key, const char *body, struct h_resp *r)
{
    char hdr[300];
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", key);
    return fx_call(a, "POST", "/v1/products", body, hdr, r);
}

static long long products_titled(const char *title)
{
    return fx_count("SELECT count(*) FROM products WHERE title = '%s'", title);
}

/* Restarts the shared server on the same database with env (NULL: none). */
static void restart(const char *const *env)
{
    h_server_stop(&cat_srv);
    cat_srv.no_migrate = true;
    h_server_start(&cat_srv, env);
}

static void test_crash_after_commit_replays(void **state)
{
    struct actor seller;
    struct h_resp r = {0};
    char title[32], key[64], want_location[80];
    fx_actor(&seller, true);
    fx_word(title, 12);
    snprintf(key, sizeof key, "crash-%s", title);
    char *body = fx_body(title, NULL);

    restart(crash_env);
    post_keyed(&seller, key, body, &r);
    assert_int_equal(r.status, 0); /* the connection died with the server */
    assert_int_equal(h_server_wait(&cat_srv, 10000), FAILPOINT_EXIT);
    /* The effect and the key's response were committed together. */
    assert_int_equal(products_titled(title), 1);
    assert_int_equal(fx_count("SELECT status_code FROM idempotency_keys WHERE key = '%s'", key),
                     201);

    restart(NULL);
    post_keyed(&seller, key, body, &r);
    h_assert_status(&r, 201);
    assert_non_null(h_resp_header(&r, "Idempotent-Replayed"));
    assert_string_equal(h_resp_header(&r, "Idempotent-Replayed"), "true");
    char *id = h_db_scalar(cat_db_url, "SELECT id::text FROM products ORDER BY created_at DESC "
                                       "LIMIT 1");
    assert_non_null(id);
    assert_string_equal(fx_str(r.json, "id"), id);
    snprintf(want_location, sizeof want_location, "/v1/products/%s", id);
    assert_non_null(h_resp_header(&r, "Location"));
    assert_non_null(strstr(h_resp_header(&r, "Location"), want_location));
    assert_string_equal(h_resp_header(&r, "ETag"), "\"1\"");
    assert_int_equal(products_titled(title), 1); /* ran once */
    free(id);
    free(body);
    h_resp_cleanup(&r);
    fx_actor_free(&seller);
}

/* Without a crash, a retry replays the first answer with its Location and ETag. */
static void test_replay_keeps_location_and_etag(void **state)
{
    struct actor seller;
    struct h_resp a = {0}, b = {0};
    char title[32], key[64];
    fx_actor(&seller, true);
    fx_word(title, 12);
    snprintf(key, sizeof key, "replay-%s", title);
    char *body = fx_body(title, NULL);
    post_keyed(&seller, key, body, &a);
    h_assert_status(&a, 201);
    assert_null(h_resp_header(&a, "Idempotent-Replayed"));
    post_keyed(&seller, key, body, &b);
    h_assert_status(&b, 201);
    assert_string_equal(h_resp_header(&b, "Idempotent-Replayed"), "true");
    assert_string_equal(h_resp_header(&b, "Location"), h_resp_header(&a, "Location"));
    assert_string_equal(h_resp_header(&b, "ETag"), h_resp_header(&a, "ETag"));
    assert_string_equal(b.body, a.body);
    assert_int_equal(products_titled(title), 1);
    free(body);
    h_resp_cleanup(&a);
    h_resp_cleanup(&b);
    fx_actor_free(&seller);
}

/* A refused request committed nothing, so nothing is kept under its key: the retry is judged
 * afresh (its problem carries its own request id), and the corrected request may use the key. */
static void test_refusal_keeps_the_key_free(void **state)
{
    struct actor seller;
    struct h_resp r = {0};
    char title[32];
    fx_actor(&seller, true);
    fx_word(title, 12);
    const char *bad = "{\"title\":\"\",\"price_minor\":-1}";
    post_keyed(&seller, "refused-once", bad, &r);
    h_assert_problem(&r, 422, "validation_failed");
    post_keyed(&seller, "refused-once", bad, &r);
    h_assert_problem(&r, 422, "validation_failed");
    assert_null(h_resp_header(&r, "Idempotent-Replayed"));
    char *good = fx_body(title, NULL);
    post_keyed(&seller, "refused-once", good, &r);
    h_assert_status(&r, 201);
    assert_int_equal(products_titled(title), 1);
    free(good);
    h_resp_cleanup(&r);
    fx_actor_free(&seller);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_keeps_location_and_etag),
        cmocka_unit_test(test_refusal_keeps_the_key_free),
        cmocka_unit_test(test_crash_after_commit_replays),
    };
    return HAAT_RUN_GROUP("idempotency", tests, fx_start, fx_stop);
}
