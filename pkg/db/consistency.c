/* Read-your-writes across a replica: the WAL position a command's commit reached (its
 * consistency token), whether the read connection has replayed a given position, and how far
 * the read side lags behind.
 *
 * The token is pg_current_wal_insert_lsn() read on the committing connection right after
 * COMMIT returned: the commit record is then inserted, so the position is at or past its end
 * whatever synchronous_commit says (pg_current_wal_lsn(), the write position, may still be
 * short of it with synchronous_commit=off, and any position read inside the transaction is
 * before the commit record). A replica whose pg_last_wal_replay_lsn() has reached the token
 * has replayed the commit and shows its effects. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/db/db_internal.h"
#include "pkg/log/log.h"

static const struct db_stmt consistency_stmts[] = {
    {"db_wal_insert_lsn", "SELECT pg_current_wal_insert_lsn()::text"},
    {"db_read_replay_lsn", "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text"},
    /* Seconds since the last replayed transaction, 0 when the replica has replayed all it
     * received (an idle primary commits nothing, which is no lag) or when it is a primary. */
    {"db_read_lag",
     "SELECT CASE WHEN NOT pg_is_in_recovery() "
     "OR pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
     "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"},
};

/* Test seam (HAAT_TEST_READ_REPLAY_LSN, read by db_consistency_init): the read connection is
 * taken to be a replica that has replayed up to this position. Tests use it to show that a
 * query carrying a newer token is served by the primary. NULL in production. */
static char *replay_override;

void db_consistency_init(void)
{
    static bool registered;
    if (!registered) {
        db_register(consistency_stmts, sizeof consistency_stmts / sizeof consistency_stmts[0]);
        registered = true;
    }
    free(replay_override);
    const char *o = getenv("HAAT_TEST_READ_REPLAY_LSN");
    replay_override = o && *o ? strdup(o) : NULL;
}

bool db_lsn_parse(const char *s, uint64_t *out)
{
    if (!s)
        return false;
    size_t hi_len = strspn(s, "0123456789abcdefABCDEF");
    if (hi_len == 0 || hi_len > 8 || s[hi_len] != '/')
        return false;
    const char *lo = s + hi_len + 1;
    size_t lo_len = strspn(lo, "0123456789abcdefABCDEF");
    if (lo_len == 0 || lo_len > 8 || lo[lo_len] != '\0')
        return false;
    uint64_t hi = strtoull(s, NULL, 16), low = strtoull(lo, NULL, 16);
    *out = hi << 32 | low;
    return true;
}

bool db_wal_position(char *buf, size_t size)
{
    struct db_conn *c = db_open_conn(DB_PRIMARY);
    if (!c || db_known_down(DB_PRIMARY) || PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return false;
    PGresult *res = NULL;
    if (db_exec(c, "db_wal_insert_lsn", 0, NULL, &res) != DB_OK)
        return false;
    bool ok = PQntuples(res) == 1 && db_col_copy(res, 0, 0, buf, size);
    PQclear(res);
    return ok;
}

bool db_read_has_replayed(const char *token)
{
    uint64_t want, have;
    if (!db_lsn_parse(token, &want))
        return false;
    PGresult *res = NULL;
    if (db_query(DB_READ, "db_read_replay_lsn", 0, NULL, &res) != DB_OK)
        return false;
    bool recovering = db_col_bool(res, 0, 0);
    const char *replayed = db_col_str(res, 0, 1);
    if (replay_override) {
        recovering = true;
        replayed = replay_override;
    }
    bool fresh = !recovering || (db_lsn_parse(replayed, &have) && have >= want);
    PQclear(res);
    return fresh;
}

double db_replica_lag_seconds(void)
{
    PGresult *res = NULL;
    if (db_query(DB_READ, "db_read_lag", 0, NULL, &res) != DB_OK)
        return -1;
    double lag = strtod(db_col_str(res, 0, 0) ? db_col_str(res, 0, 0) : "-1", NULL);
    PQclear(res);
    return lag;
}
