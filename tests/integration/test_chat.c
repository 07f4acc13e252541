/* Integration tests of the chat against the real binary: conversations and messages, the
 * inbox with unread counts, message paging by seq, participants only, blocks, reports, the
 * send rate, and the event streams across two instances on one database — delivery delay,
 * the listener's connection killed and nothing lost, Last-Event-ID resume, the heartbeat,
 * the per-user and per-process stream limits. */
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/catalog_fixtures.h"
#include "tests/test_main.h"

/* Instance B: a second serve on the same database (default settings: 15 s heartbeat). */
static struct h_server srv_b;

#define A_ENV_STREAMS_MAX "HAAT_CHAT_STREAMS_MAX=6"
#define PER_USER          2
#define SENDS_PER_MIN     6

/* ---- helpers ---------------------------------------------------------------------------- */

static long call_on(struct h_server *s, const struct actor *a, const char *method, const char *path,
                    const char *body, struct h_resp *r)
{
    char auth[1200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", a->token);
    const char *hdrs[] = {auth, NULL};
    h_resp_cleanup(r);
    memset(r, 0, sizeof *r);
    return h_request(s, method, path, body, hdrs, r);
}

static void admin_actor(struct actor *a)
{
    fx_actor(a, false);
    free(a->token);
    long long now = (long long)time(NULL);
    char claims[512];
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\",\"admin\"],\"pv\":true,\"iat\":%lld,"
             "\"exp\":%lld}",
             a->id, now, now + 600);
    a->token = h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
}

/* A seller with a product, and a buyer; *conv gets the conversation the buyer opened with
 * text (asserting 201). */
struct pair {
    struct actor seller, buyer;
    char product[37], conv[37], first_msg[37];
};

static void pair_open(struct pair *p, const char *text)
{
    fx_actor(&p->seller, true);
    fx_actor(&p->buyer, false);
    json_t *prod = fx_create(&p->seller, "Vintage brass lamp", NULL);
    snprintf(p->product, sizeof p->product, "%s", fx_str(prod, "id"));
    json_decref(prod);
    struct h_resp r = {0};
    char body[512];
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"message\":\"%s\"}", p->product, text);
    fx_call(&p->buyer, "POST", "/v1/conversations", body, NULL, &r);
    h_assert_status(&r, 201);
    snprintf(p->conv, sizeof p->conv, "%s", fx_str(r.json, "id"));
    snprintf(p->first_msg, sizeof p->first_msg, "%s",
             fx_str(json_object_get(r.json, "message"), "id"));
    h_resp_cleanup(&r);
}

static void pair_free(struct pair *p)
{
    fx_actor_free(&p->seller);
    fx_actor_free(&p->buyer);
}

/* Posts text into the conversation as a through s; returns the message id (static buffer
 * per call site is the caller's out). */
static void post_msg(struct h_server *s, const struct actor *a, const char *conv, const char *text,
                     char out[37])
{
    struct h_resp r = {0};
    char path[128], body[256];
    snprintf(path, sizeof path, "/v1/conversations/%s/messages", conv);
    snprintf(body, sizeof body, "{\"body\":\"%s\"}", text);
    call_on(s, a, "POST", path, body, &r);
    h_assert_status(&r, 201);
    if (out)
        snprintf(out, 37, "%s", fx_str(r.json, "id"));
    h_resp_cleanup(&r);
}

/* ---- a raw SSE client ------------------------------------------------------------------- */

struct sse {
    int fd;
    bool eof;
    struct strbuf_s {
        char *buf;
        size_t len, cap;
    } in;
};

static void sse_append(struct sse *e, const char *b, size_t n)
{
    if (e->in.len + n + 1 > e->in.cap) {
        e->in.cap = (e->in.len + n + 1) * 2;
        e->in.buf = realloc(e->in.buf, e->in.cap);
    }
    memcpy(e->in.buf + e->in.len, b, n);
    e->in.len += n;
    e->in.buf[e->in.len] = '\0';
}

