/* jobs — see jobs.h.
 *
 * State lives in a runner: the registered jobs, their threads, the listener, a stop flag and
 * a self-pipe that interrupts the listener's poll(). `cur` is the runner being filled or run;
 * jobs_stop() unhooks it first (so jobs_wake() can no longer reach it), then stops and joins.
 * A runner whose threads outlive the grace period is parked on `abandoned` and never freed,
 * so those threads keep valid memory (including its own stop flag) until the process ends.
 *
 * Locking: g_mu guards `cur` and registration; each job's mu guards its wake counter and is
 * the mutex of its condition variable. The stop flag is atomic and also re-checked under each
 * job's mu, and jobs_stop() broadcasts under that mu, so a stop is never missed. */
#include "pkg/jobs/jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pkg/clock/clock.h"
#include "pkg/db/db.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"
#include "pkg/util/xalloc.h"

#define MAX_BACKOFF_MS     30000
#define LISTENER_BASE_MS   500   /* first reconnect delay */
#define CONNECT_TIMEOUT_MS 10000 /* one connection attempt */

struct runner;

struct job {
    char *name, *channel; /* owned; channel may be NULL */
    int (*run)(void *arg);
    void *arg;
    int idle_ms, nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; signalled by wakes and by stop */
    uint64_t wakes;    /* bumped by every wake; guarded by mu */
    struct runner *r;
};

struct worker {
    struct job *job;
    pthread_t tid;
};

struct runner {
    struct job **jobs; /* owned */
    int njobs;
    struct worker *workers; /* owned, one per job instance */
    int nworkers;
    bool started, has_listener;
    atomic_bool stopping;
    pthread_t listener;
    char *db_url;     /* owned; NULL when there is no listener */
    int stop_pipe[2]; /* written once by jobs_stop() to interrupt the listener's poll() */
    struct metrics_counter *runs;
    struct runner *next_abandoned;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct runner *cur;       /* guarded by g_mu */
static struct runner *abandoned; /* guarded by g_mu; never freed (see top) */

/* ---- small helpers --------------------------------------------------------------------- */

static bool stopping(struct runner *r)
{
    return atomic_load_explicit(&r->stopping, memory_order_acquire);
}

static uint32_t next_random(uint64_t *state)
{
    uint64_t x = *state; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return (uint32_t)(x >> 32);
}

/* base * 2^(attempt-1), capped at MAX_BACKOFF_MS, then a random point in [half, all] of it. */
static int backoff_ms(int base, int attempt, uint64_t *rnd)
{
    int64_t d = base > 0 ? base : 1;
    for (int i = 1; i < attempt && d < MAX_BACKOFF_MS; i++)
        d *= 2;
    if (d > MAX_BACKOFF_MS)
        d = MAX_BACKOFF_MS;
    return (int)(d / 2 + next_random(rnd) % (uint32_t)(d / 2 + 1));
}

static bool valid_chars(const char *s, size_t max, const char *extra)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              strchr(extra, *s)))
            return false;
    return true;
}

static void wake_job(struct job *j)
{
    pthread_mutex_lock(&j->mu);
    j->wakes++;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* ---- runner lifecycle ------------------------------------------------------------------ */

static struct job *job_new(const struct jobs_spec *spec, struct runner *r)
{
    struct job *j = xcalloc(1, sizeof *j);
    j->name = xstrdup(spec->name);
    j->channel = spec->channel ? xstrdup(spec->channel) : NULL;
    j->run = spec->run;
    j->arg = spec->arg;
    j->idle_ms = spec->idle_ms;
    j->nthreads = spec->threads;
    j->r = r;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->mu, NULL);
    return j;
}

static struct runner *runner_new(void)
{
    struct runner *r = xcalloc(1, sizeof *r);
    atomic_init(&r->stopping, false);
    r->stop_pipe[0] = r->stop_pipe[1] = -1;
    return r;
}

/* Frees r and everything it owns; no thread may still use it. */
static void runner_free(struct runner *r)
{
    for (int i = 0; i < r->njobs; i++) {
        struct job *j = r->jobs[i];
        pthread_cond_destroy(&j->cv);
        pthread_mutex_destroy(&j->mu);
        free(j->name);
        free(j->channel);
        free(j);
    }
    for (int i = 0; i < 2; i++)
        if (r->stop_pipe[i] >= 0)
            close(r->stop_pipe[i]);
    free(r->jobs);
    free(r->workers);
    free(r->db_url);
    free(r);
}

