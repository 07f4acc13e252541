/* Integration tests of request framing over a raw TCP socket: what is refused (400 problem+json
 * and the connection closed) rather than guessed. docs/decisions/0006-framing.md says which
 * cases libmicrohttpd answers itself and which haat answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"
#include "tests/test_main.h"

static struct h_server srv;

static int start(void **state)
{
    (void)state;
    h_server_start(&srv, NULL);
    return 0;
}

static int stop(void **state)
{
    (void)state;
    h_server_cleanup(&srv);
    return 0;
}

/* Sends raw and returns everything the server sent until it closed (or 5 s passed). */
static char *exchange(const char *raw)
{
    int fd = h_tcp_connect(srv.port);
    assert_true(fd >= 0);
    assert_int_equal(h_tcp_send(fd, raw, strlen(raw)), 0);
    char *got = h_tcp_recv_all(fd, 5000);
    close(fd);
    return got;
}

/* Asserts the server answered raw with one 400 bad_request problem whose detail contains
 * detail, said Connection: close and closed the connection (nothing after it was answered). */
static void expect_refused(const char *raw, const char *detail)
{
    long long t0 = h_now_ms();
    char *got = exchange(raw);
    long long took = h_now_ms() - t0;
    bool ok = strncmp(got, "HTTP/1.1 400 ", 13) == 0 && strstr(got, detail) &&
              strstr(got, "\r\nConnection: close\r\n") &&
              strstr(got, "\r\nContent-Type: application/problem+json") &&
              strstr(got, "\"code\":\"bad_request\"") &&
              !strstr(got, "\nHTTP/1.1 ") /* one answer: the rest was not taken as a request */
              && took < 4000;             /* closed, not left to time out */
    if (!ok)
        print_error("request:\n%s\nanswer (%lld ms):\n%s\n", raw, took, got);
    free(got);
    assert_true(ok);
}

/* Asserts raw was answered (by haat, as a request) with status. */
static void expect_status(const char *raw, const char *status)
{
    char *got = exchange(raw);
    bool ok = strncmp(got, status, strlen(status)) == 0;
    if (!ok)
        print_error("request:\n%s\nanswer:\n%s\n", raw, got);
    free(got);
    assert_true(ok);
}

#define POST_HEAD "POST /v1/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"

static void test_conflicting_content_length(void **state)
{
    (void)state;
    /* The second "request" would be smuggled inside the body of whoever took the first length. */
    expect_refused(POST_HEAD "Content-Length: 2\r\nContent-Length: 33\r\n\r\n"
                             "{}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                   "conflicting Content-Length");
    /* The same value twice is one length (RFC 9110 8.6): taken. */
    expect_status(POST_HEAD "Content-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                  "HTTP/1.1 422 ");
}

static void test_length_with_transfer_encoding(void **state)
{
    (void)state;
    expect_refused(POST_HEAD "Content-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "2\r\n{}\r\n0\r\n\r\n",
                   "Content-Length together with Transfer-Encoding");
    expect_refused(POST_HEAD "Transfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n"
                             "2\r\n{}\r\n0\r\n\r\n",
                   "Content-Length together with Transfer-Encoding");
}

static void test_unknown_transfer_coding(void **state)
{
    (void)state;
    expect_refused(POST_HEAD "Transfer-Encoding: gzip\r\n\r\n{}", "unsupported transfer coding");
    expect_refused(POST_HEAD "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                   "unsupported transfer coding");
    expect_refused(POST_HEAD "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "2\r\n{}\r\n0\r\n\r\n",
                   "unsupported transfer coding");
    /* Plain chunked is framing haat accepts. */
    expect_status(POST_HEAD "Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n"
                            "2\r\n{}\r\n0\r\n\r\n",
                  "HTTP/1.1 422 ");
}

static void test_host_header(void **state)
{
    (void)state;
    expect_refused("GET /healthz HTTP/1.1\r\n\r\n", "needs a Host header");
    expect_refused("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "more than one Host");
    expect_status("GET /healthz HTTP/1.0\r\n\r\n", "HTTP/1.1 200 "); /* optional in 1.0 */
    expect_status("GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 ");
}

static void test_whitespace_in_header_name(void **state)
{
    (void)state;
    expect_refused("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello",
                   "whitespace in a header name");
}

/* What libmicrohttpd 0.9.75 answers itself, before haat sees the request (its own HTML, and
 * the connection closed): the decision record lists these. */
static void test_answered_by_libmicrohttpd(void **state)
{
    (void)state;
    static const char *const malformed[] = {
        POST_HEAD "Content-Length: abc\r\n\r\n{}",
        POST_HEAD "Content-Length: 2, 2\r\n\r\n{}",
        POST_HEAD "Content-Length: -1\r\n\r\n{}",
        POST_HEAD "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        char *got = exchange(malformed[i]);
        bool ok = strncmp(got, "HTTP/1.1 400 ", 13) == 0 && strstr(got, "Connection: close") &&
                  !strstr(got, "problem+json");
        if (!ok)
            print_error("request:\n%s\nanswer:\n%s\n", malformed[i], got);
        free(got);
        assert_true(ok);
    }
    expect_status("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", "HTTP/1.1 505 ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conflicting_content_length),
        cmocka_unit_test(test_length_with_transfer_encoding),
        cmocka_unit_test(test_unknown_transfer_coding),
        cmocka_unit_test(test_host_header),
        cmocka_unit_test(test_whitespace_in_header_name),
        cmocka_unit_test(test_answered_by_libmicrohttpd),
    };
    return HAAT_RUN_GROUP("framing", tests, start, stop);
}
