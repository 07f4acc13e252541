/* listen — see listen.h.
 *
 * State: one static listener. Subscriptions are fixed before the thread starts and read-only
 * while it runs, so the thread reads them without a lock. `stopping` is atomic; a self-pipe
 * interrupts the thread's poll(). A thread that outlives listen_stop's grace keeps the state
 * (it is static: nothing is freed under it) and is detached. */
#include "pkg/listen/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pkg/clock/clock.h"
#include "pkg/db/db.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

#define BACKOFF_BASE_MS    250
#define BACKOFF_MAX_MS     5000
#define CONNECT_TIMEOUT_MS 10000
#define MAX_RECONNECT_FNS  4

struct sub {
    char channel[64];
    listen_fn fn;
    void *arg;
};

struct reconnect {
    listen_reconnect_fn fn;
    void *arg;
};

static struct {
    pthread_mutex_t mu; /* guards registration and start/stop */
    struct sub subs[LISTEN_MAX_CHANNELS];
    int nsubs;
    struct reconnect rec[MAX_RECONNECT_FNS];
    int nrec;
    bool started;
    atomic_bool stopping, connected;
    pthread_t tid;
    char *db_url;
    int pipe[2];
} L = {.mu = PTHREAD_MUTEX_INITIALIZER, .pipe = {-1, -1}};

static bool stopping(void)
{
    return atomic_load(&L.stopping);
}

static bool valid_channel(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

int listen_subscribe(const char *channel, listen_fn fn, void *arg)
{
    int rc = -1;
    pthread_mutex_lock(&L.mu);
    if (!valid_channel(channel) || !fn)
        log_error("listen_subscribe_failed", "listen: bad channel or callback");
    else if (L.started || L.nsubs == LISTEN_MAX_CHANNELS)
        log_error("listen_subscribe_failed", "listen: %s: started or full", channel);
    else {
        struct sub *s = &L.subs[L.nsubs++];
        snprintf(s->channel, sizeof s->channel, "%s", channel);
        s->fn = fn;
        s->arg = arg;
        rc = 0;
    }
    pthread_mutex_unlock(&L.mu);
    return rc;
}

int listen_on_reconnect(listen_reconnect_fn fn, void *arg)
{
    int rc = -1;
    pthread_mutex_lock(&L.mu);
    if (fn && !L.started && L.nrec < MAX_RECONNECT_FNS) {
        L.rec[L.nrec++] = (struct reconnect){fn, arg};
        rc = 0;
    } else {
        log_error("listen_subscribe_failed", "listen: cannot add a reconnect callback");
    }
    pthread_mutex_unlock(&L.mu);
    return rc;
}

bool listen_connected(void)
{
    return atomic_load(&L.connected);
}

/* ---- the thread ----------------------------------------------------------------------- */

/* Waits for events on fd (fd < 0: just sleeps). Returns 1 ready, 0 timeout, -1 stop. */
static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = L.pipe[0], .events = POLLIN}};
    int n = poll(p, 2, timeout_ms);
    if (stopping() || (n > 0 && p[1].revents))
        return -1;
    if (n < 0)
        return errno == EINTR ? 1 : -1;
    return n > 0 ? 1 : 0;
}

static void one_line(const char *in, char *out, size_t n)
{
    snprintf(out, n, "%s", in ? in : "");
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}

/* LISTEN on every channel (names checked at subscription, quoted as identifiers). */
static int listen_all(PGconn *c)
{
    for (int i = 0; i < L.nsubs; i++)
        if (db_listen(c, L.subs[i].channel) != 0)
            return -1;
    return 0;
}

/* One connection attempt, bounded by CONNECT_TIMEOUT_MS and interruptible by stop. */
static int wait_stop(void *arg, int fd, short events, int timeout_ms)
{
    (void)arg;
    return wait_fd(fd, events, timeout_ms);
}

static PGconn *connect_once(void)
{
    char app[40];
    snprintf(app, sizeof app, "haat-listen:%d", (int)getpid());
    PGconn *c = NULL;
    bool ok = db_connect_dedicated(L.db_url, app, CONNECT_TIMEOUT_MS, wait_stop, NULL, &c);
    if (ok && listen_all(c) == 0)
        return c;
    if (!stopping()) {
        char line[512];
        one_line(c ? PQerrorMessage(c) : "out of memory", line, sizeof line);
        log_warn("listen_connect_failed", "listener: cannot connect: %s", line);
    }
    PQfinish(c);
    return NULL;
}

