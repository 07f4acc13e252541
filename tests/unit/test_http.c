/* Unit tests for pkg/http, in-process: a router with test routes of its own, the real server
 * (libmicrohttpd, 2 threads, port 0), a fake auth hook and fake idempotency hooks, driven over
 * HTTP with libcurl. No database. */
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
    {"GET", "/t/hello", hello, HTTP_AUTH_NONE, 0},
    {"GET", "/t/items/{id}", item, HTTP_AUTH_NONE, 0},
    {"GET", "/t/items/{id}/parts/{part}", item, HTTP_AUTH_NONE, 0},
    {"GET", "/t/deferred", deferred, HTTP_AUTH_NONE, 0},
    {"GET", "/t/slow", slow, HTTP_AUTH_NONE, 0},
    {"GET", "/t/me", whoami, HTTP_AUTH_USER, 0},
    {"GET", "/t/verified", whoami, HTTP_AUTH_VERIFIED, 0},
    {"GET", "/t/seller", whoami, HTTP_AUTH_SELLER, 0},
    {"GET", "/t/admin", whoami, HTTP_AUTH_ADMIN, 0},
    {"GET", "/t/no-reply", no_reply, HTTP_AUTH_NONE, 0},
};

static const struct http_route test_commands[] = {
    {"POST", "/t/echo", echo, HTTP_AUTH_NONE, HTTP_JSON_BODY},
    {"POST", "/t/idem", create, HTTP_AUTH_NONE, HTTP_JSON_BODY | HTTP_IDEMPOTENT},
    {"POST", "/t/verified-post", create, HTTP_AUTH_VERIFIED, HTTP_JSON_BODY},
    {"DELETE", "/t/items/{id}", item_delete, HTTP_AUTH_NONE, 0},
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
static bool fake_idem_begin(struct http_req *r, const char *key)
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

static void fake_idem_finish(struct http_req *r, const char *key, int status,
                             const char *content_type, const char *body, size_t len)
{
    pthread_mutex_lock(&idem_lock);
    snprintf(idem_finished, sizeof idem_finished, "%s", key);
    idem_status = status;
    pthread_mutex_unlock(&idem_lock);
}

static const struct http_idem_hooks fake_idem = {fake_idem_begin, fake_idem_finish};

/* ---- the server --------------------------------------------------------------------------- */

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

/* A problem+json answer with every member API.md requires. */
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

/* ---- tests -------------------------------------------------------------------------------- */

static void test_get_json(void **state)
{
    struct resp r;
    assert_int_equal(request("GET", "/t/hello?name=a%20b", NULL, NULL, &r), 200);
    assert_string_equal(header(&r, "Content-Type"), "application/json; charset=utf-8");
    assert_string_equal(member(r.json, "hello"), "world");
    assert_string_equal(member(r.json, "route"), "/t/hello");
    assert_string_equal(member(r.json, "name"), "a b");
    assert_null(json_object_get(r.json, "user_id")); /* anonymous */
    const char *rid = header(&r, "X-Request-ID");
    assert_non_null(rid);
    assert_int_equal(strlen(rid), 32);
    assert_int_equal(strspn(rid, "0123456789abcdef"), 32);
    resp_free(&r);
}

static void test_head_on_get_route(void **state)
{
    struct resp get, head;
    assert_int_equal(request("GET", "/t/hello", NULL, NULL, &get), 200);
    assert_int_equal(request("HEAD", "/t/hello", NULL, NULL, &head), 200);
    assert_int_equal(head.len, 0);
    assert_string_equal(header(&head, "Content-Type"), "application/json; charset=utf-8");
    char len[32];
    snprintf(len, sizeof len, "%zu", get.len);
    assert_string_equal(header(&head, "Content-Length"), len);
    resp_free(&get);
    resp_free(&head);
}

static void test_path_params(void **state)
{
    struct resp r;
    assert_int_equal(request("GET", "/t/items/abc-123", NULL, NULL, &r), 200);
    assert_string_equal(member(r.json, "id"), "abc-123");
    assert_null(json_object_get(r.json, "part"));
    resp_free(&r);
    assert_int_equal(request("GET", "/t/items/i9/parts/p_2", NULL, NULL, &r), 200);
    assert_string_equal(member(r.json, "id"), "i9");
    assert_string_equal(member(r.json, "part"), "p_2");
    resp_free(&r);
    assert_int_equal(request("DELETE", "/t/items/i9", NULL, NULL, &r), 204);
    assert_int_equal(r.len, 0);
    resp_free(&r);
}

static void test_not_found(void **state)
{
    struct resp r;
    request("GET", "/t/nothing-here", NULL, NULL, &r);
    expect_problem(&r, 404, "not_found");
    resp_free(&r);
    request("GET", "/t/hello/", NULL, NULL, &r);
    expect_problem(&r, 404, "not_found");
    resp_free(&r);
}

static void test_method_not_allowed(void **state)
{
    struct resp r;
    request("PUT", "/t/items/1", "{}", NULL, &r);
    expect_problem(&r, 405, "method_not_allowed");
    assert_string_equal(header(&r, "Allow"), "GET, DELETE");
    resp_free(&r);
    request("GET", "/t/echo", NULL, NULL, &r);
    expect_problem(&r, 405, "method_not_allowed");
    assert_string_equal(header(&r, "Allow"), "POST");
    resp_free(&r);
}

static void test_post_json(void **state)
{
    struct resp r;
    assert_int_equal(request("POST", "/t/echo", "{\"a\":1,\"b\":[true,null]}", NULL, &r), 200);
    json_t *want = json_pack("{s:i,s:[b,n]}", "a", 1, "b", 1);
    assert_true(json_equal(r.json, want));
    json_decref(want);
    resp_free(&r);
    const char *utf8[] = {"Content-Type: application/json; charset=utf-8", NULL};
    assert_int_equal(request("POST", "/t/echo", "{\"x\":\"\xc3\xa9\"}", utf8, &r), 200);
    assert_string_equal(member(r.json, "x"), "\xc3\xa9");
    resp_free(&r);
}

/* {"s":"aaa..."} of exactly size bytes. */
static char *json_of_size(size_t size)
{
    char *b = malloc(size + 1);
    assert_non_null(b);
    memset(b, 'a', size);
    memcpy(b, "{\"s\":\"", 6);
    memcpy(b + size - 2, "\"}", 2);
    b[size] = '\0';
    return b;
}

static void test_payload_too_large(void **state)
{
    struct resp r;
    char *max = json_of_size(HTTP_MAX_BODY);
    assert_int_equal(request_to(base_url, "POST", "/t/echo", max, HTTP_MAX_BODY, NULL, 0, &r), 200);
    assert_int_equal(strlen(member(r.json, "s")), HTTP_MAX_BODY - 8);
    resp_free(&r);
    free(max);

    char *big = json_of_size(HTTP_MAX_BODY + 1);
    request_to(base_url, "POST", "/t/echo", big, HTTP_MAX_BODY + 1, NULL, 0, &r);
    expect_problem(&r, 413, "payload_too_large");
    resp_free(&r);
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    request_to(base_url, "POST", "/t/echo", big, HTTP_MAX_BODY + 1, chunked, CHUNKED, &r);
    expect_problem(&r, 413, "payload_too_large");
    resp_free(&r);
    free(big);

    /* The connection pool still works afterwards. */
    assert_int_equal(request("GET", "/t/hello", NULL, NULL, &r), 200);
    resp_free(&r);
}

static void test_chunked_body_accepted(void **state)
{
    struct resp r;
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    static const char body[] = "{\"chunked\":true}";
    request_to(base_url, "POST", "/t/echo", body, sizeof body - 1, chunked, CHUNKED, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "chunked")));
    resp_free(&r);
}

