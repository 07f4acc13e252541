/* The suspension list of the auth hook: the process-wide set of recently suspended users
 * (suspended_set.c) and the thread that reloads it from PostgreSQL every
 * USER_SUSPENDED_POLL_MS, so user_authenticate can refuse a suspended user's access token
 * without a database call (docs/decisions/0002-stateless-access-tokens.md).
 *
 * Readers (every authenticated request) first read one atomic: while no loaded set has an
 * entry — the usual case — that is the whole cost, with no shared write. Otherwise they search
 * the current set under a read lock held for the binary search only; the refresher builds the
 * next set outside the lock and swaps the pointer under the write lock, then frees the old set.
 * The lock prefers writers, so a swap never waits behind a stream of requests.
 *
 * Before the first successful load (database down at start-up) nothing is refused: fail open,
 * logged. After a failed reload the last loaded set stays in force. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "internal/user/internal.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"

enum state { NEVER_LOADED, LOADED_EMPTY, LOADED_ANY };

static pthread_rwlock_t set_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct user_suspended_set *current; /* guarded by set_lock */
static _Atomic int state = NEVER_LOADED;   /* mirrors current: NULL, empty or not */
static _Atomic size_t entries;
static _Atomic uint64_t loaded_ns; /* clock_mono_ns() of the last successful load */

/* The refresher thread. generation tells a thread that stop left behind (stuck in libpq past
 * the grace period) that it is no longer the current one. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t cv_once = PTHREAD_ONCE_INIT;
static pthread_cond_t cv; /* on CLOCK_MONOTONIC; never destroyed (a stray thread may hold mu) */
static pthread_t tid;
static bool running, stopping;
static unsigned generation;
static enum { FIRST_PENDING, FIRST_OK, FIRST_FAILED } first_load;
#define FIRST_LOAD_WAIT_MS 5000
static _Atomic int failures; /* consecutive failed loads, for the log */

void user_auth_cache_install(struct user_suspended_set *s)
{
    size_t n = user_suspended_set_size(s);
    pthread_rwlock_wrlock(&set_lock);
    struct user_suspended_set *old = current;
    current = s;
    atomic_store(&entries, n);
    atomic_store_explicit(&state,
                          !s  ? NEVER_LOADED
                          : n ? LOADED_ANY
                              : LOADED_EMPTY,
                          memory_order_release);
    pthread_rwlock_unlock(&set_lock);
    user_suspended_set_free(old);
}

bool user_auth_cache_refuses(const char *user_id)
{
    if (atomic_load_explicit(&state, memory_order_acquire) != LOADED_ANY)
        return false; /* nobody suspended lately, or never loaded (fail open) */
    unsigned char id[USER_UUID_BYTES];
    if (!user_uuid_parse(user_id, id))
        return true; /* not a user id at all: the caller has already refused it */
    pthread_rwlock_rdlock(&set_lock);
    bool hit = user_suspended_set_find(current, id, NULL);
    pthread_rwlock_unlock(&set_lock);
    return hit;
}

/* Logs the transitions only: the first failure (never loaded, or loaded before) and the
 * recovery. Every refresh is counted in the gauges instead. */
static void note_load(bool ok, size_t n)
{
    int before = ok ? atomic_exchange(&failures, 0) : atomic_fetch_add(&failures, 1);
    if (ok && before > 0) {
        log_info("user_suspensions_loaded",
                 "suspension list loaded after %d failed attempt(s): %zu user(s)", before, n);
    } else if (!ok && before == 0 && atomic_load(&state) == NEVER_LOADED) {
        log_warn("user_suspensions_unavailable",
                 "cannot load the suspension list: until it loads, "
                 "suspended users' access tokens are accepted (fail open; they expire within "
                 "%d s and cannot be refreshed)",
                 USER_ACCESS_TTL_S);
    } else if (!ok && before == 0) {
        uint64_t age_ns = clock_mono_ns() - atomic_load(&loaded_ns);
        log_warn("user_suspensions_stale",
                 "cannot reload the suspension list: keeping the one loaded %llu s ago",
                 (unsigned long long)(age_ns / 1000000000u));
    }
}

/* Publishes s unless this thread's generation is over (then s is dropped). */
static void publish(struct user_suspended_set *s, unsigned gen)
{
    pthread_mutex_lock(&mu);
    bool current_gen = gen == generation && !stopping;
    if (current_gen) {
        atomic_store(&loaded_ns, clock_mono_ns());
        user_auth_cache_install(s);
    }
    pthread_mutex_unlock(&mu);
    if (!current_gen)
        user_suspended_set_free(s);
}

