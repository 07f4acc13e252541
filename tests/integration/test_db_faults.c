/* A sick database cannot freeze the API, and readiness means "this instance can serve".
 *
 * - A PostgreSQL frozen with SIGSTOP (a private cluster of this test, so no other test is
 *   frozen with it): /healthz answers 200 and /readyz 503 on the ops listener within a
 *   second, requests answer 503 within their statement deadline (more of them at once than
 *   there are HTTP threads), and everything recovers after SIGCONT without restarting haat.
 * - A read side that is gone: queries answer 503 at once, /readyz 503 with read "down",
 *   commands still work on the primary.
 * - A primary that is gone with the read side up: queries 200, commands 503 with
 *   Retry-After, /readyz 200 with primary "down" (the instance stays in the balancer). */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"
#include "tests/test_main.h"

#define FREEZE_DIR   "var/pg-freeze-test"
#define STATEMENT_MS 1500 /* HAAT_DB_STATEMENT_TIMEOUT_MS of the servers here */
#define CONNECT_MS   500  /* HAAT_DB_CONNECT_TIMEOUT_MS */
#define PARALLEL     8    /* requests at once while frozen: twice the test config's threads */

static const char otp_body[] = "{\"channel\":\"sms\",\"destination\":\"+919812345678\","
                               "\"purpose\":\"login\"}";

static const char *str_member(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static const char *check(const struct h_resp *r, const char *name)
{
    return str_member(json_object_get(r->json, "checks"), name);
}

/* ---- the private cluster ----------------------------------------------------------------- */

static int freeze_port;

static int pg_freeze(const char *cmd)
{
    char line[512];
    snprintf(line, sizeof line,
             "HAAT_PG_DIR=" FREEZE_DIR " HAAT_PG_PORT=%d timeout 120 infra/dev/pg.sh %s "
             ">>var/test-logs/%s-pg.log 2>&1",
             freeze_port, cmd, h_test_name());
    int st = system(line);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The postmaster's pid (first line of postmaster.pid), 0 when unknown. */
static pid_t postmaster_pid(void)
{
    size_t len = 0;
    char *text = h_read_file(FREEZE_DIR "/data/postmaster.pid", &len);
    pid_t pid = text ? (pid_t)atoi(text) : 0;
    free(text);
    return pid;
}

/* Sends sig to the postmaster and every process it started (the backends serving haat). */
static int signal_cluster(int sig)
{
    pid_t pm = postmaster_pid();
    if (pm <= 0)
        return -1;
    int sent = kill(pm, sig) == 0;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0)
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *close_paren = strrchr(buf, ')'); /* "pid (comm) state ppid ..." */
        int ppid = 0;
        char state;
        if (close_paren && sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2 && ppid == pm)
            sent += kill(pid, sig) == 0;
    }
    if (d)
        closedir(d);
    return sent;
}

static int freeze_setup(void **state)
{
    freeze_port = h_free_port();
    if (pg_freeze("start") != 0) {
        fprintf(stderr, "cannot start the private cluster (see var/test-logs)\n");
        return -1;
    }
    struct h_server *s = calloc(1, sizeof *s);
    *state = s;
    return 0;
}

static int freeze_teardown(void **state)
{
    signal_cluster(SIGCONT); /* whatever happened, never leave it frozen */
    struct h_server *s = *state;
    if (s) {
        h_server_cleanup(s);
        free(s);
    }
    pg_freeze("stop");
    int rc = system("d=" FREEZE_DIR "; t=$(readlink -f \"$d\"); rm -rf -- \"$t\" \"$d\" "
                    "\"var/.pg-freeze-test.lock\"");
    (void)rc;
    return 0;
}

/* ---- requests in parallel ------------------------------------------------------------------ */

struct call {
    const struct h_server *s;
    const char *method, *path, *body;
    long status;
    char code[64];
    long long ms;
};

static void *run_call(void *arg)
{
    struct call *c = arg;
    struct h_resp r = {0};
    long long t0 = h_now_ms();
    c->status = h_request(c->s, c->method, c->path, c->body, NULL, &r);
    c->ms = h_now_ms() - t0;
    snprintf(c->code, sizeof c->code, "%s", r.json ? str_member(r.json, "code") ?: "" : "");
    h_resp_cleanup(&r);
    return NULL;
}

/* GET url until it answers want, every 20 ms for at most timeout_ms. Elapsed ms, or -1. */
static long wait_url(const char *url, long want, int timeout_ms)
{
    long long t0 = h_now_ms();
    for (;;) {
        struct h_resp r = {0};
        long st = h_request_url("GET", url, NULL, 0, NULL, &r);
        h_resp_cleanup(&r);
        long el = (long)(h_now_ms() - t0);
        if (st == want)
            return el;
        if (el > timeout_ms)
            return -1;
        h_sleep_ms(20);
    }
}

