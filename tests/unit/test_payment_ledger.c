/* The ledger against a real database (a throwaway one on the dev cluster, migrated): postings
 * through payment_ledger_post, a retried transfer id posting nothing, balances following the
 * legs, and the database itself refusing an unbalanced transfer (at COMMIT), a transfer
 * without legs, and any UPDATE or DELETE of a posted transfer or leg.
 *
 * Needs DATABASE_URL and HAAT_PG_ADMIN_URL (make test provides both). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "internal/payment/internal.h"
#include "pkg/log/log.h"
#include "tests/integration/ledger_fixtures.h"
#include "tests/test_main.h"

#define SELLER "0192f0c4-0000-7000-8000-0000000000aa"

static char adminurl[256], dburl[320], dbname[64];

static void exec_on(const char *url, const char *sql)
{
    PGconn *pg = PQconnectdb(url);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
}

/* Runs sql on the test database expecting failure; returns its SQLSTATE (static buffer). */
static const char *refused(const char *sql)
{
    static char state[8];
    PGconn *pg = PQconnectdb(dburl);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *res = PQexec(pg, sql);
    assert_int_not_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof state, "%s", s ? s : "");
    PQclear(res);
    PQfinish(pg);
    return state;
}

static long long balance(const char *account)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT balance_minor FROM ledger_accounts WHERE id = '%s'", account);
    PGconn *pg = PQconnectdb(dburl);
    long long n = lf_scalar(pg, sql);
    PQfinish(pg);
    return n;
}

static struct payment_row pay(const char *id, int64_t amount)
{
    struct payment_row p = {.amount_minor = amount, .currency = "INR"};
    snprintf(p.id, sizeof p.id, "%s", id);
    snprintf(p.order_id, sizeof p.order_id, "0192f0c4-0000-7000-8000-0000000000bb");
    snprintf(p.seller_id, sizeof p.seller_id, SELLER);
    return p;
}

struct post_ctx {
    const struct payment_row *p;
    const char *refund_id;
};

static enum db_status capture_txn(struct db_conn *c, void *arg)
{
    const struct post_ctx *x = arg;
    return payment_post_capture(c, x->p);
}

static enum db_status refund_txn(struct db_conn *c, void *arg)
{
    const struct post_ctx *x = arg;
    enum db_status st = payment_post_refund(c, x->p, x->refund_id);
    if (st == DB_OK)
        st =
            payment_post_refund_paid(c, x->refund_id, x->p->order_id, x->p->id, x->p->amount_minor);
    return st;
}

static void test_capture_and_refund(void **state)
{
    (void)state;
    struct payment_row p = pay("0192f0c4-0000-7000-8000-000000000001", 129900);
    struct post_ctx x = {&p, NULL};
    char pending[PAYMENT_ACC_ID_LEN];
    payment_seller_account(pending, SELLER, "pending");
    assert_int_equal(db_txn(DB_PRIMARY, capture_txn, &x), DB_OK);
    assert_int_equal(balance(PAYMENT_ACC_ESCROW), 129900);
    assert_int_equal(balance(pending), -129900); /* owed to the seller: a credit balance */
    assert_int_equal(balance(PAYMENT_ACC_CLEARING), 0);
    /* the same capture again (a retried webhook) posts nothing */
    assert_int_equal(db_txn(DB_PRIMARY, capture_txn, &x), DB_OK);
    assert_int_equal(balance(PAYMENT_ACC_ESCROW), 129900);
    x.refund_id = "0192f0c4-0000-7000-8000-000000000011";
    assert_int_equal(db_txn(DB_PRIMARY, refund_txn, &x), DB_OK);
    assert_int_equal(balance(pending), 0);
    assert_int_equal(balance(PAYMENT_ACC_ESCROW), 0);
    assert_int_equal(balance(PAYMENT_ACC_REFUNDS), 0);
    lf_assert_ledger_balanced(dburl);
}

struct raw_ctx {
    struct payment_leg legs[2];
    size_t n;
};

static enum db_status raw_txn(struct db_conn *c, void *arg)
{
    struct raw_ctx *x = arg;
    return payment_ledger_post(c, "test:raw", "capture", NULL, NULL, x->legs, x->n, NULL);
}

static void test_posting_refuses_bad_legs(void **state)
{
    (void)state;
    struct raw_ctx x = {{{PAYMENT_ACC_ESCROW, 100}, {PAYMENT_ACC_REVENUE, -90}}, 2};
    assert_int_equal(db_txn(DB_PRIMARY, raw_txn, &x), DB_ERROR);
    x.legs[1].amount_minor = 0;
    assert_int_equal(db_txn(DB_PRIMARY, raw_txn, &x), DB_ERROR);
    x.n = 1;
    assert_int_equal(db_txn(DB_PRIMARY, raw_txn, &x), DB_ERROR);
    lf_assert_ledger_balanced(dburl);
}

/* The database is the last word: SQL that bypasses the posting function is refused. */
static void test_database_refuses_unbalanced_and_changes(void **state)
{
    (void)state;
    assert_string_equal(refused("BEGIN; INSERT INTO ledger_transfers (id, kind) VALUES "
                                "('t:bad', 'capture'); INSERT INTO ledger_legs VALUES "
                                "('t:bad', 1, 'platform:escrow_held', 100), "
                                "('t:bad', 2, 'platform:revenue', -99); COMMIT"),
                        "23514");
    assert_string_equal(refused("INSERT INTO ledger_transfers (id, kind) VALUES "
                                "('t:empty', 'capture')"),
                        "23514");
    assert_string_equal(refused("BEGIN; INSERT INTO ledger_transfers (id, kind) VALUES "
                                "('t:one', 'capture'); INSERT INTO ledger_legs VALUES "
                                "('t:one', 1, 'platform:escrow_held', 5); COMMIT"),
                        "23514");
    assert_string_equal(refused("UPDATE ledger_legs SET amount_minor = amount_minor * 2"), "42501");
    assert_string_equal(refused("DELETE FROM ledger_legs"), "42501");
    assert_string_equal(refused("UPDATE ledger_transfers SET kind = 'refund'"), "42501");
    assert_string_equal(refused("DELETE FROM ledger_transfers"), "42501");
    assert_string_equal(refused("TRUNCATE ledger_legs, ledger_transfers CASCADE"), "42501");
    lf_assert_ledger_balanced(dburl);
}

static int setup(void **state)
{
    (void)state;
    const char *url = getenv("DATABASE_URL"), *admin = getenv("HAAT_PG_ADMIN_URL");
    if (!url || !admin)
        fail_msg("DATABASE_URL and HAAT_PG_ADMIN_URL must be set (make test sets them)");
    log_init("error", "json");
    snprintf(adminurl, sizeof adminurl, "%s", admin);
    snprintf(dbname, sizeof dbname, "haat_ledger_%d", (int)getpid());
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", dbname);
    exec_on(adminurl, sql);
    const char *slash = strrchr(admin, '/');
    snprintf(dburl, sizeof dburl, "%.*s/%s", (int)(slash - admin), admin, dbname);
    assert_true(db_migrate(dburl, "migrations") >= 0);
    assert_int_equal(db_init(dburl, dburl), 0);
    payment_repo_ledger_register();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!dbname[0])
        return 0;
    db_shutdown();
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", dbname);
    exec_on(adminurl, sql);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_and_refund),
        cmocka_unit_test(test_posting_refuses_bad_legs),
        cmocka_unit_test(test_database_refuses_unbalanced_and_changes),
    };
    return HAAT_RUN_GROUP("payment_ledger", tests, setup, teardown);
}
