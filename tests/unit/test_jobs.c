/* Unit tests for pkg/jobs: batches until idle, prompt wakes, wakes during a batch, quick
 * stop and join, error back-off, the grace limit, registration rules. The LISTEN/NOTIFY test
 * needs a real PostgreSQL: HAAT_TEST_LISTEN_URL names it (`make test` passes the dev
 * cluster's DATABASE_URL) and the test fails without it. By hand:
 *   HAAT_TEST_LISTEN_URL="$DATABASE_URL" build/asan/tests/test_jobs */
#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pkg/clock/clock.h"
#include "pkg/jobs/jobs.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"
#include "tests/test_main.h"

/* Stand-in for pkg/db when the test binary is linked without it; the real one wins when it
 * is linked (then db_open_connections is defined and the count is not checked). */
void db_thread_cleanup(void);
extern int db_open_connections(void) __attribute__((weak));
static atomic_int cleanups;
__attribute__((weak)) void db_thread_cleanup(void)
{
    atomic_fetch_add(&cleanups, 1);
}

static bool stub_db(void)
{
    return db_open_connections == NULL;
}

static int64_t now_ms(void)
{
    return (int64_t)(clock_mono_ns() / 1000000u);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls until *v >= want or timeout; returns the last value. */
static int wait_at_least(atomic_int *v, int want, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (atomic_load(v) < want && now_ms() < end)
        sleep_ms(1);
    return atomic_load(v);
}

static int setup(void **state)
{
    metrics_reset_for_tests();
    atomic_store(&cleanups, 0);
    return 0;
}

static int teardown(void **state)
{
    jobs_stop(1000);
    return 0;
}

/* ---- jobs used by the tests ---- */

struct work {
    atomic_int items; /* left to process */
    atomic_int runs;
    int batch;              /* items per run */
    int sleep_ms;           /* per run */
    int result;             /* returned when items are exhausted (0, or < 0 for errors) */
    _Atomic int64_t at[64]; /* run start times (ms) */
};

static int run_work(void *arg)
{
    struct work *w = arg;
    int n = atomic_fetch_add(&w->runs, 1);
    if (n < 64)
        w->at[n] = now_ms();
    if (w->sleep_ms)
        sleep_ms(w->sleep_ms);
    int left = atomic_load(&w->items);
    if (left == 0)
        return w->result;
    int take = left < w->batch ? left : w->batch;
    atomic_fetch_sub(&w->items, take);
    return take;
}

static void start_one(const char *name, struct work *w, int idle_ms, int threads)
{
    struct jobs_spec spec = {
        .name = name, .run = run_work, .arg = w, .idle_ms = idle_ms, .threads = threads};
    assert_int_equal(jobs_register(&spec), 0);
    assert_int_equal(jobs_start(NULL), 0);
}

/* ---- tests ---- */

static void test_batches_until_idle(void **state)
{
    static struct work w = {.batch = 3};
    atomic_store(&w.items, 10);
    atomic_store(&w.runs, 0);
    start_one("batches", &w, 10000, 1);
    assert_int_equal(wait_at_least(&w.runs, 5, 2000), 5); /* 3+3+3+1, then idle */
    sleep_ms(100);
    assert_int_equal(atomic_load(&w.runs), 5);
    char *text = metrics_render(NULL);
    assert_non_null(strstr(text, "jobs_runs_total{job=\"batches\",result=\"work\"} 4\n"));
    assert_non_null(strstr(text, "jobs_runs_total{job=\"batches\",result=\"idle\"} 1\n"));
    free(text);
}

static void test_wake_is_prompt(void **state)
{
    static struct work w = {.batch = 1};
    atomic_store(&w.items, 0);
    atomic_store(&w.runs, 0);
    start_one("wakeme", &w, 10000, 1);
    assert_int_equal(wait_at_least(&w.runs, 1, 2000), 1);
    sleep_ms(20);
    atomic_store(&w.items, 1);
    int64_t t0 = now_ms();
    jobs_wake("wakeme");
    assert_int_equal(wait_at_least(&w.runs, 3, 1000), 3); /* the item, then idle again */
    assert_true(w.at[1] - t0 < 100);
    jobs_wake("no-such-job"); /* ignored */
}

static void test_wake_during_batch_is_kept(void **state)
{
    static struct work w = {.batch = 1, .sleep_ms = 100};
    atomic_store(&w.items, 0);
    atomic_store(&w.runs, 0);
    start_one("busy", &w, 10000, 1);
    assert_int_equal(wait_at_least(&w.runs, 1, 2000), 1);
    jobs_wake("busy"); /* while the first (idle) batch is still sleeping */
    assert_int_equal(wait_at_least(&w.runs, 2, 1000), 2);
    assert_true(w.at[1] - w.at[0] < 200);
}

static void test_stop_is_quick_and_joins(void **state)
{
    static struct work w = {.batch = 1};
    atomic_store(&w.items, 0);
    atomic_store(&w.runs, 0);
    start_one("stopper", &w, 10000, 4);
    assert_int_equal(wait_at_least(&w.runs, 4, 2000), 4);
    int64_t t0 = now_ms();
    assert_true(jobs_stop(5000)); /* every thread joined */
    assert_true(now_ms() - t0 < 100);
    if (stub_db())
        assert_int_equal(atomic_load(&cleanups), 4);
    sleep_ms(30);
    assert_int_equal(atomic_load(&w.runs), 4);
    jobs_wake("stopper");      /* after stop: ignored */
    assert_true(jobs_stop(0)); /* twice: harmless */
}

static void test_error_backoff(void **state)
{
    static struct work w = {.batch = 1, .result = -1};
    atomic_store(&w.items, 0);
    atomic_store(&w.runs, 0);
    start_one("failing", &w, 20, 1);
    sleep_ms(400);
    jobs_wake("failing"); /* does not cut a back-off short */
    sleep_ms(50);
    jobs_stop(1000);
    int n = atomic_load(&w.runs);
    /* Delays 10-20, 20-40, 40-80, 80-160, 160-320 ms: 5 or 6 runs in 450 ms (20 without).
     * Upper bounds are loose: a busy machine may schedule late, never early. */
    assert_in_range(n, 3, 7);
    for (int k = 0; k + 1 < n && k < 5; k++) {
        int64_t gap = w.at[k + 1] - w.at[k];
        assert_in_range(gap, (10 << k) - 1, (20 << k) + 100);
    }
    char *text = metrics_render(NULL);
    char want[96];
    snprintf(want, sizeof want, "jobs_runs_total{job=\"failing\",result=\"error\"} %d\n", n);
    assert_non_null(strstr(text, want));
    free(text);
}

static void test_grace_leaves_stuck_thread(void **state)
{
    static struct work w = {.batch = 1, .sleep_ms = 400};
    atomic_store(&w.items, 0);
    atomic_store(&w.runs, 0);
    start_one("stuck", &w, 10000, 1);
    assert_int_equal(wait_at_least(&w.runs, 1, 2000), 1);
    int64_t t0 = now_ms();
    assert_false(jobs_stop(50)); /* the stuck thread is left running */
    int64_t took = now_ms() - t0;
    assert_in_range(took, 40, 200);
    /* Let the abandoned batch end before the next test resets metrics. */
    if (stub_db())
        assert_int_equal(wait_at_least(&cleanups, 1, 2000), 1);
    else
        sleep_ms(600);
    assert_int_equal(atomic_load(&w.runs), 1);
}

static void test_register_rules(void **state)
{
    static struct work w;
    struct jobs_spec ok = {.name = "ok", .run = run_work, .arg = &w, .idle_ms = 1000, .threads = 1};
    struct jobs_spec bad = ok;
    bad.name = "Bad Name";
    assert_int_equal(jobs_register(&bad), -1);
    bad = ok;
    bad.threads = 5;
    assert_int_equal(jobs_register(&bad), -1);
    bad = ok;
    bad.idle_ms = 0;
    assert_int_equal(jobs_register(&bad), -1);
    bad = ok;
    bad.run = NULL;
    assert_int_equal(jobs_register(&bad), -1);
    bad = ok;
    bad.channel = "has-dash";
    assert_int_equal(jobs_register(&bad), -1);
    assert_int_equal(jobs_register(NULL), -1);
    assert_int_equal(jobs_register(&ok), 0);
    assert_int_equal(jobs_register(&ok), -1); /* duplicate */
    jobs_stop(100);                           /* never started: forgets the registration */
    assert_int_equal(jobs_register(&ok), 0);
    assert_int_equal(jobs_start(NULL), 0);
    assert_int_equal(jobs_start(NULL), -1);
    struct jobs_spec late = ok;
    late.name = "late";
    assert_int_equal(jobs_register(&late), -1);
}

static void test_channel_without_database_polls(void **state)
{
    static struct work w = {.batch = 1};
    atomic_store(&w.items, 0);
    atomic_store(&w.runs, 0);
    struct jobs_spec spec = {.name = "polled",
                             .run = run_work,
                             .arg = &w,
                             .idle_ms = 20,
                             .channel = "haat_polled",
                             .threads = 1};
    assert_int_equal(jobs_register(&spec), 0);
    assert_int_equal(jobs_start(NULL), 0);
    assert_true(wait_at_least(&w.runs, 3, 1000) >= 3);
}

/* Nothing listens on port 1: the listener keeps failing and retrying, the job still polls,
 * and stop does not wait for the listener's back-off. */
static void test_listener_down_still_polls(void **state)
{
    static struct work w = {.batch = 1};
    atomic_store(&w.items, 0);
    atomic_store(&w.runs, 0);
    struct jobs_spec spec = {.name = "nodb",
                             .run = run_work,
                             .arg = &w,
                             .idle_ms = 20,
                             .channel = "haat_nodb",
                             .threads = 1};
    assert_int_equal(jobs_register(&spec), 0);
    assert_int_equal(jobs_start("postgresql://haat@127.0.0.1:1/haat?connect_timeout=2"), 0);
    assert_true(wait_at_least(&w.runs, 5, 2000) >= 5);
    int64_t t0 = now_ms();
    jobs_stop(2000);
    assert_true(now_ms() - t0 < 100);
}

/* ---- LISTEN/NOTIFY against a real database (opt-in) ---- */

static void exec_ok(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(res);
}

/* Waits until a listener session exists other than `not_pid`; returns its pid. */
static int listener_pid(PGconn *c, int not_pid)
{
    for (int i = 0; i < 500; i++) {
        PGresult *res = PQexec(c, "SELECT pid FROM pg_stat_activity WHERE application_name = "
                                  "'haat-jobs-listener' AND query LIKE 'LISTEN%'");
        int pid = PQntuples(res) > 0 ? atoi(PQgetvalue(res, 0, 0)) : 0;
        PQclear(res);
        if (pid && pid != not_pid)
            return pid;
        sleep_ms(10);
    }
    fail_msg("the jobs listener did not connect");
    return 0;
}

static void notify_and_expect_wake(PGconn *c, const char *notify, struct work *w)
{
    sleep_ms(50);
    int before = atomic_load(&w->runs);
    int64_t t0 = now_ms();
    exec_ok(c, notify);
    assert_true(wait_at_least(&w->runs, before + 1, 1000) > before);
    assert_true(now_ms() - t0 < 500);
}

static void test_listen_notify(void **state)
{
    const char *url = getenv("HAAT_TEST_LISTEN_URL");
    if (!url || !*url)
        fail_msg("HAAT_TEST_LISTEN_URL is not set: it must name a PostgreSQL database for the "
                 "LISTEN/NOTIFY test (make unit sets it to the dev cluster's DATABASE_URL)");
    static struct work w = {.batch = 1};
    atomic_store(&w.items, 0);
    atomic_store(&w.runs, 0);
    char channel[64], notify[96], term[160];
    snprintf(channel, sizeof channel, "haat_test_jobs_%d", (int)getpid());
    snprintf(notify, sizeof notify, "NOTIFY %s", channel);
    struct jobs_spec spec = {.name = "listened",
                             .run = run_work,
                             .arg = &w,
                             .idle_ms = 10000,
                             .channel = channel,
                             .threads = 2};
    assert_int_equal(jobs_register(&spec), 0);
    assert_int_equal(jobs_start(url), 0);
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    int pid = listener_pid(c, 0);
    notify_and_expect_wake(c, notify, &w);
    /* Drop the listener's connection: it reconnects and LISTENs again. */
    snprintf(term, sizeof term, "SELECT pg_terminate_backend(%d)", pid);
    exec_ok(c, term);
    listener_pid(c, pid);
    notify_and_expect_wake(c, notify, &w);
    PQfinish(c);
    int64_t t0 = now_ms();
    jobs_stop(2000);
    assert_true(now_ms() - t0 < 200);
}

int main(void)
{
    log_init("warn", "text");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_until_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wake_is_prompt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wake_during_batch_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_is_quick_and_joins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grace_leaves_stuck_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channel_without_database_polls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listener_down_still_polls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_notify, setup, teardown),
    };
    int rc = HAAT_RUN_GROUP("jobs", tests, NULL, NULL);
    metrics_reset_for_tests();
    return rc;
}
