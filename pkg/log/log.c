#include "pkg/log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/clock/clock.h"
#include "pkg/ids/ids.h"
#include "pkg/util/strbuf.h"

static enum log_level min_level = LOG_LEVEL_INFO;
static bool as_json = true;
static _Thread_local char request_id[65];
static _Thread_local char trace_id[33];

#define REAL_PRECISION JSON_REAL_PRECISION(9)

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_init(const char *level, const char *format)
{
    int lvl = -1;
    for (int i = 0; i < 4; i++)
        if (level && strcmp(level, level_names[i]) == 0)
            lvl = i;
    if (lvl < 0 || !format || (strcmp(format, "json") != 0 && strcmp(format, "text") != 0))
        return -1;
    min_level = (enum log_level)lvl;
    as_json = strcmp(format, "json") == 0;
    return 0;
}

bool log_enabled(enum log_level lvl)
{
    return lvl >= min_level;
}

void log_set_request_id(const char *rid)
{
    if (!rid) {
        request_id[0] = '\0';
        return;
    }
    snprintf(request_id, sizeof request_id, "%s", rid);
}

const char *log_request_id(void)
{
    return request_id[0] ? request_id : NULL;
}

void log_set_trace_id(const char *tid)
{
    snprintf(trace_id, sizeof trace_id, "%s", tid ? tid : "");
}

const char *log_trace_id(void)
{
    return trace_id[0] ? trace_id : NULL;
}

bool log_traceparent(char out[LOG_TRACEPARENT_LEN])
{
    if (!trace_id[0])
        return false;
    char span[IDS_REQUEST_ID_LEN];
    ids_request_id(span); /* 32 hex digits; a span id is 16 */
    snprintf(out, LOG_TRACEPARENT_LEN, "00-%s-%.16s-01", trace_id, span);
    return true;
}

static void write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

static void write_text(const char *ts, enum log_level lvl, const char *event, const char *msg,
                       json_t *fields)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_printf(&sb, "%s %-5s %s", ts, level_names[lvl], event);
    if (msg && *msg)
        strbuf_printf(&sb, " %s", msg);
    if (request_id[0])
        strbuf_printf(&sb, " request_id=%s", request_id);
    if (trace_id[0])
        strbuf_printf(&sb, " trace_id=%s", trace_id);
    const char *key;
    json_t *val;
    json_object_foreach(fields, key, val)
    {
        char *v = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT | REAL_PRECISION);
        strbuf_printf(&sb, " %s=%s", key, v ? v : "?");
        free(v);
    }
    strbuf_puts(&sb, "\n");
    write_all(sb.buf, sb.len);
    strbuf_cleanup(&sb);
}

static void write_json(const char *ts, enum log_level lvl, const char *event, const char *msg,
                       json_t *fields)
{
    json_t *line = json_object();
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(level_names[lvl]));
    json_object_set_new(line, "event", json_string(event));
    if (msg && *msg)
        json_object_set_new(line, "msg", json_string(msg));
    if (request_id[0])
        json_object_set_new(line, "request_id", json_string(request_id));
    if (trace_id[0])
        json_object_set_new(line, "trace_id", json_string(trace_id));
    json_object_update(line, fields);
    char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | REAL_PRECISION);
    json_decref(line);
    if (!s)
        return;
    size_t n = strlen(s);
    s[n] = '\n'; /* overwrite the NUL: written by length below */
    write_all(s, n + 1);
    free(s);
}

void log_write(enum log_level lvl, const char *event, const char *msg, json_t *fields)
{
    if (lvl < min_level) {
        json_decref(fields);
        return;
    }
    if (!fields)
        fields = json_object();
    char ts[CLOCK_RFC3339_LEN];
    clock_rfc3339(clock_unix_ms(), 1, ts);
    if (as_json)
        write_json(ts, lvl, event, msg, fields);
    else
        write_text(ts, lvl, event, msg, fields);
    json_decref(fields);
}

void log_msg(enum log_level lvl, const char *event, const char *fmt, ...)
{
    if (lvl < min_level)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_write(lvl, event, buf, NULL);
}
