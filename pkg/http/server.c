/* The daemon: libmicrohttpd with a thread pool over epoll, the access handler that runs the
 * request pipeline, and the completion callback that logs, counts and frees. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pkg/clock/clock.h"
#include "pkg/http/internal.h"
#include "pkg/idem/idem.h"
#include "pkg/json/jsonh.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"
#include "pkg/util/xalloc.h"

static struct metrics_counter *m_requests;
static struct metrics_histogram *m_duration;

static void init_metrics(void)
{
    static const char *const labels[] = {"method", "route", "status"};
    m_requests = metrics_counter_new("http_requests_total", "HTTP requests answered.", 3, labels);
    m_duration =
        metrics_histogram_new("http_request_duration_seconds",
                              "Time from request start to response completion.", "route", NULL, 0);
}

static void metrics_once(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_metrics);
}

/* --- request id and tracing --- */

static bool valid_request_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > REQ_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._:-", s[i]))
            return false;
    return true;
}

static bool lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return false;
    return true;
}

static bool all_zero(const char *s, size_t n)
{
    return strspn(s, "0") >= n;
}

/* W3C traceparent: "<2 hex version>-<32 hex trace id>-<16 hex parent id>-<2 hex flags>",
 * version ff invalid, ids not all zeros; a later version may append "-...". The trace id and
 * flags are kept when valid; otherwise (or when absent) a fresh trace starts. This request's
 * own span id is new either way: the answer's traceparent names it. */
static void accept_traceparent(struct http_req *r)
{
    const char *tp = http_req_header(r, "traceparent");
    size_t n = tp ? strlen(tp) : 0;
    bool ok = n >= 55 && lower_hex(tp, 2) && strncmp(tp, "ff", 2) != 0 && tp[2] == '-' &&
              lower_hex(tp + 3, 32) && !all_zero(tp + 3, 32) && tp[35] == '-' &&
              lower_hex(tp + 36, 16) && !all_zero(tp + 36, 16) && tp[52] == '-' &&
              lower_hex(tp + 53, 2) &&
              (n == 55 ? true : strncmp(tp, "00", 2) != 0 && tp[55] == '-');
    char fresh[IDS_REQUEST_ID_LEN];
    ids_request_id(fresh);
    memcpy(r->span_id, fresh, 16);
    r->span_id[16] = '\0';
    if (ok) {
        memcpy(r->trace_id, tp + 3, 32);
        memcpy(r->trace_flags, tp + 53, 2);
    } else {
        ids_request_id(fresh);
        memcpy(r->trace_id, fresh, 32);
        memcpy(r->trace_flags, "01", 2);
    }
    r->trace_id[32] = '\0';
    r->trace_flags[2] = '\0';
}

static struct http_req *request_new(struct http_server *s, struct MHD_Connection *c,
                                    const char *method, const char *url)
{
    struct http_req *r = xcalloc(1, sizeof *r);
    r->srv = s;
    r->conn = c;
    r->method = method;
    r->path = xstrdup(url);
    r->start_ns = clock_mono_ns();
    pthread_mutex_init(&r->lock, NULL);
    strbuf_init(&r->body);
    const char *rid = http_req_header(r, "X-Request-ID");
    if (valid_request_id(rid))
        snprintf(r->request_id, sizeof r->request_id, "%s", rid);
    else
        ids_request_id(r->request_id);
    accept_traceparent(r);
    access_client_address(r);
    r->origin = http_req_header(r, "Origin");
    return r;
}

/* --- the pipeline --- */

static bool route_or_reply(struct http_req *r)
{
    enum router_result res = router_match(r->srv->router, r->method, r->path, &r->match);
    if (res == ROUTER_FOUND) {
        r->route = r->match.route;
        return true;
    }
    if (res == ROUTER_METHOD_NOT_ALLOWED && strcmp(r->method, "OPTIONS") == 0) {
        cors_reply_options(r);
    } else if (res == ROUTER_METHOD_NOT_ALLOWED) {
        http_set_header(r, "Allow", r->match.allow);
        http_reply_problem(r, 405, "method_not_allowed", "this path does not accept that method");
    } else {
        http_reply_problem(r, 404, "not_found", "no such resource");
    }
    return false;
}

/* The route's body limit (HTTP_BODY_DEFAULT for an unmatched request: nothing is kept). */
static size_t body_limit(const struct http_req *r)
{
    size_t m = r->route && r->route->max_body ? r->route->max_body : HTTP_BODY_DEFAULT;
    return m > HTTP_MAX_BODY ? HTTP_MAX_BODY : m;
}

