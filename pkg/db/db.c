/* Statements and transactions: prepare-on-first-use per connection, every statement sent
 * asynchronously and waited for under haat's deadline, failure classification by SQLSTATE,
 * and the transaction runner with retries. */
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pkg/clock/clock.h"
#include "pkg/db/db_internal.h"
#include "pkg/log/log.h"

#define TXN_ATTEMPTS 5

static _Thread_local char last_state[6];
static _Thread_local char last_constraint[64]; /* NAMEDATALEN */

void db_set_last(const char *sqlstate, const char *constraint)
{
    snprintf(last_state, sizeof last_state, "%s", sqlstate ? sqlstate : "");
    snprintf(last_constraint, sizeof last_constraint, "%s", constraint ? constraint : "");
}

const char *db_last_sqlstate(void)
{
    return last_state;
}

const char *db_last_constraint(void)
{
    return last_constraint;
}

static enum db_status classify(const char *s)
{
    if (!s || strlen(s) != 5)
        return DB_ERROR;
    if (strcmp(s, "23505") == 0)
        return DB_CONFLICT;
    if (strcmp(s, "23514") == 0 || strcmp(s, "23503") == 0 || strcmp(s, "23502") == 0)
        return DB_CHECK;
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return DB_RETRY;
    if (strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 ||
        strcmp(s, "57P03") == 0 || strcmp(s, "57014") == 0 || strcmp(s, "55P03") == 0)
        return DB_UNAVAILABLE;
    return DB_ERROR;
}

/* statement_timeout (57014) and lock_timeout (55P03): the server is slow, not gone, and the
 * connection stays usable. */
static bool server_timeout(const char *s)
{
    return s && (strcmp(s, "57014") == 0 || strcmp(s, "55P03") == 0);
}

static void log_failure(enum db_status st, const char *what, const char *state, const char *msg)
{
    enum log_level lvl = st == DB_ERROR         ? LOG_LEVEL_ERROR
                         : st == DB_UNAVAILABLE ? LOG_LEVEL_WARN
                                                : LOG_LEVEL_DEBUG;
    if (!log_enabled(lvl))
        return;
    size_t len = strcspn(msg, "\n");
    json_t *f = json_object();
    json_object_set_new(f, "stmt", json_string(what));
    json_object_set_new(f, "sqlstate", json_string(state));
    json_object_set_new(f, "error", json_stringn(msg, len));
    log_write(lvl, st == DB_UNAVAILABLE ? "db_unavailable" : "db_error", NULL, f);
}

enum db_status db_result_status(struct db_conn *c, const PGresult *res, const char *what)
{
    ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK)
        return DB_OK;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    enum db_status st = classify(state);
    bool gone = !c->pg || PQstatus(c->pg) != CONNECTION_OK;
    if (gone)
        st = DB_UNAVAILABLE;
    if (!state)
        state = st == DB_UNAVAILABLE ? "08006" : "XX000";
    db_set_last(state, cons);
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!*msg && c->pg)
        msg = PQerrorMessage(c->pg);
    log_failure(st, what, state, msg);
    if (st == DB_UNAVAILABLE && (gone || !server_timeout(state)))
        db_conn_close(c);
    return st;
}

/* Waits until pg's socket has one of events or end (clock_mono_ns) passes: 1, 0 at the
 * deadline, -1 on a poll error. */
