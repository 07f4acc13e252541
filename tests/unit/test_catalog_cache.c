/* Unit tests of the product read cache (internal/catalog/cache.c) without a database or a
 * listener: hits and misses, the bounds (entries and bytes, least recently used out), and the
 * rule that it never keeps a value older than an invalidation it has seen — the lagging read
 * connection case: a miss read before the change (or from a replica that has not replayed
 * it) is refused once the notification has arrived. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal/catalog/internal.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"
#include "tests/test_main.h"

#define ID_A "0190f7c2-8a1e-7abc-8def-0123456789ab"
#define ID_B "0190f7c2-8a1e-7abc-8def-0123456789ac"
#define ID_C "0190f7c2-8a1e-7abc-8def-0123456789ad"

static int setup(void **state)
{
    (void)state;
    log_init("error", "json");
    catalog_cache_configure(100, 1 << 20);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    catalog_cache_cleanup();
    metrics_reset_for_tests();
    return 0;
}

/* The cached body of id ("" on a miss) and its version (-1 on a miss). */
static long long get(const char *id, char *body, size_t n)
{
    struct strbuf sb;
    strbuf_init(&sb);
    long long v = -1;
    uint64_t t;
    bool hit = catalog_cache_get(id, &sb, &v, &t);
    snprintf(body, n, "%s", hit ? sb.buf : "");
    strbuf_cleanup(&sb);
    return hit ? v : -1;
}

static uint64_t ticket(const char *id)
{
    struct strbuf sb;
    strbuf_init(&sb);
    long long v;
    uint64_t t;
    catalog_cache_get(id, &sb, &v, &t);
    strbuf_cleanup(&sb);
    return t;
}

static void put(const char *id, long long v, const char *body, bool kept)
{
    assert_int_equal(catalog_cache_put(id, v, body, strlen(body), ticket(id)), kept);
}

static void test_hit_after_fill_and_case_folded_ids(void **state)
{
    (void)state;
    char b[64];
    assert_int_equal(get(ID_A, b, sizeof b), -1);
    put(ID_A, 3, "{\"v\":3}", true);
    assert_int_equal(get(ID_A, b, sizeof b), 3);
    assert_string_equal(b, "{\"v\":3}");
    assert_int_equal(get("0190F7C2-8A1E-7ABC-8DEF-0123456789AB", b, sizeof b), 3);
    assert_int_equal(get("not-a-uuid", b, sizeof b), -1);
}

static void test_invalidation_drops_and_refuses_older(void **state)
{
    (void)state;
    char b[64];
    put(ID_A, 3, "{\"v\":3}", true);
    uint64_t before = ticket(ID_A); /* a miss that read version 3 on a lagging replica */
    catalog_cache_invalidate(ID_A, 4);
    assert_int_equal(get(ID_A, b, sizeof b), -1);
    assert_false(catalog_cache_put(ID_A, 3, "{\"v\":3}", 7, before));
    put(ID_A, 3, "{\"v\":3}", false); /* a fresh miss, still on the lagging replica */
    assert_int_equal(get(ID_A, b, sizeof b), -1);
    put(ID_A, 4, "{\"v\":4}", true); /* the replica caught up */
    assert_int_equal(get(ID_A, b, sizeof b), 4);
    put(ID_A, 4, "{\"v\":4}", false); /* the same version again changes nothing */
    put(ID_A, 5, "{\"v\":5}", true);  /* newer than what it holds */
    assert_int_equal(get(ID_A, b, sizeof b), 5);
    /* A notification of an older version (arriving late) still drops the entry, and says
     * nothing newer than 5 exists: a read of 5 may fill it again, one of 4 may not. */
    catalog_cache_invalidate(ID_A, 2);
    assert_int_equal(get(ID_A, b, sizeof b), -1);
    put(ID_A, 4, "{\"v\":4}", false);
    put(ID_A, 5, "{\"v\":5}", true);
}

static void test_clear_refuses_fills_begun_before(void **state)
{
    (void)state;
    char b[64];
    put(ID_A, 1, "{}", true);
    uint64_t before = ticket(ID_B);
    catalog_cache_clear(); /* the listener reconnected */
    assert_int_equal(get(ID_A, b, sizeof b), -1);
    assert_false(catalog_cache_put(ID_B, 1, "{}", 2, before));
    put(ID_B, 1, "{}", true);
}

static void test_bounds_evict_least_recently_used(void **state)
{
    (void)state;
    char b[64];
    catalog_cache_configure(2, 1 << 20);
    put(ID_A, 1, "{\"a\":1}", true);
    put(ID_B, 1, "{\"b\":1}", true);
    assert_int_equal(get(ID_A, b, sizeof b), 1); /* A is now the most recent */
    put(ID_C, 1, "{\"c\":1}", true);             /* B goes */
    assert_int_equal(get(ID_B, b, sizeof b), -1);
    assert_int_equal(get(ID_A, b, sizeof b), 1);
    assert_int_equal(get(ID_C, b, sizeof b), 1);

    /* Bytes: a body bigger than the whole bound is never kept; two that do not fit together
     * keep the newer. */
    catalog_cache_configure(100, 1024);
    char big[2048];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    put(ID_A, 1, big, false);
    big[600] = '\0';
    put(ID_A, 1, big, true);
    put(ID_B, 1, big, true);
    assert_int_equal(get(ID_A, b, sizeof b), -1);
    assert_int_equal(get(ID_B, b, sizeof b), 1);
}

static void test_forgotten_tombstone_refuses_fills_begun_before(void **state)
{
    (void)state;
    catalog_cache_configure(1, 1 << 20);
    catalog_cache_invalidate(ID_A, 9);
    uint64_t before = ticket(ID_A);
    catalog_cache_invalidate(ID_B, 2); /* evicts A's tombstone */
    assert_false(catalog_cache_put(ID_A, 8, "{}", 2, before));
}

static void test_off_keeps_nothing(void **state)
{
    (void)state;
    char b[64];
    catalog_cache_configure(0, 1 << 20);
    put(ID_A, 1, "{}", false);
    assert_int_equal(get(ID_A, b, sizeof b), -1);
}

static void test_counters_in_metrics(void **state)
{
    (void)state;
    char b[64];
    get(ID_A, b, sizeof b);
    put(ID_A, 1, "{}", true);
    get(ID_A, b, sizeof b);
    size_t len;
    char *text = metrics_render(&len);
    assert_non_null(strstr(text, "haat_product_cache_hits_total 1"));
    assert_non_null(strstr(text, "haat_product_cache_misses_total 2"));
    assert_non_null(strstr(text, "haat_product_cache_evictions_total 0"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hit_after_fill_and_case_folded_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalidation_drops_and_refuses_older, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_refuses_fills_begun_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds_evict_least_recently_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forgotten_tombstone_refuses_fills_begun_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_off_keeps_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_in_metrics, setup, teardown),
    };
    return HAAT_RUN_GROUP("catalog_cache", tests, NULL, NULL);
}
