/* db_internal — shared between the files of pkg/db only (conn.c, exec.c, registry.c,
 * migrate.c, breaker.c, health.c). Nothing outside pkg/db includes this header. */
#ifndef HAAT_PKG_DB_DB_INTERNAL_H
#define HAAT_PKG_DB_DB_INTERNAL_H

#include <libpq-fe.h>
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#include "pkg/db/db.h"

/* One per thread and target, living in thread-local storage (conn.c), so a pointer handed
 * out by db_conn() stays valid for the thread's whole life: closing a broken connection only
 * drops pg; the next db_conn() reopens into the same struct. */
struct db_conn {
    PGconn *pg; /* NULL while closed */
    enum db_target target;
    unsigned char *prepared; /* bitmap over the frozen registry, owned; NULL while closed */
    uint64_t last_used_ns;   /* clock_mono_ns() when db_conn() last handed it out */
    unsigned gen;            /* db_breaker_gen() when opened */
};

/* registry.c. Freezing is idempotent; after it db_register() aborts. */
void db_registry_freeze(void);
size_t db_registry_count(void);
/* Index of the registered statement called name (and the entry in *out), or -1. Only
 * valid once frozen. */
long db_registry_find(const char *name, const struct db_stmt **out);

/* breaker.c */
extern const char *const db_target_names[2]; /* "primary", "read" (conn.c) */
const struct db_timeouts *db_timeouts_get(void);
/* The calling thread's statement deadline in ms (db_thread_deadline_ms or the default). */
int db_deadline_ms(void);
/* May the caller use (or open) a connection to t? *trial is set when the breaker is open and
 * this caller was let through to try: it must db_breaker_report() the outcome. */
bool db_breaker_allows(enum db_target t, bool *trial);
/* What a connect, a probe or a statement found: up closes the breaker, down opens it. */
void db_breaker_report(enum db_target t, bool up);
/* How many times t's breaker has opened: a connection opened before the last outage is not
 * trusted after it (it would fail its next statement), and is reopened. */
unsigned db_breaker_gen(enum db_target t);
/* While the prober runs, callers never try a connection to an open breaker themselves. */
void db_breaker_prober(bool running);

/* conn.c */
/* db_conn(), or for the prober (probe) regardless of the breaker, reporting to it. */
struct db_conn *db_conn_get(enum db_target t, bool probe);
/* Connects to url (URI or key=value) with haat's settings: connect_timeout=2, keepalives,
 * application_name=haat (unless the url names one) and, for DB_READ, read-only
 * transactions by default. Never NULL; check PQstatus(). Caller PQfinish()es. */
PGconn *db_connect_url(const char *url, enum db_target t);
/* Routes server notices to the log instead of stderr. */
void db_route_notices(PGconn *pg);
/* The calling thread's connection to t when it is open, else NULL (never connects). */
struct db_conn *db_open_conn(enum db_target t);
/* Closes c's PGconn (if open) and forgets its prepared statements; c stays usable. */
void db_conn_close(struct db_conn *c);

/* consistency.c: registers its statements and reads the test seam (db_init). */
void db_consistency_init(void);

/* exec.c */
/* Records the thread's last failure (either may be NULL = ""). */
void db_set_last(const char *sqlstate, const char *constraint);
/* Maps a result (NULL = no result at all) to a status. On failure it records sqlstate and
 * constraint, logs (what names the statement), and closes c when the connection is gone.
 * Does not PQclear res. */
enum db_status db_result_status(struct db_conn *c, const PGresult *res, const char *what);

/* migrate.c */
/* A sorted list of migration file names ("0001_platform.sql"), owned by the list. */
struct db_mig_list {
    char **names;
    size_t n;
};
/* 0 on success; -1 (logged) when dir cannot be read. */
int db_mig_list_load(const char *dir, struct db_mig_list *out);
void db_mig_list_cleanup(struct db_mig_list *l);
/* Drops the cached migration file list of db_ready_pending() (db_shutdown). */
void db_ready_forget(void);
/* The first migration of dir not applied on c: "" when none, NULL when c failed. The list of
 * files is loaded once and cached; *unreadable when dir cannot be read. */
const char *db_ready_pending(struct db_conn *c, const char *dir, bool *unreadable);

#endif
