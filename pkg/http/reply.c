/* Replies: JSON, problem+json, bytes. Each builds one MHD_Response and stores it in the request;
 * the access handler (or, for deferred requests, the resumed connection) queues it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/http/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

#define JSON_TYPE    "application/json; charset=utf-8"
#define PROBLEM_TYPE "application/problem+json; charset=utf-8"

const char *http_status_title(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

void http_set_header(struct http_req *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            free(r->headers[i].value);
            r->headers[i].value = xstrdup(value);
            return;
        }
    }
    if (r->nheaders == REQ_MAX_HEADERS) {
        log_error("http_header_overflow", "too many reply headers, dropped %s", name);
        return;
    }
    r->headers[r->nheaders].name = xstrdup(name);
    r->headers[r->nheaders].value = xstrdup(value);
    r->nheaders++;
}

void http_set_location(struct http_req *r, const char *path)
{
    const char *base = r->srv->public_url ? r->srv->public_url : "";
    size_t n = strlen(base) + strlen(path) + 1;
    char *v = http_req_alloc(r, n);
    snprintf(v, n, "%s%s", base, path);
    http_set_header(r, "Location", v);
}

bool http_replied(const struct http_req *r)
{
    return r->response != NULL;
}

const char *reply_header(const struct http_req *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static void free_body(const char *body, enum MHD_ResponseMemoryMode mem)
{
    if (mem == MHD_RESPMEM_MUST_FREE)
        free((void *)(uintptr_t)body);
}

static void idem_finish(struct http_req *r, int status, const char *ctype, const char *body,
                        size_t len)
{
    if (!r->idem_key || r->idem_recorded || !r->srv->idem || !r->srv->idem->finish)
        return;
    struct http_reply_view v = {status, ctype ? ctype : "",          body,
                                len,    reply_header(r, "Location"), reply_header(r, "ETag")};
    r->srv->idem->finish(r, r->idem_key, r->idem_ctx, &v);
}

/* Vary: what besides the URL the answer depends on, in one header. */
static void add_vary(const struct http_req *r, struct MHD_Response *resp, const char *ctype)
{
    bool origin = cors_enabled(&r->srv->cors), encoding = gzip_type(ctype);
    if (origin || encoding)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
                                origin && encoding ? "Origin, Accept-Encoding"
                                : origin           ? "Origin"
                                                   : "Accept-Encoding");
}

/* Compresses the body when the client accepts gzip and it is worth it; true when it did. */
static bool maybe_gzip(const struct http_req *r, const char *ctype, const char **body, size_t *len,
                       enum MHD_ResponseMemoryMode *mem)
{
    return *len >= HTTP_GZIP_MIN && gzip_type(ctype) &&
           gzip_accepted(http_req_header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING)) &&
           gzip_body(body, len, mem);
}

/* Every command answer below 500 carries the primary's WAL position after its commit: a client that
 * sends it back with its next query reads at least what it wrote (kit.c's http_req_db). */
static void add_consistency(const struct http_req *r, int status, struct MHD_Response *resp)
{
    char lsn[32];
    /* Not on a 5xx: the database may be why, and asking it again would only wait. */
    if (r->route && r->match.set == HTTP_COMMANDS && status < 500 &&
        db_wal_position(lsn, sizeof lsn))
        MHD_add_response_header(resp, HTTP_CONSISTENCY_HEADER, lsn);
}

/* Builds and stores the response; from a deferred request's other thread this also resumes
 * the connection. body is taken over (free()d by MHD) when mem is MHD_RESPMEM_MUST_FREE. */
static void send_response(struct http_req *r, int status, const char *ctype, const char *body,
                          size_t len, enum MHD_ResponseMemoryMode mem)
{
    idem_finish(r, status, ctype, body, len);
    char etag[CACHE_ETAG_LEN];
    status = cache_prepare(r, status, body, len, etag);
    bool gz = maybe_gzip(r, ctype, &body, &len, &mem);
    r->resp_bytes = status == 304 || strcmp(r->method, "HEAD") == 0 ? 0 : len;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, mem);
    /* A 304 carries no representation headers; libmicrohttpd 0.9.75 always sends a
     * Content-Length, which is then that of the 200 it stands for (RFC 9110 8.6). */
    if (ctype && status != 304)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (gz && status != 304)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    add_vary(r, resp, ctype);
    cache_add_headers(r, resp, status, etag);
    add_consistency(r, status, resp);
    reply_set_response(r, status, resp);
}

