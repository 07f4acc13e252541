/* Integration tests of the platform against the real binary: ops endpoints, metrics, errors,
 * request ids, the command line, configuration errors, graceful shutdown, the worker, and
 * recovery from a PostgreSQL restart (on a second private cluster). */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "tests/integration/harness.h"
#include "tests/test_main.h"

/* One server shared by the ops tests; test_shared_server_stops_cleanly ends it. */
static struct h_server shared;

static int start_shared(void **state)
{
    h_server_start(&shared, NULL);
    return 0;
}

static int cleanup_shared(void **state)
{
    h_server_cleanup(&shared);
    return 0;
}

static const char *str_member(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static void test_healthz(void **state)
{
    struct h_resp r = {0};
    h_get(&shared, "/healthz", &r);
    h_assert_status(&r, 200);
    assert_non_null(r.json);
    json_t *want = json_pack("{s:s}", "status", "ok");
    assert_true(json_equal(r.json, want));
    json_decref(want);
    assert_non_null(strstr(h_resp_header(&r, "Content-Type"), "application/json"));
    assert_non_null(h_resp_header(&r, "X-Request-ID"));
    h_resp_cleanup(&r);
}

static void test_readyz(void **state)
{
    struct h_resp r = {0};
    h_get(&shared, "/readyz", &r);
    h_assert_status(&r, 200);
    assert_string_equal(str_member(r.json, "status"), "ready");
    json_t *checks = json_object_get(r.json, "checks");
    assert_true(json_is_object(checks));
    assert_int_equal(json_object_size(checks), 3);
    assert_string_equal(str_member(checks, "primary"), "up");
    assert_string_equal(str_member(checks, "read"), "up");
    assert_string_equal(str_member(checks, "migrations"), "current");
    h_resp_cleanup(&r);
}

#define HEALTHZ_200 "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"

/* Polls /metrics until series reaches at least want (completion is counted just after the
 * reply goes out), then returns its value. */
static double metric_at_least(const char *series, double want)
{
    double v = -1;
    for (int i = 0; i < 40; i++) {
        v = h_metric_value(&shared, series);
        if (v >= want)
            break;
        h_sleep_ms(25);
    }
    return v;
}

static void test_metrics_requests_counter(void **state)
{
    struct h_resp r = {0};
    h_get(&shared, "/healthz", &r);
    h_resp_cleanup(&r);
    double before = metric_at_least(HEALTHZ_200, 1);
    assert_true(before >= 1);
    for (int i = 0; i < 5; i++) {
        h_get(&shared, "/healthz", &r);
        h_assert_status(&r, 200);
        h_resp_cleanup(&r);
    }
    double after = metric_at_least(HEALTHZ_200, before + 5);
    assert_true(after == before + 5);
}

static void test_metrics_families(void **state)
{
    struct h_resp r = {0};
    h_get(&shared, "/healthz", &r);
    h_resp_cleanup(&r);
    metric_at_least(HEALTHZ_200, 1);
    h_get(&shared, "/metrics", &r);
    h_assert_status(&r, 200);
    assert_non_null(strstr(h_resp_header(&r, "Content-Type"), "text/plain"));
    assert_non_null(strstr(h_resp_header(&r, "Content-Type"), "version=0.0.4"));
    const char *text = r.body;
    /* The duration histogram of /healthz: finite buckets, +Inf, _sum and _count. */
    assert_true(h_count_lines_with(
                    text, "http_request_duration_seconds_bucket{route=\"/healthz\",le=\"") >= 2);
    assert_true(h_metric_in(text, "http_request_duration_seconds_bucket{route=\"/healthz\","
                                  "le=\"+Inf\"}") >= 1);
    assert_true(h_metric_in(text, "http_request_duration_seconds_count{route=\"/healthz\"}") >= 1);
    assert_true(h_metric_in(text, "http_request_duration_seconds_sum{route=\"/healthz\"}") > 0);
    assert_true(h_metric_in(text, "db_pool_connections") >= 0);
    assert_true(h_metric_in(text, "outbox_pending_events") == 0); /* a fresh database */
    assert_int_equal(h_count_lines_with(text, "haat_build_info{version=\""), 1);
    const char *bi = strstr(text, "\nhaat_build_info{version=\"");
    assert_non_null(bi);
    assert_non_null(strstr(bi, "} 1\n"));
    /* One version: `haat version` says the same as the running server. */
    const char *args[] = {"version", NULL};
    int code = -1;
    char *out = NULL, want[128];
    assert_int_equal(h_run(args, NULL, &code, &out), 0);
    assert_int_equal(code, 0);
    snprintf(want, sizeof want, "\nhaat_build_info{version=\"%.*s\"} 1\n",
             (int)strcspn(out + 5, "\n"), out + 5);
    if (strncmp(out, "haat ", 5) != 0 || !strstr(text, want))
        fail_msg("haat version said %s; /metrics has no line %s", out, want + 1);
    free(out);
    assert_true(h_count_lines_with(text, "# TYPE http_requests_total counter") == 1);
    assert_true(h_count_lines_with(text, "# TYPE http_request_duration_seconds histogram") == 1);
    h_resp_cleanup(&r);
}

static void test_metrics_labels_never_raw_ids(void **state)
{
    struct h_resp r = {0};
    h_get(&shared, "/v1/nonexistent/7f3a9c1d55", &r);
    h_assert_problem(&r, 404, "not_found");
    h_resp_cleanup(&r);
    double v = metric_at_least(
        "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}", 1);
    assert_true(v >= 1);
    /* Invented methods are one bounded series, not one per method; a 405 is labelled with
     * the pattern of the path it hit. */
    h_request(&shared, "MXYZ123", "/healthz", NULL, NULL, &r);
    h_assert_problem(&r, 405, "method_not_allowed");
    h_resp_cleanup(&r);
    v = metric_at_least("http_requests_total{method=\"OTHER\",route=\"/healthz\",status=\"405\"}",
                        1);
    assert_true(v >= 1);
    h_get(&shared, "/metrics", &r);
    h_assert_status(&r, 200);
    assert_null(strstr(r.body, "7f3a9c1d55"));
    assert_null(strstr(r.body, "/v1/nonexistent"));
    assert_null(strstr(r.body, "MXYZ123"));
    /* The standard process metrics. */
    static const char *const process[] = {"process_start_time_seconds",
                                          "process_resident_memory_bytes",
                                          "process_cpu_seconds_total", "process_open_fds"};
    for (size_t i = 0; i < sizeof process / sizeof process[0]; i++) {
        double pv = h_metric_in(r.body, process[i]);
        if (pv <= 0)
            fail_msg("%s is %g", process[i], pv);
    }
    assert_non_null(strstr(r.body, "# TYPE process_cpu_seconds_total counter\n"));
    h_resp_cleanup(&r);
}

/* The body is byte for byte the file the binary embedded (built from the repository root). */
static void expect_same_as_file(const struct h_resp *r, const char *path)
{
    size_t len = 0;
    char *want = h_read_file(path, &len);
    if (!want)
        fail_msg("%s not found: the binary embeds it (tests run from the repository root)", path);
    if (r->len != len)
        print_error("%s: served %zu bytes, the file has %zu\n", path, r->len, len);
    assert_int_equal(r->len, len);
    assert_memory_equal(r->body, want, len);
    free(want);
}

static void test_openapi_document(void **state)
{
    struct h_resp r = {0};
    h_get(&shared, "/openapi.json", &r);
    h_assert_status(&r, 200);
    assert_non_null(strstr(h_resp_header(&r, "Content-Type"), "application/json"));
    /* The embedded document, with servers naming this server (HAAT_PUBLIC_URL). */
    json_t *file = json_load_file("build/gen/openapi.json", 0, NULL);
    assert_non_null(file);
    json_object_set_new(
        file, "servers",
        json_pack("[{s:s,s:s}]", "url", shared.base_url, "description", "this server"));
    assert_true(json_equal(r.json, file));
    json_decref(file);
    assert_true(json_is_object(r.json));
    assert_string_equal(str_member(r.json, "openapi"), "3.1.0");
    json_t *paths = json_object_get(r.json, "paths");
    assert_true(json_is_object(json_object_get(paths, "/healthz")));
    assert_true(json_is_object(json_object_get(paths, "/readyz")));
    h_resp_cleanup(&r);
}

static void test_docs_offline(void **state)
{
    struct h_resp r = {0};
    h_get(&shared, "/docs", &r);
    h_assert_status(&r, 200);
    assert_non_null(strstr(h_resp_header(&r, "Content-Type"), "text/html"));
    assert_non_null(strstr(r.body, "/docs/redoc.standalone.js"));
    assert_non_null(strstr(r.body, "/openapi.json"));
    /* Works with no internet: nothing loaded from elsewhere. */
    assert_null(strstr(r.body, "src=\"http"));
    assert_null(strstr(r.body, "href=\"http"));
    h_resp_cleanup(&r);

    h_get(&shared, "/docs/redoc.standalone.js", &r);
    h_assert_status(&r, 200);
    assert_non_null(strstr(h_resp_header(&r, "Content-Type"), "javascript"));
    assert_true(r.len > 100 * 1000);
    assert_int_equal(strlen(r.body), r.len);                  /* no NUL inside */
    expect_same_as_file(&r, "build/gen/redoc.standalone.js"); /* the offline copy */
    h_resp_cleanup(&r);
}

static void test_not_found_problem(void **state)
{
    struct h_resp r = {0};
    h_get(&shared, "/v1/does-not-exist", &r);
    h_assert_problem(&r, 404, "not_found");
    h_resp_cleanup(&r);
    h_get(&shared, "/healthz/", &r);
    h_assert_problem(&r, 404, "not_found");
    h_resp_cleanup(&r);
}

static void test_method_not_allowed_problem(void **state)
{
    struct h_resp r = {0};
    h_request(&shared, "POST", "/healthz", "{}", NULL, &r);
    h_assert_problem(&r, 405, "method_not_allowed");
    assert_non_null(h_resp_header(&r, "Allow"));
    assert_string_equal(h_resp_header(&r, "Allow"), "GET, HEAD");
    h_resp_cleanup(&r);
    h_request(&shared, "DELETE", "/metrics", NULL, NULL, &r);
    h_assert_problem(&r, 405, "method_not_allowed");
    assert_string_equal(h_resp_header(&r, "Allow"), "GET, HEAD");
    h_resp_cleanup(&r);
}

static bool valid_rid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 16 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._:-") == n;
}

