/* harness — HTTP with libcurl, problem+json assertions, metrics, raw TCP (see harness.h). */
#include "tests/integration/harness_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

/* One easy handle per thread, kept alive for connection reuse; freed when the thread exits. */
static pthread_key_t curl_key;

static void curl_handle_free(void *h)
{
    curl_easy_cleanup(h);
}

void hi_http_init(void)
{
    pthread_key_create(&curl_key, curl_handle_free);
}

static CURL *thread_handle(void)
{
    hi_init();
    CURL *h = pthread_getspecific(curl_key);
    if (!h) {
        h = curl_easy_init();
        if (!h)
            abort();
        pthread_setspecific(curl_key, h);
    }
    curl_easy_reset(h);
    return h;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    hi_buf_add(arg, p, size * n);
    return size * n;
}

/* Keeps the header block of the last response only (a 100 Continue comes first). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct hi_buf *b = arg;
    if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
        b->len = 0;
    hi_buf_add(b, p, size * n);
    return size * n;
}

static void parse_headers(struct h_resp *r)
{
    size_t cap = 0;
    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t n = end ? (size_t)(end - line) : strlen(line);
        const char *colon = memchr(line, ':', n);
        if (colon && strncmp(line, "HTTP/", 5) != 0) {
            if (r->nhdrs == cap) {
                cap = cap ? cap * 2 : 16;
                r->hdrs = realloc(r->hdrs, cap * sizeof *r->hdrs);
                if (!r->hdrs)
                    abort();
            }
            const char *v = colon + 1;
            while (v < line + n && (*v == ' ' || *v == '\t'))
                v++;
            size_t vlen = (size_t)(line + n - v);
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            r->hdrs[r->nhdrs].name = strndup(line, (size_t)(colon - line));
            r->hdrs[r->nhdrs].value = strndup(v, vlen);
            r->nhdrs++;
        }
        line = end ? end + 2 : NULL;
    }
}

const char *h_resp_header(const struct h_resp *r, const char *name)
{
    for (size_t i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0)
            return r->hdrs[i].value;
    return NULL;
}

void h_resp_cleanup(struct h_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    memset(r, 0, sizeof *r);
}

static struct curl_slist *build_headers(const char *const *headers, bool has_body)
{
    struct curl_slist *list = NULL;
    bool has_ctype = false;
    for (size_t i = 0; headers && headers[i]; i++) {
        if (strncasecmp(headers[i], "Content-Type:", 13) == 0)
            has_ctype = true;
        list = curl_slist_append(list, headers[i]);
    }
    if (has_body && !has_ctype)
        list = curl_slist_append(list, "Content-Type: application/json");
    else if (!has_ctype)
        list = curl_slist_append(list, "Content-Type:"); /* not curl's form default */
    return list;
}

static void set_method(CURL *h, const char *method, const char *body, size_t len)
{
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        if (body || strcmp(method, "POST") == 0) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        }
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
}

static void finish_resp(CURL *h, CURLcode rc, struct hi_buf *body, struct hi_buf *hdrs,
                        struct h_resp *out)
{
    out->body = hi_buf_take(body, &out->len);
    out->headers = hi_buf_take(hdrs, NULL);
    if (rc != CURLE_OK) {
        if (!out->error[0])
            snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
        out->status = 0;
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    }
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &out->seconds);
    parse_headers(out);
    const char *ct = h_resp_header(out, "Content-Type");
    if (ct && strstr(ct, "json") && out->len > 0)
        out->json = json_loadb(out->body, out->len, JSON_DECODE_ANY, NULL);
}

/* With HAAT_RECORD_DIR set, every answer is appended as one JSON line to
 * $HAAT_RECORD_DIR/<test>-<pid>.jsonl ({method, path, status, content_type, body}; body null
 * when larger than 512 KiB or not UTF-8), for infra/dev/openapi-check.py to check against the
 * OpenAPI document. */
