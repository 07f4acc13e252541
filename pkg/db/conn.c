/* Per-thread connections: opened lazily under haat's own connect deadline (PQconnectStart /
 * PQconnectPoll), probed before reuse, reopened after a failure; while a database is known
 * down its circuit breaker (breaker.c) answers "no connection" at once. */
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/clock/clock.h"
#include "pkg/db/db_internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

#define READ_ONLY_OPTION "-c default_transaction_read_only=on"

/* Set by db_init, read-only afterwards (owned). */
static char *urls[2];
static atomic_int open_count;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key; /* non-NULL value while the thread holds a connection */

static _Thread_local struct db_conn tl_conns[2];
static _Thread_local bool tl_down[2]; /* the last connect failed: log recovery once */

const char *const db_target_names[2] = {"primary", "read"};
#define target_names db_target_names

static const struct db_stmt internal_stmts[] = {
    {"db_ready_table", "SELECT to_regclass('schema_migrations') IS NOT NULL"},
    {"db_ready_versions", "SELECT version FROM schema_migrations"},
    {"db_probe", "SELECT 1"},
};

static void on_thread_exit(void *unused)
{
    (void)unused;
    db_thread_cleanup();
}

static void make_key(void)
{
    pthread_key_create(&exit_key, on_thread_exit);
}

int db_init(const char *primary_url, const char *read_url)
{
    static bool registered;
    if (!primary_url || !*primary_url) {
        log_error("db_init", "no primary database url");
        return -1;
    }
    bool conninfo = strchr(primary_url, '=') || strncmp(primary_url, "postgres", 8) == 0;
    PQconninfoOption *parsed = conninfo ? PQconninfoParse(primary_url, NULL) : NULL;
    PQconninfoFree(parsed);
    if (conninfo && !parsed) { /* its error text may quote a password: not logged */
        log_error("db_init", "the primary database url is not a valid libpq url");
        return -1;
    }
    if (sodium_init() < 0)
        return -1;
    pthread_once(&key_once, make_key);
    free(urls[DB_PRIMARY]);
    free(urls[DB_READ]);
    urls[DB_PRIMARY] = xstrdup(primary_url);
    urls[DB_READ] = xstrdup(read_url && *read_url ? read_url : primary_url);
    if (!registered) {
        db_register(internal_stmts, sizeof internal_stmts / sizeof internal_stmts[0]);
        registered = true;
    }
    db_consistency_init();
    return 0;
}

/* "options": the url's own options (or PGOPTIONS) followed by extra. New heap string. */
static char *options_plus(const char *url, const char *extra)
{
    const char *given = getenv("PGOPTIONS");
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "options") == 0 && o->val)
            given = o->val;
    char *s = given && *given ? xasprintf("%s %s", given, extra) : xstrdup(extra);
    PQconninfoFree(opts);
    return s;
}

/* Later keywords override earlier ones, including those expanded from the url ("dbname"
 * with expand_dbname=1): the url may name its own application, never a longer timeout. */