static void reply_too_large(struct http_req *r)
{
    char detail[80];
    snprintf(detail, sizeof detail, "the body is larger than this route accepts (%zu bytes)",
             body_limit(r));
    http_reply_problem(r, 413, "payload_too_large", detail);
}

static unsigned long long declared_length(const struct http_req *r)
{
    const char *cl = http_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return cl ? strtoull(cl, NULL, 10) : 0;
}

static bool size_ok_or_reply(struct http_req *r)
{
    if (declared_length(r) > body_limit(r)) {
        reply_too_large(r);
        return false;
    }
    return true;
}

static bool has_role(const struct http_principal *p, enum http_auth need)
{
    switch (need) {
    case HTTP_AUTH_SELLER:
        return p->roles & HTTP_ROLE_SELLER;
    case HTTP_AUTH_ADMIN:
        return p->roles & HTTP_ROLE_ADMIN;
    default:
        return true;
    }
}

static bool auth_or_reply(struct http_req *r)
{
    enum http_auth need = r->route->auth;
    const char *token = request_bearer(r);
    if (token && r->srv->auth && r->srv->auth(token, &r->who) == 0) {
        r->authenticated = true;
        http_req_set_user(r, r->who.user_id);
    }
    if (need == HTTP_AUTH_NONE)
        return true;
    if (!r->authenticated) {
        http_reply_unauthorized(r, NULL);
        return false;
    }
    if (need == HTTP_AUTH_VERIFIED && !r->who.phone_verified) {
        http_reply_verification_required(r);
        return false;
    }
    if (!has_role(&r->who, need)) {
        http_reply_problem(r, 403, "forbidden", "your account may not do this");
        return false;
    }
    return true;
}

static bool content_type_ok_or_reply(struct http_req *r)
{
    if (!(r->route->flags & HTTP_JSON_BODY))
        return true;
    const char *ct = http_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct && (r->route->flags & HTTP_OPTIONAL_BODY))
        return true;
    if (ct && strncasecmp(ct, "application/json", 16) == 0 &&
        (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' '))
        return true;
    http_reply_problem(r, 415, "unsupported_media_type",
                       "send the body as application/json; charset=utf-8");
    return false;
}

/* --- framing: refused, never guessed (docs/decisions/0006-framing.md) --- */

/* What the request's header lines say about its framing. */
struct framing {
    unsigned content_lengths, transfer_encodings, hosts;
    const char *first_length;
    bool lengths_differ;
    bool spaced_name;   /* "Content-Length : 5": another parser may read it as the length */
    const char *coding; /* the (last) Transfer-Encoding value */
};

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (strpbrk(key, " \t"))
        f->spaced_name = true;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->content_lengths++ == 0)
            f->first_length = value;
        else if (strcmp(value ? value : "", f->first_length ? f->first_length : "") != 0)
            f->lengths_differ = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encodings++;
        f->coding = value;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
        f->hosts++;
    }
    return MHD_YES;
}

/* Why the framing is refused, or NULL when it is fine: whitespace in a header name, two
 * different Content-Lengths (which one ends the body?), Content-Length with Transfer-Encoding,
 * any coding but one "chunked", an HTTP/1.1 request without Host, or more than one Host. */
static const char *framing_fault(struct http_req *r, const char *version)
{
    struct framing f = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, framing_header, &f);
    if (f.spaced_name)
        return "whitespace in a header name";
    if (f.lengths_differ)
        return "conflicting Content-Length headers";
    if (f.content_lengths > 0 && f.transfer_encodings > 0)
        return "Content-Length together with Transfer-Encoding";
    if (f.transfer_encodings > 1 ||
        (f.transfer_encodings == 1 && strcasecmp(f.coding ? f.coding : "", "chunked") != 0))
        return "unsupported transfer coding (only chunked is accepted)";
    if (f.hosts > 1)
        return "more than one Host header";
    if (f.hosts == 0 && version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)
        return "an HTTP/1.1 request needs a Host header";
    return NULL;
}

/* Replies 400 bad_request and closes the connection when the framing is refused: nothing
 * after these headers can be trusted to be where the request says it is. */
static bool framing_ok_or_reply(struct http_req *r, const char *version)
{
    const char *fault = framing_fault(r, version);
    if (!fault)
        return true;
    http_set_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    http_reply_problem(r, 400, "bad_request", fault);
    return false;
}

/* First call for a request: everything that can be decided from the headers alone. */
static void on_headers(struct http_req *r)
{
    if (route_or_reply(r) && size_ok_or_reply(r) && auth_or_reply(r))
        content_type_ok_or_reply(r);
}