static void record(const char *method, const char *url, const struct h_resp *r)
{
    const char *dir = getenv("HAAT_RECORD_DIR");
    if (!dir || !*dir || r->status == 0)
        return;
    const char *path = strstr(url, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    const char *ct = h_resp_header(r, "Content-Type");
    json_t *line = json_pack("{s:s,s:s,s:I,s:s?}", "method", method, "path", path ? path : "/",
                             "status", (json_int_t)r->status, "content_type", ct);
    json_object_set_new(line, "body",
                        r->len <= 512 * 1024 ? json_stringn(r->body, r->len) : json_null());
    if (!json_object_get(line, "body"))
        json_object_set_new(line, "body", json_null());
    char *text = json_dumps(line, JSON_COMPACT);
    json_decref(line);
    char file[H_PATH_MAX + 64];
    snprintf(file, sizeof file, "%s/%s-%d.jsonl", dir, h_test_name(), (int)getpid());
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0 && text) {
        size_t n = strlen(text);
        text[n] = '\n'; /* one write of the whole line: lines of threads never interleave */
        if (write(fd, text, n + 1) < 0)
            print_error("harness: cannot record to %s\n", file);
    }
    if (fd >= 0)
        close(fd);
    free(text);
}

long h_request_url(const char *method, const char *url, const char *body, size_t len,
                   const char *const *headers, struct h_resp *out)
{
    CURL *h = thread_handle();
    memset(out, 0, sizeof *out);
    struct hi_buf bbody = {0}, bhdrs = {0};
    struct curl_slist *list = build_headers(headers, body != NULL);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)H_HTTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bbody);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &bhdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, out->error);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    set_method(h, method, body, len);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    finish_resp(h, rc, &bbody, &bhdrs, out);
    record(method, url, out);
    curl_slist_free_all(list);
    return out->status;
}

long h_request_len(const struct h_server *s, const char *method, const char *path, const char *body,
                   size_t len, const char *const *headers, struct h_resp *out)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", s->base_url, path);
    return h_request_url(method, url, body, len, headers, out);
}

long h_request(const struct h_server *s, const char *method, const char *path, const char *body,
               const char *const *headers, struct h_resp *out)
{
    return h_request_len(s, method, path, body, body ? strlen(body) : 0, headers, out);
}

long h_get(const struct h_server *s, const char *path, struct h_resp *out)
{
    return h_request(s, "GET", path, NULL, NULL, out);
}

void h_resp_print(const struct h_resp *r)
{
    print_error("harness: response status %ld%s%s (%.3f s)\n%s%.*s%s\n", r->status,
                r->error[0] ? ", error: " : "", r->error, r->seconds, r->headers ? r->headers : "",
                (int)(r->len > 2048 ? 2048 : r->len), r->body ? r->body : "",
                r->len > 2048 ? "..." : "");
}

void h_assert_status_at(const struct h_resp *r, long status, const char *file, int line)
{
    if (r->status == status)
        return;
    h_resp_print(r);
    hi_fail_at(file, line, "expected HTTP status %ld, got %ld", status, r->status);
}

static const char *problem_error(const struct h_resp *r, long status, const char *code)
{
    static _Thread_local char why[256];
    const char *ct = h_resp_header(r, "Content-Type");
    if (r->status != status)
        snprintf(why, sizeof why, "HTTP status %ld, expected %ld", r->status, status);
    else if (!ct || strncasecmp(ct, "application/problem+json", 24) != 0)
        snprintf(why, sizeof why, "Content-Type %s, expected application/problem+json",
                 ct ? ct : "(none)");
    else if (!json_is_object(r->json))
        snprintf(why, sizeof why, "the body is not a JSON object");
    else if (!json_is_string(json_object_get(r->json, "type")) ||
             !json_is_string(json_object_get(r->json, "title")))
        snprintf(why, sizeof why, "type or title missing or not a string");
    else if (json_integer_value(json_object_get(r->json, "status")) != status ||
             !json_is_integer(json_object_get(r->json, "status")))
        snprintf(why, sizeof why, "member status differs from %ld", status);
    else if (!json_is_string(json_object_get(r->json, "code")) ||
             strcmp(json_string_value(json_object_get(r->json, "code")), code) != 0)
        snprintf(why, sizeof why, "code is not \"%s\"", code);
    else if (!h_resp_header(r, "X-Request-ID") ||
             !json_is_string(json_object_get(r->json, "request_id")) ||
             strcmp(json_string_value(json_object_get(r->json, "request_id")),
                    h_resp_header(r, "X-Request-ID")) != 0)
        snprintf(why, sizeof why, "request_id differs from the X-Request-ID header");
    else
        return NULL;
    return why;
}

void h_assert_problem_at(const struct h_resp *r, long status, const char *code, const char *file,
                         int line)
{
    const char *why = problem_error(r, status, code);
    if (!why)
        return;
    h_resp_print(r);
    hi_fail_at(file, line, "not a %ld %s problem: %s", status, code, why);
}

