/* Ledger invariants for every test that moves money (header-only, libpq only, so unit and
 * integration tests both include it).
 *
 *   lf_assert_ledger_balanced(db_url)
 *
 * fails the test (cmocka) unless, on the database at db_url:
 *   - every transfer has at least two legs and its legs sum to zero;
 *   - every account's balance equals the sum of its legs (balances can be recomputed from the
 *     transfers);
 *   - the platform accounts exist (gateway_clearing, escrow_held, revenue, refunds_payable,
 *     payouts). */
#ifndef HAAT_TESTS_INTEGRATION_LEDGER_FIXTURES_H
#define HAAT_TESTS_INTEGRATION_LEDGER_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <libpq-fe.h>

/* The first cell of sql as a number (-1 when the query failed or returned no row). */
static inline long long lf_scalar(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    long long n = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    else if (PQresultStatus(res) != PGRES_TUPLES_OK)
        print_error("lf_scalar: %s", PQerrorMessage(pg));
    PQclear(res);
    return n;
}

static inline void lf_assert_ledger_balanced(const char *db_url)
{
    PGconn *pg = PQconnectdb(db_url);
    if (PQstatus(pg) != CONNECTION_OK) {
        print_error("lf_assert_ledger_balanced: %s", PQerrorMessage(pg));
        PQfinish(pg);
        fail();
    }
    long long unbalanced = lf_scalar(
        pg, "SELECT count(*) FROM ledger_transfers t LEFT JOIN LATERAL (SELECT count(*) AS n, "
            "coalesce(sum(amount_minor), 0) AS s FROM ledger_legs l WHERE l.transfer_id = t.id) "
            "x ON true WHERE x.n < 2 OR x.s <> 0");
    long long drifted = lf_scalar(
        pg, "SELECT count(*) FROM ledger_accounts a WHERE a.balance_minor <> (SELECT "
            "coalesce(sum(amount_minor), 0) FROM ledger_legs l WHERE l.account_id = a.id)");
    long long orphans =
        lf_scalar(pg, "SELECT count(*) FROM ledger_legs l LEFT JOIN ledger_transfers t ON t.id = "
                      "l.transfer_id WHERE t.id IS NULL");
    long long platform = lf_scalar(pg, "SELECT count(*) FROM ledger_accounts WHERE id LIKE "
                                       "'platform:%'");
    PQfinish(pg);
    if (unbalanced != 0 || drifted != 0 || orphans != 0 || platform != 5)
        print_error("ledger invariant broken: %lld unbalanced transfer(s), %lld account(s) whose "
                    "balance is not the sum of their legs, %lld orphan leg(s), %lld platform "
                    "account(s)\n",
                    unbalanced, drifted, orphans, platform);
    assert_int_equal(unbalanced, 0);
    assert_int_equal(drifted, 0);
    assert_int_equal(orphans, 0);
    assert_int_equal(platform, 5);
}

#endif