static int load(unsigned gen)
{
    struct user_suspended_set *s = NULL;
    struct db_conn *c = db_conn(DB_PRIMARY);
    enum db_status st = c ? user_repo_suspended_recent(c, &s) : DB_UNAVAILABLE;
    note_load(st == DB_OK, user_suspended_set_size(s));
    if (st != DB_OK)
        return -1;
    publish(s, gen);
    return 0;
}

static struct timespec deadline_in(clockid_t clk, long ms)
{
    struct timespec t;
    clock_gettime(clk, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Loads once (start-up waits for that), then every USER_SUSPENDED_POLL_MS until stopped. */
static void *refresher(void *arg)
{
    unsigned gen = (unsigned)(uintptr_t)arg;
    int rc = load(gen);
    pthread_mutex_lock(&mu);
    if (gen == generation) {
        first_load = rc == 0 ? FIRST_OK : FIRST_FAILED;
        pthread_cond_broadcast(&cv);
    }
    for (;;) {
        struct timespec dl = deadline_in(CLOCK_MONOTONIC, USER_SUSPENDED_POLL_MS);
        rc = 0;
        while (!stopping && gen == generation && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&cv, &mu, &dl);
        if (stopping || gen != generation)
            break;
        pthread_mutex_unlock(&mu);
        load(gen);
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    db_thread_cleanup();
    return NULL;
}

static double gauge_entries(void *arg)
{
    (void)arg;
    return atomic_load(&state) == NEVER_LOADED ? -1 : (double)atomic_load(&entries);
}

static double gauge_age(void *arg)
{
    (void)arg;
    if (atomic_load(&state) == NEVER_LOADED)
        return -1;
    return (double)(clock_mono_ns() - atomic_load(&loaded_ns)) / 1e9;
}

static void cv_init(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
}

static int start_thread(unsigned gen)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the main thread handles signals */
    int rc = pthread_create(&tid, NULL, refresher, (void *)(uintptr_t)gen);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        log_error("user_suspensions", "cannot start the suspension list thread: %s", strerror(rc));
        return -1;
    }
    return 0;
}

/* Waits (bounded) for the thread's first load, so requests find the list loaded. */
static void wait_first_load(void)
{
    struct timespec dl = deadline_in(CLOCK_MONOTONIC, FIRST_LOAD_WAIT_MS);
    pthread_mutex_lock(&mu);
    int rc = 0;
    while (first_load == FIRST_PENDING && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&cv, &mu, &dl);
    int first = first_load;
    pthread_mutex_unlock(&mu);
    if (first == FIRST_OK)
        log_info("user_suspensions_loaded", "suspension list loaded: %zu user(s)",
                 atomic_load(&entries));
    else if (first == FIRST_PENDING)
        log_warn("user_suspensions_unavailable",
                 "the suspension list is still loading after %d ms: serving without it (fail "
                 "open) until it loads",
                 FIRST_LOAD_WAIT_MS);
}

int user_auth_cache_start(void)
{
    pthread_once(&cv_once, cv_init);
    pthread_mutex_lock(&mu);
    if (running) {
        pthread_mutex_unlock(&mu);
        return -1;
    }
    running = true;
    unsigned gen = ++generation;
    stopping = false;
    first_load = FIRST_PENDING;
    atomic_store(&failures, 0);
    pthread_mutex_unlock(&mu);
    metrics_gauge_fn("user_suspensions_cached",
                     "Recently suspended users whose access tokens the auth hook refuses "
                     "(-1: the list never loaded, nothing is refused).",
                     gauge_entries, NULL);
    metrics_gauge_fn("user_suspensions_age_seconds",
                     "Seconds since the suspension list was last loaded (-1: never).", gauge_age,
                     NULL);
    if (start_thread(gen) != 0) {
        pthread_mutex_lock(&mu);
        running = false;
        pthread_mutex_unlock(&mu);
        return -1;
    }
    wait_first_load();
    return 0;
}

void user_auth_cache_stop(int grace_ms)
{
    pthread_mutex_lock(&mu);
    bool was = running;
    running = false;
    stopping = true;
    generation++;
    if (was)
        pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    if (was) {
        struct timespec dl = deadline_in(CLOCK_REALTIME, grace_ms < 0 ? 0 : grace_ms);
        if (pthread_timedjoin_np(tid, NULL, &dl) != 0) {
            /* Stuck in a query: its generation is over, it exits when the query returns. */
            log_warn("user_suspensions",
                     "suspension list thread still busy after %d ms; leaving it", grace_ms);
            pthread_detach(tid);
        }
    }
    user_auth_cache_install(NULL);
}