static int check_spec(const struct jobs_spec *s)
{
    const char *name = s && s->name ? s->name : "(null)";
    const char *why = NULL;
    if (!s || !valid_chars(s->name, 48, ".-"))
        why = "name must be 1..48 chars of [a-z0-9_.-]";
    else if (!s->run)
        why = "run is NULL";
    else if (s->idle_ms < 1 || s->idle_ms > 3600000)
        why = "idle_ms must be 1..3600000";
    else if (s->channel && !valid_chars(s->channel, 63, ""))
        why = "channel must be 1..63 chars of [a-z0-9_]";
    else if (s->threads < 1 || s->threads > JOBS_MAX_THREADS)
        why = "threads must be 1..4";
    if (why)
        log_error("jobs_register_failed", "job %s: %s", name, why);
    return why ? -1 : 0;
}

int jobs_register(const struct jobs_spec *spec)
{
    if (check_spec(spec) < 0)
        return -1;
    int rc = -1;
    pthread_mutex_lock(&g_mu);
    if (!cur)
        cur = runner_new();
    if (cur->started) {
        log_error("jobs_register_failed", "job %s: the runner is already started", spec->name);
        goto out;
    }
    for (int i = 0; i < cur->njobs; i++) {
        if (strcmp(cur->jobs[i]->name, spec->name) == 0) {
            log_error("jobs_register_failed", "job %s: registered twice", spec->name);
            goto out;
        }
    }
    cur->jobs = xrealloc(cur->jobs, sizeof *cur->jobs * (size_t)(cur->njobs + 1));
    cur->jobs[cur->njobs++] = job_new(spec, cur);
    rc = 0;
out:
    pthread_mutex_unlock(&g_mu);
    return rc;
}

/* ---- job threads ----------------------------------------------------------------------- */

/* Sleeps up to ms, until stop, or (when wakeable) until a wake newer than `seen`. */
static void wait_for(struct job *j, uint64_t seen, int ms, bool wakeable)
{
    uint64_t end = clock_mono_ns() + (uint64_t)ms * 1000000u;
    struct timespec ts = {.tv_sec = (time_t)(end / 1000000000u),
                          .tv_nsec = (long)(end % 1000000000u)};
    pthread_mutex_lock(&j->mu);
    while (!stopping(j->r) && !(wakeable && j->wakes != seen))
        if (pthread_cond_timedwait(&j->cv, &j->mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&j->mu);
}

static uint64_t wakes_now(struct job *j)
{
    pthread_mutex_lock(&j->mu);
    uint64_t w = j->wakes;
    pthread_mutex_unlock(&j->mu);
    return w;
}

static void count_run(struct job *j, int rc)
{
    const char *values[2] = {j->name, rc > 0 ? "work" : rc == 0 ? "idle" : "error"};
    metrics_counter_inc(j->r->runs, values);
}

static void log_failure(const struct job *j, int rc, int errors, int delay)
{
    json_t *fields = json_pack("{s:s, s:i, s:i, s:i}", "job", j->name, "rc", rc,
                               "consecutive_errors", errors, "retry_in_ms", delay);
    char msg[160];
    snprintf(msg, sizeof msg, "job %s: batch failed (rc %d), retrying in %d ms", j->name, rc,
             delay);
    log_write(LOG_LEVEL_ERROR, "job_failed", msg, fields);
}

static void *worker_main(void *arg)
{
    struct job *j = ((struct worker *)arg)->job;
    uint64_t rnd = (clock_mono_ns() ^ (uint64_t)(uintptr_t)arg ^ 0x9e3779b97f4a7c15u) | 1u;
    int errors = 0;
    while (!stopping(j->r)) {
        uint64_t seen = wakes_now(j); /* a wake during the batch means: run again */
        int rc = j->run(j->arg);
        count_run(j, rc);
        if (rc > 0) {
            errors = 0;
        } else if (rc == 0) {
            errors = 0;
            wait_for(j, seen, j->idle_ms, true);
        } else {
            int delay = backoff_ms(j->idle_ms, ++errors, &rnd);
            log_failure(j, rc, errors, delay);
            wait_for(j, seen, delay, false);
        }
    }
    db_thread_cleanup();
    return NULL;
}

/* ---- listener thread ------------------------------------------------------------------- */

/* Waits for events on fd (fd < 0: just sleeps). Returns 1 ready, 0 timeout, -1 stop. */
static int wait_fd(struct runner *r, int fd, short events, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = r->stop_pipe[0], .events = POLLIN}};
    int n = poll(p, 2, timeout_ms);
    if (stopping(r) || (n > 0 && p[1].revents))
        return -1;
    if (n < 0)
        return errno == EINTR ? 1 : -1;
    return n > 0 ? 1 : 0;
}