void reply_set_response(struct http_req *r, int status, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Request-ID", r->request_id);
    char tp[64];
    snprintf(tp, sizeof tp, "00-%s-%s-%s", r->trace_id, r->span_id, r->trace_flags);
    MHD_add_response_header(resp, "traceparent", tp);
    for (size_t i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    if (cors_enabled(&r->srv->cors) && !MHD_get_response_header(resp, MHD_HTTP_HEADER_VARY))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
    cors_add_headers(r, resp);
    pthread_mutex_lock(&r->lock);
    r->response = resp;
    r->status = status;
    bool resume = r->suspended;
    r->suspended = false;
    pthread_mutex_unlock(&r->lock);
    if (resume)
        MHD_resume_connection(r->conn);
}

/* Every reply comes through here: inside http_txn it is held until COMMIT, else sent. */
static void set_response(struct http_req *r, int status, const char *ctype, const char *body,
                         size_t len, enum MHD_ResponseMemoryMode mem)
{
    if (r->response || r->held.set) {
        log_error("http_double_reply", "second reply to %s %s ignored", r->method, r->path);
        free_body(body, mem);
        return;
    }
    if (r->holding) {
        r->held = (struct held_reply){true, status, ctype, body, len, mem};
        return;
    }
    send_response(r, status, ctype, body, len, mem);
}

void reply_drop_held(struct http_req *r)
{
    if (r->held.set)
        free_body(r->held.body, r->held.mem);
    memset(&r->held, 0, sizeof r->held);
    for (size_t i = r->held_mark; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    if (r->nheaders > r->held_mark)
        r->nheaders = r->held_mark;
}

void reply_release_held(struct http_req *r)
{
    struct held_reply h = r->held;
    memset(&r->held, 0, sizeof r->held);
    if (h.set)
        send_response(r, h.status, h.content_type, h.body, h.len, h.mem);
}

void http_reply_json(struct http_req *r, int status, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!s) {
        http_reply_problem(r, 500, "internal", "could not encode the response");
        return;
    }
    set_response(r, status, JSON_TYPE, s, strlen(s), MHD_RESPMEM_MUST_FREE);
}

void http_reply_status(struct http_req *r, int status)
{
    set_response(r, status, NULL, "", 0, MHD_RESPMEM_PERSISTENT);
}

void http_reply_bytes(struct http_req *r, int status, const char *content_type, const void *body,
                      size_t len)
{
    char *copy = xmalloc(len ? len : 1);
    memcpy(copy, body, len);
    set_response(r, status, content_type, copy, len, MHD_RESPMEM_MUST_FREE);
}

void http_reply_static(struct http_req *r, int status, const char *content_type, const void *body,
                       size_t len)
{
    set_response(r, status, content_type, body, len, MHD_RESPMEM_PERSISTENT);
}

json_t *http_problem_new(int status, const char *code, const char *detail, const char *rid)
{
    json_t *p = json_object();
    json_object_set_new(p, "type", json_sprintf("https://haat.dev/problems/%s", code));
    json_object_set_new(p, "title", json_string(http_status_title(status)));
    json_object_set_new(p, "status", json_integer(status));
    if (detail)
        json_object_set_new(p, "detail", json_string(detail));
    json_object_set_new(p, "code", json_string(code));
    json_object_set_new(p, "request_id", json_string(rid ? rid : ""));
    return p;
}

void http_reply_problem_errors(struct http_req *r, int status, const char *code, const char *detail,
                               json_t *errors)
{
    json_t *p = http_problem_new(status, code, detail, r->request_id);
    if (errors)
        json_object_set_new(p, "errors", errors);
    char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    set_response(r, status, PROBLEM_TYPE, s, strlen(s), MHD_RESPMEM_MUST_FREE);
}

void http_reply_problem(struct http_req *r, int status, const char *code, const char *detail)
{
    http_reply_problem_errors(r, status, code, detail, NULL);
}

void http_req_defer(struct http_req *r)
{
    pthread_mutex_lock(&r->lock);
    if (!r->response)
        r->state = REQ_DEFERRED;
    pthread_mutex_unlock(&r->lock);
}
