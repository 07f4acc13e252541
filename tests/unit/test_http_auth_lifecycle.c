/* Unit tests for pkg/http, part 2: authentication, roles and verification, idempotency keys,
 * deferred replies, handlers that never reply, metrics, and quiescing with requests in flight. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "tests/test_main.h"
#include "tests/unit/http_test_server.h"

/* ---- tests ---------------------------------------------------------------------------------- */

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
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_roles_and_verification),
        cmocka_unit_test(test_idempotency_key),
        cmocka_unit_test(test_deferred_reply),
        cmocka_unit_test(test_deferred_concurrent),
        cmocka_unit_test(test_handler_without_reply),
        cmocka_unit_test(test_metrics_recorded),
        cmocka_unit_test(test_quiesce_finishes_in_flight),
    };
    return HAAT_RUN_GROUP("http", tests, setup, teardown);
}