/* LISTEN on every job channel. Channel names are checked at registration and quoted here as
 * identifiers: LISTEN takes no parameters. */
static int listen_all(struct runner *r, PGconn *c)
{
    for (int i = 0; i < r->njobs; i++) {
        const char *ch = r->jobs[i]->channel;
        if (ch && db_listen(c, ch) != 0)
            return -1;
    }
    return 0;
}

/* libpq's messages span lines; log lines must not. */
static void one_line(const char *in, char *out, size_t n)
{
    snprintf(out, n, "%s", in ? in : "");
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    for (size_t len = strlen(out); len > 0 && out[len - 1] == ' ';)
        out[--len] = '\0';
}

static void log_pq(const char *event, const char *what, PGconn *c)
{
    char line[512];
    one_line(c ? PQerrorMessage(c) : "out of memory", line, sizeof line);
    log_warn(event, "jobs listener: %s: %s", what, line);
}

/* One connection attempt, bounded by CONNECT_TIMEOUT_MS and interruptible by stop. */
static int wait_runner(void *arg, int fd, short events, int timeout_ms)
{
    return wait_fd(arg, fd, events, timeout_ms);
}

static PGconn *listen_connect(struct runner *r)
{
    PGconn *c = NULL;
    bool ok = db_connect_dedicated(r->db_url, "haat-jobs-listener", CONNECT_TIMEOUT_MS, wait_runner,
                                   r, &c);
    if (ok && listen_all(r, c) == 0)
        return c;
    if (!stopping(r))
        log_pq("jobs_listener_connect_failed", "cannot connect", c);
    PQfinish(c);
    return NULL;
}

static void wake_channel_jobs(struct runner *r, const char *channel)
{
    for (int i = 0; i < r->njobs; i++)
        if (r->jobs[i]->channel && (!channel || strcmp(r->jobs[i]->channel, channel) == 0))
            wake_job(r->jobs[i]);
}

/* Delivers notifications until the connection breaks or stop is asked. */
static void listen_loop(struct runner *r, PGconn *c)
{
    for (;;) {
        int w = wait_fd(r, PQsocket(c), POLLIN, -1);
        if (w < 0)
            return;
        if (w == 0)
            continue;
        if (!PQconsumeInput(c) || PQstatus(c) == CONNECTION_BAD) {
            log_pq("jobs_listener_lost", "connection lost", c);
            return;
        }
        PGnotify *n;
        while ((n = PQnotifies(c)) != NULL) {
            wake_channel_jobs(r, n->relname);
            PQfreemem(n);
        }
    }
}

static void *listener_main(void *arg)
{
    struct runner *r = arg;
    uint64_t rnd = (clock_mono_ns() ^ 0x2545f4914f6cdd1du) | 1u;
    int failures = 0;
    while (!stopping(r)) {
        PGconn *c = listen_connect(r);
        if (c) {
            log_info("jobs_listener_connected", "jobs listener: listening");
            failures = 0;
            wake_channel_jobs(r, NULL); /* notifications sent while away are lost */
            listen_loop(r, c);
            PQfinish(c);
        }
        if (!stopping(r))
            wait_fd(r, -1, 0, backoff_ms(LISTENER_BASE_MS, ++failures, &rnd));
    }
    return NULL;
}

/* ---- start and stop -------------------------------------------------------------------- */

/* Creates a thread with every signal blocked (the main thread handles signals). */
static int spawn(pthread_t *tid, void *(*fn)(void *), void *arg, const char *name)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(tid, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        log_error("jobs_start_failed", "cannot start thread for %s: %s", name, strerror(rc));
        return -1;
    }
    char tname[16];
    snprintf(tname, sizeof tname, "job:%s", name);
    pthread_setname_np(*tid, tname);
    return 0;
}

static bool join_all(struct runner *r, int grace_ms);

/* Starts the threads of a runner that holds its jobs; on failure stops what started. */
static int start_threads(struct runner *r, const char *db_url)
{
    bool any_channel = false;
    for (int i = 0; i < r->njobs; i++) {
        any_channel |= r->jobs[i]->channel != NULL;
        r->nworkers += r->jobs[i]->nthreads;
    }
    r->workers = xcalloc((size_t)(r->nworkers ? r->nworkers : 1), sizeof *r->workers);
    int n = 0;
    for (int i = 0; i < r->njobs; i++)
        for (int k = 0; k < r->jobs[i]->nthreads; k++)
            r->workers[n++].job = r->jobs[i];
    for (int i = 0; i < r->nworkers; i++) {
        if (spawn(&r->workers[i].tid, worker_main, &r->workers[i], r->workers[i].job->name) < 0) {
            r->nworkers = i;
            return -1;
        }
    }
    if (any_channel && !db_url)
        log_warn("jobs_no_listener", "jobs: no database URL, channel jobs only poll");
    if (any_channel && db_url) {
        r->db_url = xstrdup(db_url);
        r->has_listener = spawn(&r->listener, listener_main, r, "listener") == 0;
        return r->has_listener ? 0 : -1;
    }
    return 0;
}