PGconn *db_connect_url(const char *url, enum db_target t)
{
    char *opts = t == DB_READ ? options_plus(url, READ_ONLY_OPTION) : NULL;
    const char *const keys[] = {"fallback_application_name",
                                "dbname",
                                "connect_timeout",
                                "keepalives",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                opts ? "options" : NULL,
                                NULL};
    const char *const vals[] = {"haat", url, "2", "1", "30", "10", "3", opts, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    free(opts);
    return pg;
}

static void notice_to_log(void *unused, const PGresult *res)
{
    (void)unused;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    bool loud = sev && strcmp(sev, "NOTICE") != 0 && strcmp(sev, "INFO") != 0 &&
                strcmp(sev, "DEBUG") != 0 && strcmp(sev, "LOG") != 0;
    log_msg(loud ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG, "db_notice", "%s: %s", sev ? sev : "?",
            msg ? msg : "");
}

void db_route_notices(PGconn *pg)
{
    PQsetNoticeReceiver(pg, notice_to_log, NULL);
}

/* The first line of libpq's error message (they end in a newline). */
static void log_connect_failure(enum db_target t, PGconn *pg)
{
    const char *m = pg ? PQerrorMessage(pg) : "out of memory";
    size_t len = strcspn(m, "\n");
    log_warn("db_connect_failed", "%s: %.*s", target_names[t], (int)len, m);
}

/* The per-thread connections' server-side limits, for the slow-but-alive case (haat's own
 * deadline, db_timeouts(), covers the hung one): a statement is cancelled by the server a
 * little before haat would give up on it, a lock wait sooner, and a transaction left idle
 * is ended. */
static char *session_options(enum db_target t, const char *url)
{
    const struct db_timeouts *tm = db_timeouts_get();
    int stmt_ms = tm->statement_ms * 4 / 5;
    int lock_ms = tm->statement_ms / 2;
    int idle_ms = tm->statement_ms * 4 > 10000 ? tm->statement_ms * 4 : 10000;
    char *limits = xasprintf("%s-c statement_timeout=%d -c lock_timeout=%d "
                             "-c idle_in_transaction_session_timeout=%d",
                             t == DB_READ ? READ_ONLY_OPTION " " : "", stmt_ms > 0 ? stmt_ms : 1,
                             lock_ms > 0 ? lock_ms : 1, idle_ms);
    char *opts = options_plus(url, limits);
    free(limits);
    return opts;
}

static int poll_wait(void *unused, int fd, short events, int timeout_ms)
{
    (void)unused;
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, timeout_ms);
    return n > 0 ? 1 : n == 0 ? 0 : -1;
}

/* Drives a started connection to its end, every wait on the socket through wait(arg, ...),
 * for at most timeout_ms. True when connected. */
static bool poll_connect(PGconn *c, int timeout_ms, db_wait_fn wait, void *arg)
{
    uint64_t end = clock_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        int64_t left_ms = ((int64_t)end - (int64_t)clock_mono_ns()) / 1000000;
        short ev = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        if (left_ms <= 0 || wait(arg, PQsocket(c), ev, (int)left_ms) <= 0)
            return false;
        st = PQconnectPoll(c);
    }
    return st == PGRES_POLLING_OK && PQstatus(c) == CONNECTION_OK;
}

/* Connects without blocking past the connect deadline (libpq's own connect_timeout cannot go
 * below 2 s). The connection is left in non-blocking mode: every statement's wait is ours. */
static PGconn *connect_bounded(enum db_target t)
{
    char *opts = session_options(t, urls[t]);
    const char *const keys[] = {
        "fallback_application_name", "dbname",           "keepalives", "keepalives_idle",
        "keepalives_interval",       "keepalives_count", "options",    NULL};
    const char *const vals[] = {"haat", urls[t], "1", "30", "10", "3", opts, NULL};
    PGconn *pg = PQconnectStartParams(keys, vals, 1);
    free(opts);
    if (!pg)
        return NULL;
    if (poll_connect(pg, db_timeouts_get()->connect_ms, poll_wait, NULL))
        PQsetnonblocking(pg, 1);
    return pg; /* not CONNECTION_OK when it failed or did not finish in time */
}

static bool open_conn(struct db_conn *c, enum db_target t)
{
    db_registry_freeze();
    PGconn *pg = connect_bounded(t);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        if (!tl_down[t]) {
            if (pg && PQstatus(pg) != CONNECTION_BAD)
                log_warn("db_connect_failed", "%s: no answer within %d ms", target_names[t],
                         db_timeouts_get()->connect_ms);
            else
                log_connect_failure(t, pg);
        }
        tl_down[t] = true;
        PQfinish(pg);
        return false;
    }
    if (tl_down[t])
        log_info("db_reconnected", "%s", target_names[t]);
    tl_down[t] = false;
    db_route_notices(pg);
    c->pg = pg;
    c->target = t;
    c->gen = db_breaker_gen(t);
    c->prepared = xcalloc(db_registry_count() / 8 + 1, 1);
    atomic_fetch_add(&open_count, 1);
    pthread_setspecific(exit_key, tl_conns);
    return true;
}

/* An idle connection the server has closed (restart, idle timeout, admin kill) reads as
 * EOF: drain what is there without blocking and see whether libpq noticed the end. Data
 * on an idle connection is only notices, NOTIFYs or the server's last words. */
#define IDLE_PROBE_NS 1000000000ull /* probe connections idle for longer than this */