static void test_frozen_database(void **state)
{
    struct h_server *s = *state;
    snprintf(s->db_url, sizeof s->db_url, "postgresql://haat@127.0.0.1:%d/haat", freeze_port);
    int ops_port = h_free_port();
    char ops_env[64], stmt_env[64], conn_env[64];
    snprintf(ops_env, sizeof ops_env, "HAAT_OPS_ADDR=127.0.0.1:%d", ops_port);
    snprintf(stmt_env, sizeof stmt_env, "HAAT_DB_STATEMENT_TIMEOUT_MS=%d", STATEMENT_MS);
    snprintf(conn_env, sizeof conn_env, "HAAT_DB_CONNECT_TIMEOUT_MS=%d", CONNECT_MS);
    const char *const env[] = {ops_env, stmt_env, conn_env, "HAAT_WORKERS=off", NULL};
    h_server_start(s, env);
    char healthz[96], readyz[96], metrics[96];
    snprintf(healthz, sizeof healthz, "http://127.0.0.1:%d/healthz", ops_port);
    snprintf(readyz, sizeof readyz, "http://127.0.0.1:%d/readyz", ops_port);
    snprintf(metrics, sizeof metrics, "http://127.0.0.1:%d/metrics", ops_port);
    assert_true(wait_url(readyz, 200, 5000) >= 0);

    /* /metrics lives on the ops listener only. */
    struct h_resp r = {0};
    assert_int_equal(h_request_url("GET", metrics, NULL, 0, NULL, &r), 200);
    assert_non_null(strstr(r.body, "http_requests_total"));
    h_resp_cleanup(&r);
    h_get(s, "/metrics", &r);
    h_assert_problem(&r, 404, "not_found");
    h_resp_cleanup(&r);

    /* Warm every HTTP thread's connections, then freeze the whole cluster. */
    struct call warm[PARALLEL];
    pthread_t tid[PARALLEL];
    for (int i = 0; i < PARALLEL; i++) {
        warm[i] = (struct call){.s = s, .method = "GET", .path = "/v1/products?limit=1"};
        pthread_create(&tid[i], NULL, run_call, &warm[i]);
    }
    for (int i = 0; i < PARALLEL; i++) {
        pthread_join(tid[i], NULL);
        assert_int_equal(warm[i].status, 200);
    }
    assert_true(signal_cluster(SIGSTOP) > 1);
    long long frozen_at = h_now_ms();

    /* More requests at once than there are HTTP threads: each ends with a 503 within its
     * deadline (the first ones wait for it; once the breaker is open the rest answer at
     * once), none hangs. */
    struct call calls[PARALLEL];
    for (int i = 0; i < PARALLEL; i++) {
        calls[i] = (struct call){.s = s,
                                 .method = i % 2 ? "POST" : "GET",
                                 .path = i % 2 ? "/v1/auth/otp" : "/v1/products?limit=1",
                                 .body = i % 2 ? otp_body : NULL};
        pthread_create(&tid[i], NULL, run_call, &calls[i]);
    }
    /* Meanwhile the ops listener is never starved. */
    long ready_503 = wait_url(readyz, 503, 3000);
    long long t0 = h_now_ms();
    assert_int_equal(h_request_url("GET", healthz, NULL, 0, NULL, &r), 200);
    long long healthz_ms = h_now_ms() - t0;
    h_resp_cleanup(&r);
    t0 = h_now_ms();
    assert_int_equal(h_request_url("GET", readyz, NULL, 0, NULL, &r), 503);
    long long readyz_ms = h_now_ms() - t0;
    assert_string_equal(check(&r, "primary"), "down");
    assert_string_equal(check(&r, "read"), "down");
    h_resp_cleanup(&r);
    long long slowest = 0;
    for (int i = 0; i < PARALLEL; i++) {
        pthread_join(tid[i], NULL);
        assert_int_equal(calls[i].status, 503);
        assert_string_equal(calls[i].code, "service_unavailable");
        slowest = calls[i].ms > slowest ? calls[i].ms : slowest;
    }
    printf("note: frozen database: /readyz 503 after %ld ms (since the freeze %lld ms), "
           "/healthz %lld ms, /readyz %lld ms; slowest of %d requests %lld ms (deadline %d ms)\n",
           ready_503, t0 - frozen_at, healthz_ms, readyz_ms, PARALLEL, slowest, STATEMENT_MS);
    assert_true(ready_503 >= 0 && ready_503 <= 1000);
    assert_true(slowest <= STATEMENT_MS + 1500);
    /* Known down: a request now answers at once. */
    t0 = h_now_ms();
    h_get(s, "/v1/products?limit=1", &r);
    h_assert_problem(&r, 503, "service_unavailable");
    assert_non_null(h_resp_header(&r, "Retry-After"));
    assert_true(h_now_ms() - t0 < 500);
    h_resp_cleanup(&r);

    /* Thawed: back by itself. */
    assert_true(signal_cluster(SIGCONT) > 1);
    long back = wait_url(readyz, 200, 10000);
    printf("note: /readyz back to 200 %ld ms after SIGCONT\n", back);
    assert_true(back >= 0);
    h_get(s, "/v1/products?limit=1", &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
    h_request(s, "POST", "/v1/auth/otp", otp_body, NULL, &r);
    h_assert_status(&r, 202);
    h_resp_cleanup(&r);
    assert_int_equal(h_server_stop(s), 0);
}

/* ---- one side gone -------------------------------------------------------------------------- */

static int new_server(void **state)
{
    *state = calloc(1, sizeof(struct h_server));
    return *state ? 0 : -1;
}

static int cleanup_server(void **state)
{
    h_server_cleanup(*state);
    free(*state);
    return 0;
}

static void test_read_side_gone(void **state)
{
    struct h_server *s = *state;
    char read_env[128];
    snprintf(read_env, sizeof read_env, "DATABASE_READ_URL=postgresql://haat@127.0.0.1:%d/haat",
             h_free_port()); /* nothing listens there */
    const char *const env[] = {read_env, "HAAT_WORKERS=off", NULL};
    h_server_start(s, env);
    struct h_resp r = {0};
    long long t0 = h_now_ms();
    h_get(s, "/v1/products?limit=1", &r);
    long long took = h_now_ms() - t0;
    h_assert_problem(&r, 503, "service_unavailable");
    assert_non_null(h_resp_header(&r, "Retry-After"));
    assert_true(took < 1000);
    h_resp_cleanup(&r);
    t0 = h_now_ms();
    h_get(s, "/readyz", &r);
    took = h_now_ms() - t0;
    h_assert_problem(&r, 503, "service_unavailable");
    assert_string_equal(check(&r, "read"), "down");
    assert_string_equal(check(&r, "primary"), "up");
    assert_true(took < 500);
    h_resp_cleanup(&r);
    /* Commands do not need the read side. */
    h_request(s, "POST", "/v1/auth/otp", otp_body, NULL, &r);
    h_assert_status(&r, 202);
    h_resp_cleanup(&r);
    assert_int_equal(h_server_stop(s), 0);
}

static void test_primary_gone_reads_go_on(void **state)
{
    struct h_server *s = *state;
    h_server_start(s, NULL); /* migrates its database */
    assert_int_equal(h_server_stop(s), 0);
    char primary_env[128], read_env[300];
    snprintf(primary_env, sizeof primary_env, "DATABASE_URL=postgresql://haat@127.0.0.1:%d/haat",
             h_free_port()); /* nothing listens there */
    snprintf(read_env, sizeof read_env, "DATABASE_READ_URL=%s", s->db_url);
    const char *const env[] = {primary_env, read_env, "HAAT_WORKERS=off", NULL};
    s->no_migrate = true;
    h_server_start(s, env);

    struct h_resp r = {0};
    assert_true(h_wait_status(s, "/readyz", 200, 5000) >= 0);
    h_get(s, "/readyz", &r);
    h_assert_status(&r, 200);
    assert_string_equal(check(&r, "primary"), "down");
    assert_string_equal(check(&r, "read"), "up");
    assert_string_equal(check(&r, "migrations"), "current");
    h_resp_cleanup(&r);
    h_get(s, "/v1/products?limit=1", &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
    h_get(s, "/v1/categories", &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
    long long t0 = h_now_ms();
    h_request(s, "POST", "/v1/auth/otp", otp_body, NULL, &r);
    long long took = h_now_ms() - t0;
    h_assert_problem(&r, 503, "service_unavailable");
    assert_non_null(h_resp_header(&r, "Retry-After"));
    assert_true(took < 1000);
    h_resp_cleanup(&r);
    assert_int_equal(h_server_stop(s), 0);
}

int main(void)
{
    const struct CMUnitTest sides[] = {
        cmocka_unit_test_setup_teardown(test_read_side_gone, new_server, cleanup_server),
        cmocka_unit_test_setup_teardown(test_primary_gone_reads_go_on, new_server, cleanup_server),
    };
    const struct CMUnitTest frozen[] = {
        cmocka_unit_test(test_frozen_database),
    };
    int failed = HAAT_RUN_GROUP("db_one_side_gone", sides, NULL, NULL);
    failed += HAAT_RUN_GROUP("db_frozen", frozen, freeze_setup, freeze_teardown);
    return failed;
}