/* Opens path on s as a; last_id may be NULL. Returns the HTTP status line's code. */
static int sse_open(struct sse *e, const struct h_server *s, const struct actor *a,
                    const char *path, const char *last_id)
{
    memset(e, 0, sizeof *e);
    e->fd = h_tcp_connect(s->port);
    assert_true(e->fd >= 0);
    char req[2048], lei[128] = "";
    if (last_id)
        snprintf(lei, sizeof lei, "Last-Event-ID: %s\r\n", last_id);
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
             "Authorization: Bearer %s\r\n%s\r\n",
             path, a->token, lei);
    assert_int_equal(h_tcp_send(e->fd, req, strlen(req)), 0);
    long long end = h_now_ms() + 5000;
    while (!(e->in.buf && strstr(e->in.buf, "\r\n\r\n")) && h_now_ms() < end) {
        struct pollfd p = {.fd = e->fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            char b[4096];
            ssize_t n = recv(e->fd, b, sizeof b, 0);
            if (n <= 0)
                break;
            sse_append(e, b, (size_t)n);
        }
    }
    assert_non_null(e->in.buf);
    return atoi(e->in.buf + 9);
}

/* Reads until needle appears (true) or timeout_ms passes / the server closes (false). */
static bool sse_wait(struct sse *e, const char *needle, int timeout_ms)
{
    long long end = h_now_ms() + timeout_ms;
    for (;;) {
        if (e->in.buf && strstr(e->in.buf, needle))
            return true;
        long long left = end - h_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = e->fd, .events = POLLIN};
        if (poll(&p, 1, (int)(left < 100 ? left : 100)) > 0) {
            char b[4096];
            ssize_t n = recv(e->fd, b, sizeof b, 0);
            if (n <= 0) {
                e->eof = true;
                return false;
            }
            sse_append(e, b, (size_t)n);
        }
    }
}

/* True when the server closed the stream within timeout_ms. */
static bool sse_closed(struct sse *e, int timeout_ms)
{
    sse_wait(e, "\x01never\x01", timeout_ms);
    return e->eof;
}

static size_t sse_count(const struct sse *e, const char *needle)
{
    size_t n = 0;
    for (const char *p = e->in.buf; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void sse_close(struct sse *e)
{
    if (e->fd >= 0)
        close(e->fd);
    e->fd = -1;
    free(e->in.buf);
    e->in.buf = NULL;
}

/* ---- conversations and messages --------------------------------------------------------- */

static void test_start_conversation(void **state)
{
    struct pair p;
    pair_open(&p, "Is it still available?");
    struct h_resp r = {0};
    char body[256];
    /* Again: the same conversation, 200, the message appended. */
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"message\":\"  Hello again  \"}",
             p.product);
    fx_call(&p.buyer, "POST", "/v1/conversations", body, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "id"), p.conv);
    json_t *m = json_object_get(r.json, "message");
    assert_string_equal(fx_str(m, "body"), "Hello again"); /* trimmed */
    assert_int_equal(fx_int(m, "seq"), 2);
    assert_string_equal(fx_str(r.json, "product_title"), "Vintage brass lamp");
    assert_string_equal(fx_str(json_object_get(r.json, "other_party"), "id"), p.seller.id);
    assert_string_equal(fx_str(json_object_get(r.json, "other_party"), "display_name"),
                        "Test Seller");
    /* The seller of the product may not open one with themself. */
    fx_call(&p.seller, "POST", "/v1/conversations", body, NULL, &r);
    h_assert_problem(&r, 422, "cannot_message_self");
    /* Unknown product, bad bodies. */
    fx_call(&p.buyer, "POST", "/v1/conversations",
            "{\"product_id\":\"0190d7a6-0000-7000-8000-000000000000\",\"message\":\"x\"}", NULL,
            &r);
    h_assert_problem(&r, 404, "not_found");
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"message\":\"   \"}", p.product);
    expect_fields(&p.buyer, "POST", "/v1/conversations", body, "message");
    expect_fields(&p.buyer, "POST", "/v1/conversations", "{\"product_id\":\"nope\"}",
                  "product_id,message");
    h_resp_cleanup(&r);
    pair_free(&p);
}

