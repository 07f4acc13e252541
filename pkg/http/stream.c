/* stream — see stream.h.
 *
 * A stream has two references: the caller's (http_stream_release) and the response's (given
 * back by libmicrohttpd's free callback when the response is destroyed, i.e. when the
 * connection is done: that is also the "closed" signal). s->mu guards the queue, the flags
 * and the suspension; g_mu guards the list of open streams and their count. Lock order:
 * g_mu before s->mu. */
#include "pkg/http/stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/http/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

/* libmicrohttpd's buffer per open stream (malloc'd with the response): events are small, and a
 * bigger one goes out over several read callbacks. 1 KiB, not 4: 3 KB less per stream. */
#define STREAM_BLOCK 1024

struct http_stream {
    pthread_mutex_t mu;
    struct MHD_Connection *conn;
    struct http_server *srv;
    char *buf; /* unsent bytes are buf[off, len) */
    size_t off, len, cap;
    bool suspended; /* the read callback suspended the connection; a write resumes it */
    bool ending;    /* http_stream_end: end of stream once the queue is sent */
    bool closed;    /* the response was destroyed */
    int refs;       /* guarded by mu */
    http_stream_closed_fn on_closed;
    void *arg;
    struct http_stream *prev, *next; /* the open list, guarded by g_mu */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct http_stream *g_open; /* guarded by g_mu */
static int g_count, g_max;         /* guarded by g_mu */

void http_stream_set_max(int max)
{
    pthread_mutex_lock(&g_mu);
    g_max = max > 0 ? max : 0;
    pthread_mutex_unlock(&g_mu);
}

int http_stream_count(void)
{
    pthread_mutex_lock(&g_mu);
    int n = g_count;
    pthread_mutex_unlock(&g_mu);
    return n;
}

static void unref(struct http_stream *s)
{
    pthread_mutex_lock(&s->mu);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (!last)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->buf);
    free(s);
}

/* Resumes the connection when the read callback suspended it. s->mu held. */
static void wake_locked(struct http_stream *s)
{
    if (!s->suspended)
        return;
    s->suspended = false;
    MHD_resume_connection(s->conn);
}

static ssize_t read_cb(void *cls, uint64_t pos, char *out, size_t max)
{
    struct http_stream *s = cls;
    ssize_t n = 0;
    pthread_mutex_lock(&s->mu);
    if (s->len > s->off) {
        size_t k = s->len - s->off < max ? s->len - s->off : max;
        memcpy(out, s->buf + s->off, k);
        s->off += k;
        if (s->off == s->len)
            s->off = s->len = 0;
        n = (ssize_t)k;
    } else if (s->ending) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        s->suspended = true; /* nothing to send: hold no thread until a write */
        MHD_suspend_connection(s->conn);
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* The response is destroyed: the connection is done with the stream. */
static void free_cb(void *cls)
{
    struct http_stream *s = cls;
    pthread_mutex_lock(&g_mu);
    if (s->prev)
        s->prev->next = s->next;
    else if (g_open == s)
        g_open = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    g_count--;
    pthread_mutex_unlock(&g_mu);
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    s->suspended = false;
    pthread_mutex_unlock(&s->mu);
    if (s->on_closed)
        s->on_closed(s->arg);
    unref(s);
}

/* Adds s to the open list unless the cap is reached or the server is stopping. */
static bool admit(struct http_stream *s)
{
    pthread_mutex_lock(&g_mu);
    bool ok = !atomic_load(&s->srv->streams_closed) && (g_max == 0 || g_count < g_max);
    if (ok) {
        s->next = g_open;
        if (g_open)
            g_open->prev = s;
        g_open = s;
        g_count++;
    }
    pthread_mutex_unlock(&g_mu);
    return ok;
}

static struct http_stream *stream_new(struct http_req *r, const char *prelude,
                                      http_stream_closed_fn closed, void *arg)
{
    struct http_stream *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->conn = r->conn;
    s->srv = r->srv;
    s->refs = 2;
    s->on_closed = closed;
    s->arg = arg;
    if (prelude && *prelude) {
        s->len = s->cap = strlen(prelude);
        s->buf = xstrdup(prelude);
    }
    return s;
}

struct http_stream *http_reply_stream(struct http_req *r, const char *content_type,
                                      const char *prelude, http_stream_closed_fn closed, void *arg)
{
    struct http_stream *s = stream_new(r, prelude, closed, arg);
    if (!admit(s)) {
        s->refs = 1;
        unref(s);
        http_set_header(r, "Retry-After", "5");
        http_reply_problem(r, 503, "service_unavailable", "too many open event streams");
        return NULL;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, read_cb, s, free_cb);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    /* An ended stream ends its connection too: the client then knows to reconnect. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    reply_set_response(r, 200, resp);
    return s;
}

/* Appends to the queue; false when it would grow past the bound. s->mu held. */
static bool append_locked(struct http_stream *s, const char *buf, size_t len)
{
    if (s->len - s->off + len > HTTP_STREAM_MAX_QUEUED)
        return false;
    if (s->off > 0) {
        memmove(s->buf, s->buf + s->off, s->len - s->off);
        s->len -= s->off;
        s->off = 0;
    }
    if (s->len + len > s->cap) {
        s->cap = (s->len + len) * 2;
        s->buf = xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    return true;
}

bool http_stream_write(struct http_stream *s, const char *buf, size_t len)
{
    pthread_mutex_lock(&s->mu);
    bool ok = !s->closed && !s->ending;
    if (ok && !append_locked(s, buf, len)) {
        log_warn("http_stream_overflow", "event stream client is not reading; ending it");
        s->ending = true;
        ok = false;
    }
    if (!s->closed)
        wake_locked(s);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void http_stream_end(struct http_stream *s)
{
    pthread_mutex_lock(&s->mu);
    s->ending = true;
    if (!s->closed)
        wake_locked(s);
    pthread_mutex_unlock(&s->mu);
}

void http_stream_release(struct http_stream *s)
{
    if (s)
        unref(s);
}

void stream_end_all(struct http_server *srv)
{
    pthread_mutex_lock(&g_mu);
    atomic_store(&srv->streams_closed, true);
    for (struct http_stream *s = g_open; s; s = s->next) {
        if (s->srv != srv)
            continue;
        pthread_mutex_lock(&s->mu);
        s->ending = true;
        wake_locked(s);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&g_mu);
}
