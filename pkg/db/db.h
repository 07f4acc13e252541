/* db — PostgreSQL access: one lazily opened connection per thread to the primary and one to
 * the read URL, named prepared statements prepared once per connection, a transaction runner
 * that retries serialization failures and deadlocks, fail-fast reconnect, migrations.
 *
 * Threads never share a connection: db_conn() returns the calling thread's own. Time is
 * bounded by haat itself: a connect gives up after the connect deadline, and every statement
 * is sent asynchronously and waited for on the socket until the statement deadline, after
 * which the connection is dropped (no PQcancel: a frozen server would hold that too). A
 * failed connect or a missed deadline opens that database's circuit breaker: while it is
 * open db_conn() answers NULL at once, so requests fail fast with 503, and the health prober
 * (db_health_start) closes it when the database answers again. */
#ifndef HAAT_PKG_DB_DB_H
#define HAAT_PKG_DB_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A numeric constant spelled into a statement literal, e.g. "interval '" DB_STR(N) " days'"
 * (compile-time text: no SQL is built at run time). */
#define DB_STR_(x) #x
#define DB_STR(x)  DB_STR_(x)

/* The parameter count and array of a statement call, taken from the array itself so the two
 * never disagree: db_exec(c, "stmt", DB_PARAMS(p), &res) with const char *p[] = {...}.
 * A pointer instead of an array does not compile. */
#define DB_MUST_BE_ARRAY_(a)                                                               \
    (0 * sizeof(struct {                                                                   \
         int ok_;                                                                          \
         _Static_assert(!__builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0])), \
                        "DB_PARAMS needs an array");                                       \
     }))
#define DB_NPARAMS(a) ((int)(sizeof(a) / sizeof((a)[0]) + DB_MUST_BE_ARRAY_(a)))
#define DB_PARAMS(a)  DB_NPARAMS(a), (a)

enum db_target { DB_PRIMARY, DB_READ };

enum db_status {
    DB_OK = 0,
    DB_NOT_FOUND,   /* convenience for callers: a query matched no row */
    DB_UNAVAILABLE, /* no connection, or it broke mid-way (class 08, 57P0x) */
    DB_CONFLICT,    /* unique_violation 23505; db_last_constraint() names it */
    DB_CHECK,       /* check_violation 23514 / foreign key 23503 / not null 23502 */
    DB_RETRY,       /* serialization_failure 40001 / deadlock 40P01 (db_txn retries these) */
    DB_ERROR,       /* anything else (logged with the statement name) */
};

/* A statement every connection prepares (on first use). Tables are static data. */
struct db_stmt {
    const char *name; /* unique across the program, e.g. "catalog_product_get" */
    const char *sql;  /* $n parameters; parameter types inferred by the server */
};

struct db_conn; /* one per thread and target; owned by the db package */

/* haat's own deadlines (pkg/config: HAAT_DB_CONNECT_TIMEOUT_MS, HAAT_DB_STATEMENT_TIMEOUT_MS).
 * The server-side limits of every connection follow the statement deadline:
 * statement_timeout 4/5 of it, lock_timeout 1/2, idle_in_transaction_session_timeout 4x (at
 * least 10 s), so a slow-but-alive server ends the statement first, with a clean error. */
#define DB_CONNECT_MS_DEFAULT   1000
#define DB_STATEMENT_MS_DEFAULT 5000
struct db_timeouts {
    int connect_ms;
    int statement_ms;
};
/* Before any thread uses the database; values <= 0 keep the current ones. */
void db_set_timeouts(int connect_ms, int statement_ms);
/* The calling thread's statement deadline instead of the default (0: back to the default),
 * e.g. for a metrics scrape that must not wait long. */
void db_thread_deadline_ms(int ms);
/* True while t's circuit breaker is open (t is known to be unreachable). */
bool db_known_down(enum db_target t);

/* Call once before any thread uses the database (urls are copied). */
int db_init(const char *primary_url, const char *read_url);
/* Adds statements (the table must outlive the program). Before db_conn() is first called. */
void db_register(const struct db_stmt *stmts, size_t n);
/* Closes every connection this thread opened. Threads call it before they exit (a thread
 * that exits without it has its connections closed by a thread-exit hook). */
void db_thread_cleanup(void);
/* Closes the calling thread's connections and forgets the urls (other threads' connections
 * are theirs to close). */
void db_shutdown(void);

/* The calling thread's connection, opened lazily; NULL when the database is unreachable. */
struct db_conn *db_conn(enum db_target t);
PGconn *db_pg(struct db_conn *c); /* the raw connection (LISTEN, special cases) */
/* LISTEN channel on a raw connection (the name is quoted as an identifier). 0, or -1 when it
 * failed (the caller reconnects). For the listener threads that own their connection. */
int db_listen(PGconn *pg, const char *channel);
/* Waits for fd to be ready for events (POLLIN/POLLOUT) for at most timeout_ms: 1 ready, 0
 * timed out, -1 the caller is stopping. */
typedef int (*db_wait_fn)(void *arg, int fd, short events, int timeout_ms);
/* Opens a dedicated connection for a listener thread to url (application_name app; TCP
 * keepalives, so a server that vanished is noticed while the connection sits idle) without
 * blocking: every wait on the socket goes through wait(arg, ...), so the caller's stop signal
 * interrupts it, and the whole attempt takes at most timeout_ms. Notices go to the log.
 * Returns true when connected. *out is the connection either way (NULL only when out of
 * memory): the caller reads PQerrorMessage of a failed one and PQfinish()es it. */