static void test_request_id(void **state)
{
    struct h_resp r = {0};
    const char *given[] = {"X-Request-ID: client-req_1.2:3", NULL};
    h_request(&shared, "GET", "/healthz", NULL, given, &r);
    h_assert_status(&r, 200);
    assert_string_equal(h_resp_header(&r, "X-Request-ID"), "client-req_1.2:3");
    h_resp_cleanup(&r);

    /* A problem body carries the client's id too. */
    h_request(&shared, "GET", "/nope", NULL, given, &r);
    h_assert_problem(&r, 404, "not_found");
    assert_string_equal(str_member(r.json, "request_id"), "client-req_1.2:3");
    h_resp_cleanup(&r);

    const char *bad[] = {"X-Request-ID: has spaces in it", NULL};
    h_request(&shared, "GET", "/healthz", NULL, bad, &r);
    const char *got = h_resp_header(&r, "X-Request-ID");
    assert_true(valid_rid(got));
    assert_string_not_equal(got, "has spaces in it");
    h_resp_cleanup(&r);

    h_get(&shared, "/healthz", &r);
    assert_true(valid_rid(h_resp_header(&r, "X-Request-ID")));
    h_resp_cleanup(&r);
}

static void expect_bad_body(const char *body, const char *ctype, long status, const char *code)
{
    const char *hdr[] = {ctype, NULL};
    struct h_resp r = {0};
    h_request(&shared, "POST", "/v1/auth/signup", body, ctype ? hdr : NULL, &r);
    h_assert_problem(&r, status, code);
    h_resp_cleanup(&r);
}

