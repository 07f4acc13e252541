/* Read-your-writes against the real binary: every command answer carries X-Haat-Consistency
 * (the primary's WAL position after its commit), and a query that sends it back is answered
 * by the read connection only when that has replayed the position, else by the primary.
 * The read side is made stale with pkg/db's test seam (HAAT_TEST_READ_REPLAY_LSN: the read
 * connection reports itself a replica that replayed up to that position), or absent (an
 * unreachable DATABASE_READ_URL: only a query sent to the primary can then be answered). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/integration/harness.h"
#include "tests/integration/user_fixtures.h"
#include "tests/test_main.h"

#define SERVED(side) "http_consistent_reads_total{served_by=\"" side "\"}"

static struct h_server srv;

static int start(void **state)
{
    const char *env[] = {"HAAT_TEST_READ_REPLAY_LSN=0/1", NULL};
    h_server_start(&srv, env);
    return 0;
}

static int stop(void **state)
{
    h_server_stop(&srv);
    h_server_cleanup(&srv);
    return 0;
}

static bool is_lsn(const char *s)
{
    unsigned hi, lo;
    char end;
    return s && sscanf(s, "%8X/%8X%c", &hi, &lo, &end) == 2;
}

/* GET /v1/categories with the token (NULL: none); returns the status. */
static long read_with(const struct h_server *s, const char *token)
{
    char h[128];
    snprintf(h, sizeof h, "X-Haat-Consistency: %s", token ? token : "");
    const char *headers[] = {h, NULL};
    struct h_resp r = {0};
    long st = h_request(s, "GET", "/v1/categories", NULL, token ? headers : NULL, &r);
    h_resp_cleanup(&r);
    return st;
}

static void test_command_answers_carry_a_token(void **state)
{
    struct uf_ident u;
    uf_new_ident(&u);
    struct h_resp r = {0};
    assert_int_equal(uf_post(&srv, "/v1/auth/signup", NULL, &r,
                             "{\"name\":\"Token\",\"email\":\"%s\",\"phone\":\"%s\","
                             "\"password\":\"a-long-password\"}",
                             u.email, u.phone),
                     201);
    assert_true(is_lsn(h_resp_header(&r, "X-Haat-Consistency")));
    /* A refused command answers with one too (the primary's position now). */
    assert_int_equal(uf_post(&srv, "/v1/auth/signup", NULL, &r, "{\"name\":\"\"}"), 422);
    assert_true(is_lsn(h_resp_header(&r, "X-Haat-Consistency")));
    /* Queries do not. */
    h_resp_cleanup(&r);
    assert_int_equal(h_get(&srv, "/v1/categories", &r), 200);
    assert_null(h_resp_header(&r, "X-Haat-Consistency"));
    h_resp_cleanup(&r);
}

static void test_stale_replica_sends_the_query_to_the_primary(void **state)
{
    struct uf_ident u;
    uf_new_ident(&u);
    struct h_resp r = {0};
    assert_int_equal(uf_post(&srv, "/v1/auth/signup", NULL, &r,
                             "{\"name\":\"Stale\",\"email\":\"%s\",\"phone\":\"%s\","
                             "\"password\":\"a-long-password\"}",
                             u.email, u.phone),
                     201);
    char token[32];
    snprintf(token, sizeof token, "%s", h_resp_header(&r, "X-Haat-Consistency"));
    h_resp_cleanup(&r);
    double primary = h_metric_value(&srv, SERVED("primary"));
    double read = h_metric_value(&srv, SERVED("read"));
    if (primary < 0)
        primary = 0;
    if (read < 0)
        read = 0;

    /* The replica (replayed up to 0/1) is behind the write: the primary answers. */
    assert_int_equal(read_with(&srv, token), 200);
    assert_true(h_metric_value(&srv, SERVED("primary")) == primary + 1);
    /* A position it has replayed: the read connection answers. */
    assert_int_equal(read_with(&srv, "0/1"), 200);
    assert_true(h_metric_value(&srv, SERVED("read")) == read + 1);
    /* A token that is not a WAL position is never answered from an older state. */
    assert_int_equal(read_with(&srv, "not-a-position"), 200);
    assert_true(h_metric_value(&srv, SERVED("primary")) == primary + 2);
    /* Without a token nothing is counted. */
    assert_int_equal(read_with(&srv, NULL), 200);
    assert_true(h_metric_value(&srv, SERVED("primary")) == primary + 2);
    assert_true(h_metric_value(&srv, SERVED("read")) == read + 1);
    /* The read side is the primary itself here: no replay lag. */
    assert_true(h_metric_value(&srv, "db_replica_lag_seconds") == 0);
}

/* Without the seam a primary used as the read URL is trivially fresh; with the read side
 * gone a query carrying a token is still answered, by the primary, while one without a token
 * gets 503 (it has no other side to go to). */
static void test_token_routes_around_a_missing_read_side(void **state)
{
    struct h_server s2 = {0};
    snprintf(s2.db_url, sizeof s2.db_url, "%s", srv.db_url);
    const char *env[] = {"DATABASE_READ_URL=postgresql://127.0.0.1:1/none?connect_timeout=1", NULL};
    h_server_start(&s2, env);
    struct h_resp r = {0};
    assert_int_equal(h_request(&s2, "GET", "/v1/categories", NULL, NULL, &r), 503);
    h_resp_cleanup(&r);
    assert_int_equal(read_with(&s2, "0/1"), 200);
    assert_true(h_metric_value(&s2, SERVED("primary")) == 1);
    assert_true(h_metric_value(&s2, "db_replica_lag_seconds") == -1);
    h_server_stop(&s2);
    h_server_cleanup(&s2);

    struct h_server s3 = {0};
    snprintf(s3.db_url, sizeof s3.db_url, "%s", srv.db_url);
    h_server_start(&s3, NULL);
    assert_int_equal(read_with(&s3, "FFFFFFFF/0"), 200);
    assert_true(h_metric_value(&s3, SERVED("read")) == 1);
    h_server_stop(&s3);
    h_server_cleanup(&s3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_answers_carry_a_token),
        cmocka_unit_test(test_stale_replica_sends_the_query_to_the_primary),
        cmocka_unit_test(test_token_routes_around_a_missing_read_side),
    };
    return HAAT_RUN_GROUP("consistency", tests, start, stop);
}
