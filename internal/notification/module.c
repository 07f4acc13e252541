/* notify_init / notify_routes / notify_register_jobs: start-up of the notification module,
 * its metrics and its background jobs. */
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal/notification/internal.h"
#include "internal/notification/notification.h"
#include "pkg/jobs/jobs.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"
#include "pkg/outbox/outbox.h"
#include "pkg/util/xalloc.h"

/* Jobs inside a batch right now, and whether cleanup has begun: a job thread that jobs_stop()
 * left behind (a provider call outliving the grace period) must not find its templates and
 * settings freed under it. */
static atomic_int in_flight;
static atomic_bool stopping;

static struct metrics_counter *sent_total;
static struct metrics_histogram *latency_hist;
static char *app_url;
static bool registered, curl_ready;

/* Event commit -> provider accepted, in seconds. */
static const double latency_buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

void notify_metrics_init(void)
{
    static const char *const labels[] = {"channel", "status"};
    static const char *const statuses[] = {"sent", "failed", "retry"};
    sent_total = metrics_counter_new("notifications_sent_total",
                                     "Notification send outcomes by channel (sent, failed for "
                                     "good, retry scheduled).",
                                     2, labels);
    latency_hist = metrics_histogram_new(
        "notification_delivery_seconds",
        "Time from the domain event's commit to the provider accepting the message.", "channel",
        latency_buckets, (int)(sizeof latency_buckets / sizeof latency_buckets[0]));
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
        for (size_t s = 0; s < 3; s++) {
            const char *lv[] = {notify_channel_name((enum notify_channel)ch), statuses[s]};
            metrics_counter_add(sent_total, lv, 0); /* every series visible from the start */
        }
}

void notify_metric_count(enum notify_channel ch, const char *status)
{
    const char *lv[] = {notify_channel_name(ch), status};
    if (sent_total)
        metrics_counter_inc(sent_total, lv);
}

void notify_metric_latency(enum notify_channel ch, double seconds)
{
    if (latency_hist)
        metrics_histogram_observe(latency_hist, notify_channel_name(ch), seconds);
}

const char *notify_app_url(void)
{
    return app_url ? app_url : "";
}

int notify_init(const struct cfg *c)
{
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            log_error("notify_init", "libcurl failed to initialise");
            return -1;
        }
        curl_ready = true;
    }
    atomic_store(&stopping, false);
    if (!registered) { /* the statement registry takes a table once */
        notify_repo_init();
        notify_repo_register_admin();
        registered = true;
    }
    notify_metrics_init();
    free(app_url);
    app_url = xstrdup(c->public_url ? c->public_url : "");
    if (notify_templates_load(c->templates_dir) != 0) {
        log_error("notify_init",
                  "HAAT_TEMPLATES_DIR %s: notification templates are invalid "
                  "(see the lines above)",
                  c->templates_dir);
        return -1;
    }
    return notify_providers_init(c);
}

bool notify_stopping(void)
{
    return atomic_load(&stopping);
}

void notify_request_stop(void)
{
    atomic_store(&stopping, true); /* running transfers abort (provider progress callback) */
}

bool notify_cleanup(int wait_ms)
{
    notify_request_stop();
    for (int waited = 0; atomic_load(&in_flight) > 0 && waited < wait_ms; waited += 10)
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    if (atomic_load(&in_flight) > 0) {
        log_warn("notify_cleanup", "%d notification job(s) still running: state kept",
                 atomic_load(&in_flight));
        return false;
    }
    notify_templates_free();
    notify_providers_cleanup();
    free(app_url);
    app_url = NULL;
    return true;
}

/* ---- jobs ---- */

enum lane { LANE_FANOUT, LANE_DELIVER, LANE_PRIORITY };

static int run_lane(enum lane l)
{
    /* Count first, then check: notify_cleanup either sees this batch in flight or the batch
     * sees the stop (no window between the check and the increment). */
    atomic_fetch_add(&in_flight, 1);
    if (atomic_load(&stopping)) {
        atomic_fetch_sub(&in_flight, 1);
        return 0;
    }
    int rc;
    if (l == LANE_FANOUT) {
        rc = notify_fanout_batch(false, 32);
    } else if (l == LANE_DELIVER) {
        rc = notify_deliver_batch(false, 16);
    } else { /* the fast lane: OTP events fanned out and sent by the same job */
        int fanned = notify_fanout_batch(true, 16);
        int sent = notify_deliver_batch(true, 16);
        rc = fanned < 0 && sent <= 0 ? -1 : (fanned > 0 ? fanned : 0) + (sent > 0 ? sent : 0);
    }
    atomic_fetch_sub(&in_flight, 1);
    return rc;
}

static int run_fanout(void *arg)
{
    (void)arg;
    return run_lane(LANE_FANOUT);
}

static int run_deliver(void *arg)
{
    (void)arg;
    return run_lane(LANE_DELIVER);
}

/* Woken by every outbox NOTIFY; looks only at OTP events and messages, so codes never wait
 * behind other mail. */
static int run_priority(void *arg)
{
    (void)arg;
    return run_lane(LANE_PRIORITY);
}

static const struct jobs_spec jobs[] = {
    {NOTIFY_JOB_PRIORITY, run_priority, NULL, 500, OUTBOX_CHANNEL, 2},
    {NOTIFY_JOB_FANOUT, run_fanout, NULL, 2000, OUTBOX_CHANNEL, 2},
    {NOTIFY_JOB_DELIVER, run_deliver, NULL, 1000, NOTIFY_WAKE_CHANNEL, 4},
};

int notify_register_jobs(void)
{
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++)
        if (jobs_register(&jobs[i]) != 0)
            return -1;
    return 0;
}