static bool json_or_reply(struct http_req *r)
{
    if (!(r->route->flags & HTTP_JSON_BODY))
        return true;
    if (r->body.len == 0 && (r->route->flags & HTTP_OPTIONAL_BODY))
        return true;
    char err[JSONH_ERR_LEN];
    const char *body = r->body.buf ? r->body.buf : "";
    r->json = jsonh_load_body(body, r->body.len, err);
    if (r->json)
        return true;
    /* Well-formed JSON whose strings hold NUL is a validation failure, not invalid JSON. */
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    if (jsonh_nul_string_errors(body, r->body.len, &e))
        http_reply_problem_errors(r, 422, "validation_failed", "some fields are invalid",
                                  json_incref(e.list));
    else
        http_reply_problem(r, 400, "invalid_json", err);
    jsonh_errors_cleanup(&e);
    return false;
}

static bool idempotency_or_reply(struct http_req *r)
{
    if (strcmp(r->method, "POST") != 0 || (r->route->flags & HTTP_NO_IDEMPOTENCY))
        return true;
    const char *key = http_req_header(r, "Idempotency-Key");
    if (!key) {
        if (!(r->route->flags & HTTP_IDEMPOTENT))
            return true;
        http_reply_problem(r, 400, "idempotency_key_required",
                           "this request needs an Idempotency-Key header");
        return false;
    }
    if (!idem_key_valid(key)) {
        http_reply_field(r, 400, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
        return false;
    }
    if (!r->srv->idem)
        return true;
    if (!r->srv->idem->begin(r, key, &r->idem_ctx))
        return false;
    r->idem_key = key; /* from now on the reply is recorded */
    return true;
}

/* Last call: the body is complete. */
static void on_body_done(struct http_req *r)
{
    if (!json_or_reply(r) || !idempotency_or_reply(r))
        return;
    r->route->handler(r);
    pthread_mutex_lock(&r->lock);
    bool deferred = r->state == REQ_DEFERRED && !r->response;
    if (deferred) {
        r->suspended = true;
        MHD_suspend_connection(r->conn);
    }
    pthread_mutex_unlock(&r->lock);
    if (!deferred && !r->response) {
        log_error("http_no_reply", "handler for %s %s did not reply", r->method, http_req_route(r));
        http_reply_problem(r, 500, "internal", "the server could not answer this request");
    }
}

static enum MHD_Result queue(struct http_req *r)
{
    r->state = REQ_DONE;
    return MHD_queue_response(r->conn, (unsigned)r->status, r->response);
}

/* A declared Content-Length (already checked against the route's limit) is allocated once and
 * exactly, instead of doubling up to twice the body's size. */
static void reserve_declared_body(struct http_req *r)
{
    unsigned long long n = declared_length(r);
    if (n > 0 && n <= body_limit(r))
        strbuf_reserve(&r->body, (size_t)n);
}

/* Keep-alive on errors. libmicrohttpd closes the connection when a response is queued before
 * the request's body has been read (the rest of the body would be taken for the next
 * request). So an answer decided from the headers (404, 405, 401, 415, 413, ...) waits until
 * the body is in, which is read and discarded; only a body of more than HTTP_DRAIN_MAX bytes
 * is not waited for: then the answer goes out at once, with Connection: close. */
#define HTTP_DRAIN_MAX (4u * HTTP_MAX_BODY)

/* One piece of the body: kept, or counted and dropped once the answer is known. Returns true
 * when the answer must go out now (too much to drain). */
static bool take_upload(struct http_req *r, const char *data, size_t n)
{
    if (!r->response && r->body.len + n > body_limit(r))
        reply_too_large(r);
    if (r->response) {
        r->drained += n;
        return r->drained > HTTP_DRAIN_MAX;
    }
    if (r->body.cap == 0)
        reserve_declared_body(r);
    strbuf_append(&r->body, data, n);
    return false;
}

/* The absolute deadline on receiving a body: each byte resets libmicrohttpd's idle timeout,
 * so a client trickling its body would otherwise hold the connection for ever. Past it the
 * connection is closed: libmicrohttpd 0.9.75 cannot queue an answer while a body is still
 * arriving (decision 0006), so there is none; the access log says 408. */
static bool body_late(struct http_req *r)
{
    unsigned limit_s = r->srv->opts.body_timeout_s;
    if (!limit_s || clock_mono_ns() - r->start_ns <= (uint64_t)limit_s * 1000000000u)
        return false;
    log_warn("http_body_timeout", "the body did not arrive within %u s; closing", limit_s);
    r->closed_status = 408;
    return true;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    struct http_server *s = cls;
    struct http_req *r = *con_cls;
    if (!r) {
        r = request_new(s, c, method, url);
        *con_cls = r;
        atomic_fetch_add(&s->in_flight, 1);
        http_req_log_context(r);
        if (!framing_ok_or_reply(r, version))
            return queue(r); /* at once: the body, if any, is not read */
        on_headers(r);
        r->state = REQ_READING;
        return r->response && declared_length(r) > HTTP_DRAIN_MAX ? queue(r) : MHD_YES;
    }
    http_req_log_context(r);
    if (r->state == REQ_DONE)
        return MHD_YES;
    if (*upload_size > 0) {
        if (body_late(r))
            return MHD_NO; /* closes the connection */
        bool now = take_upload(r, upload, *upload_size);
        *upload_size = 0;
        return now ? queue(r) : MHD_YES;
    }
    if (r->state == REQ_READING && !r->response)
        on_body_done(r);
    pthread_mutex_lock(&r->lock);
    bool ready = r->response && !r->suspended;
    pthread_mutex_unlock(&r->lock);
    return ready ? queue(r) : MHD_YES;
}

/* The method as a metrics label, from a closed set: the method comes from the client, and
 * every distinct label value is a series kept for the life of the process. */
static const char *method_label(const char *method)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(method, known[i]) == 0)
            return known[i];
    return "OTHER";
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct http_req *r = *con_cls;
    if (!r)
        return;
    double seconds = (double)(clock_mono_ns() - r->start_ns) / 1e9;
    /* A request whose client went away before the reply counts as 499, as nginx does. */
    int status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? r->status
                 : r->closed_status                         ? r->closed_status
                                                            : 499;
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *labels[] = {method_label(r->method), http_req_route(r), code};
    metrics_counter_add(m_requests, labels, 1);
    metrics_histogram_observe(m_duration, http_req_route(r), seconds);
    http_req_log_context(r);
    access_log(r, status, seconds);
    http_req_log_context(NULL);
    request_free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    log_warn("mhd", "%s", buf);
}

