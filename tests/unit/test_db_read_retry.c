/* pkg/db: a read whose connection broke under it (its backend went away, as when a failover
 * moves the read port to another node) is sent once more on a fresh connection, so a query
 * does not fail for a connection opened before the fault; the primary's statements are never
 * resent (one may have committed). Against the dev cluster (HAAT_TEST_LISTEN_URL), whose
 * backends the test ends itself with SIGTERM, as PostgreSQL's shutdown of a node would. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "pkg/db/db.h"
#include "tests/test_main.h"

static const struct db_stmt stmts[] = {
    {"t_pid", "SELECT pg_backend_pid()"},
};

static int setup(void **state)
{
    const char *url = getenv("HAAT_TEST_LISTEN_URL");
    if (!url || !*url) {
        fprintf(stderr, "HAAT_TEST_LISTEN_URL is not set (make unit sets it to the dev "
                        "cluster's DATABASE_URL)\n");
        return -1;
    }
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
    return db_init(url, url);
}

static int teardown(void **state)
{
    db_shutdown();
    return 0;
}

/* The backend pid of c's connection. */
static pid_t backend_of(struct db_conn *c)
{
    PGresult *res = NULL;
    assert_int_equal(db_exec(c, "t_pid", 0, NULL, &res), DB_OK);
    pid_t pid = (pid_t)atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    assert_true(pid > 0);
    return pid;
}

/* Ends c's backend and waits until it is gone. */
static void end_backend(pid_t pid)
{
    assert_int_equal(kill(pid, SIGTERM), 0);
    for (int i = 0; i < 200 && kill(pid, 0) == 0; i++)
        usleep(10000);
    assert_int_not_equal(kill(pid, 0), 0);
}

static void test_read_is_sent_again_on_a_fresh_connection(void **state)
{
    struct db_conn *c = db_conn(DB_READ);
    assert_non_null(c);
    pid_t old = backend_of(c);
    end_backend(old);
    pid_t now = backend_of(c); /* DB_OK: the retry, on a new backend */
    assert_int_not_equal(now, old);
}

static void test_primary_statement_is_not_resent(void **state)
{
    struct db_conn *c = db_conn(DB_PRIMARY);
    assert_non_null(c);
    end_backend(backend_of(c));
    assert_int_equal(db_exec(c, "t_pid", 0, NULL, NULL), DB_UNAVAILABLE);
    assert_null(db_pg(c)); /* dropped; the next db_conn() opens a new one */
    c = db_conn(DB_PRIMARY);
    assert_non_null(c);
    (void)backend_of(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_is_sent_again_on_a_fresh_connection),
        cmocka_unit_test(test_primary_statement_is_not_resent),
    };
    return HAAT_RUN_GROUP("db_read_retry", tests, setup, teardown);
}
