/* The in-process test server shared by the pkg/http unit tests (test_http_requests.c,
 * test_http_auth_lifecycle.c): a router with test routes of its own, the real server
 * (libmicrohttpd, 2 threads, port 0), a fake auth hook and fake idempotency hooks, the cmocka
 * group set-up and tear-down, and a libcurl client with problem+json assertions. No database.
 * Each unit test binary is one file: this header is included by each, and everything in it is
 * static. */
#ifndef HAAT_TESTS_UNIT_HTTP_TEST_SERVER_H
#define HAAT_TESTS_UNIT_HTTP_TEST_SERVER_H

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "pkg/http/http.h"
#include "pkg/http/router.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"

/* ---- test routes -------------------------------------------------------------------------- */

static void hello(struct http_req *r)
{
    json_t *body = json_pack("{s:s,s:s}", "hello", "world", "route", http_req_route(r));
    const char *name = http_req_query(r, "name");
    if (name)
        json_object_set_new(body, "name", json_string(name));
    const struct http_principal *who = http_req_principal(r);
    if (who)
        json_object_set_new(body, "user_id", json_string(who->user_id));
    http_reply_json(r, 200, body);
}

static void echo(struct http_req *r)
{
    http_reply_json(r, 200, json_incref(http_req_json(r)));
}

static void create(struct http_req *r)
{
    http_reply_json(r, 201, json_pack("{s:b}", "created", 1));
}

static void create_located(struct http_req *r)
{
    http_set_location(r, "/t/items/1");
    http_reply_json(r, 201, json_pack("{s:b}", "created", 1));
}

static void item(struct http_req *r)
{
    json_t *body = json_pack("{s:s}", "id", http_req_param(r, "id"));
    if (http_req_param(r, "part"))
        json_object_set_new(body, "part", json_string(http_req_param(r, "part")));
    http_reply_json(r, 200, body);
}

static void item_delete(struct http_req *r)
{
    http_reply_status(r, 204);
}

static void whoami(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    http_reply_json(r, 200, json_pack("{s:s}", "user_id", who ? who->user_id : ""));
}

