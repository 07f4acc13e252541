/* Stage 2, delivery: lease one due queued notification (SKIP LOCKED; the lease pushes its
 * next_attempt_at NOTIFY_LEASE_S ahead), send it through the provider outside any
 * transaction, then record the outcome: sent (sent_at, latency observed), retry later
 * (exponential backoff with jitter), or failed (a permanent refusal, or the last attempt).
 * A worker killed mid-send leaves the lease to run out; another worker then sends it again
 * (at-least-once). A database that stops answering after the send (a failover) does not: the
 * worker keeps trying to record the send for most of the lease (NOTIFY_RECORD_FOR_S). The outcome
 * updates are fenced by the attempt number, so a worker whose lease ran out cannot overwrite a
 * newer attempt's state.
 *
 * Two lanes share this code: the normal one and the priority one (OTP codes), each with its
 * own job and threads, so codes never queue behind other mail. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal/notification/internal.h"
#include "pkg/clock/clock.h"
#include "pkg/crypto/sec.h"
#include "pkg/log/log.h"

#define BATCH_BUDGET_NS (2ull * 1000 * 1000 * 1000) /* stop taking new work after 2 s */

/* Records that c went out. A database that does not answer (a failover) is tried again,
 * with a pause, until NOTIFY_RECORD_FOR_S after the claim (claimed_ns) — inside the lease, so no
 * other worker sends the message again meanwhile; only past that, or at shutdown, is it left
 * to the lease (and possibly sent twice). */
static void record_sent(const struct notify_claimed *c, enum notify_channel ch, uint64_t claimed_ns)
{
    double latency = -1;
    enum db_status st;
    uint64_t until = claimed_ns + (uint64_t)NOTIFY_RECORD_FOR_S * 1000000000ull;
    for (;;) {
        struct db_conn *db = db_conn(DB_PRIMARY); /* probes one that sat idle through the send */
        st = db ? notify_repo_mark_sent(db, c->id, &latency) : DB_UNAVAILABLE;
        if (st != DB_UNAVAILABLE && st != DB_RETRY)
            break;
        if (clock_mono_ns() >= until || notify_stopping())
            break;
        nanosleep(&(struct timespec){.tv_nsec = 250 * 1000 * 1000}, NULL);
    }
    notify_metric_count(ch, "sent");
    if (st == DB_OK && latency >= 0)
        notify_metric_latency(ch, latency);
    else if (st != DB_OK && st != DB_NOT_FOUND)
        log_warn("notify_mark_sent",
                 "notification %s was sent but not recorded: it may be "
                 "sent again",
                 c->id);
    log_debug("notify_sent", "notification %s (%s, %s) sent, attempt %d", c->id, c->event,
              c->channel, c->attempts);
}

static void record_failure(struct db_conn *db, const struct notify_claimed *c,
                           enum notify_channel ch, enum notify_result res, const char *why)
{
    res = notify_after_failure(res, c->attempts);
    if (res == NOTIFY_RETRY) {
        double delay = (double)notify_backoff_ms(c->attempts, randombytes_random()) / 1000.0;
        notify_repo_mark_retry(db, c->id, c->attempts, delay, why);
        notify_metric_count(ch, "retry");
        log_warn("notify_retry", "notification %s (%s, %s) attempt %d: %s; again in %.1f s", c->id,
                 c->event, c->channel, c->attempts, why, delay);
        return;
    }
    notify_repo_mark_failed(db, c->id, c->attempts, why);
    notify_metric_count(ch, "failed");
    log_error("notify_failed", "notification %s (%s, %s) failed after %d attempt(s): %s", c->id,
              c->event, c->channel, c->attempts, why);
}

/* Sends one claimed notification and records the outcome: on db (the claim's connection) when
 * it is decided before any send, else on the thread's primary connection taken after the
 * send (db_conn probes a connection that sat idle through a long provider call). */
static void send_claimed(struct db_conn *db, const struct notify_claimed *c, uint64_t claimed_ns)
{
    char err[NOTIFY_ERR_LEN] = "";
    int ch = notify_channel_parse(c->channel);
    char *opened = NULL;
    if (ch < 0) {
        record_failure(db, c, NOTIFY_SMS, NOTIFY_FAILED, "unknown channel");
        return;
    }
    if (c->attempts > NOTIFY_MAX_ATTEMPTS) { /* claimed again and again, never finished */
        record_failure(db, c, (enum notify_channel)ch, NOTIFY_FAILED,
                       "gave up: earlier attempts ended without an outcome (worker crashes?)");
        return;
    }
    if (c->body_sealed && !(opened = sec_open(c->body_sealed))) {
        record_failure(db, c, (enum notify_channel)ch, NOTIFY_FAILED, "sealed body does not open");
        return;
    }
    struct notify_msg m = {
        .id = c->id,
        .event = c->event,
        .to = c->destination,
        .to_name = c->recipient_name,
        .subject = c->subject ? c->subject : "",
        .body = opened ? opened : c->body,
        .created_at = c->created_at,
    };
    enum notify_result res = notify_send((enum notify_channel)ch, &m, err, sizeof err);
    if (opened) {
        sodium_memzero(opened, strlen(opened));
        free(opened);
    }
    if (res == NOTIFY_SENT)
        record_sent(c, (enum notify_channel)ch, claimed_ns);
    else
        record_failure(db_conn(DB_PRIMARY), c, (enum notify_channel)ch, res, err);
}

int notify_deliver_batch(bool priority, int max)
{
    uint64_t start = clock_mono_ns();
    int done = 0;
    while (done < max && clock_mono_ns() - start < BATCH_BUDGET_NS) {
        struct notify_claimed c;
        struct db_conn *db = db_conn(DB_PRIMARY);
        uint64_t claimed_ns = clock_mono_ns();
        enum db_status st = notify_repo_claim(db, priority, &c);
        if (st == DB_NOT_FOUND)
            break;
        if (st != DB_OK)
            return done > 0 ? done : -1;
        log_set_trace_id(c.trace_id); /* its log lines and provider calls join the trace */
        send_claimed(db, &c, claimed_ns);
        log_set_trace_id(NULL);
        notify_claimed_cleanup(&c);
        done++;
    }
    return done;
}
