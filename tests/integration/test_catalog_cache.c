/* The product read cache across instances: A (cat_srv) and B, two serve processes on one
 * database. A change made through A — edit, stock, archive — reaches B's cache by NOTIFY
 * (B polls to the new version, within a generous bound); an anonymous If-None-Match read of a
 * cached product is a 304 from the cache; authenticated reads, drafts and X-Haat-Consistency
 * reads bypass it; and after B's listener connection is killed and comes back, B serves no
 * stale product (a change made while it was away is seen at once). */
#include "tests/integration/catalog_fixtures.h"
#include "tests/test_main.h"

static struct h_server srv_b;

/* GET path on s, anonymous, with an optional extra header, into r. */
static long get_on(const struct h_server *s, const char *path, const char *extra, struct h_resp *r)
{
    const char *hdrs[2] = {extra, NULL};
    h_resp_cleanup(r);
    memset(r, 0, sizeof *r);
    return h_request(s, "GET", path, NULL, hdrs, r);
}

static double metric(const struct h_server *s, const char *name)
{
    return h_metric_value(s, name);
}

/* Polls B's anonymous GET of path until its ETag is etag; returns the milliseconds it took,
 * or -1 after 10 s. */
static long long wait_etag_on_b(const char *path, const char *etag)
{
    struct h_resp r = {0};
    long long t0 = h_now_ms();
    long long took = -1;
    while (h_now_ms() - t0 < 10000) {
        get_on(&srv_b, path, NULL, &r);
        const char *e = h_resp_header(&r, "ETag");
        if (r.status == 200 && e && strcmp(e, etag) == 0) {
            took = h_now_ms() - t0;
            break;
        }
        h_sleep_ms(5);
    }
    h_resp_cleanup(&r);
    return took;
}

/* Makes B cache path: a miss, then a hit. */
static void cached_on_b(const char *path)
{
    struct h_resp r = {0};
    double hits = metric(&srv_b, "haat_product_cache_hits_total");
    long long t0 = h_now_ms();
    do {
        get_on(&srv_b, path, NULL, &r);
        h_assert_status(&r, 200);
    } while (metric(&srv_b, "haat_product_cache_hits_total") <= hits && h_now_ms() - t0 < 10000);
    assert_true(metric(&srv_b, "haat_product_cache_hits_total") > hits);
    h_resp_cleanup(&r);
}

static void test_change_on_a_seen_on_b(void **state)
{
    (void)state;
    struct actor s;
    struct h_resp r = {0};
    char path[80], url[120];
    fx_actor(&s, true);
    json_t *p = fx_create(&s, "Cached teapot", NULL);
    snprintf(path, sizeof path, "/v1/products/%s", fx_str(p, "id"));
    cached_on_b(path);
    get_on(&srv_b, path, NULL, &r);
    assert_string_equal(fx_str(r.json, "title"), "Cached teapot");
    /* A matching If-None-Match from the cache: 304, same ETag, no body. */
    double hits = metric(&srv_b, "haat_product_cache_hits_total");
    get_on(&srv_b, path, "If-None-Match: \"1\"", &r);
    assert_int_equal(r.status, 304);
    assert_string_equal(h_resp_header(&r, "ETag"), "\"1\"");
    assert_int_equal(r.len, 0);
    assert_true(metric(&srv_b, "haat_product_cache_hits_total") > hits);

    /* Edit through A: B serves version 2. */
    fx_call(&s, "PATCH", path, "{\"title\":\"Cached teapot, blue\"}", NULL, &r);
    h_assert_status(&r, 200);
    long long ms = wait_etag_on_b(path, "\"2\"");
    fprintf(stderr, "cache: edit on A seen on B after %lld ms\n", ms);
    assert_true(ms >= 0);
    get_on(&srv_b, path, NULL, &r);
    assert_string_equal(fx_str(r.json, "title"), "Cached teapot, blue");
    cached_on_b(path);

    /* Stock through A (adjustment, then a set): versions 3 and 4. */
    snprintf(url, sizeof url, "%s/stock/adjustments", path);
    fx_call(&s, "POST", url, "{\"delta\":4,\"reason\":\"found more\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_true(wait_etag_on_b(path, "\"3\"") >= 0);
    get_on(&srv_b, path, NULL, &r);
    assert_int_equal(fx_int(r.json, "stock"), 5);
    cached_on_b(path);
    snprintf(url, sizeof url, "%s/stock", path);
    fx_call(&s, "PUT", url, "{\"quantity\":0,\"reason\":\"all gone\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_true(wait_etag_on_b(path, "\"4\"") >= 0);
    get_on(&srv_b, path, NULL, &r);
    assert_string_equal(fx_str(r.json, "status"), "sold_out");
    cached_on_b(path);

    /* Archive through A: version 5, archived. */
    fx_call(&s, "DELETE", path, NULL, NULL, &r);
    assert_true(r.status == 204 || r.status == 200);
    assert_true(wait_etag_on_b(path, "\"5\"") >= 0);
    get_on(&srv_b, path, NULL, &r);
    assert_string_equal(fx_str(r.json, "status"), "archived");
    assert_true(metric(&srv_b, "haat_product_cache_invalidations_total") >= 4);
    json_decref(p);
    fx_actor_free(&s);
    h_resp_cleanup(&r);
}