static void test_json_body_errors(void **state)
{
    size_t big = 1024 * 1024 + 16;
    char *body = malloc(big + 1);
    assert_non_null(body);
    memset(body, ' ', big);
    memcpy(body, "{\"name\":\"", 9);
    memcpy(body + big - 2, "\"}", 2);
    body[big] = '\0';
    memset(body + 9, 'a', big - 11);
    expect_bad_body(body, NULL, 413, "payload_too_large");
    free(body);
    expect_bad_body("{\"name\":\"x\"}", "Content-Type: text/plain", 415, "unsupported_media_type");
    expect_bad_body("{\"name\":", NULL, 400, "invalid_json");
    expect_bad_body("[1,2]", NULL, 400, "invalid_json");
    char deep[200] = "{\"a\":";
    for (int i = 0; i < 32; i++)
        strcat(deep, "[");
    for (int i = 0; i < 32; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    expect_bad_body(deep, NULL, 400, "invalid_json");
    /* Well-formed JSON whose string holds a NUL: a value no field accepts. */
    expect_bad_body("{\"name\":\"a\\u0000b\"}", NULL, 422, "validation_failed");
}

static void test_shared_server_stops_cleanly(void **state)
{
    long long t0 = h_now_ms();
    assert_int_equal(h_server_stop(&shared), 0);
    assert_true(h_now_ms() - t0 < 10000);
    char *log = h_server_log(&shared);
    assert_null(strstr(log, "AddressSanitizer"));
    assert_null(strstr(log, "runtime error"));
    free(log);
}

/* ---- the command line ---------------------------------------------------------------------- */

static size_t count_migration_files(void)
{
    DIR *d = opendir("migrations");
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0)
            n++;
    }
    closedir(d);
    return n;
}