static void test_messages_and_inbox(void **state)
{
    struct pair p;
    pair_open(&p, "one");
    char ids[5][37], path[512];
    snprintf(ids[0], 37, "%s", p.first_msg);
    post_msg(&cat_srv, &p.buyer, p.conv, "two", ids[1]);
    post_msg(&cat_srv, &p.buyer, p.conv, "<b>three</b> \\\"quoted\\\"\\nend", ids[2]);
    struct h_resp r = {0};
    /* The seller's inbox: one conversation, three unread, the last message. */
    fx_call(&p.seller, "GET", "/v1/conversations", NULL, NULL, &r);
    h_assert_status(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    json_t *c = json_array_get(items, 0);
    assert_int_equal(fx_int(c, "unread_count"), 3);
    assert_string_equal(fx_str(json_object_get(c, "last_message"), "body"),
                        "<b>three</b> \"quoted\"\nend");
    assert_string_equal(fx_str(json_object_get(c, "other_party"), "id"), p.buyer.id);
    assert_string_equal(fx_str(c, "product_title"), "Vintage brass lamp");
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    /* The seller replies (their own unread goes to 0), the buyer has one unread. */
    post_msg(&cat_srv, &p.seller, p.conv, "yes", ids[3]);
    fx_call(&p.buyer, "GET", "/v1/conversations", NULL, NULL, &r);
    assert_int_equal(fx_int(json_array_get(json_object_get(r.json, "items"), 0), "unread_count"),
                     1);
    fx_call(&p.seller, "GET", "/v1/conversations", NULL, NULL, &r);
    assert_int_equal(fx_int(json_array_get(json_object_get(r.json, "items"), 0), "unread_count"),
                     0);
    post_msg(&cat_srv, &p.buyer, p.conv, "five", ids[4]);
    /* Read up to the 2nd: unread = messages of the buyer after it = 3, 5 ... only the other
     * party's: "<b>three", "five" (the seller's own "yes" does not count). */
    snprintf(path, sizeof path, "/v1/conversations/%s/read", p.conv);
    char body[128];
    snprintf(body, sizeof body, "{\"up_to_message_id\":\"%s\"}", ids[1]);
    fx_call(&p.seller, "POST", path, body, NULL, &r);
    h_assert_status(&r, 204);
    fx_call(&p.seller, "GET", "/v1/conversations", NULL, NULL, &r);
    assert_int_equal(fx_int(json_array_get(json_object_get(r.json, "items"), 0), "unread_count"),
                     1);
    snprintf(body, sizeof body, "{\"up_to_message_id\":\"%s\"}", ids[4]);
    fx_call(&p.seller, "POST", path, body, NULL, &r);
    h_assert_status(&r, 204);
    fx_call(&p.seller, "GET", "/v1/conversations", NULL, NULL, &r);
    assert_int_equal(fx_int(json_array_get(json_object_get(r.json, "items"), 0), "unread_count"),
                     0);
    fx_call(&p.seller, "POST", path,
            "{\"up_to_message_id\":\"0190d7a6-0000-7000-8000-000000000000\"}", NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    /* Messages: oldest first; the latest page; before; after; cursors. */
    snprintf(path, sizeof path, "/v1/conversations/%s/messages?limit=2", p.conv);
    fx_call(&p.buyer, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(fx_str(json_array_get(items, 0), "id"), ids[3]);
    assert_string_equal(fx_str(json_array_get(items, 1), "id"), ids[4]);
    char cursor[256];
    snprintf(cursor, sizeof cursor, "%s", fx_str(r.json, "next_cursor"));
    snprintf(path, sizeof path, "/v1/conversations/%s/messages?limit=2&cursor=%s", p.conv, cursor);
    fx_call(&p.buyer, "GET", path, NULL, NULL, &r);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(fx_str(json_array_get(items, 0), "id"), ids[1]);
    assert_string_equal(fx_str(json_array_get(items, 1), "id"), ids[2]);
    snprintf(path, sizeof path, "/v1/conversations/%s/messages?after=%s&limit=3", p.conv, ids[0]);
    fx_call(&p.buyer, "GET", path, NULL, NULL, &r);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_int_equal(fx_int(json_array_get(items, 0), "seq"), 2);
    assert_int_equal(fx_int(json_array_get(items, 2), "seq"), 4);
    assert_true(json_is_string(json_object_get(r.json, "next_cursor")));
    snprintf(path, sizeof path, "/v1/conversations/%s/messages?before=%s", p.conv, ids[2]);
    fx_call(&p.buyer, "GET", path, NULL, NULL, &r);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(fx_str(json_array_get(items, 0), "id"), ids[0]);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    /* Anyone else: 404 everywhere. */
    struct actor other;
    fx_actor(&other, false);
    fx_call(&other, "GET", path, NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    snprintf(path, sizeof path, "/v1/conversations/%s/messages", p.conv);
    fx_call(&other, "POST", path, "{\"body\":\"hi\"}", NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    snprintf(path, sizeof path, "/v1/conversations/%s/events", p.conv);
    fx_call(&other, "GET", path, NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&other, "GET", "/v1/conversations", NULL, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    fx_actor_free(&other);
    h_resp_cleanup(&r);
    pair_free(&p);
}

static void test_body_limits(void **state)
{
    struct pair p;
    pair_open(&p, "hi");
    char path[128];
    snprintf(path, sizeof path, "/v1/conversations/%s/messages", p.conv);
    char *big = malloc(4100 + 32);
    strcpy(big, "{\"body\":\"");
    memset(big + 9, 'x', 4001);
    strcpy(big + 9 + 4001, "\"}");
    expect_fields(&p.buyer, "POST", path, big, "body");
    big[9 + 4000] = '"';
    big[9 + 4001] = '}';
    big[9 + 4002] = '\0';
    struct h_resp r = {0};
    fx_call(&p.buyer, "POST", path, big, NULL, &r);
    h_assert_status(&r, 201);
    free(big);
    expect_fields(&p.buyer, "POST", path, "{\"body\":\" \\n\\t \"}", "body");
    expect_fields(&p.buyer, "POST", path, "{\"body\":\"\\u001b[31mred\"}", "body");
    expect_fields(&p.buyer, "POST", path, "{\"body\":\"abc\u202edef\"}", "body");
    expect_fields(&p.buyer, "POST", path, "{\"body\":\"\u00a0\u3000\"}", "body");
    fx_call(&p.buyer, "POST", path, "{\"body\":\"two\\nlines\\tand a tab\"}", NULL, &r);
    h_assert_status(&r, 201);
    h_resp_cleanup(&r);
    pair_free(&p);
}

static void test_send_rate(void **state)
{
    struct pair p;
    pair_open(&p, "m0");
    for (int i = 1; i < SENDS_PER_MIN; i++)
        post_msg(&cat_srv, &p.buyer, p.conv, "more", NULL);
    struct h_resp r = {0};
    char path[128];
    snprintf(path, sizeof path, "/v1/conversations/%s/messages", p.conv);
    fx_call(&p.buyer, "POST", path, "{\"body\":\"too many\"}", NULL, &r);
    h_assert_problem(&r, 429, "rate_limited");
    const char *ra = h_resp_header(&r, "Retry-After");
    assert_non_null(ra);
    assert_true(atoi(ra) >= 1 && atoi(ra) <= 60);
    /* Per user: the seller still may. */
    post_msg(&cat_srv, &p.seller, p.conv, "fine", NULL);
    h_resp_cleanup(&r);
    pair_free(&p);
}

/* ---- safety ---------------------------------------------------------------------------- */

static void test_block(void **state)
{
    struct pair p;
    pair_open(&p, "hello");
    struct h_resp r = {0};
    char path[128], body[256];
    snprintf(path, sizeof path, "/v1/users/%s/block", p.buyer.id);
    fx_call(&p.seller, "POST", path, NULL, NULL, &r);
    h_assert_status(&r, 204);
    fx_call(&p.seller, "POST", path, NULL, NULL, &r);
    h_assert_status(&r, 204);
    snprintf(path, sizeof path, "/v1/conversations/%s/messages", p.conv);
    fx_call(&p.buyer, "POST", path, "{\"body\":\"please\"}", NULL, &r);
    h_assert_problem(&r, 403, "blocked");
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"message\":\"again\"}", p.product);
    fx_call(&p.buyer, "POST", "/v1/conversations", body, NULL, &r);
    h_assert_problem(&r, 403, "blocked");
    assert_int_equal(
        fx_count("SELECT count(*) FROM chat_messages WHERE conversation_id = '%s'", p.conv), 1);
    snprintf(path, sizeof path, "/v1/users/%s/block", p.seller.id);
    fx_call(&p.seller, "POST", path, NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&p.seller, "POST", "/v1/users/0190d7a6-0000-7000-8000-000000000000/block", NULL, NULL,
            &r);
    h_assert_problem(&r, 404, "not_found");
    snprintf(path, sizeof path, "/v1/users/%s/block", p.buyer.id);
    fx_call(&p.seller, "DELETE", path, NULL, NULL, &r);
    h_assert_status(&r, 204);
    post_msg(&cat_srv, &p.buyer, p.conv, "thanks", NULL);
    h_resp_cleanup(&r);
    pair_free(&p);
}

static void test_reports(void **state)
{
    struct pair p;
    pair_open(&p, "buy <my> spam");
    struct actor admin, other;
    admin_actor(&admin);
    fx_actor(&other, false);
    struct h_resp r = {0};
    char body[256];
    snprintf(body, sizeof body, "{\"kind\":\"message\",\"id\":\"%s\",\"reason\":\"spam\"}",
             p.first_msg);
    fx_call(&other, "POST", "/v1/reports", body, NULL, &r);
    h_assert_problem(&r, 404, "not_found"); /* not theirs to see */
    fx_call(&p.seller, "POST", "/v1/reports", body, NULL, &r);
    h_assert_status(&r, 201);
    assert_string_equal(fx_str(r.json, "snapshot"), "buy <my> spam");
    assert_string_equal(fx_str(r.json, "kind"), "message");
    assert_string_equal(fx_str(r.json, "reporter_id"), p.seller.id);
    snprintf(body, sizeof body, "{\"kind\":\"product\",\"id\":\"%s\",\"reason\":\"fake\"}",
             p.product);
    fx_call(&other, "POST", "/v1/reports", body, NULL, &r);
    h_assert_status(&r, 201);
    assert_string_equal(fx_str(r.json, "snapshot"), "Vintage brass lamp");
    char product_report[37];
    snprintf(product_report, sizeof product_report, "%s", fx_str(r.json, "id"));
    expect_fields(&other, "POST", "/v1/reports", "{\"kind\":\"order\",\"id\":\"x\"}",
                  "kind,id,reason");
    fx_call(&other, "GET", "/v1/admin/reports", NULL, NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    fx_call(&admin, "GET", "/v1/admin/reports?limit=1", NULL, NULL, &r);
    h_assert_status(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(fx_str(json_array_get(items, 0), "id"), product_report); /* newest */
    assert_true(json_is_string(json_object_get(r.json, "next_cursor")));
    fx_actor_free(&admin);
    fx_actor_free(&other);
    h_resp_cleanup(&r);
    pair_free(&p);
}

/* ---- streams ------------------------------------------------------------------------------ */

/* The backend pid of server s's listener connection. */
static long long listener_pid(const struct h_server *s)
{
    return fx_count("SELECT pid FROM pg_stat_activity WHERE application_name = 'haat-listen:%d'",
                    (int)s->pid);
}

static void test_stream_across_instances(void **state)
{
    struct pair p;
    pair_open(&p, "first");
    char path[160], id[37], want[64];
    snprintf(path, sizeof path, "/v1/conversations/%s/events", p.conv);
    struct sse e;
    assert_int_equal(sse_open(&e, &cat_srv, &p.seller, path, NULL), 200);
    assert_non_null(strstr(e.in.buf, "text/event-stream"));
    assert_true(sse_wait(&e, "retry: 3000", 2000));
    /* Posted through B, seen on A. */
    long long t0 = h_now_ms();
    post_msg(&srv_b, &p.buyer, p.conv, "via B", id);
    snprintf(want, sizeof want, "id: %s", id);
    bool got = sse_wait(&e, want, 5000);
    long long delay = h_now_ms() - t0;
    fprintf(stderr, "chat: message posted on B seen on A's stream after %lld ms\n", delay);
    assert_true(got);
    assert_true(delay < 1000);
    assert_non_null(strstr(e.in.buf, "event: message"));
    assert_non_null(strstr(e.in.buf, "\"conversation_id\""));
    /* Kill A's listener connection; messages stored meanwhile still arrive, once. */
    long long pid = listener_pid(&cat_srv);
    assert_true(pid > 0);
    fx_sql("SELECT pg_terminate_backend(%lld)", pid);
    char lost[2][37];
    post_msg(&srv_b, &p.buyer, p.conv, "while away 1", lost[0]);
    post_msg(&srv_b, &p.seller, p.conv, "while away 2", lost[1]);
    for (int i = 0; i < 2; i++) {
        snprintf(want, sizeof want, "id: %s", lost[i]);
        assert_true(sse_wait(&e, want, 10000));
    }
    long long t1 = h_now_ms();
    while (listener_pid(&cat_srv) <= 0 && h_now_ms() - t1 < 10000)
        h_sleep_ms(50);
    long long pid2 = listener_pid(&cat_srv);
    assert_true(pid2 > 0 && pid2 != pid);
    fprintf(stderr, "chat: listener reconnected (backend %lld -> %lld)\n", pid, pid2);
    /* After the reconnect, live delivery again. */
    t0 = h_now_ms();
    post_msg(&srv_b, &p.buyer, p.conv, "after reconnect", id);
    snprintf(want, sizeof want, "id: %s", id);
    assert_true(sse_wait(&e, want, 5000));
    fprintf(stderr, "chat: after the reconnect, seen after %lld ms\n", h_now_ms() - t0);
    assert_int_equal(sse_count(&e, "event: message"), 4);
    sse_close(&e);
    /* Missed while disconnected: Last-Event-ID replays exactly what came after it. */
    char missed[2][37];
    post_msg(&srv_b, &p.buyer, p.conv, "missed 1", missed[0]);
    post_msg(&cat_srv, &p.seller, p.conv, "missed 2", missed[1]);
    assert_int_equal(sse_open(&e, &srv_b, &p.seller, path, lost[1]), 200);
    snprintf(want, sizeof want, "id: %s", missed[1]);
    assert_true(sse_wait(&e, want, 5000));
    h_sleep_ms(300);
    assert_int_equal(sse_count(&e, "event: message"), 3); /* after reconnect, missed 1, 2 */
    assert_null(strstr(e.in.buf, lost[1]));
    sse_close(&e);
    pair_free(&p);
}

static void test_me_stream(void **state)
{
    struct pair p, q;
    pair_open(&p, "p1");
    pair_open(&q, "q1");
    /* q's seller talks to p's buyer too. */
    char body[256];
    struct h_resp r = {0};
    json_t *prod = fx_create(&q.seller, "Teak chair", NULL);
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"message\":\"hi\"}", fx_str(prod, "id"));
    json_decref(prod);
    fx_call(&p.buyer, "POST", "/v1/conversations", body, NULL, &r);
    h_assert_status(&r, 201);
    char conv2[37], a[37], b[37], c2[37];
    snprintf(conv2, sizeof conv2, "%s", fx_str(r.json, "id"));
    struct sse e;
    assert_int_equal(sse_open(&e, &cat_srv, &p.buyer, "/v1/me/events", NULL), 200);
    post_msg(&srv_b, &p.seller, p.conv, "to buyer", a);
    post_msg(&srv_b, &q.seller, conv2, "from chair seller", b);
    post_msg(&cat_srv, &p.buyer, p.conv, "own message", c2); /* the caller's own, too */
    char want[64];
    snprintf(want, sizeof want, "id: %s", c2);
    assert_true(sse_wait(&e, want, 5000));
    assert_int_equal(sse_count(&e, "event: message"), 3);
    assert_null(strstr(e.in.buf, q.conv)); /* not the buyer's conversation */
    sse_close(&e);
    /* Resume after a: b and c2 and what came since, in both conversations. */
    char d[37];
    post_msg(&srv_b, &q.seller, conv2, "later", d);
    assert_int_equal(sse_open(&e, &srv_b, &p.buyer, "/v1/me/events", a), 200);
    snprintf(want, sizeof want, "id: %s", d);
    assert_true(sse_wait(&e, want, 5000));
    h_sleep_ms(300);
    assert_int_equal(sse_count(&e, "event: message"), 3);
    assert_non_null(strstr(e.in.buf, b));
    assert_null(strstr(e.in.buf, a));
    sse_close(&e);
    h_resp_cleanup(&r);
    pair_free(&p);
    pair_free(&q);
}

static void test_stream_limits(void **state)
{
    struct pair p;
    pair_open(&p, "limits");
    h_sleep_ms(3000); /* streams the tests before closed are noticed by A's 1 s heartbeat */
    struct sse s[PER_USER + 1];
    /* Per user: the oldest is closed when one more opens. */
    for (int i = 0; i <= PER_USER; i++) {
        assert_int_equal(sse_open(&s[i], &cat_srv, &p.buyer, "/v1/me/events", NULL), 200);
        h_sleep_ms(20);
    }
    assert_true(sse_closed(&s[0], 3000));
    assert_false(sse_closed(&s[1], 200));
    /* Process-wide: 6 streams on A; the 7th is a 503. (s[1], s[2] are open.) */
    struct actor u[2];
    struct sse t[4];
    for (int i = 0; i < 2; i++) {
        fx_actor(&u[i], false);
        for (int k = 0; k < 2; k++)
            assert_int_equal(sse_open(&t[i * 2 + k], &cat_srv, &u[i], "/v1/me/events", NULL), 200);
    }
    struct h_resp r = {0};
    fx_call(&p.seller, "GET", "/v1/me/events", NULL, NULL, &r);
    h_assert_problem(&r, 503, "service_unavailable");
    assert_non_null(h_resp_header(&r, "Retry-After"));
    /* A client that goes away frees its slot (noticed by the heartbeat). */
    sse_close(&t[3]);
    struct sse again;
    long long t0 = h_now_ms();
    int status = 0;
    while (h_now_ms() - t0 < 8000) {
        status = sse_open(&again, &cat_srv, &p.seller, "/v1/me/events", NULL);
        if (status == 200)
            break;
        sse_close(&again);
        h_sleep_ms(250);
    }
    assert_int_equal(status, 200);
    fprintf(stderr, "chat: a closed stream's slot was free again after %lld ms\n", h_now_ms() - t0);
    sse_close(&again);
    for (int i = 1; i <= PER_USER; i++)
        sse_close(&s[i]);
    for (int i = 0; i < 3; i++)
        sse_close(&t[i]);
    sse_close(&s[0]);
    for (int i = 0; i < 2; i++)
        fx_actor_free(&u[i]);
    h_resp_cleanup(&r);
    pair_free(&p);
    h_sleep_ms(4500); /* the heartbeat frees the slots for the tests after this one */
}

static void test_heartbeat_default(void **state)
{
    struct pair p;
    pair_open(&p, "hb");
    char path[160];
    snprintf(path, sizeof path, "/v1/conversations/%s/events", p.conv);
    struct sse e;
    long long t0 = h_now_ms();
    assert_int_equal(sse_open(&e, &srv_b, &p.buyer, path, NULL), 200);
    assert_true(sse_wait(&e, ": heartbeat", 17000));
    long long waited = h_now_ms() - t0;
    fprintf(stderr, "chat: heartbeat (default interval) seen after %lld ms\n", waited);
    assert_true(waited >= 1000);
    sse_close(&e);
    pair_free(&p);
}

static void test_shutdown_ends_streams(void **state)
{
    struct pair p;
    pair_open(&p, "bye");
    struct sse e;
    assert_int_equal(sse_open(&e, &srv_b, &p.buyer, "/v1/me/events", NULL), 200);
    long long t0 = h_now_ms();
    assert_int_equal(h_server_stop(&srv_b), 0);
    assert_true(sse_closed(&e, 2000));
    fprintf(stderr, "chat: serve with an open stream stopped in %lld ms\n", h_now_ms() - t0);
    sse_close(&e);
    pair_free(&p);
}

static int start(void **state)
{
    if (sodium_init() < 0 || h_db_create(cat_db_name, cat_db_url) != 0)
        return -1;
    snprintf(cat_srv.db_url, sizeof cat_srv.db_url, "%s", cat_db_url);
    static const char *const env_a[] = {A_ENV_STREAMS_MAX, "HAAT_CHAT_STREAMS_PER_USER=2",
                                        "HAAT_CHAT_HEARTBEAT_S=1", "HAAT_LIMIT_CHAT_PER_MIN=6",
                                        NULL};
    h_server_start(&cat_srv, env_a);
    snprintf(srv_b.db_url, sizeof srv_b.db_url, "%s", cat_db_url);
    srv_b.no_migrate = true;
    static const char *const env_b[] = {"HAAT_WORKERS=off", "HAAT_LIMIT_CHAT_PER_MIN=6", NULL};
    h_server_start(&srv_b, env_b);
    return 0;
}

static int stop(void **state)
{
    h_server_cleanup(&srv_b);
    return fx_stop(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_conversation),
        cmocka_unit_test(test_messages_and_inbox),
        cmocka_unit_test(test_body_limits),
        cmocka_unit_test(test_send_rate),
        cmocka_unit_test(test_block),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_stream_across_instances),
        cmocka_unit_test(test_me_stream),
        cmocka_unit_test(test_stream_limits),
        cmocka_unit_test(test_heartbeat_default),
        cmocka_unit_test(test_shutdown_ends_streams),
    };
    return HAAT_RUN_GROUP("chat", tests, start, stop);
}