int jobs_start(const char *db_url)
{
    int rc = -1;
    pthread_mutex_lock(&g_mu);
    if (!cur)
        cur = runner_new();
    struct runner *r = cur;
    if (r->started) {
        log_error("jobs_start_failed", "jobs: already started");
        goto out;
    }
    if (pipe2(r->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        log_error("jobs_start_failed", "jobs: pipe: %s", strerror(errno));
        goto out;
    }
    static const char *const labels[] = {"job", "result"};
    r->runs = metrics_counter_new("jobs_runs_total",
                                  "Background job batches by job and result (work, idle, error).",
                                  2, labels);
    r->started = true;
    if (start_threads(r, db_url) < 0) {
        cur = NULL;
        pthread_mutex_unlock(&g_mu);
        join_all(r, -1);
        return -1;
    }
    log_info("jobs_started", "jobs: %d job(s), %d thread(s)%s", r->njobs, r->nworkers,
             r->has_listener ? ", listener" : "");
    rc = 0;
out:
    pthread_mutex_unlock(&g_mu);
    return rc;
}

void jobs_wake(const char *name)
{
    pthread_mutex_lock(&g_mu);
    for (int i = 0; cur && name && i < cur->njobs; i++)
        if (strcmp(cur->jobs[i]->name, name) == 0)
            wake_job(cur->jobs[i]);
    pthread_mutex_unlock(&g_mu);
}

/* Joins t until deadline (NULL: forever); past it, logs and detaches. Returns joined. */
static bool join_until(pthread_t t, const struct timespec *deadline, const char *what, int grace_ms)
{
    int rc = deadline ? pthread_timedjoin_np(t, NULL, deadline) : pthread_join(t, NULL);
    if (rc == 0)
        return true;
    log_warn("jobs_stop_timeout", "jobs: %s still running after %d ms; leaving it", what, grace_ms);
    pthread_detach(t);
    return false;
}

/* Stops and joins r's threads (grace_ms < 0: without limit), then frees or parks r. */
/* Tells every thread of r to stop after its current batch (idempotent, does not wait). */
static void signal_stop(struct runner *r)
{
    if (atomic_exchange_explicit(&r->stopping, true, memory_order_acq_rel))
        return;
    for (int i = 0; i < r->njobs; i++)
        wake_job(r->jobs[i]); /* broadcast under the job's mutex: no missed stop */
    if (r->stop_pipe[1] >= 0 && write(r->stop_pipe[1], "x", 1) < 0)
        log_warn("jobs_stop", "jobs: cannot signal the listener: %s", strerror(errno));
}

/* Returns true when every thread was joined (false: some were left running, detached). */
static bool join_all(struct runner *r, int grace_ms)
{
    signal_stop(r);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl); /* pthread_timedjoin_np's clock */
    dl.tv_sec += grace_ms / 1000;
    dl.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    const struct timespec *deadline = grace_ms < 0 ? NULL : &dl;
    bool all = !r->has_listener || join_until(r->listener, deadline, "job listener", grace_ms);
    for (int i = 0; i < r->nworkers; i++)
        all &= join_until(r->workers[i].tid, deadline, r->workers[i].job->name, grace_ms);
    if (all) {
        runner_free(r);
        return true;
    }
    pthread_mutex_lock(&g_mu);
    r->next_abandoned = abandoned;
    abandoned = r;
    pthread_mutex_unlock(&g_mu);
    return false;
}

void jobs_request_stop(void)
{
    pthread_mutex_lock(&g_mu);
    if (cur && cur->started)
        signal_stop(cur);
    pthread_mutex_unlock(&g_mu);
}

bool jobs_stop(int grace_ms)
{
    pthread_mutex_lock(&g_mu);
    struct runner *r = cur;
    cur = NULL;
    pthread_mutex_unlock(&g_mu);
    if (!r)
        return true;
    if (!r->started) {
        runner_free(r);
        return true;
    }
    bool all = join_all(r, grace_ms < 0 ? 0 : grace_ms);
    log_info("jobs_stopped", "jobs: stopped%s", all ? "" : " (some threads left running)");
    return all;
}
