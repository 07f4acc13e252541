/* log — structured logging: one line per event, JSON (default) or text, to stderr.
 *
 * Every line carries the request id and the trace id of the calling thread when they are set,
 * so a request's lines can be followed across modules and services. Real numbers are written
 * with at most 9 significant digits (0.04, not 0.040000000000000001). Thread-safe: one write(2) per
 * line. */
#ifndef HAAT_PKG_LOG_LOG_H
#define HAAT_PKG_LOG_LOG_H

#include <jansson.h>
#include <stdbool.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* level: debug|info|warn|error; format: json|text. Returns -1 (and changes nothing)
 * when either name is unknown. */
int log_init(const char *level, const char *format);
bool log_enabled(enum log_level lvl);
/* Sets the calling thread's request id (copied; NULL clears). */
void log_set_request_id(const char *request_id);
const char *log_request_id(void);
/* Sets the calling thread's W3C trace id (32 lower-case hex digits; copied; NULL or "" clears).
 * Every line written while it is set carries it as trace_id. */
void log_set_trace_id(const char *trace_id);
const char *log_trace_id(void); /* NULL when none */
/* A traceparent header value for an outgoing call made in the current trace: "00-<trace
 * id>-<fresh span id>-01". Returns false (out untouched) when the thread has no trace id. */
#define LOG_TRACEPARENT_LEN 56
bool log_traceparent(char out[LOG_TRACEPARENT_LEN]);
/* Writes one line. fields: extra members (new reference stolen; may be NULL). */
void log_write(enum log_level lvl, const char *event, const char *msg, json_t *fields);
void log_msg(enum log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_msg(LOG_LEVEL_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)  log_msg(LOG_LEVEL_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_msg(LOG_LEVEL_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(LOG_LEVEL_ERROR, ev, __VA_ARGS__)

#endif