static void test_unsupported_media_type(void **state)
{
    const char *text[] = {"Content-Type: text/plain", NULL};
    expect_post_problem("/t/echo", "{\"a\":1}", text, 415, "unsupported_media_type");
    const char *jsonx[] = {"Content-Type: application/jsonx", NULL};
    expect_post_problem("/t/echo", "{\"a\":1}", jsonx, 415, "unsupported_media_type");
    const char *none[] = {"Content-Type:", NULL}; /* curl: send no Content-Type */
    expect_post_problem("/t/echo", "{\"a\":1}", none, 415, "unsupported_media_type");
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    expect_post_problem("/t/echo", "a=1", form, 415, "unsupported_media_type");
}

static void test_invalid_json(void **state)
{
    expect_post_problem("/t/echo", "{\"a\":", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "{'a':1}", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "[1,2,3]", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "\"just a string\"", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "{\"a\":\"x\\u0000y\"}", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "{\"a\":1,\"a\":2}", NULL, 400, "invalid_json");
    expect_post_problem("/t/echo", "{\"a\":\"\xff\xfe\"}", NULL, 400, "invalid_json");
}

/* {"d": followed by depth-1 arrays: depth levels in all. */
static char *nested(int depth)
{
    size_t n = (size_t)depth * 2 + 16;
    char *b = calloc(1, n);
    assert_non_null(b);
    strcat(b, "{\"d\":");
    for (int i = 1; i < depth; i++)
        strcat(b, "[");
    for (int i = 1; i < depth; i++)
        strcat(b, "]");
    strcat(b, "}");
    return b;
}