static bool still_alive(struct db_conn *c)
{
    if (PQstatus(c->pg) != CONNECTION_OK)
        return false;
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return true; /* in use by a transaction: its statements will tell */
    for (int i = 0; i < 4; i++) {
        struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            return true;
        if (!PQconsumeInput(c->pg))
            return false;
        (void)PQisBusy(c->pg); /* parses: notices to the log, NOTIFYs queued */
        if (PQstatus(c->pg) != CONNECTION_OK)
            return false;
    }
    return true;
}

/* The calling thread's connection to t. probe: the health prober's own call, which tries
 * whatever the breaker says and reports what it found to it. */
struct db_conn *db_conn_get(enum db_target t, bool probe)
{
    if ((t != DB_PRIMARY && t != DB_READ) || !urls[DB_PRIMARY]) {
        log_error("db_conn_misuse", "db_conn(%d) without db_init or with a bad target", (int)t);
        return NULL;
    }
    bool trial = false; /* this caller is the breaker's one trial connection */
    if (!probe && !db_breaker_allows(t, &trial))
        return NULL;
    struct db_conn *c = &tl_conns[t];
    uint64_t now = clock_mono_ns();
    /* A connection used within the last second is busy, not dead: skip the probe (a poll()
     * per query) on the hot path. A restart under load is then seen by the next statement,
     * which fails as DB_UNAVAILABLE and closes the connection. */
    if (c->pg && c->gen == db_breaker_gen(t) &&
        (now - c->last_used_ns < IDLE_PROBE_NS || still_alive(c))) {
        c->last_used_ns = now;
        if (trial)
            db_breaker_report(t, true);
        return c;
    }
    if (c->pg)
        db_conn_close(c);
    bool ok = open_conn(c, t);
    if (!probe || !ok)
        db_breaker_report(t, ok);
    if (!ok)
        return NULL;
    c->last_used_ns = clock_mono_ns();
    return c;
}

struct db_conn *db_open_conn(enum db_target t)
{
    return (t == DB_PRIMARY || t == DB_READ) && tl_conns[t].pg ? &tl_conns[t] : NULL;
}

struct db_conn *db_conn(enum db_target t)
{
    return db_conn_get(t, false);
}

PGconn *db_pg(struct db_conn *c)
{
    return c ? c->pg : NULL;
}

int db_open_connections(void)
{
    return atomic_load(&open_count);
}

void db_conn_close(struct db_conn *c)
{
    if (!c->pg)
        return;
    PQfinish(c->pg);
    c->pg = NULL;
    free(c->prepared);
    c->prepared = NULL;
    atomic_fetch_sub(&open_count, 1);
}

void db_thread_cleanup(void)
{
    db_conn_close(&tl_conns[DB_PRIMARY]);
    db_conn_close(&tl_conns[DB_READ]);
    pthread_once(&key_once, make_key);
    pthread_setspecific(exit_key, NULL);
}

/* Only the calling thread's connections can be closed here; other threads close theirs
 * with db_thread_cleanup() or when they exit. */
void db_shutdown(void)
{
    db_thread_cleanup();
    free(urls[DB_PRIMARY]);
    free(urls[DB_READ]);
    urls[DB_PRIMARY] = urls[DB_READ] = NULL;
    db_ready_forget();
}

int db_listen(PGconn *pg, const char *channel)
{
    char *id = PQescapeIdentifier(pg, channel, strlen(channel));
    if (!id)
        return -1;
    char *sql = xasprintf("LISTEN %s", id);
    PQfreemem(id);
    PGresult *res = PQexec(pg, sql);
    free(sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok ? 0 : -1;
}

bool db_connect_dedicated(const char *url, const char *app, int timeout_ms, db_wait_fn wait,
                          void *arg, PGconn **out)
{
    /* Before dbname, so settings in the URL win. */
    static const char *const keys[] = {"application_name",
                                       "keepalives",
                                       "keepalives_idle",
                                       "keepalives_interval",
                                       "keepalives_count",
                                       "dbname",
                                       NULL};
    const char *const vals[] = {app, "1", "10", "5", "3", url, NULL};
    PGconn *c = PQconnectStartParams(keys, vals, 1);
    *out = c;
    if (!c)
        return false;
    db_route_notices(c);
    return poll_connect(c, timeout_ms, wait, arg);
}
