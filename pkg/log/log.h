/* log — structured logging: one line per event, JSON (default) or text, to stderr.
 *
 * Every line carries the request id of the calling thread when one is set, so a
 * request's lines can be followed across modules. Thread-safe: one write(2) per line. */
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
/* Writes one line. fields: extra members (new reference stolen; may be NULL). */
void log_write(enum log_level lvl, const char *event, const char *msg, json_t *fields);
void log_msg(enum log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_msg(LOG_LEVEL_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)  log_msg(LOG_LEVEL_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_msg(LOG_LEVEL_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(LOG_LEVEL_ERROR, ev, __VA_ARGS__)

#endif