static void test_migrate_twice(void **state)
{
    char name[64], url[256], env_url[300];
    assert_int_equal(h_db_create(name, url), 0);
    snprintf(env_url, sizeof env_url, "DATABASE_URL=%s", url);
    const char *env[] = {env_url, NULL};
    const char *args[] = {"--config", H_TEST_CONFIG, "migrate", NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, env, &code, &out), 0);
    if (code != 0)
        print_error("%s\n", out);
    assert_int_equal(code, 0);
    free(out);
    char *applied = h_db_scalar(url, "SELECT count(*) FROM schema_migrations");
    assert_non_null(applied);
    assert_int_equal(strtol(applied, NULL, 10), (long)count_migration_files());
    free(applied);

    assert_int_equal(h_run(args, env, &code, &out), 0);
    if (code != 0)
        print_error("%s\n", out);
    assert_int_equal(code, 0);
    free(out);
    applied = h_db_scalar(url, "SELECT count(*) FROM schema_migrations");
    assert_int_equal(strtol(applied, NULL, 10), (long)count_migration_files());
    free(applied);
    assert_int_equal(h_db_drop(name), 0);
}

/* The code block of README.md "## The binary" (a new string), or NULL. */
static char *readme_binary_block(void)
{
    static const char head[] = "\n## The binary\n\n```\n";
    char *readme = h_read_file("README.md", NULL);
    char *start = readme ? strstr(readme, head) : NULL;
    char *end = start ? strstr(start + sizeof head - 1, "```\n") : NULL;
    char *block =
        end ? strndup(start + sizeof head - 1, (size_t)(end - start) - (sizeof head - 1)) : NULL;
    free(readme);
    return block;
}