static void test_nesting_depth(void **state)
{
    struct resp r;
    char *ok = nested(32);
    assert_int_equal(request("POST", "/t/echo", ok, NULL, &r), 200);
    resp_free(&r);
    free(ok);
    char *deep = nested(33);
    expect_post_problem("/t/echo", deep, NULL, 400, "invalid_json");
    free(deep);
}

static void test_request_id(void **state)
{
    struct resp r;
    const char *given[] = {"X-Request-ID: abc.DEF_123:x-y", NULL};
    request("GET", "/t/hello", NULL, given, &r);
    assert_string_equal(header(&r, "X-Request-ID"), "abc.DEF_123:x-y");
    resp_free(&r);

    request("GET", "/t/missing", NULL, given, &r);
    expect_problem(&r, 404, "not_found");
    assert_string_equal(member(r.json, "request_id"), "abc.DEF_123:x-y");
    resp_free(&r);

    char h64[100], h65[120];
    snprintf(h64, sizeof h64, "X-Request-ID: %s",
             "0123456789012345678901234567890123456789"
             "012345678901234567890123");
    snprintf(h65, sizeof h65, "%s4", h64);
    const char *keep[] = {h64, NULL};
    request("GET", "/t/hello", NULL, keep, &r);
    assert_string_equal(header(&r, "X-Request-ID"), h64 + 14);
    resp_free(&r);

    const char *const bad_ids[] = {h65, "X-Request-ID: has spaces", "X-Request-ID: a/b",
                                   "X-Request-ID: semi;colon", NULL};
    for (const char *const *b = bad_ids; *b; b++) {
        const char *hdr[] = {*b, NULL};
        request("POST", "/t/echo", "[]", hdr, &r);
        expect_problem(&r, 400, "invalid_json");
        const char *rid = header(&r, "X-Request-ID");
        assert_int_equal(strlen(rid), 32);
        assert_int_equal(strspn(rid, "0123456789abcdef"), 32);
        resp_free(&r);
    }
}

