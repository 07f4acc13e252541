/* jobs — the background-job runner behind `haat worker` and `haat serve` (HAAT_WORKERS=on).
 *
 * A job is a function that does one batch of work (claim outbox rows with SKIP LOCKED, expire
 * unpaid orders, ...). Each job instance runs on its own thread:
 *
 *   run() > 0   it did work: run again at once
 *   run() == 0  nothing to do: sleep until woken or idle_ms passes
 *   run() < 0   error (logged with the job name): back off idle_ms, 2x, 4x ... up to 30 s,
 *               with jitter; jobs_wake() does not cut a back-off short
 *
 * A wake that arrives while a batch runs is not lost: the job runs again right after it.
 * Jobs with a channel are also woken by PostgreSQL NOTIFY on that channel: one listener
 * thread holds its own connection (application_name haat-jobs-listener), LISTENs on every
 * channel and reconnects with back-off; after every (re)connect it wakes all channel jobs once,
 * since notifications sent while it was away are lost. While it is disconnected the jobs keep
 * polling every idle_ms.
 *
 * Batches count in jobs_runs_total{job,result} with result work|idle|error.
 * Threads started here block all signals (the main thread handles them) and call
 * db_thread_cleanup() before they exit.
 *
 * Lifecycle: jobs_register()... jobs_start() ... jobs_stop(). jobs_stop() forgets every
 * registration, so the sequence may start over (tests do). None of these may be called from
 * a job's own run(), except jobs_wake(). */
#ifndef HAAT_PKG_JOBS_JOBS_H
#define HAAT_PKG_JOBS_JOBS_H

#include <stdbool.h>

#define JOBS_MAX_THREADS 4

struct jobs_spec {
    const char *name;      /* unique, 1..48 chars of [a-z0-9_.-] (copied); the metric label */
    int (*run)(void *arg); /* one batch; see above. Must return within a bounded time */
    void *arg;             /* borrowed: must stay valid until jobs_stop() returns */
    int idle_ms;           /* poll interval when idle, 1..3600000 */
    const char *channel;   /* NOTIFY channel that wakes the job, or NULL (copied); 1..63
                              chars of [a-z0-9_] */
    int threads;           /* instances running run() concurrently, 1..JOBS_MAX_THREADS */
};

/* Adds a job. Before jobs_start(). Returns 0, or -1 (logged) for a bad spec, a duplicate
 * name, or a runner that is already started. */
int jobs_register(const struct jobs_spec *spec);

/* Starts every registered job's threads, and the listener thread when a job has a channel and
 * db_url is not NULL (copied; a libpq URI or key=value string). An unreachable database is
 * not an error: the listener keeps retrying. Returns 0, or -1 (logged, nothing left running)
 * when already started or a thread cannot be created. */
int jobs_start(const char *db_url);

/* Wakes an idle job now (all its instances). Any thread; unknown names and calls outside
 * start..stop are ignored. */
void jobs_wake(const char *name);

/* Asks every thread to stop after its current batch and wakes them, without waiting (so a
 * shutdown can drain HTTP and jobs at the same time). Any thread; idempotent. */
void jobs_request_stop(void);

/* Asks every thread to stop, wakes them and joins them: a batch in progress finishes first.
 * Threads still running after grace_ms are logged and left behind (detached; their state is
 * never freed). Returns true when every thread was joined (also when nothing was started),
 * false when some were left running. */
bool jobs_stop(int grace_ms);

#endif
