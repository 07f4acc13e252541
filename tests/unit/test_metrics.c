/* Unit tests for pkg/metrics: exact exposition text, escaping, cumulative buckets, and exact
 * totals under concurrent updates. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkg/metrics/metrics.h"
#include "tests/test_main.h"

static int reset(void **state)
{
    metrics_reset_for_tests();
    return 0;
}

static void expect_render(const char *want)
{
    size_t len = 99;
    char *got = metrics_render(&len);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
}

static void test_empty(void **state)
{
    expect_render("");
}

static void test_counters(void **state)
{
    static const char *const labels[] = {"method", "route", "status"};
    struct metrics_counter *c =
        metrics_counter_new("http_requests_total", "HTTP requests served.", 3, labels);
    struct metrics_counter *plain =
        metrics_counter_new("haat_restarts_total", "Restarts.", 0, NULL);
    metrics_counter_inc(c, (const char *const[]){"GET", "/v1/products/{id}", "200", 0});
    metrics_counter_add(c, (const char *const[]){"GET", "/v1/products/{id}", "200", 0}, 2);
    metrics_counter_inc(c, (const char *const[]){"POST", "/v1/orders", "201", 0});
    metrics_counter_inc(c, (const char *const[]){"GET", "/healthz", "200", 0});
    metrics_counter_add(c, (const char *const[]){"GET", "/healthz", "200", 0}, -5); /* ignored */
    metrics_counter_add(c, (const char *const[]){"GET", "/healthz", "200", 0}, 0.5);
    expect_render(
        "# HELP http_requests_total HTTP requests served.\n"
        "# TYPE http_requests_total counter\n"
        "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1.5\n"
        "http_requests_total{method=\"GET\",route=\"/v1/products/{id}\",status=\"200\"} 3\n"
        "http_requests_total{method=\"POST\",route=\"/v1/orders\",status=\"201\"} 1\n"
        "# HELP haat_restarts_total Restarts.\n"
        "# TYPE haat_restarts_total counter\n"
        "haat_restarts_total 0\n");
    /* The same definition again is the same family. */
    assert_ptr_equal(metrics_counter_new("http_requests_total", "x", 3, labels), c);
    assert_ptr_equal(metrics_counter_new("haat_restarts_total", "Restarts.", 0, NULL), plain);
}

static void test_histogram_cumulative(void **state)
{
    static const double b[] = {0.25, 0.5, 1};
    struct metrics_histogram *h = metrics_histogram_new("op_seconds", "Op time.", "route", b, 3);
    metrics_histogram_observe(h, "/b", 0.125);
    metrics_histogram_observe(h, "/b", 0.25); /* on the bound: le is inclusive */
    metrics_histogram_observe(h, "/b", 0.75);
    metrics_histogram_observe(h, "/b", 3);
    metrics_histogram_observe(h, "/a", 0.5);
    expect_render("# HELP op_seconds Op time.\n"
                  "# TYPE op_seconds histogram\n"
                  "op_seconds_bucket{route=\"/a\",le=\"0.25\"} 0\n"
                  "op_seconds_bucket{route=\"/a\",le=\"0.5\"} 1\n"
                  "op_seconds_bucket{route=\"/a\",le=\"1\"} 1\n"
                  "op_seconds_bucket{route=\"/a\",le=\"+Inf\"} 1\n"
                  "op_seconds_sum{route=\"/a\"} 0.5\n"
                  "op_seconds_count{route=\"/a\"} 1\n"
                  "op_seconds_bucket{route=\"/b\",le=\"0.25\"} 2\n"
                  "op_seconds_bucket{route=\"/b\",le=\"0.5\"} 2\n"
                  "op_seconds_bucket{route=\"/b\",le=\"1\"} 3\n"
                  "op_seconds_bucket{route=\"/b\",le=\"+Inf\"} 4\n"
                  "op_seconds_sum{route=\"/b\"} 4.125\n"
                  "op_seconds_count{route=\"/b\"} 4\n");
}

static void test_histogram_default_buckets(void **state)
{
    struct metrics_histogram *h = metrics_histogram_new("d_seconds", "D.", NULL, NULL, 0);
    metrics_histogram_observe(h, NULL, 0.003);
    expect_render("# HELP d_seconds D.\n"
                  "# TYPE d_seconds histogram\n"
                  "d_seconds_bucket{le=\"0.0005\"} 0\n"
                  "d_seconds_bucket{le=\"0.001\"} 0\n"
                  "d_seconds_bucket{le=\"0.0025\"} 0\n"
                  "d_seconds_bucket{le=\"0.005\"} 1\n"
                  "d_seconds_bucket{le=\"0.01\"} 1\n"
                  "d_seconds_bucket{le=\"0.025\"} 1\n"
                  "d_seconds_bucket{le=\"0.05\"} 1\n"
                  "d_seconds_bucket{le=\"0.1\"} 1\n"
                  "d_seconds_bucket{le=\"0.25\"} 1\n"
                  "d_seconds_bucket{le=\"0.5\"} 1\n"
                  "d_seconds_bucket{le=\"1\"} 1\n"
                  "d_seconds_bucket{le=\"2.5\"} 1\n"
                  "d_seconds_bucket{le=\"5\"} 1\n"
                  "d_seconds_bucket{le=\"+Inf\"} 1\n"
                  "d_seconds_sum 0.003\n"
                  "d_seconds_count 1\n");
}

static double read_pending(void *arg)
{
    return *(const double *)arg;
}