static void test_help_lists_commands(void **state)
{
    static const char *const flags[] = {"--help", "-h"};
    char *readme = readme_binary_block();
    assert_non_null(readme);
    for (int i = 0; i < 2; i++) {
        const char *args[] = {flags[i], NULL};
        int code = -1;
        char *out = NULL;
        assert_int_equal(h_run(args, NULL, &code, &out), 0);
        assert_int_equal(code, 0);
        /* The README shows the help word for word, up to the closing pointer to it. */
        if (strncmp(out, readme, strlen(readme)) != 0 || out[strlen(readme)] != '\n')
            fail_msg("README.md \"The binary\" differs from haat %s:\n%s\n---\n%s", flags[i],
                     readme, out);
        for (const char *const *w =
                 (const char *const[]){"serve", "worker", "migrate", "admin grant EMAIL",
                                       "admin failed-refunds", "version", NULL};
             *w; w++) {
            if (!strstr(out, *w))
                print_error("--help does not mention %s:\n%s\n", *w, out);
            assert_non_null(strstr(out, *w));
        }
        free(out);
    }
    free(readme);
}

static void test_version(void **state)
{
    const char *args[] = {"version", NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, NULL, &code, &out), 0);
    assert_int_equal(code, 0);
    assert_int_equal(strncmp(out, "haat ", 5), 0);
    assert_true(strlen(out) > 6);
    free(out);
}

static void test_unknown_command(void **state)
{
    const char *env[] = {"DATABASE_URL=postgresql://haat@127.0.0.1:1/none", NULL};
    const char *args[] = {"--config", H_TEST_CONFIG, "frobnicate", NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, env, &code, &out), 0);
    assert_int_equal(code, 2);
    assert_non_null(strstr(out, "frobnicate"));
    free(out);
}

/* Starting `serve` with one bad setting exits 2 with a line naming the variable. */
static void expect_config_error(const char *setting, const char *variable)
{
    const char *env[] = {"DATABASE_URL=postgresql://haat@127.0.0.1:1/none", setting, NULL};
    const char *args[] = {"--config", H_TEST_CONFIG, "serve", NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, env, &code, &out), 0);
    if (code != 2 || h_count_lines_with(out, variable) < 1)
        print_error("with %s: exit %d, output:\n%s\n", setting, code, out);
    assert_int_equal(code, 2);
    assert_true(h_count_lines_with(out, variable) >= 1);
    free(out);
}

static void test_bad_config_exits_2(void **state)
{
    expect_config_error("HAAT_JWT_SECRET=too-short-secret", "HAAT_JWT_SECRET");
    expect_config_error("HAAT_PAYMENT_PROVIDER=paypal", "HAAT_PAYMENT_PROVIDER");
    expect_config_error("HAAT_COMMISSION_BPS=abc", "HAAT_COMMISSION_BPS");
    expect_config_error("HAAT_HTTP_ADDR=not-an-address", "HAAT_HTTP_ADDR");
}

/* ---- process lifecycle --------------------------------------------------------------------- */

static int cleanup_server(void **state)
{
    struct h_server *s = *state;
    if (s)
        h_server_cleanup(s);
    free(s);
    *state = NULL;
    return 0;
}

static int new_server(void **state)
{
    *state = calloc(1, sizeof(struct h_server));
    return *state ? 0 : -1;
}