/* --- the server --- */

struct http_server *http_server_new(const struct http_server_opts *o, struct router *router)
{
    metrics_once();
    struct http_server *s = xcalloc(1, sizeof *s);
    s->opts = *o;
    s->router = router;
    s->opts.cors_origins = NULL; /* parsed below; the caller's string is not kept */
    cors_init(&s->cors, o->cors_origins);
    s->opts.public_url = NULL;
    s->opts.trusted_proxies = NULL;
    access_init_proxies(s, o->trusted_proxies);
    s->public_url = xstrdup(o->public_url ? o->public_url : "");
    size_t n = strlen(s->public_url);
    while (n > 0 && s->public_url[n - 1] == '/')
        s->public_url[--n] = '\0';
    atomic_init(&s->in_flight, 0);
    atomic_init(&s->streams_closed, false);
    conns_init(s);
    return s;
}

void http_server_set_auth(struct http_server *s, http_auth_fn fn)
{
    s->auth = fn;
}

void http_server_set_idempotency(struct http_server *s, const struct http_idem_hooks *h)
{
    s->idem = h;
}

int http_server_start(struct http_server *s)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->opts.port)};
    if (inet_pton(AF_INET, s->opts.host, &addr.sin_addr) != 1) {
        log_error("http_start", "listen host %s is not an IPv4 address", s->opts.host);
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    /* The limits are enforced by conns_accept (closing at once); libmicrohttpd's own limit,
     * split between its threads and reached by not accepting at all, sits well above. */
    unsigned mhd_limit = 2 * s->opts.connection_limit + 16 * (unsigned)s->opts.threads;
    s->daemon = MHD_start_daemon(
        flags, 0, conns_accept, s, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)s->opts.threads, MHD_OPTION_CONNECTION_LIMIT, mhd_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, s->opts.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        s->opts.connection_memory, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, conns_notify, s, MHD_OPTION_END);
    if (!s->daemon) {
        log_error("http_start", "cannot listen on %s:%d", s->opts.host, s->opts.port);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : s->opts.port;
    return 0;
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_quiesce(struct http_server *s)
{
    if (!s->daemon)
        return;
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

int http_server_stop(struct http_server *s, int grace_ms)
{
    if (!s->daemon)
        return 0;
    uint64_t deadline = clock_mono_ns() + (uint64_t)grace_ms * 1000000u;
    stream_end_all(s); /* open event streams end first: they would never finish by themselves */
    while (atomic_load(&s->in_flight) > 0 && clock_mono_ns() < deadline)
        usleep(10 * 1000);
    int left = atomic_load(&s->in_flight);
    if (left > 0)
        log_warn("http_stop", "%d requests still running after %d ms; closing", left, grace_ms);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    return left;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    cors_cleanup(&s->cors);
    conns_cleanup(s);
    free(s->public_url);
    free(s->proxies);
    free(s);
}