static void dispatch(const PGnotify *n)
{
    for (int i = 0; i < L.nsubs; i++)
        if (strcmp(L.subs[i].channel, n->relname) == 0)
            L.subs[i].fn(n->relname, n->extra ? n->extra : "", L.subs[i].arg);
}

/* Delivers notifications until the connection breaks or stop is asked. */
static void loop(PGconn *c)
{
    for (;;) {
        int w = wait_fd(PQsocket(c), POLLIN, -1);
        if (w < 0)
            return;
        if (w == 0)
            continue;
        if (!PQconsumeInput(c) || PQstatus(c) == CONNECTION_BAD) {
            char line[512];
            one_line(PQerrorMessage(c), line, sizeof line);
            log_warn("listen_lost", "listener: connection lost: %s", line);
            return;
        }
        PGnotify *n;
        while ((n = PQnotifies(c)) != NULL) {
            dispatch(n);
            PQfreemem(n);
        }
    }
}

static int backoff_ms(int attempt, uint64_t *rnd)
{
    int d = BACKOFF_BASE_MS;
    for (int i = 1; i < attempt && d < BACKOFF_MAX_MS; i++)
        d *= 2;
    if (d > BACKOFF_MAX_MS)
        d = BACKOFF_MAX_MS;
    uint64_t x = *rnd; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rnd = x;
    return d / 2 + (int)((x >> 33) % (uint64_t)(d / 2 + 1));
}

static void *thread_main(void *arg)
{
    uint64_t rnd = (clock_mono_ns() ^ 0x9e3779b97f4a7c15u) | 1u;
    int failures = 0;
    while (!stopping()) {
        PGconn *c = connect_once();
        if (c) {
            log_info("listen_connected", "listener: listening");
            failures = 0;
            atomic_store(&L.connected, true);
            for (int i = 0; i < L.nrec; i++)
                L.rec[i].fn(L.rec[i].arg);
            loop(c);
            atomic_store(&L.connected, false);
            PQfinish(c);
        }
        if (!stopping())
            wait_fd(-1, 0, backoff_ms(++failures, &rnd));
    }
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------------- */

static int spawn(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&L.tid, NULL, thread_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        log_error("listen_start_failed", "listener: cannot start: %s", strerror(rc));
        return -1;
    }
    pthread_setname_np(L.tid, "listen");
    return 0;
}

int listen_start(const char *db_url)
{
    int rc = -1;
    pthread_mutex_lock(&L.mu);
    if (L.started || L.nsubs == 0 || !db_url) {
        log_error("listen_start_failed", "listener: started, nothing subscribed or no URL");
        goto out;
    }
    if (pipe2(L.pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        log_error("listen_start_failed", "listener: pipe: %s", strerror(errno));
        goto out;
    }
    atomic_store(&L.stopping, false);
    L.db_url = xstrdup(db_url);
    if (spawn() != 0) {
        close(L.pipe[0]);
        close(L.pipe[1]);
        L.pipe[0] = L.pipe[1] = -1;
        free(L.db_url);
        L.db_url = NULL;
        goto out;
    }
    L.started = true;
    rc = 0;
out:
    pthread_mutex_unlock(&L.mu);
    return rc;
}

/* Joins the thread until grace_ms have passed; false when it is still running. */
static bool join_within(int grace_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += grace_ms / 1000;
    dl.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(L.tid, NULL, &dl) == 0)
        return true;
    log_warn("listen_stop_timeout", "listener: still running after %d ms; leaving it", grace_ms);
    pthread_detach(L.tid);
    return false;
}

bool listen_stop(int grace_ms)
{
    pthread_mutex_lock(&L.mu);
    bool joined = true;
    if (L.started) {
        atomic_store(&L.stopping, true);
        if (write(L.pipe[1], "x", 1) < 0)
            log_warn("listen_stop", "listener: cannot signal: %s", strerror(errno));
        joined = join_within(grace_ms < 0 ? 0 : grace_ms);
    }
    if (joined) {
        for (int i = 0; i < 2; i++)
            if (L.pipe[i] >= 0)
                close(L.pipe[i]);
        L.pipe[0] = L.pipe[1] = -1;
        free(L.db_url);
        L.db_url = NULL;
        L.nsubs = L.nrec = 0;
        L.started = false;
    }
    pthread_mutex_unlock(&L.mu);
    return joined;
}
