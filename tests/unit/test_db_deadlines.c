/* pkg/db's own deadlines and circuit breaker, without the HTTP server:
 * - a "server" that accepts TCP but never answers (as a frozen PostgreSQL does: its kernel
 *   completes the handshake) costs one connect deadline, opens the breaker, and is then
 *   refused at once;
 * - a slow-but-alive server (pg_sleep on the dev cluster, HAAT_TEST_LISTEN_URL) is ended by
 *   the server-side statement_timeout that follows haat's deadline: DB_UNAVAILABLE, SQLSTATE
 *   57014, and the connection stays usable;
 * - a frozen backend (our own connection's backend on the dev cluster, stopped with SIGSTOP;
 *   it holds nothing, so nobody else waits for it) is given up on by haat itself at the
 *   statement deadline: the connection is dropped, not cancelled, and the breaker opens. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pkg/db/db.h"
#include "tests/test_main.h"

#define CONNECT_MS   200
#define STATEMENT_MS 400

static const struct db_stmt stmts[] = {
    {"t_sleep", "SELECT pg_sleep(3)"},
    {"t_one", "SELECT 1"},
    {"t_pid", "SELECT pg_backend_pid()"},
};

static int silent_fd = -1; /* listens, never accepts: connections sit in its backlog */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
    const char *url = getenv("HAAT_TEST_LISTEN_URL");
    if (!url || !*url) {
        fprintf(stderr, "HAAT_TEST_LISTEN_URL is not set (make unit sets it to the dev "
                        "cluster's DATABASE_URL)\n");
        return -1;
    }
    silent_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t len = sizeof a;
    if (bind(silent_fd, (struct sockaddr *)&a, len) != 0 || listen(silent_fd, 16) != 0 ||
        getsockname(silent_fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    char silent[128];
    snprintf(silent, sizeof silent, "postgresql://haat@127.0.0.1:%d/haat", ntohs(a.sin_port));
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
    /* The primary is the dev cluster, the read side the silent listener. */
    if (db_init(url, silent) != 0)
        return -1;
    db_set_timeouts(CONNECT_MS, STATEMENT_MS);
    return 0;
}

static int teardown(void **state)
{
    db_shutdown();
    if (silent_fd >= 0)
        close(silent_fd);
    return 0;
}

static void test_silent_server_costs_one_connect_deadline(void **state)
{
    assert_false(db_known_down(DB_READ));
    int64_t t0 = now_ms();
    assert_null(db_conn(DB_READ));
    int64_t took = now_ms() - t0;
    assert_true(took >= CONNECT_MS - 20);
    assert_true(took < CONNECT_MS + 800);
    assert_true(db_known_down(DB_READ));
    /* Known down: refused at once, for every thread (no prober runs here, so one caller may
     * try again only after 500 ms). */
    t0 = now_ms();
    for (int i = 0; i < 10; i++)
        assert_null(db_conn(DB_READ));
    assert_true(now_ms() - t0 < 50);
    PGresult *res = NULL;
    assert_int_equal(db_query(DB_READ, "t_one", 0, NULL, &res), DB_UNAVAILABLE);
    assert_null(res);
    /* The other database is not affected. */
    assert_false(db_known_down(DB_PRIMARY));
    assert_int_equal(db_query(DB_PRIMARY, "t_one", 0, NULL, NULL), DB_OK);
}

static void test_slow_statement_ends_at_the_server_timeout(void **state)
{
    struct db_conn *c = db_conn(DB_PRIMARY);
    assert_non_null(c);
    int64_t t0 = now_ms();
    assert_int_equal(db_exec(c, "t_sleep", 0, NULL, NULL), DB_UNAVAILABLE);
    int64_t took = now_ms() - t0;
    assert_string_equal(db_last_sqlstate(), "57014"); /* statement_timeout, 4/5 of ours */
    assert_true(took < STATEMENT_MS + 500);
    /* Slow, not gone: the connection is kept and still works; the breaker stays closed. */
    assert_false(db_known_down(DB_PRIMARY));
    assert_ptr_equal(db_conn(DB_PRIMARY), c);
    assert_non_null(db_pg(c));
    assert_int_equal(db_exec(c, "t_one", 0, NULL, NULL), DB_OK);
}

static void test_frozen_backend_dropped_at_our_deadline(void **state)
{
    struct db_conn *c = db_conn(DB_PRIMARY);
    assert_non_null(c);
    PGresult *res = NULL;
    assert_int_equal(db_exec(c, "t_pid", 0, NULL, &res), DB_OK);
    pid_t backend = (pid_t)atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    assert_true(backend > 0);
    assert_int_equal(kill(backend, SIGSTOP), 0);
    int64_t t0 = now_ms();
    enum db_status st = db_exec(c, "t_one", 0, NULL, NULL);
    int64_t took = now_ms() - t0;
    kill(backend, SIGCONT); /* before any assertion: it then sees its client gone and exits */
    assert_int_equal(st, DB_UNAVAILABLE);
    assert_true(took >= STATEMENT_MS - 20);
    assert_true(took < STATEMENT_MS + 800);
    assert_null(db_pg(c)); /* dropped */
    assert_true(db_known_down(DB_PRIMARY));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_server_costs_one_connect_deadline),
        cmocka_unit_test(test_slow_statement_ends_at_the_server_timeout),
        cmocka_unit_test(test_frozen_backend_dropped_at_our_deadline),
    };
    return HAAT_RUN_GROUP("db_deadlines", tests, setup, teardown);
}
