/* metrics — a small Prometheus registry rendered in text exposition format 0.0.4.
 *
 * Families (counters, gauges, histograms) are registered once, usually at start-up, and live
 * until metrics_reset_for_tests(); the pointers returned stay valid until then and are shared
 * by every thread. Updating a series is lock-free: the label set is found in the family's
 * open-addressing table without a lock (a new label set takes the family's mutex once), and
 * values are atomics. Rendering takes the registry lock and each family's lock briefly; it
 * never blocks updates.
 *
 * Names follow Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*,
 * "le" reserved). A bad definition, or a name registered twice with a different shape, is a
 * programming error: it is logged and the process aborts. Registering the very same shape
 * again returns the existing family, so init code may run twice.
 *
 * Label values are copied, may hold any bytes (escaped on output) and must come from a small
 * set (route patterns, never raw ids): every distinct label set lives until reset. A NULL
 * label value (or a NULL array) counts as "". */
#ifndef HAAT_PKG_METRICS_METRICS_H
#define HAAT_PKG_METRICS_METRICS_H

#include <stddef.h>

#define METRICS_MAX_LABELS  3
#define METRICS_MAX_BUCKETS 32
/* Content-Type of metrics_render()'s output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_counter;
struct metrics_gauge;
struct metrics_histogram;

/* Request-duration buckets in seconds, 0.5 ms .. 5 s (METRICS_DURATION_BUCKETS_N of them). */
extern const double metrics_duration_buckets[];
#define METRICS_DURATION_BUCKETS_N 13

/* A counter family with nlabels (0..3) label names (borrowed, copied). With no labels its one
 * series exists at once and renders as 0. */
struct metrics_counter *metrics_counter_new(const char *name, const char *help, int nlabels,
                                            const char *const *label_names);
/* Adds v (>= 0; negative or NaN values are ignored) to the series with these label values
 * (nlabels of them, borrowed; NULL when nlabels is 0). Thread-safe, lock-free once the label
 * set exists. */
void metrics_counter_add(struct metrics_counter *c, const char *const *label_values, double v);
void metrics_counter_inc(struct metrics_counter *c, const char *const *label_values);

/* A settable gauge family, same label rules as counters. */
struct metrics_gauge *metrics_gauge_new(const char *name, const char *help, int nlabels,
                                        const char *const *label_names);
void metrics_gauge_set(struct metrics_gauge *g, const char *const *label_values, double v);
void metrics_gauge_add(struct metrics_gauge *g, const char *const *label_values, double v);

/* A gauge read at scrape time: fn(arg) is called from metrics_render() (any thread, with the
 * registry lock held: fn must not register metrics). arg is borrowed and must stay valid
 * until reset. Registering the same name again replaces fn and arg. */
void metrics_gauge_fn(const char *name, const char *help, double (*fn)(void *arg), void *arg);
/* The same for a counter kept elsewhere (e.g. the kernel's CPU time): fn never decreases. */
void metrics_counter_fn(const char *name, const char *help, double (*fn)(void *arg), void *arg);

/* The standard process metrics, read from /proc at scrape time: process_start_time_seconds,
 * process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds. */
void metrics_process_init(void);

/* A histogram with an optional label (label_name NULL: none) and n (1..32) strictly
 * increasing finite upper bounds (copied; buckets NULL: metrics_duration_buckets). The +Inf
 * bucket is implicit. */
struct metrics_histogram *metrics_histogram_new(const char *name, const char *help,
                                                const char *label_name, const double *buckets,
                                                int n);
/* Records v in the series for label_value (ignored when the family has no label). */
void metrics_histogram_observe(struct metrics_histogram *h, const char *label_value, double v);

/* Registers haat_build_info{version="..."} 1. */
void metrics_build_info(const char *version);

/* The whole registry as exposition text: families in registration order, series sorted by
 * label values. Returns a NUL-terminated heap string the caller frees; *len (may be NULL)
 * gets its length. */
char *metrics_render(size_t *len);

/* Forgets every family and frees everything. Only while no other thread touches metrics:
 * every pointer handed out before becomes invalid. */
void metrics_reset_for_tests(void);

#endif