static void test_gauges(void **state)
{
    static double pending = 42;
    static const char *const labels[] = {"state"};
    metrics_gauge_fn("outbox_pending_events", "Events not yet handled.", read_pending, &pending);
    struct metrics_gauge *g = metrics_gauge_new("things", "Things by state.", 1, labels);
    metrics_gauge_set(g, (const char *const[]){"b"}, 7);
    metrics_gauge_set(g, (const char *const[]){"a"}, 2);
    metrics_gauge_add(g, (const char *const[]){"a"}, -0.5);
    struct metrics_gauge *odd = metrics_gauge_new("odd", "Odd values.", 1, labels);
    metrics_gauge_set(odd, (const char *const[]){"inf"}, 1.0 / 0.0);
    metrics_gauge_set(odd, (const char *const[]){"tenth"}, 0.1);
    metrics_gauge_set(odd, (const char *const[]){"big"}, 1e21);
    pending = 43; /* read at scrape time */
    expect_render("# HELP outbox_pending_events Events not yet handled.\n"
                  "# TYPE outbox_pending_events gauge\n"
                  "outbox_pending_events 43\n"
                  "# HELP things Things by state.\n"
                  "# TYPE things gauge\n"
                  "things{state=\"a\"} 1.5\n"
                  "things{state=\"b\"} 7\n"
                  "# HELP odd Odd values.\n"
                  "# TYPE odd gauge\n"
                  "odd{state=\"big\"} 1e+21\n"
                  "odd{state=\"inf\"} +Inf\n"
                  "odd{state=\"tenth\"} 0.1\n");
}

static void test_escaping(void **state)
{
    static const char *const labels[] = {"v"};
    struct metrics_counter *c =
        metrics_counter_new("esc_total", "Back\\slash and\nnewline \"kept\".", 1, labels);
    metrics_counter_inc(c, (const char *const[]){"a\\b\"c\nd"});
    metrics_counter_inc(c, (const char *const[]){NULL});
    expect_render("# HELP esc_total Back\\\\slash and\\nnewline \"kept\".\n"
                  "# TYPE esc_total counter\n"
                  "esc_total{v=\"\"} 1\n"
                  "esc_total{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

static void test_build_info(void **state)
{
    metrics_build_info("1.2.3-4-gabcdef");
    expect_render("# HELP haat_build_info Build information: the running version.\n"
                  "# TYPE haat_build_info gauge\n"
                  "haat_build_info{version=\"1.2.3-4-gabcdef\"} 1\n");
}

#define THREADS    8
#define PER_THREAD 50000
#define ROUTES     40

struct worker {
    struct metrics_counter *c;
    struct metrics_histogram *h;
    int id;
};

static void *hammer(void *arg)
{
    const struct worker *w = arg;
    char route[ROUTES][16];
    for (int r = 0; r < ROUTES; r++)
        snprintf(route[r], sizeof route[r], "/r%02d", r);
    for (int i = 0; i < PER_THREAD; i++) {
        const char *values[2] = {route[(i + w->id) % ROUTES], i % 2 ? "200" : "500"};
        metrics_counter_inc(w->c, values);
        metrics_histogram_observe(w->h, values[0], 0.001);
    }
    return NULL;
}

/* Sums every sample line starting with prefix. */
static double sum_lines(const char *text, const char *prefix)
{
    double total = 0;
    size_t plen = strlen(prefix);
    for (const char *p = text; *p;) {
        const char *end = p + strcspn(p, "\n");
        if (strncmp(p, prefix, plen) == 0) {
            const char *sp = end;
            while (sp > p && sp[-1] != ' ')
                sp--;
            total += strtod(sp, NULL);
        }
        p = *end ? end + 1 : end;
    }
    return total;
}

static void test_concurrent_exact_totals(void **state)
{
    static const char *const labels[] = {"route", "status"};
    struct worker w[THREADS];
    pthread_t tid[THREADS];
    struct metrics_counter *c = metrics_counter_new("hits_total", "Hits.", 2, labels);
    struct metrics_histogram *h = metrics_histogram_new("lat_seconds", "Lat.", "route", NULL, 0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.c = c, .h = h, .id = i};
        assert_int_equal(pthread_create(&tid[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < 20; i++) /* scrapes while the table grows */
        free(metrics_render(NULL));
    for (int i = 0; i < THREADS; i++)
        pthread_join(tid[i], NULL);
    char *text = metrics_render(NULL);
    assert_true(sum_lines(text, "hits_total{") == (double)THREADS * PER_THREAD);
    assert_true(sum_lines(text, "lat_seconds_count{") == (double)THREADS * PER_THREAD);
    assert_true(sum_lines(text, "lat_seconds_bucket{route=\"/r07\",le=\"+Inf\"}") ==
                (double)THREADS * PER_THREAD / ROUTES);
    assert_non_null(strstr(text, "hits_total{route=\"/r39\",status=\"500\"}"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_empty, reset),
        cmocka_unit_test_setup(test_counters, reset),
        cmocka_unit_test_setup(test_histogram_cumulative, reset),
        cmocka_unit_test_setup(test_histogram_default_buckets, reset),
        cmocka_unit_test_setup(test_gauges, reset),
        cmocka_unit_test_setup(test_escaping, reset),
        cmocka_unit_test_setup(test_build_info, reset),
        cmocka_unit_test_setup(test_concurrent_exact_totals, reset),
    };
    int rc = HAAT_RUN_GROUP("metrics", tests, NULL, NULL);
    metrics_reset_for_tests();
    return rc;
}
