/* The event streams of this process: the registry, the per-user limit and the pump thread.
 *
 * A stream is a position in one ordered sequence: a conversation's seq, or the user's feed
 * pos (GET /v1/me/events). The pump thread alone reads the database for streams, on its own
 * primary connection: when a stream is "dirty" (just opened, a NOTIFY named it, or the
 * listener reconnected) it reads every message after the stream's position, writes one SSE
 * frame per message and advances the position — so a message is sent once, in order, and a
 * missed NOTIFY costs only latency until the next re-read. The HTTP threads never wait on it:
 * a stream with nothing to send is a suspended connection (pkg/http/stream.h).
 *
 * Every heartbeat_s the pump writes an SSE comment to every stream (a client that went away
 * is noticed when that write fails) and refreshes the streams' presence rows, which tell the
 * send path on any instance that the recipient is watching.
 *
 * Locking: P.mu guards the list and each stream's dirty / closed flags; everything else in a
 * stream (position, presence) belongs to the pump thread. A stream is freed only by the pump,
 * after its closed callback ran. Lock order: P.mu before a pkg/http stream's own lock. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal/chat/internal.h"
#include "pkg/clock/clock.h"
#include "pkg/http/stream.h"
#include "pkg/log/log.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

#define READ_BATCH     100
#define RETRY_DB_MS    500
#define HEARTBEAT_TEXT ": heartbeat\n\n"

struct cstream {
    struct http_stream *hs;
    char id[IDS_UUID_LEN]; /* the presence row's id */
    char user_id[IDS_UUID_LEN];
    char conv_id[IDS_UUID_LEN];     /* "": every conversation of the user */
    char resume_from[IDS_UUID_LEN]; /* Last-Event-ID still to resolve, "" when none */
    long long pos;
    bool present; /* pump: the presence row exists */
    bool dirty;   /* P.mu: there may be messages after pos */
    bool ending;  /* P.mu: ended by the per-user limit, its close still to come */
    bool closed;  /* P.mu: the closed callback ran; the pump frees it */
    uint64_t opened_ns;
    struct cstream *next; /* P.mu */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cstream *head;
    bool stopping, running;
    pthread_t tid;
} P = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- the registry (any thread) -------------------------------------------------------- */

static void on_closed(void *arg)
{
    struct cstream *s = arg;
    pthread_mutex_lock(&P.mu);
    s->closed = true;
    pthread_cond_signal(&P.cv);
    pthread_mutex_unlock(&P.mu);
}

/* Ends user_id's oldest streams so that one more fits the per-user limit. P.mu held. */
static void make_room(const char *user_id)
{
    int n = 0;
    for (struct cstream *s = P.head; s; s = s->next)
        n += !s->closed && !s->ending && strcmp(s->user_id, user_id) == 0;
    while (n-- >= chat_cfg.streams_per_user) {
        struct cstream *oldest = NULL;
        for (struct cstream *s = P.head; s; s = s->next)
            if (!s->closed && !s->ending && strcmp(s->user_id, user_id) == 0 &&
                (!oldest || s->opened_ns < oldest->opened_ns))
                oldest = s;
        if (!oldest)
            return;
        oldest->ending = true; /* counted out now; its callback comes when it is gone */
        http_stream_end(oldest->hs);
    }
}

void chat_stream_open(struct http_req *r, const char *user_id, const char *conv_id,
                      const char *last_event_id, long long start)
{
    struct cstream *s = xcalloc(1, sizeof *s);
    ids_uuid7(s->id);
    snprintf(s->user_id, sizeof s->user_id, "%s", user_id);
    snprintf(s->conv_id, sizeof s->conv_id, "%s", conv_id);
    if (last_event_id && ids_is_uuid(last_event_id))
        snprintf(s->resume_from, sizeof s->resume_from, "%s", last_event_id);
    s->pos = start;
    s->opened_ns = clock_mono_ns();
    char prelude[32];
    snprintf(prelude, sizeof prelude, "retry: %d\n\n", CHAT_RETRY_MS);
    s->hs = http_reply_stream(r, "text/event-stream; charset=utf-8", prelude, on_closed, s);
    if (!s->hs) {
        free(s); /* replied 503 */
        return;
    }
    pthread_mutex_lock(&P.mu);
    make_room(user_id);
    s->dirty = true;
    s->next = P.head;
    P.head = s;
    pthread_cond_signal(&P.cv);
    pthread_mutex_unlock(&P.mu);
}

