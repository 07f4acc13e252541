/* The bounded password pool: a fixed number of threads and a fixed-size FIFO of waiting jobs.
 *
 * Argon2id at INTERACTIVE limits needs 64 MiB and tens of milliseconds per call, so hashing
 * on HTTP threads would let a burst of logins take every thread and as much memory as there
 * are threads. Here at most `threads` hashes run at once (memory bounded by threads x 64 MiB)
 * and at most `queue` wait; beyond that sec_pwpool_submit() refuses at once and the caller
 * answers 503 with Retry-After. */
#include <pthread.h>
#include <stdlib.h>

#include "pkg/crypto/sec.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

#define MAX_THREADS 16
#define MAX_QUEUE   4096

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct sec_pwjob *head, *tail; /* guarded by mu */
static int queued, capacity;          /* guarded by mu */
static bool running, stopping;        /* guarded by mu */
static pthread_t tids[MAX_THREADS];
static int nthreads;

static void run(struct sec_pwjob *job)
{
    job->needs_rehash = false;
    if (job->op == SEC_PW_HASH) {
        job->result = sec_password_hash(job->password, job->out) == 0 ? SEC_PW_OK : SEC_PW_ERROR;
    } else if (!job->hash) {
        (void)sec_password_verify(sec_password_dummy_hash(), job->password);
        job->result = SEC_PW_MISMATCH;
    } else if (sec_password_verify(job->hash, job->password) == 0) {
        job->result = SEC_PW_OK;
        job->needs_rehash = sec_password_needs_rehash(job->hash);
    } else {
        job->result = SEC_PW_MISMATCH;
    }
}

/* Takes the next job, or NULL once stopping and the queue is empty. With mu held. */
static struct sec_pwjob *take_locked(void)
{
    while (!head && !stopping)
        pthread_cond_wait(&wake, &mu);
    struct sec_pwjob *job = head;
    if (job) {
        head = job->next_;
        if (!head)
            tail = NULL;
        queued--;
    }
    return job;
}

static void *worker(void *unused)
{
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&mu);
        struct sec_pwjob *job = take_locked();
        bool cancel = stopping;
        pthread_mutex_unlock(&mu);
        if (!job)
            break;
        if (cancel)
            job->result = SEC_PW_CANCELLED;
        else
            run(job);
        job->done(job); /* owns the job from here */
    }
    return NULL;
}

int sec_pwpool_start(int threads, int queue)
{
    if (threads < 1 || threads > MAX_THREADS || queue < 1 || queue > MAX_QUEUE)
        return -1;
    (void)sec_password_dummy_hash(); /* made once, before the first login needs it */
    pthread_mutex_lock(&mu);
    if (running) {
        pthread_mutex_unlock(&mu);
        return -1;
    }
    running = true;
    stopping = false;
    capacity = queue;
    nthreads = 0;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&tids[i], NULL, worker, NULL) != 0) {
            log_error("pwpool_start", "cannot create password thread %d", i);
            break;
        }
        nthreads++;
    }
    pthread_mutex_unlock(&mu);
    if (nthreads == threads)
        return 0;
    sec_pwpool_stop();
    return -1;
}

int sec_pwpool_submit(struct sec_pwjob *job)
{
    int rc = -1;
    job->next_ = NULL;
    pthread_mutex_lock(&mu);
    if (running && !stopping && queued < capacity) {
        if (tail)
            tail->next_ = job;
        else
            head = job;
        tail = job;
        queued++;
        rc = 0;
        pthread_cond_signal(&wake);
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

void sec_pwpool_stop(void)
{
    pthread_mutex_lock(&mu);
    if (!running) {
        pthread_mutex_unlock(&mu);
        return;
    }
    stopping = true;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < nthreads; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_lock(&mu);
    running = false;
    nthreads = 0;
    pthread_mutex_unlock(&mu);
}

int sec_pwpool_queued(void)
{
    pthread_mutex_lock(&mu);
    int n = queued;
    pthread_mutex_unlock(&mu);
    return n;
}
