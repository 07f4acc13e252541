/* Tracing and the access log against the real binary: a caller's traceparent is kept (its
 * trace id on every log line of the request, in the answer's traceparent, and on the SMS
 * provider call the request causes later); a bad or missing one starts a fresh trace; the
 * access-log line names the client (X-Forwarded-For only from a trusted proxy), the user
 * agent and the response bytes, with a duration free of float noise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/integration/harness.h"
#include "tests/integration/notify_fixtures.h"
#include "tests/integration/user_fixtures.h"
#include "tests/test_main.h"

#define TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT   "00f067aa0ba902b7"

static struct h_server srv;
static struct h_sink mail, text;

static int start(void **state)
{
    h_smtp_sink_start(&mail);
    h_http_capture_start(&text);
    char buf[10][256];
    const char *env[16];
    nf_provider_env(buf, env, &mail, &text, "HAAT_TRUSTED_PROXIES=127.0.0.1", NULL);
    h_server_start(&srv, env);
    return 0;
}

static int stop(void **state)
{
    nf_stop(&srv, &mail, &text);
    return 0;
}

/* The log lines (JSON) of the server that carry request_id rid (new array). */
static json_t *lines_of(const char *rid)
{
    char *log = h_server_log(&srv);
    json_t *out = json_array();
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *j = json_loads(line, 0, NULL);
        const char *id = json_string_value(json_object_get(j, "request_id"));
        if (id && strcmp(id, rid) == 0)
            json_array_append(out, j);
        json_decref(j);
    }
    free(log);
    return out;
}

static const json_t *access_line(const json_t *lines)
{
    size_t i;
    const json_t *l;
    json_array_foreach(lines, i, l)
    {
        const char *ev = json_string_value(json_object_get(l, "event"));
        if (ev && strcmp(ev, "http_request") == 0)
            return l;
    }
    return NULL;
}

static void test_traceparent_kept_and_propagated(void **state)
{
    struct uf_ident u;
    uf_new_ident(&u);
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"Trace User\",\"email\":\"%s\",\"phone\":\"%s\",\"password\":\"%s\"}",
             u.email, u.phone, UF_PASSWORD);
    const char *h[] = {"traceparent: 00-" TRACE_ID "-" PARENT "-01", "User-Agent: trace-test/1.0",
                       "X-Forwarded-For: 203.0.113.9, 127.0.0.1", NULL};
    struct h_resp r = {0};
    h_request(&srv, "POST", "/v1/auth/signup", body, h, &r);
    h_assert_status(&r, 201);
    const char *tp = h_resp_header(&r, "traceparent");
    assert_non_null(tp);
    assert_int_equal(strncmp(tp, "00-" TRACE_ID "-", 36), 0);
    assert_int_equal(strlen(tp), 55);
    assert_true(strncmp(tp + 36, PARENT, 16) != 0); /* our own span */
    char rid[80];
    snprintf(rid, sizeof rid, "%s", h_resp_header(&r, "X-Request-ID"));
    /* The provider call the request caused carries the trace. */
    json_t *all = nf_wait_sms(&text, u.phone, NULL, 1, 10000);
    const json_t *sms = nf_find_sms(all, u.phone, NULL);
    assert_non_null(sms);
    const char *out_tp = nf_member(json_object_get(sms, "headers"), "traceparent");
    if (!out_tp) {
        char *dump = json_dumps(sms, 0);
        fail_msg("no traceparent on the provider call: %s", dump);
    }
    assert_int_equal(strncmp(out_tp, "00-" TRACE_ID "-", 36), 0);
    json_decref(all);
    /* Every log line of the request carries the trace id; the access line says who. */
    h_server_stop(&srv);
    json_t *lines = lines_of(rid);
    assert_true(json_array_size(lines) >= 1);
    size_t i;
    const json_t *l;
    json_array_foreach(lines, i, l) assert_string_equal(nf_member(l, "trace_id"), TRACE_ID);
    const json_t *a = access_line(lines);
    assert_non_null(a);
    assert_string_equal(nf_member(a, "client"), "203.0.113.9");
    assert_string_equal(nf_member(a, "user_agent"), "trace-test/1.0");
    assert_int_equal(json_integer_value(json_object_get(a, "bytes")), (json_int_t)r.len);
    json_decref(lines);
    h_resp_cleanup(&r);
    h_server_start(&srv, NULL); /* for the tests that follow */
}

static void test_fresh_trace_when_missing_or_bad(void **state)
{
    static const char *const bad[] = {
        "traceparent: 00-00000000000000000000000000000000-" PARENT "-01",
        "traceparent: 00-" TRACE_ID "-0000000000000000-01",
        "traceparent: ff-" TRACE_ID "-" PARENT "-01",
        "traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-" PARENT "-01",
        "traceparent: 00-" TRACE_ID "-" PARENT "-01-extra",
        NULL,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *h[] = {bad[i], NULL};
        struct h_resp r = {0};
        h_request(&srv, "GET", "/healthz", NULL, bad[i] ? h : NULL, &r);
        h_assert_status(&r, 200);
        const char *tp = h_resp_header(&r, "traceparent");
        assert_non_null(tp);
        assert_int_equal(strlen(tp), 55);
        assert_true(strncmp(tp + 3, TRACE_ID, 32) != 0);
        assert_true(strncmp(tp + 3, "00000000000000000000000000000000", 32) != 0);
        h_resp_cleanup(&r);
    }
}

/* X-Forwarded-For from a peer that is not a trusted proxy is not believed; durations have no
 * float noise. */
static void test_access_log_client_and_duration(void **state)
{
    h_server_stop(&srv);
    h_server_start(&srv, NULL); /* no trusted proxies */
    const char *h[] = {"X-Forwarded-For: 203.0.113.9", NULL};
    struct h_resp r = {0};
    h_request(&srv, "GET", "/healthz", NULL, h, &r);
    h_assert_status(&r, 200);
    char rid[80];
    snprintf(rid, sizeof rid, "%s", h_resp_header(&r, "X-Request-ID"));
    h_server_stop(&srv);
    json_t *lines = lines_of(rid);
    const json_t *a = access_line(lines);
    assert_non_null(a);
    assert_string_equal(nf_member(a, "client"), "127.0.0.1");
    char *log = h_server_log(&srv);
    const char *at = strstr(log, rid);
    const char *d = at ? strstr(at, "\"duration_ms\":") : NULL;
    assert_non_null(d);
    d += strlen("\"duration_ms\":");
    size_t digits = strspn(d, "0123456789.");
    const char *dot = memchr(d, '.', digits);
    assert_true(!dot || (size_t)(d + digits - dot - 1) <= 3); /* at most microseconds */
    free(log);
    json_decref(lines);
    h_resp_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traceparent_kept_and_propagated),
        cmocka_unit_test(test_fresh_trace_when_missing_or_bad),
        cmocka_unit_test(test_access_log_client_and_duration),
    };
    return HAAT_RUN_GROUP("tracing", tests, start, stop);
}