static bool matches(const struct cstream *s, const char *conv, const char *buyer,
                    const char *seller)
{
    if (s->conv_id[0])
        return strcmp(s->conv_id, conv) == 0;
    return strcmp(s->user_id, buyer) == 0 || strcmp(s->user_id, seller) == 0;
}

void chat_streams_notify(const char *conv_id, const char *buyer_id, const char *seller_id)
{
    pthread_mutex_lock(&P.mu);
    for (struct cstream *s = P.head; s; s = s->next)
        if (!s->closed && matches(s, conv_id, buyer_id, seller_id))
            s->dirty = true;
    pthread_cond_signal(&P.cv);
    pthread_mutex_unlock(&P.mu);
}

void chat_streams_recheck(void)
{
    pthread_mutex_lock(&P.mu);
    for (struct cstream *s = P.head; s; s = s->next)
        s->dirty = true;
    pthread_cond_signal(&P.cv);
    pthread_mutex_unlock(&P.mu);
}

/* ---- the pump (its own thread) -------------------------------------------------------- */

static int presence_ttl_s(void)
{
    return chat_cfg.heartbeat_s * 3 + 5;
}

/* Resolves Last-Event-ID to a position; an unknown id keeps the start position. */
static enum db_status resolve(struct db_conn *c, struct cstream *s)
{
    long long pos = 0;
    enum db_status st = s->conv_id[0] ? chat_repo_message_seq(c, s->conv_id, s->resume_from, &pos)
                                      : chat_repo_feed_pos(c, s->user_id, s->resume_from, &pos);
    if (st == DB_OK)
        s->pos = pos;
    if (st == DB_OK || st == DB_NOT_FOUND)
        s->resume_from[0] = '\0';
    return st == DB_NOT_FOUND ? DB_OK : st;
}

/* Writes every message after s's position. */
static enum db_status catch_up(struct db_conn *c, struct cstream *s)
{
    enum db_status st = s->resume_from[0] ? resolve(c, s) : DB_OK;
    if (st == DB_OK && !s->present) {
        st = chat_repo_presence_add(c, s->id, s->user_id, s->conv_id, presence_ttl_s());
        s->present = st == DB_OK;
    }
    for (int rows = READ_BATCH; st == DB_OK && rows == READ_BATCH;) {
        PGresult *res = NULL;
        st = s->conv_id[0] ? chat_repo_conv_after(c, s->conv_id, s->pos, READ_BATCH, &res)
                           : chat_repo_feed_after(c, s->user_id, s->pos, READ_BATCH, &res);
        rows = st == DB_OK ? chat_rows(res) : 0;
        for (int i = 0; i < rows; i++) {
            size_t len = 0;
            char *frame = chat_sse_frame(res, i, &len);
            http_stream_write(s->hs, frame, len);
            free(frame);
            s->pos = chat_msg_row_pos(res, i);
        }
        PQclear(res);
    }
    return st;
}

/* Takes the closed streams off the list (into *gone) and the dirty ones (into *work,
 * clearing their flag). P.mu held. */
static void take_work(struct cstream **work, size_t *nwork, size_t cap, struct cstream **gone)
{
    struct cstream **pp = &P.head;
    while (*pp) {
        struct cstream *s = *pp;
        if (s->closed) {
            *pp = s->next;
            s->next = *gone;
            *gone = s;
            continue;
        }
        if (s->dirty && *nwork < cap) {
            s->dirty = false;
            work[(*nwork)++] = s;
        }
        pp = &s->next;
    }
}

/* Drops the presence rows of closed streams and frees them. */
static void bury(struct db_conn *c, struct cstream *gone)
{
    while (gone) {
        struct cstream *next = gone->next;
        if (gone->present && c)
            chat_repo_presence_drop(c, gone->id); /* else it expires by itself */
        http_stream_release(gone->hs);
        free(gone);
        gone = next;
    }
}

