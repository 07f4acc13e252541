/* The health prober (db.h, db_health_start): one thread per database (so a frozen primary
 * does not delay what is found about the read side), each with its own connection and a
 * short deadline per probe, findings published in atomics so that readiness never waits. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pkg/clock/clock.h"
#include "pkg/db/db_internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

/* A probe is one SELECT 1; on a local or nearby server it takes well under a millisecond, so
 * this is a generous bound that still lets readiness turn 503 within a second of a freeze. */
#define PROBE_DEADLINE_MS 600

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t tid[2];
    bool running, stop;
    int rounds[2]; /* completed rounds per database, guarded by mu */
    int interval_ms;
    char *dir;
    atomic_int state[2];   /* enum db_state */
    atomic_int migrations; /* enum db_migrations */
} H = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* One SELECT 1 on the prober's connection to t; a connection that turns out broken is
 * reopened once in the same round (a restarted server is up, not down). */
static bool probe(enum db_target t)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        struct db_conn *c = db_conn_get(t, true);
        if (!c)
            return false;
        enum db_status st = db_exec(c, "db_probe", 0, NULL, NULL);
        if (st == DB_OK)
            return true;
        if (c->pg) /* answered, with an error: up enough to say no; not a connection fault */
            return false;
        if (strcmp(db_last_sqlstate(), "57014") == 0)
            return false; /* the deadline passed: a retry would wait as long again */
    }
    return false;
}

/* Until the migrations are known current, on t's connection (either side will do: the read
 * side is a copy of the primary). */
static void check_migrations(enum db_target t)
{
    if (atomic_load(&H.migrations) == DB_MIGRATIONS_CURRENT)
        return;
    struct db_conn *c = db_conn_get(t, true);
    bool unreadable = false;
    const char *pending = db_ready_pending(c, H.dir, &unreadable);
    if (unreadable) {
        log_error("db_health", "migrations directory %s unreadable", H.dir);
        atomic_store(&H.migrations, DB_MIGRATIONS_PENDING);
    } else if (pending) {
        atomic_store(&H.migrations, *pending ? DB_MIGRATIONS_PENDING : DB_MIGRATIONS_CURRENT);
    }
}

static void round_once(enum db_target t)
{
    bool up = probe(t);
    db_breaker_report(t, up);
    atomic_store(&H.state[t], up ? DB_STATE_UP : DB_STATE_DOWN);
    if (up)
        check_migrations(t);
}

static void *prober(void *arg)
{
    enum db_target t = (enum db_target)(intptr_t)arg;
    db_thread_deadline_ms(PROBE_DEADLINE_MS);
    pthread_mutex_lock(&H.mu);
    while (!H.stop) {
        pthread_mutex_unlock(&H.mu);
        round_once(t);
        pthread_mutex_lock(&H.mu);
        H.rounds[t]++;
        pthread_cond_broadcast(&H.cv);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long ns = until.tv_nsec + (long)H.interval_ms * 1000000L;
        until.tv_sec += ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        while (!H.stop && pthread_cond_timedwait(&H.cv, &H.mu, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&H.mu);
    db_thread_cleanup();
    return NULL;
}

int db_health_start(const char *dir, int interval_ms)
{
    pthread_mutex_lock(&H.mu);
    if (H.running) {
        pthread_mutex_unlock(&H.mu);
        return -1;
    }
    free(H.dir);
    H.dir = xstrdup(dir);
    H.interval_ms = interval_ms > 0 ? interval_ms : 250;
    H.stop = false;
    H.rounds[0] = H.rounds[1] = 0;
    int started = 0;
    for (; started < 2; started++)
        if (pthread_create(&H.tid[started], NULL, prober, (void *)(intptr_t)started) != 0)
            break;
    if (started < 2) {
        H.stop = true;
        pthread_cond_broadcast(&H.cv);
        pthread_mutex_unlock(&H.mu);
        for (int i = 0; i < started; i++)
            pthread_join(H.tid[i], NULL);
        log_error("db_health", "cannot start the health prober");
        return -1;
    }
    H.running = true;
    db_breaker_prober(true);
    while (H.rounds[0] == 0 || H.rounds[1] == 0) /* bounded: each probe has its deadline */
        pthread_cond_wait(&H.cv, &H.mu);
    pthread_mutex_unlock(&H.mu);
    return 0;
}

void db_health_stop(void)
{
    pthread_mutex_lock(&H.mu);
    if (!H.running) {
        pthread_mutex_unlock(&H.mu);
        return;
    }
    H.stop = true;
    pthread_cond_broadcast(&H.cv);
    pthread_mutex_unlock(&H.mu);
    pthread_join(H.tid[0], NULL);
    pthread_join(H.tid[1], NULL);
    pthread_mutex_lock(&H.mu);
    H.running = false;
    free(H.dir);
    H.dir = NULL;
    pthread_mutex_unlock(&H.mu);
    db_breaker_prober(false);
}

void db_health_get(struct db_health *out)
{
    out->primary = (enum db_state)atomic_load(&H.state[DB_PRIMARY]);
    out->read = (enum db_state)atomic_load(&H.state[DB_READ]);
    out->migrations = (enum db_migrations)atomic_load(&H.migrations);
}