/* A JSON body well above the compression threshold, and an event stream of the same size. */
static void big(struct http_req *r)
{
    json_t *items = json_array();
    for (int i = 0; i < 200; i++)
        json_array_append_new(items, json_pack("{s:i,s:s}", "n", i, "title", "a product"));
    http_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static void events(struct http_req *r)
{
    char body[4096];
    size_t n = 0;
    while (n + 16 < sizeof body)
        n += (size_t)snprintf(body + n, sizeof body - n, "data: {\"n\":1}\n\n");
    http_reply_bytes(r, 200, "text/event-stream", body, n);
}

/* A resource with a version: 304 when If-None-Match names it. */
static void versioned(struct http_req *r)
{
    const char *inm = http_req_header(r, "If-None-Match");
    http_set_header(r, "ETag", "\"7\"");
    if (inm && strcmp(inm, "\"7\"") == 0)
        http_reply_status(r, 304);
    else
        http_reply_json(r, 200, json_pack("{s:i}", "version", 7));
}

static void no_reply(struct http_req *r)
{
    (void)r;
}

/* Deferred replies: the handler hands the request to a thread that answers 50 ms later. */
#define MAX_DEFERRED 64
static pthread_t deferred_threads[MAX_DEFERRED];
static atomic_int n_deferred;

static void *reply_later(void *arg)
{
    struct http_req *r = arg;
    struct timespec ts = {.tv_nsec = 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    http_reply_json(r, 200, json_pack("{s:b}", "deferred", 1));
    return NULL; /* r may be gone from here on */
}

static void deferred(struct http_req *r)
{
    int i = atomic_fetch_add(&n_deferred, 1);
    if (i >= MAX_DEFERRED) {
        http_reply_problem(r, 500, "internal", "too many deferred requests in this test");
        return;
    }
    http_req_defer(r);
    if (pthread_create(&deferred_threads[i], NULL, reply_later, r) != 0)
        abort();
}

/* A handler that blocks until the test releases it (for the quiesce test). */
static sem_t slow_entered, slow_release;

static void slow(struct http_req *r)
{
    sem_post(&slow_entered);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    while (sem_timedwait(&slow_release, &until) != 0 && errno == EINTR)
        ;
    http_reply_json(r, 200, json_pack("{s:b}", "slow", 1));
}

static const struct http_route test_queries[] = {
    {"GET", "/t/hello", hello, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/t/items/{id}", item, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/t/items/{id}/parts/{part}", item, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/t/deferred", deferred, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/t/slow", slow, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/t/me", whoami, HTTP_AUTH_USER, 0, 0},
    {"GET", "/t/verified", whoami, HTTP_AUTH_VERIFIED, 0, 0},
    {"GET", "/t/seller", whoami, HTTP_AUTH_SELLER, 0, 0},
    {"GET", "/t/admin", whoami, HTTP_AUTH_ADMIN, 0, 0},
    {"GET", "/t/no-reply", no_reply, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/t/big", big, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/t/events", events, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/t/versioned", versioned, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/t/secret", whoami, HTTP_AUTH_USER, HTTP_NO_STORE, 0},
};

static const struct http_route test_commands[] = {
    {"POST", "/t/echo", echo, HTTP_AUTH_NONE, HTTP_JSON_BODY, HTTP_MAX_BODY},
    {"POST", "/t/small", echo, HTTP_AUTH_NONE, HTTP_JSON_BODY, 0}, /* HTTP_BODY_DEFAULT */
    {"POST", "/t/kib", echo, HTTP_AUTH_NONE, HTTP_JSON_BODY, HTTP_KIB(1)},
    {"POST", "/t/idem", create, HTTP_AUTH_NONE, HTTP_JSON_BODY | HTTP_IDEMPOTENT, 0},
    {"POST", "/t/verified-post", create, HTTP_AUTH_VERIFIED, HTTP_JSON_BODY, 0},
    {"DELETE", "/t/items/{id}", item_delete, HTTP_AUTH_NONE, 0, 0},
    {"POST", "/t/located", create_located, HTTP_AUTH_NONE, HTTP_OPTIONAL_BODY | HTTP_JSON_BODY, 0},
};

/* ---- fake hooks --------------------------------------------------------------------------- */

/* Tokens: "user" (unverified buyer), "verified" (verified buyer), "seller", "admin". */
static int fake_auth(const char *bearer, struct http_principal *who)
{
    static const struct {
        const char *token, *id;
        unsigned roles;
        bool verified;
    } users[] = {
        {"user", "u-user", HTTP_ROLE_BUYER, false},
        {"verified", "u-verified", HTTP_ROLE_BUYER, true},
        {"seller", "u-seller", HTTP_ROLE_BUYER | HTTP_ROLE_SELLER, true},
        {"admin", "u-admin", HTTP_ROLE_BUYER | HTTP_ROLE_ADMIN, true},
    };
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
        if (strcmp(bearer, users[i].token) == 0) {
            snprintf(who->user_id, sizeof who->user_id, "%s", users[i].id);
            who->roles = users[i].roles;
            who->phone_verified = users[i].verified;
            return 0;
        }
    }
    return -1;
}

static pthread_mutex_t idem_lock = PTHREAD_MUTEX_INITIALIZER;
static char idem_begun[300], idem_finished[300];
static int idem_status;

/* Key "replay-me" answers from the "store"; any other key proceeds. */
static bool fake_idem_begin(struct http_req *r, const char *key, void **ctx)
{
    pthread_mutex_lock(&idem_lock);
    snprintf(idem_begun, sizeof idem_begun, "%s", key);
    pthread_mutex_unlock(&idem_lock);
    if (strcmp(key, "replay-me") != 0)
        return true;
    http_set_header(r, "Idempotent-Replayed", "true");
    http_reply_json(r, 201, json_pack("{s:b}", "replayed", 1));
    return false;
}

static void fake_idem_finish(struct http_req *r, const char *key, void *ctx,
                             const struct http_reply_view *reply)
{
    pthread_mutex_lock(&idem_lock);
    snprintf(idem_finished, sizeof idem_finished, "%s", key);
    idem_status = reply->status;
    pthread_mutex_unlock(&idem_lock);
}

/* No database here: commands with a key are finished after their reply. */
static const struct http_idem_hooks fake_idem = {fake_idem_begin, NULL, fake_idem_finish};

/* ---- the server --------------------------------------------------------------------------- */

/* One exact origin, and "*" for the public reads. */
#define TEST_ORIGIN       "http://app.example:3000"
#define TEST_CORS_ORIGINS TEST_ORIGIN ", *"
#define TEST_PUBLIC_URL   "https://api.example.test"

static struct router *router;
static struct http_server *server;
static char base_url[64];

static struct http_server *start_server(void)
{
    struct http_server_opts o = {
        .host = "127.0.0.1",
        .port = 0,
        .threads = 2,
        .connection_limit = 64,
        .timeout_s = 10,
        .connection_memory = 64 * 1024,
        .cors_origins = TEST_CORS_ORIGINS,
        .public_url = TEST_PUBLIC_URL "/", /* the trailing '/' is dropped */
    };
    struct http_server *s = http_server_new(&o, router);
    http_server_set_auth(s, fake_auth);
    http_server_set_idempotency(s, &fake_idem);
    assert_int_equal(http_server_start(s), 0);
    assert_true(http_server_port(s) > 0);
    return s;
}

static int setup(void **state)
{
    log_init("error", "json"); /* no access-log lines in the test output */
    curl_global_init(CURL_GLOBAL_ALL);
    sem_init(&slow_entered, 0, 0);
    sem_init(&slow_release, 0, 0);
    router = router_new();
    router_add(router, HTTP_QUERIES, test_queries, sizeof test_queries / sizeof test_queries[0]);
    router_add(router, HTTP_COMMANDS, test_commands,
               sizeof test_commands / sizeof test_commands[0]);
    server = start_server();
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", http_server_port(server));
    return 0;
}

static int teardown(void **state)
{
    int n = atomic_load(&n_deferred);
    for (int i = 0; i < n && i < MAX_DEFERRED; i++)
        pthread_join(deferred_threads[i], NULL);
    if (server) {
        http_server_stop(server, 2000);
        http_server_free(server);
    }
    router_free(router);
    sem_destroy(&slow_entered);
    sem_destroy(&slow_release);
    curl_global_cleanup();
    metrics_reset_for_tests();
    return 0;
}

/* ---- the client --------------------------------------------------------------------------- */

struct resp {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    char *headers; /* raw block of the final response */
    json_t *json;
    char header_value[512]; /* scratch for header() */
};

struct growbuf {
    char *p;
    size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    struct growbuf *b = arg;
    size_t add = size * n;
    char *p = realloc(b->p, b->len + add + 1);
    if (!p)
        return 0;
    memcpy(p + b->len, data, add);
    b->p = p;
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

static size_t collect_header(char *data, size_t size, size_t n, void *arg)
{
    struct growbuf *b = arg;
    if (size * n >= 5 && strncmp(data, "HTTP/", 5) == 0)
        b->len = 0; /* a new response (after 100 Continue) */
    return collect(data, size, n, arg);
}

/* The chunked upload source: len bytes of filler. */
struct upload {
    const char *data;
    size_t len, off;
};

static size_t read_upload(char *out, size_t size, size_t n, void *arg)
{
    struct upload *u = arg;
    size_t want = size * n, left = u->len - u->off;
    size_t k = want < left ? want : left;
    memcpy(out, u->data + u->off, k);
    u->off += k;
    return k;
}

enum { CHUNKED = 1 };

static void resp_free(struct resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static void set_body(CURL *h, const char *method, const char *body, size_t len, int flags,
                     struct upload *up)
{
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (flags & CHUNKED) {
        *up = (struct upload){body, len, 0};
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
        curl_easy_setopt(h, CURLOPT_READDATA, up);
    } else if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    if (strcmp(method, "HEAD") != 0 && strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
}

/* One request on a fresh handle (10 s timeout). headers: NULL-terminated "Name: value". A body
 * without a Content-Type header is sent as application/json. Returns the status (0: failed). */
static long request_to(const char *base, const char *method, const char *path, const char *body,
                       size_t len, const char *const *headers, int flags, struct resp *out)
{
    memset(out, 0, sizeof *out);
    char url[2048];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *h = curl_easy_init();
    assert_non_null(h);
    struct curl_slist *list = NULL;
    bool has_ctype = false;
    for (size_t i = 0; headers && headers[i]; i++) {
        has_ctype |= strncasecmp(headers[i], "Content-Type:", 13) == 0;
        list = curl_slist_append(list, headers[i]);
    }
    if (body && !has_ctype)
        list = curl_slist_append(list, "Content-Type: application/json");
    struct growbuf b = {0}, hb = {0};
    struct upload up;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hb);
    set_body(h, method, body, len, flags, &up);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    else
        print_error("%s %s: %s\n", method, path, curl_easy_strerror(rc));
    curl_easy_cleanup(h);
    curl_slist_free_all(list);
    out->body = b.p ? b.p : strdup("");
    out->len = b.len;
    out->headers = hb.p ? hb.p : strdup("");
    if (out->len)
        out->json = json_loadb(out->body, out->len, JSON_DECODE_ANY, NULL);
    return out->status;
}

static long request(const char *method, const char *path, const char *body,
                    const char *const *headers, struct resp *out)
{
    return request_to(base_url, method, path, body, body ? strlen(body) : 0, headers, 0, out);
}

/* Case-insensitive header lookup; the value lives in r until the next call. */
static const char *header(struct resp *r, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end)
            break;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(r->header_value, sizeof r->header_value, "%.*s", (int)(end - v), v);
            return r->header_value;
        }
        line = end + 2;
    }
    return NULL;
}

static const char *member(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* A problem+json answer with every member the contract requires (docs/openapi.yaml, Problem). */
static void expect_problem(struct resp *r, long status, const char *code)
{
    if (r->status != status || !json_is_object(r->json) || !member(r->json, "code") ||
        strcmp(member(r->json, "code"), code) != 0)
        print_error("want %ld %s, got %ld: %s\n", status, code, r->status, r->body);
    assert_int_equal(r->status, status);
    const char *ct = header(r, "Content-Type");
    assert_non_null(ct);
    assert_int_equal(strncmp(ct, "application/problem+json", 24), 0);
    assert_true(json_is_object(r->json));
    assert_string_equal(member(r->json, "code"), code);
    assert_non_null(member(r->json, "type"));
    assert_non_null(member(r->json, "title"));
    assert_true(json_is_integer(json_object_get(r->json, "status")));
    assert_int_equal(json_integer_value(json_object_get(r->json, "status")), status);
    const char *rid = header(r, "X-Request-ID");
    assert_non_null(rid);
    assert_non_null(member(r->json, "request_id"));
    assert_string_equal(member(r->json, "request_id"), rid);
}

static void expect_post_problem(const char *path, const char *body, const char *const *headers,
                                long status, const char *code)
{
    struct resp r;
    request("POST", path, body, headers, &r);
    expect_problem(&r, status, code);
    resp_free(&r);
}

#endif