static void test_sigterm_with_request_in_flight(void **state)
{
    struct h_server *s = *state;
    h_server_start(s, NULL);
    /* A request whose headers are in but whose body is not: in flight until we finish it. */
    int fd = h_tcp_connect(s->port);
    assert_true(fd >= 0);
    static const char head[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "Content-Length: 5\r\nConnection: close\r\n\r\n";
    assert_int_equal(h_tcp_send(fd, head, sizeof head - 1), 0);
    /* A keep-alive connection, open before the signal. */
    int ka = h_tcp_connect(s->port);
    assert_true(ka >= 0);
    static const char get[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    assert_int_equal(h_tcp_send(ka, get, sizeof get - 1), 0);
    char *first = h_tcp_recv_response(ka, 5000);
    assert_int_equal(strncmp(first, "HTTP/1.1 200", 12), 0);
    free(first);
    h_sleep_ms(300);
    long long t0 = h_now_ms();
    assert_int_equal(h_server_signal(s, SIGTERM), 0);
    h_sleep_ms(500);
    assert_int_equal(h_server_wait(s, 0), -1); /* still waiting for our request */
    /* Shutdown has begun: /readyz answers 503 on a connection that is still open. */
    static const char ready[] = "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Connection: close\r\n\r\n";
    assert_int_equal(h_tcp_send(ka, ready, sizeof ready - 1), 0);
    char *draining = h_tcp_recv_all(ka, 5000);
    close(ka);
    if (strncmp(draining, "HTTP/1.1 503", 12) != 0)
        print_error("/readyz while draining:\n%s\n", draining);
    assert_int_equal(strncmp(draining, "HTTP/1.1 503", 12), 0);
    assert_non_null(strstr(draining, "\"code\":\"service_unavailable\""));
    free(draining);
    int fd2 = h_tcp_connect(s->port);
    if (fd2 >= 0)
        close(fd2);
    assert_true(fd2 < 0); /* no new connections while draining */
    assert_int_equal(h_tcp_send(fd, "hello", 5), 0);
    char *reply = h_tcp_recv_all(fd, 5000);
    close(fd);
    if (strncmp(reply, "HTTP/1.1 200", 12) != 0)
        print_error("in-flight reply:\n%s\n", reply);
    assert_int_equal(strncmp(reply, "HTTP/1.1 200", 12), 0);
    assert_non_null(strstr(reply, "{\"status\":\"ok\"}"));
    free(reply);
    int st = h_server_wait(s, 10000 - (int)(h_now_ms() - t0));
    if (st != 0)
        h_server_print_log(s, H_LOG_TAIL_LINES);
    assert_int_equal(st, 0);
    assert_true(h_now_ms() - t0 < 10000);
}

static void test_sigint_exits_0(void **state)
{
    struct h_server *s = *state;
    h_server_start(s, NULL);
    assert_int_equal(h_server_signal(s, SIGINT), 0);
    assert_int_equal(h_server_wait(s, 10000), 0);
}

static void test_worker_starts_and_stops(void **state)
{
    struct h_server *s = *state;
    s->command = "worker";
    s->no_wait = true;
    h_server_start(s, NULL);
    h_sleep_ms(1500);
    if (h_server_wait(s, 0) != -1)
        h_server_print_log(s, H_LOG_TAIL_LINES);
    assert_int_equal(h_server_wait(s, 0), -1); /* still running */
    /* A worker does not listen. */
    int fd = h_tcp_connect(s->port);
    if (fd >= 0)
        close(fd);
    assert_true(fd < 0);
    long long t0 = h_now_ms();
    assert_int_equal(h_server_stop(s), 0);
    assert_true(h_now_ms() - t0 < 10000);
}

/* ---- the harness's sinks (what later tests read notifications from) ------------------------ */

struct mail_src {
    const char *text;
    size_t off;
};

static size_t read_mail(char *out, size_t size, size_t n, void *arg)
{
    struct mail_src *m = arg;
    size_t left = strlen(m->text) - m->off, k = size * n < left ? size * n : left;
    memcpy(out, m->text + m->off, k);
    m->off += k;
    return k;
}

/* Sends one message through the SMTP server at url with libcurl. */
static CURLcode send_mail(const char *url, const char *from, const char *to, const char *msg)
{
    CURL *h = curl_easy_init();
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    struct mail_src src = {msg, 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_mail);
    curl_easy_setopt(h, CURLOPT_READDATA, &src);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    return rc;
}

static void test_smtp_sink(void **state)
{
    struct h_sink k;
    h_smtp_sink_start(&k);
    json_t *none = h_jsonl_read(k.out);
    assert_int_equal(json_array_size(none), 0);
    json_decref(none);
    static const char msg[] = "From: <a@haat.test>\r\nTo: <b@haat.test>\r\n"
                              "Subject: hello sink\r\n\r\nline one\r\n";
    assert_int_equal(send_mail(k.url, "<a@haat.test>", "<b@haat.test>", msg), CURLE_OK);
    json_t *got = h_wait_jsonl(k.out, 1, 5000);
    assert_int_equal(json_array_size(got), 1);
    json_t *m = json_array_get(got, 0);
    assert_string_equal(str_member(m, "mail_from"), "a@haat.test");
    assert_string_equal(json_string_value(json_array_get(json_object_get(m, "rcpt_tos"), 0)),
                        "b@haat.test");
    assert_string_equal(str_member(m, "subject"), "hello sink");
    assert_non_null(strstr(str_member(m, "body"), "line one"));
    json_decref(got);
    assert_int_equal(h_sink_stop(&k), 0);
    assert_int_equal(h_sink_stop(&k), 0); /* idempotent */
}

static void test_http_capture(void **state)
{
    struct h_sink k;
    h_http_capture_start(&k);
    char url[128];
    snprintf(url, sizeof url, "%s/2010-04-01/Accounts/AC1/Messages.json", k.url);
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct h_resp r = {0};
    h_request_url("POST", url, "To=%2B911234567890&Body=hi", 26, form, &r);
    h_assert_status(&r, 201);
    h_resp_cleanup(&r);

    assert_int_equal(h_capture_control(&k, "{\"fail_next\":1,\"status\":503}"), 200);
    h_request_url("POST", url, "To=x&Body=again", 15, form, &r);
    h_assert_status(&r, 503);
    h_resp_cleanup(&r);
    h_request_url("POST", url, "To=x&Body=third", 15, form, &r);
    h_assert_status(&r, 201);
    h_resp_cleanup(&r);

    json_t *got = h_wait_jsonl(k.out, 3, 5000);
    assert_int_equal(json_array_size(got), 3); /* control requests are not recorded */
    json_t *first = json_array_get(got, 0);
    assert_string_equal(str_member(first, "method"), "POST");
    assert_string_equal(str_member(first, "path"), "/2010-04-01/Accounts/AC1/Messages.json");
    assert_string_equal(str_member(json_object_get(first, "form"), "To"), "+911234567890");
    assert_string_equal(str_member(json_object_get(first, "form"), "Body"), "hi");
    json_decref(got);
    assert_int_equal(h_sink_stop(&k), 0);
}

/* ---- PostgreSQL restart -------------------------------------------------------------------- */

#define PG2_DIR "var/pg-restart-test"
static int pg2_port;

/* Runs infra/dev/pg.sh cmd on the second cluster (bounded). Returns the exit status. */
static int pg2(const char *cmd)
{
    char line[512];
    snprintf(line, sizeof line,
             "HAAT_PG_DIR=" PG2_DIR " HAAT_PG_PORT=%d timeout 120 infra/dev/pg.sh %s "
             ">>var/test-logs/%s-pg2.log 2>&1",
             pg2_port, cmd, h_test_name());
    int st = system(line);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int pg2_remove(void **state)
{
    cleanup_server(state);
    if (pg2_port > 0)
        pg2("stop");
    /* The cluster dir may be a symlink to /var/tmp/haat-pg-<hash> (see pg.sh). */
    int rc = system("d=" PG2_DIR "; t=$(readlink -f \"$d\"); rm -rf -- \"$t\" \"$d\" "
                    "\"var/.pg-restart-test.lock\"");
    (void)rc;
    return 0;
}

static void test_postgres_restart(void **state)
{
    struct h_server *s = *state;
    pg2_port = h_free_port();
    assert_int_equal(pg2("start"), 0);
    snprintf(s->db_url, sizeof s->db_url, "postgresql://haat@127.0.0.1:%d/haat", pg2_port);
    h_server_start(s, NULL);
    assert_true(h_wait_status(s, "/readyz", 200, 5000) >= 0);
    struct h_resp r = {0};
    h_get(s, "/v1/products?limit=1", &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);

    assert_int_equal(pg2("stop"), 0);
    /* Business routes fail fast with 503 while the database is down: a query ... */
    long long q0 = h_now_ms();
    h_get(s, "/v1/products?limit=1", &r);
    h_assert_problem(&r, 503, "service_unavailable");
    assert_true(h_now_ms() - q0 < 2000);
    h_resp_cleanup(&r);
    /* ... and a command. */
    static const char otp[] = "{\"channel\":\"sms\",\"destination\":\"+919812345678\","
                              "\"purpose\":\"login\"}";
    h_request(s, "POST", "/v1/auth/otp", otp, NULL, &r);
    h_assert_problem(&r, 503, "service_unavailable");
    h_resp_cleanup(&r);

    long long t0 = h_now_ms();
    h_get(s, "/readyz", &r);
    long long took = h_now_ms() - t0;
    h_assert_problem(&r, 503, "service_unavailable");
    assert_true(took < 2000);
    assert_true(json_is_object(json_object_get(r.json, "checks")));
    h_resp_cleanup(&r);
    t0 = h_now_ms();
    h_get(s, "/readyz", &r); /* again, while reconnects are spaced out */
    assert_int_equal(r.status, 503);
    assert_true(h_now_ms() - t0 < 2000);
    h_resp_cleanup(&r);
    h_get(s, "/healthz", &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);

    assert_int_equal(pg2("start"), 0);
    long waited = h_wait_status(s, "/readyz", 200, 10000);
    printf("note: /readyz back to 200 %ld ms after PostgreSQL came back\n", waited);
    assert_true(waited >= 0);
    assert_true(waited <= 8000);
    /* The same routes work again without restarting haat. */
    h_get(s, "/v1/products?limit=1", &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
    h_request(s, "POST", "/v1/auth/otp", otp, NULL, &r);
    h_assert_status(&r, 202);
    h_resp_cleanup(&r);
    assert_int_equal(h_server_stop(s), 0);
}

int main(void)
{
    const struct CMUnitTest ops[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_readyz),
        cmocka_unit_test(test_metrics_requests_counter),
        cmocka_unit_test(test_metrics_families),
        cmocka_unit_test(test_metrics_labels_never_raw_ids),
        cmocka_unit_test(test_openapi_document),
        cmocka_unit_test(test_docs_offline),
        cmocka_unit_test(test_not_found_problem),
        cmocka_unit_test(test_method_not_allowed_problem),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_json_body_errors),
        cmocka_unit_test(test_shared_server_stops_cleanly),
    };
    const struct CMUnitTest process[] = {
        cmocka_unit_test(test_migrate_twice),
        cmocka_unit_test(test_help_lists_commands),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_bad_config_exits_2),
        cmocka_unit_test(test_smtp_sink),
        cmocka_unit_test(test_http_capture),
        cmocka_unit_test_setup_teardown(test_sigterm_with_request_in_flight, new_server,
                                        cleanup_server),
        cmocka_unit_test_setup_teardown(test_sigint_exits_0, new_server, cleanup_server),
        cmocka_unit_test_setup_teardown(test_worker_starts_and_stops, new_server, cleanup_server),
        cmocka_unit_test_setup_teardown(test_postgres_restart, new_server, pg2_remove),
    };
    int failed = HAAT_RUN_GROUP("platform_ops", ops, start_shared, cleanup_shared);
    failed += HAAT_RUN_GROUP("platform_process", process, NULL, NULL);
    return failed;
}