static void test_auth(void **state)
{
    struct resp r;
    request("GET", "/t/me", NULL, NULL, &r);
    expect_problem(&r, 401, "unauthorized");
    assert_string_equal(header(&r, "WWW-Authenticate"), "Bearer");
    resp_free(&r);
    static const char *const bad[] = {"Authorization: Bearer nope",
                                      "Authorization: Basic dXNlcg==", "Authorization: Bearer",
                                      "Authorization: user", NULL};
    for (const char *const *b = bad; *b; b++) {
        const char *hdr[] = {*b, NULL};
        request("GET", "/t/me", NULL, hdr, &r);
        expect_problem(&r, 401, "unauthorized");
        resp_free(&r);
    }
    const char *user[] = {"Authorization: Bearer user", NULL};
    assert_int_equal(request("GET", "/t/me", NULL, user, &r), 200);
    assert_string_equal(member(r.json, "user_id"), "u-user");
    resp_free(&r);
    /* An anonymous route still sees a valid token. */
    assert_int_equal(request("GET", "/t/hello", NULL, user, &r), 200);
    assert_string_equal(member(r.json, "user_id"), "u-user");
    resp_free(&r);
    /* ... and ignores a bad one. */
    const char *nope[] = {"Authorization: Bearer nope", NULL};
    assert_int_equal(request("GET", "/t/hello", NULL, nope, &r), 200);
    assert_null(json_object_get(r.json, "user_id"));
    resp_free(&r);
}

static void expect_get(const char *path, const char *token, long status, const char *code)
{
    char auth[64];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *hdr[] = {auth, NULL};
    struct resp r;
    request("GET", path, NULL, hdr, &r);
    if (code)
        expect_problem(&r, status, code);
    else
        assert_int_equal(r.status, status);
    resp_free(&r);
}

static void test_roles_and_verification(void **state)
{
    expect_get("/t/seller", "user", 403, "forbidden");
    expect_get("/t/seller", "verified", 403, "forbidden");
    expect_get("/t/seller", "seller", 200, NULL);
    expect_get("/t/admin", "seller", 403, "forbidden");
    expect_get("/t/admin", "admin", 200, NULL);
    expect_get("/t/verified", "user", 403, "verification_required");
    expect_get("/t/verified", "verified", 200, NULL);
    const char *user[] = {"Authorization: Bearer user", NULL};
    expect_post_problem("/t/verified-post", "{}", user, 403, "verification_required");
    /* Authentication is decided before the body is looked at. */
    expect_post_problem("/t/verified-post", "not json", NULL, 401, "unauthorized");
}

static void test_idempotency_key(void **state)
{
    expect_post_problem("/t/idem", "{}", NULL, 400, "idempotency_key_required");

    char key256[300], key255[300];
    memset(key256, 0, sizeof key256);
    memcpy(key256, "Idempotency-Key: ", 17);
    memset(key256 + 17, 'k', 256);
    memcpy(key255, key256, sizeof key255);
    key255[17 + 255] = '\0';
    const char *too_long[] = {key256, NULL};
    struct resp r;
    request("POST", "/t/idem", "{}", too_long, &r);
    expect_problem(&r, 400, "validation_failed");
    json_t *err = json_array_get(json_object_get(r.json, "errors"), 0);
    assert_string_equal(member(err, "field"), "Idempotency-Key");
    resp_free(&r);

    const char *ok[] = {key255, NULL};
    assert_int_equal(request("POST", "/t/idem", "{}", ok, &r), 201);
    resp_free(&r);
    pthread_mutex_lock(&idem_lock);
    assert_int_equal(strlen(idem_begun), 255);
    assert_string_equal(idem_finished, key255 + 17);
    assert_int_equal(idem_status, 201);
    pthread_mutex_unlock(&idem_lock);

    /* Honoured on any POST: the hook may answer for the handler. */
    const char *replay[] = {"Idempotency-Key: replay-me", NULL};
    assert_int_equal(request("POST", "/t/echo", "{\"a\":1}", replay, &r), 201);
    assert_true(json_is_true(json_object_get(r.json, "replayed")));
    assert_string_equal(header(&r, "Idempotent-Replayed"), "true");
    resp_free(&r);
    /* Not required on other POSTs. */
    assert_int_equal(request("POST", "/t/echo", "{\"a\":1}", NULL, &r), 200);
    resp_free(&r);
}