long h_wait_status(const struct h_server *s, const char *path, long want, int timeout_ms)
{
    long long start = h_now_ms();
    for (;;) {
        struct h_resp r = {0};
        long got = h_get(s, path, &r);
        h_resp_cleanup(&r);
        long long now = h_now_ms();
        if (got == want)
            return (long)(now - start);
        if (now - start >= timeout_ms)
            return -1;
        h_sleep_ms(50);
    }
}

/* ---- metrics --------------------------------------------------------------------------------- */

#define MAX_LABELS 16

struct series {
    char name[128];
    size_t nlabels;
    char key[MAX_LABELS][64];
    char val[MAX_LABELS][256];
};

/* Parses `name{k="v",...}` (labels optional) at s. Returns the end, or NULL when malformed. */
static const char *parse_series(const char *s, struct series *out)
{
    memset(out, 0, sizeof *out);
    size_t n = strcspn(s, "{ \t\n");
    if (n == 0 || n >= sizeof out->name)
        return NULL;
    memcpy(out->name, s, n);
    s += n;
    if (*s != '{')
        return s;
    s++;
    while (*s && *s != '}') {
        if (out->nlabels == MAX_LABELS)
            return NULL;
        size_t k = strcspn(s, "=}");
        if (s[k] != '=' || s[k + 1] != '"' || k >= sizeof out->key[0])
            return NULL;
        memcpy(out->key[out->nlabels], s, k);
        s += k + 2;
        size_t v = 0;
        while (*s && *s != '"') {
            if (*s == '\\' && s[1])
                s++;
            if (v + 1 < sizeof out->val[0])
                out->val[out->nlabels][v++] = *s;
            s++;
        }
        if (*s != '"')
            return NULL;
        out->nlabels++;
        s++;
        if (*s == ',')
            s++;
    }
    return *s == '}' ? s + 1 : NULL;
}

static bool same_series(const struct series *a, const struct series *b)
{
    if (strcmp(a->name, b->name) != 0 || a->nlabels != b->nlabels)
        return false;
    for (size_t i = 0; i < a->nlabels; i++) {
        bool found = false;
        for (size_t j = 0; j < b->nlabels && !found; j++)
            found = strcmp(a->key[i], b->key[j]) == 0 && strcmp(a->val[i], b->val[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

double h_metric_in(const char *text, const char *series)
{
    struct series want, got;
    if (!text || !parse_series(series, &want))
        return -1;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        if (*line != '#') {
            const char *end = parse_series(line, &got);
            if (end && same_series(&want, &got)) {
                char *stop = NULL;
                double v = strtod(end, &stop);
                return stop != end ? v : -1;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

double h_metric_value(const struct h_server *s, const char *series)
{
    struct h_resp r = {0};
    double v = -1;
    if (h_get(s, "/metrics", &r) == 200)
        v = h_metric_in(r.body, series);
    h_resp_cleanup(&r);
    return v;
}

/* ---- TCP ------------------------------------------------------------------------------------- */

int h_tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int h_tcp_send(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Waits (until deadline) for data on fd and appends one read of it to b. Returns false when
 * the deadline passed, the peer closed, or the socket failed. */
static bool read_some(int fd, long long deadline, struct hi_buf *b)
{
    for (;;) {
        long long left = deadline - h_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        char chunk[4096];
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            return false;
        hi_buf_add(b, chunk, (size_t)n);
        return true;
    }
}

char *h_tcp_recv_all(int fd, int timeout_ms)
{
    struct hi_buf b = {0};
    long long deadline = h_now_ms() + timeout_ms;
    while (read_some(fd, deadline, &b))
        ;
    return hi_buf_take(&b, NULL);
}

/* Content-Length of a raw header block (case-insensitive), or 0. */
static size_t content_length(const char *head, size_t head_len)
{
    for (const char *p = head; p && p < head + head_len; p = strstr(p, "\r\n")) {
        p += (*p == '\r') ? 2 : 0;
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            return (size_t)strtoull(p + 15, NULL, 10);
    }
    return 0;
}

char *h_tcp_recv_response(int fd, int timeout_ms)
{
    struct hi_buf b = {0};
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        const char *end = b.p ? strstr(b.p, "\r\n\r\n") : NULL;
        if (end) {
            size_t head = (size_t)(end + 4 - b.p);
            if (b.len >= head + content_length(b.p, head))
                break;
        }
        if (!read_some(fd, deadline, &b))
            break;
    }
    return hi_buf_take(&b, NULL);
}