static void test_bypasses(void **state)
{
    (void)state;
    struct actor s;
    struct h_resp r = {0};
    char path[80], dpath[80];
    fx_actor(&s, true);
    json_t *p = fx_create(&s, "Bypass lamp", NULL);
    snprintf(path, sizeof path, "/v1/products/%s", fx_str(p, "id"));
    cached_on_b(path);
    double hits = metric(&srv_b, "haat_product_cache_hits_total");
    double misses = metric(&srv_b, "haat_product_cache_misses_total");
    /* X-Haat-Consistency and a token: straight to the database, the counters untouched. */
    get_on(&srv_b, path, "X-Haat-Consistency: strong", &r);
    h_assert_status(&r, 200);
    char auth[1200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", s.token);
    get_on(&srv_b, path, auth, &r);
    h_assert_status(&r, 200);
    assert_true(metric(&srv_b, "haat_product_cache_hits_total") == hits);
    assert_true(metric(&srv_b, "haat_product_cache_misses_total") == misses);

    /* A draft: its owner reads it, nobody else, and it never enters the cache. */
    json_t *d = fx_create(&s, "Draft vase", "{\"status\":\"draft\"}");
    snprintf(dpath, sizeof dpath, "/v1/products/%s", fx_str(d, "id"));
    for (int i = 0; i < 3; i++) {
        get_on(&srv_b, dpath, NULL, &r);
        h_assert_problem(&r, 404, "not_found");
    }
    get_on(&srv_b, dpath, auth, &r);
    h_assert_status(&r, 200);
    get_on(&srv_b, dpath, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    assert_true(metric(&srv_b, "haat_product_cache_hits_total") == hits);
    json_decref(d);
    json_decref(p);
    fx_actor_free(&s);
    h_resp_cleanup(&r);
}

/* The backend pid of server s's listener connection (0 while it has none). */
static long long listener_pid(const struct h_server *s)
{
    return fx_count("SELECT coalesce(max(pid), 0) FROM pg_stat_activity "
                    "WHERE application_name = 'haat-listen:%d'",
                    (int)s->pid);
}

static void test_no_stale_read_after_listener_reconnects(void **state)
{
    (void)state;
    struct actor s;
    struct h_resp r = {0};
    char path[80];
    fx_actor(&s, true);
    json_t *p = fx_create(&s, "Reconnect clock", NULL);
    snprintf(path, sizeof path, "/v1/products/%s", fx_str(p, "id"));
    cached_on_b(path);
    double clears = metric(&srv_b, "haat_product_cache_clears_total");
    long long pid = listener_pid(&srv_b);
    assert_true(pid > 0);
    fx_sql("SELECT pg_terminate_backend(%lld)", pid);
    /* Changed while B's listener is away: the notification is lost. */
    fx_call(&s, "PATCH", path, "{\"title\":\"Reconnect clock, new\"}", NULL, &r);
    h_assert_status(&r, 200);
    long long t0 = h_now_ms();
    while ((listener_pid(&srv_b) <= 0 || listener_pid(&srv_b) == pid ||
            metric(&srv_b, "haat_product_cache_clears_total") <= clears) &&
           h_now_ms() - t0 < 15000)
        h_sleep_ms(50);
    assert_true(metric(&srv_b, "haat_product_cache_clears_total") > clears);
    /* The reconnect dropped the cache: the first read is the new version. */
    get_on(&srv_b, path, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(h_resp_header(&r, "ETag"), "\"2\"");
    assert_string_equal(fx_str(r.json, "title"), "Reconnect clock, new");
    /* And live invalidation works again. */
    cached_on_b(path);
    fx_call(&s, "PATCH", path, "{\"title\":\"Reconnect clock, newer\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_true(wait_etag_on_b(path, "\"3\"") >= 0);
    json_decref(p);
    fx_actor_free(&s);
    h_resp_cleanup(&r);
}

static int start(void **state)
{
    if (fx_start(state) != 0)
        return -1;
    snprintf(srv_b.db_url, sizeof srv_b.db_url, "%s", cat_db_url);
    srv_b.no_migrate = true;
    static const char *const env_b[] = {"HAAT_WORKERS=off", NULL};
    h_server_start(&srv_b, env_b);
    return 0;
}

static int stop(void **state)
{
    h_server_cleanup(&srv_b);
    return fx_stop(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_change_on_a_seen_on_b),
        cmocka_unit_test(test_bypasses),
        cmocka_unit_test(test_no_stale_read_after_listener_reconnects),
    };
    return HAAT_RUN_GROUP("catalog_cache", tests, start, stop);
}