/* The heartbeat: a comment to every open stream, and their presence refreshed. */
static void heartbeat(struct db_conn *c)
{
    struct strbuf ids;
    strbuf_init(&ids);
    strbuf_append(&ids, "{", 1);
    pthread_mutex_lock(&P.mu);
    int k = 0;
    for (struct cstream *s = P.head; s; s = s->next) {
        if (s->closed)
            continue;
        http_stream_write(s->hs, HEARTBEAT_TEXT, strlen(HEARTBEAT_TEXT));
        if (s->present)
            strbuf_printf(&ids, "%s%s", k++ ? "," : "", s->id);
    }
    pthread_mutex_unlock(&P.mu);
    strbuf_append(&ids, "}", 1);
    if (c)
        chat_repo_presence_touch(c, ids.buf, presence_ttl_s());
    strbuf_cleanup(&ids);
}

/* Waits until there is work, stop, or the deadline (a clock_mono_ns instant). P.mu held. */
static void wait_work(uint64_t deadline)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                          .tv_nsec = (long)(deadline % 1000000000u)};
    for (;;) {
        bool any = false;
        for (struct cstream *s = P.head; s && !any; s = s->next)
            any = s->dirty || s->closed;
        if (any || P.stopping || pthread_cond_timedwait(&P.cv, &P.mu, &ts) == ETIMEDOUT)
            return;
    }
}

/* One round: streams to bury and to catch up; a failed read marks the stream dirty again.
 * Returns false when the database failed (the caller waits a little). */
static bool round_once(void)
{
    struct cstream *work[256], *gone = NULL;
    size_t n = 0;
    pthread_mutex_lock(&P.mu);
    take_work(work, &n, sizeof work / sizeof work[0], &gone);
    pthread_mutex_unlock(&P.mu);
    struct db_conn *c = (n || gone) ? db_conn(DB_PRIMARY) : NULL;
    bury(c, gone);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (c && catch_up(c, work[i]) == DB_OK)
            continue;
        ok = false;
        pthread_mutex_lock(&P.mu);
        work[i]->dirty = true;
        pthread_mutex_unlock(&P.mu);
        c = NULL; /* a failed statement: the connection is re-checked next round */
    }
    return ok;
}

static void *pump_main(void *arg)
{
    uint64_t hb_ns = (uint64_t)chat_cfg.heartbeat_s * 1000000000u;
    uint64_t next_hb = clock_mono_ns() + hb_ns;
    pthread_mutex_lock(&P.mu);
    while (!P.stopping) {
        wait_work(next_hb);
        pthread_mutex_unlock(&P.mu);
        bool ok = round_once();
        if (clock_mono_ns() >= next_hb) {
            heartbeat(db_conn(DB_PRIMARY));
            next_hb = clock_mono_ns() + hb_ns;
        }
        pthread_mutex_lock(&P.mu);
        if (!ok && !P.stopping) {
            uint64_t until = clock_mono_ns() + (uint64_t)RETRY_DB_MS * 1000000u;
            struct timespec ts = {.tv_sec = (time_t)(until / 1000000000u),
                                  .tv_nsec = (long)(until % 1000000000u)};
            pthread_cond_timedwait(&P.cv, &P.mu, &ts);
        }
    }
    pthread_mutex_unlock(&P.mu);
    db_thread_cleanup();
    return NULL;
}

int chat_pump_start(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&P.cv, &ca);
    pthread_condattr_destroy(&ca);
    P.stopping = false;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&P.tid, NULL, pump_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        log_error("chat_start_failed", "chat: cannot start the stream pump: %s", strerror(rc));
        return -1;
    }
    pthread_setname_np(P.tid, "chat-pump");
    P.running = true;
    return 0;
}

bool chat_pump_stop(int grace_ms)
{
    if (!P.running)
        return true;
    pthread_mutex_lock(&P.mu);
    P.stopping = true;
    pthread_cond_signal(&P.cv);
    pthread_mutex_unlock(&P.mu);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += grace_ms / 1000 + 1;
    if (pthread_timedjoin_np(P.tid, NULL, &dl) != 0) {
        log_warn("chat_stop_timeout", "chat: stream pump still running; leaving it");
        pthread_detach(P.tid);
        return false;
    }
    P.running = false;
    return true;
}