bool db_connect_dedicated(const char *url, const char *app, int timeout_ms, db_wait_fn wait,
                          void *arg, PGconn **out);
int db_open_connections(void); /* for the db_pool_connections gauge */

/* Runs a registered statement. values may hold NULLs (SQL NULL). On DB_OK *out is a result the
 * caller PQclear()s (out may be NULL to discard). On any other status *out is NULL. */
enum db_status db_exec(struct db_conn *c, const char *stmt, int nparams, const char *const *values,
                       PGresult **out);
/* One statement on the calling thread's connection to t, outside an explicit transaction
 * (the read connection is read-only: default_transaction_read_only). */
enum db_status db_query(enum db_target t, const char *stmt, int nparams, const char *const *values,
                        PGresult **out);
/* db_exec with per-parameter lengths and formats, for binary parameters (formats[i] = 1 and
 * lengths[i] = its size, e.g. a bytea body; an empty one is a non-NULL pointer with length
 * 0). Either array may be NULL (all text). Results are text (bytea: PQunescapeBytea). */
enum db_status db_exec_params(struct db_conn *c, const char *stmt, int nparams,
                              const char *const *values, const int *lengths, const int *formats,
                              PGresult **out);

/* For purge jobs: runs a registered statement that changes at most `batch` rows a call (a
 * DELETE ... WHERE id IN (SELECT ... LIMIT batch)) on the primary, again and again until a
 * call changes fewer. Returns the total number of rows, or -1 when the database failed. */
long long db_exec_batches(const char *stmt, int nparams, const char *const *values,
                          long long batch);

/* Runs fn inside BEGIN ... COMMIT on the primary (read: BEGIN READ ONLY on the read
 * connection). fn returns DB_OK to commit; anything else rolls back and is returned. DB_RETRY
 * (from fn or from COMMIT) reruns the whole transaction up to 5 times with jittered backoff,
 * so fn must have no effects outside the database. */
typedef enum db_status (*db_txn_fn)(struct db_conn *c, void *arg);
enum db_status db_txn(enum db_target t, db_txn_fn fn, void *arg);
/* db_txn at another isolation level (db_txn is DB_READ_COMMITTED). At SERIALIZABLE a
 * conflicting concurrent transaction fails with 40001 and the whole transaction reruns. */
enum db_isolation { DB_READ_COMMITTED, DB_REPEATABLE_READ, DB_SERIALIZABLE };
enum db_status db_txn_iso(enum db_target t, enum db_isolation iso, db_txn_fn fn, void *arg);

/* Typed reads of a text-format result cell (row, col must exist). */
bool db_col_is_null(const PGresult *res, int row, int col);
/* "t" is true; NULL and anything else false. */
bool db_col_bool(const PGresult *res, int row, int col);
/* A decimal integer column; 0 when NULL. */
long long db_col_ll(const PGresult *res, int row, int col);
/* Borrowed text (lives as long as res); NULL for SQL NULL. */
const char *db_col_str(const PGresult *res, int row, int col);
/* A new heap copy of the text (caller frees); NULL for SQL NULL. */
char *db_col_strdup(const PGresult *res, int row, int col);
/* Copies the text into buf (truncating to size - 1; "" for NULL). Returns false when it did
 * not fit. */
bool db_col_copy(const PGresult *res, int row, int col, char *buf, size_t size);

/* After a failed statement on this thread: the SQLSTATE ("23505") and the constraint name
 * ("" when none). */
const char *db_last_sqlstate(void);
const char *db_last_constraint(void);

/* Read-your-writes (consistency.c). A consistency token is a WAL position "X/Y" (hex). */
/* Parses a token; false when it is not one. */
bool db_lsn_parse(const char *s, uint64_t *out);
/* The WAL insert position on the calling thread's primary connection, right after its last
 * COMMIT: the token of what that commit wrote. False when the connection is not open and
 * idle or the query failed (never connects, never waits for a connect). */
bool db_wal_position(char *buf, size_t size);
/* True when the read connection shows everything up to token: it is a primary, or a replica
 * whose replay position has reached it. False for a malformed token, a replica behind it, or
 * a read side that does not answer (the caller then reads from the primary). */
bool db_read_has_replayed(const char *token);
/* Replay lag of the read side in seconds (0 on a primary or a caught-up replica), or -1
 * when it does not answer. */
double db_replica_lag_seconds(void);

/* Migrations: applies dir/NNNN_name.sql in order, each in its own transaction, recording it
 * in schema_migrations; a session advisory lock keeps two instances from migrating at once.
 * Returns the number applied (0 when current), or -1 (logged). */
int db_migrate(const char *url, const char *dir);
/* The health prober: a thread of its own that every interval_ms runs SELECT 1 on its own
 * connections to the primary and the read side (each under a short deadline), opens or
 * closes their circuit breakers, and checks once that every migration in dir is applied (on
 * the primary, or on the read side while the primary is down). Readiness reads its cached
 * findings, so it answers at once whatever the database does. db_health_start waits for the
 * first round (bounded by the deadlines). 0, or -1 (logged). */
enum db_state { DB_STATE_UNKNOWN, DB_STATE_UP, DB_STATE_DOWN };
enum db_migrations { DB_MIGRATIONS_UNKNOWN, DB_MIGRATIONS_CURRENT, DB_MIGRATIONS_PENDING };
struct db_health {
    enum db_state primary, read;
    enum db_migrations migrations;
};
int db_health_start(const char *dir, int interval_ms);
void db_health_stop(void);
void db_health_get(struct db_health *out);

#endif