static void test_deferred_reply(void **state)
{
    struct resp r;
    assert_int_equal(request("GET", "/t/deferred", NULL, NULL, &r), 200);
    assert_true(json_is_true(json_object_get(r.json, "deferred")));
    assert_non_null(header(&r, "X-Request-ID"));
    resp_free(&r);
}

static void *get_deferred(void *arg)
{
    struct resp r;
    long st = request("GET", "/t/deferred", NULL, NULL, &r);
    resp_free(&r);
    return (void *)(intptr_t)st;
}

static void test_deferred_concurrent(void **state)
{
    enum { N = 8 }; /* more than the 2 server threads: they must not block on deferred work */
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, get_deferred, NULL), 0);
    for (int i = 0; i < N; i++) {
        void *st = NULL;
        pthread_join(t[i], &st);
        assert_int_equal((intptr_t)st, 200);
    }
}

static void test_handler_without_reply(void **state)
{
    struct resp r;
    request("GET", "/t/no-reply", NULL, NULL, &r);
    expect_problem(&r, 500, "internal");
    resp_free(&r);
}

static void test_metrics_recorded(void **state)
{
    struct resp r;
    request("GET", "/t/hello", NULL, NULL, &r);
    resp_free(&r);
    request("GET", "/t/items/secret-id-42", NULL, NULL, &r);
    resp_free(&r);
    request("GET", "/t/unknown/secret-id-43", NULL, NULL, &r);
    resp_free(&r);
    usleep(100 * 1000); /* completion is counted right after the reply went out */
    char *text = metrics_render(NULL);
    assert_non_null(strstr(text, "http_requests_total{method=\"GET\",route=\"/t/hello\","
                                 "status=\"200\"}"));
    assert_non_null(strstr(text, "route=\"/t/items/{id}\""));
    assert_non_null(strstr(text, "http_requests_total{method=\"GET\",route=\"unmatched\","
                                 "status=\"404\"}"));
    assert_non_null(strstr(text, "http_request_duration_seconds_bucket{route=\"/t/hello\""));
    assert_null(strstr(text, "secret-id"));
    free(text);
}

struct slow_call {
    const char *base;
    long status;
};

static void *get_slow(void *arg)
{
    struct slow_call *c = arg;
    struct resp r;
    c->status = request_to(c->base, "GET", "/t/slow", NULL, 0, NULL, 0, &r);
    resp_free(&r);
    return NULL;
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
    return rc;
}

static void test_quiesce_finishes_in_flight(void **state)
{
    struct http_server *s = start_server();
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", http_server_port(s));
    struct slow_call call = {base, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, get_slow, &call), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    assert_int_equal(sem_timedwait(&slow_entered, &until), 0); /* in the handler now */

    assert_int_equal(connect_port(http_server_port(s)), 0);
    http_server_quiesce(s);
    assert_int_not_equal(connect_port(http_server_port(s)), 0); /* no new connections */
    sem_post(&slow_release);
    pthread_join(t, NULL);
    assert_int_equal(call.status, 200); /* the in-flight request completed */
    http_server_stop(s, 2000);
    http_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_json),
        cmocka_unit_test(test_head_on_get_route),
        cmocka_unit_test(test_path_params),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_post_json),
        cmocka_unit_test(test_payload_too_large),
        cmocka_unit_test(test_chunked_body_accepted),
        cmocka_unit_test(test_unsupported_media_type),
        cmocka_unit_test(test_invalid_json),
        cmocka_unit_test(test_nesting_depth),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_roles_and_verification),
        cmocka_unit_test(test_idempotency_key),
        cmocka_unit_test(test_deferred_reply),
        cmocka_unit_test(test_deferred_concurrent),
        cmocka_unit_test(test_handler_without_reply),
        cmocka_unit_test(test_metrics_recorded),
        cmocka_unit_test(test_quiesce_finishes_in_flight),
    };
    return cmocka_run_group_tests_name("http", tests, setup, teardown);
}