static int wait_io(PGconn *pg, short events, uint64_t end)
{
    for (;;) {
        int64_t left_ms = ((int64_t)end - (int64_t)clock_mono_ns() + 999999) / 1000000;
        if (left_ms <= 0)
            return 0;
        struct pollfd p = {.fd = PQsocket(pg), .events = events};
        int n = poll(&p, 1, (int)left_ms);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* The result of the command just sent on c (the first error, else the last result), waited
 * for on the socket until end. NULL when the connection broke (then PQstatus says so) or
 * when end passed (*late). */
static PGresult *await_result(PGconn *pg, uint64_t end, bool *late)
{
    int f;
    while ((f = PQflush(pg)) == 1) { /* the rest of the command still to send */
        int w = wait_io(pg, POLLOUT | POLLIN, end);
        if (w == 0)
            *late = true;
        if (w <= 0 || !PQconsumeInput(pg))
            return NULL;
    }
    if (f < 0)
        return NULL;
    PGresult *keep = NULL;
    for (;;) {
        while (PQisBusy(pg)) {
            int w = wait_io(pg, POLLIN, end);
            if (w == 0)
                *late = true;
            if (w <= 0 || !PQconsumeInput(pg)) {
                PQclear(keep);
                return NULL;
            }
        }
        PGresult *res = PQgetResult(pg);
        if (!res)
            return keep;
        if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
            PQclear(res);
        } else {
            PQclear(keep);
            keep = res;
        }
    }
}

/* Collects the outcome of a command sent on c (sent: what PQsend* returned) under the
 * thread's deadline. Past the deadline the connection is dropped, not cancelled (PQcancel
 * would wait on a frozen server too), and the database's breaker opens. On DB_OK *out (when
 * not NULL) gets the result. */
static enum db_status run(struct db_conn *c, int sent, const char *what, PGresult **out)
{
    bool late = false;
    int ms = db_deadline_ms();
    PGresult *res =
        sent ? await_result(c->pg, clock_mono_ns() + (uint64_t)ms * 1000000u, &late) : NULL;
    if (late) {
        enum db_target t = c->target;
        log_warn("db_deadline", "%s: %s gave no answer within %d ms; connection dropped",
                 db_target_names[t], what, ms);
        db_set_last("57014", NULL);
        db_conn_close(c);
        db_breaker_report(t, false);
        return DB_UNAVAILABLE;
    }
    enum db_status st = db_result_status(c, res, what);
    if (st == DB_OK && out)
        *out = res;
    else
        PQclear(res);
    return st;
}

static bool is_prepared(const struct db_conn *c, size_t i)
{
    return c->prepared[i / 8] & (1u << (i % 8));
}

static enum db_status prepare(struct db_conn *c, size_t i, const struct db_stmt *s)
{
    enum db_status st = run(c, PQsendPrepare(c->pg, s->name, s->sql, 0, NULL), s->name, NULL);
    if (st == DB_OK)
        c->prepared[i / 8] |= (unsigned char)(1u << (i % 8));
    return st;
}

/* One statement on c, prepared first when c has not prepared it yet. */
static enum db_status exec_once(struct db_conn *c, size_t i, const struct db_stmt *s, int nparams,
                                const char *const *values, const int *lengths, const int *formats,
                                PGresult **out)
{
    enum db_status st = is_prepared(c, i) ? DB_OK : prepare(c, i, s);
    if (st != DB_OK)
        return st;
    st = run(c, PQsendQueryPrepared(c->pg, s->name, nparams, values, lengths, formats, 0), s->name,
             out);
    if (st == DB_ERROR && strcmp(last_state, "26000") == 0 && c->prepared)
        c->prepared[i / 8] &= (unsigned char)~(1u << (i % 8)); /* dropped server-side */
    return st;
}

/* A read outside a transaction whose connection broke under it (the server went away: a
 * failover moved the read port to another node) is sent once more on a fresh connection of
 * the same thread. Only on the read side, which never writes, and never after the
 * statement's deadline passed (the server may be frozen: that answers 503 at once). */
static bool retry_on_fresh(const struct db_conn *c, bool was_idle, enum db_status st)
{
    return st == DB_UNAVAILABLE && was_idle && c->target == DB_READ && !c->pg &&
           strcmp(last_state, "57014") != 0;
}

enum db_status db_exec_params(struct db_conn *c, const char *stmt, int nparams,
                              const char *const *values, const int *lengths, const int *formats,
                              PGresult **out)
{
    const struct db_stmt *s = NULL;
    if (out)
        *out = NULL;
    if (!c || !c->pg) {
        db_set_last("08003", NULL);
        return DB_UNAVAILABLE;
    }
    long i = db_registry_find(stmt, &s);
    if (i < 0) {
        log_error("db_unknown_statement", "statement %s is not registered", stmt ? stmt : "?");
        db_set_last("26000", NULL);
        return DB_ERROR;
    }
    bool was_idle = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
    enum db_status st = exec_once(c, (size_t)i, s, nparams, values, lengths, formats, out);
    if (retry_on_fresh(c, was_idle, st) && db_conn(c->target) == c) {
        log_info("db_read_retry", "%s: the read connection broke; sent again on a new one", stmt);
        st = exec_once(c, (size_t)i, s, nparams, values, lengths, formats, out);
    }
    return st;
}

enum db_status db_exec(struct db_conn *c, const char *stmt, int nparams, const char *const *values,
                       PGresult **out)
{
    return db_exec_params(c, stmt, nparams, values, NULL, NULL, out);
}

enum db_status db_query(enum db_target t, const char *stmt, int nparams, const char *const *values,
                        PGresult **out)
{
    struct db_conn *c = db_conn(t);
    if (!c) {
        if (out)
            *out = NULL;
        db_set_last("08006", NULL);
        return DB_UNAVAILABLE;
    }
    return db_exec(c, stmt, nparams, values, out);
}

long long db_exec_batches(const char *stmt, int nparams, const char *const *values, long long batch)
{
    long long total = 0;
    for (;;) {
        PGresult *res = NULL;
        if (db_query(DB_PRIMARY, stmt, nparams, values, &res) != DB_OK)
            return -1;
        long long n = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        total += n;
        if (n < batch)
            return total;
    }
}

/* Transaction control: fixed SQL, no parameters, never prepared. */
static enum db_status simple(struct db_conn *c, const char *sql, PGresult **keep)
{
    if (!c->pg) {
        db_set_last("08003", NULL);
        return DB_UNAVAILABLE;
    }
    return run(c, PQsendQuery(c->pg, sql), sql, keep);
}

static const char *begin_sql(enum db_target t, enum db_isolation iso)
{
    static const char *const sql[3][2] = {
        {"BEGIN", "BEGIN READ ONLY"},
        {"BEGIN ISOLATION LEVEL REPEATABLE READ",
         "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
        {"BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"},
    };
    return sql[iso][t];
}

/* COMMIT of a transaction that already failed silently rolls back (command tag ROLLBACK):
 * that is fn's bug (it ignored an error) and must not pass as success. */
static enum db_status commit(struct db_conn *c)
{
    if (c->pg && PQtransactionStatus(c->pg) == PQTRANS_INERROR) {
        log_error("db_txn_failed_commit", "fn returned DB_OK after a failed statement");
        simple(c, "ROLLBACK", NULL);
        return DB_ERROR;
    }
    PGresult *res = NULL;
    enum db_status st = simple(c, "COMMIT", &res);
    if (st == DB_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        log_error("db_txn_failed_commit", "COMMIT answered %s", PQcmdStatus(res));
        st = DB_ERROR;
    }
    PQclear(res);
    return st;
}

static enum db_status txn_once(struct db_conn *c, enum db_target t, enum db_isolation iso,
                               db_txn_fn fn, void *arg)
{
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        log_error("db_txn_nested", "db_txn while this thread's connection is in a transaction");
        return DB_ERROR;
    }
    enum db_status st = simple(c, begin_sql(t, iso), NULL);
    if (st != DB_OK)
        return st;
    st = fn(c, arg);
    if (st == DB_OK)
        return commit(c);
    if (c->pg)
        simple(c, "ROLLBACK", NULL); /* its failure closes a dead connection; nothing else */
    return st;
}

/* 2, 4, 8, 16 ms around the mean, uniformly jittered by +-50 %. */
static void backoff(int attempt)
{
    uint32_t base_us = 1000u << attempt;
    uint32_t us = base_us / 2 + randombytes_uniform(base_us);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000};
    nanosleep(&ts, NULL);
}

enum db_status db_txn_iso(enum db_target t, enum db_isolation iso, db_txn_fn fn, void *arg)
{
    enum db_status st = DB_ERROR;
    if ((unsigned)iso > DB_SERIALIZABLE || !fn) {
        log_error("db_txn_misuse", "bad isolation level or no function");
        return DB_ERROR;
    }
    for (int attempt = 1; attempt <= TXN_ATTEMPTS; attempt++) {
        struct db_conn *c = db_conn(t);
        if (!c) {
            db_set_last("08006", NULL);
            return DB_UNAVAILABLE;
        }
        st = txn_once(c, t, iso, fn, arg);
        if (st != DB_RETRY)
            return st;
        if (attempt < TXN_ATTEMPTS)
            backoff(attempt);
    }
    log_warn("db_txn_gave_up", "still failing with %s after %d attempts", last_state, TXN_ATTEMPTS);
    return st;
}

enum db_status db_txn(enum db_target t, db_txn_fn fn, void *arg)
{
    return db_txn_iso(t, DB_READ_COMMITTED, fn, arg);
}
