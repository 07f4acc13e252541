/* The request kit against a real PostgreSQL: the connection rule (a query route's handler gets
 * the read connection, which refuses writes even when DATABASE_READ_URL is the primary's URL),
 * http_txn's held replies (sent after COMMIT, dropped with their headers on rollback), the
 * Idempotency-Key completed inside the command's transaction with Location and ETag replayed,
 * and the database-outcome, UUID and field replies.
 *
 * Needs the dev cluster: DATABASE_URL and HAAT_PG_ADMIN_URL (make test provides both). It makes
 * a throwaway database, migrates it, and drops it at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/test_main.h"
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "internal/app/idempotency.h"
#include "pkg/db/db.h"
#include "pkg/http/http.h"
#include "pkg/http/router.h"
#include "pkg/idem/idem.h"
#include "pkg/log/log.h"

static char dbname[64], dburl[512], adminurl[512];
static struct router *router;
static struct http_server *server;
static char base[64];

static const struct db_stmt stmts[] = {
    {"kit_insert", "INSERT INTO kit_items (id, name) VALUES ($1::uuid, $2) RETURNING id"},
    {"kit_count", "SELECT count(*) FROM kit_items"},
};

/* ---- handlers ---------------------------------------------------------------------------- */

/* A query route that (wrongly) tries to write: the read connection must refuse. */
static void query_writes(struct http_req *r)
{
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    char id[IDS_UUID_LEN];
    ids_uuid7(id);
    const char *p[] = {id, "from a query"};
    enum db_status st = db_exec(c, "kit_insert", DB_PARAMS(p), NULL);
    if (st == DB_OK) {
        http_reply_status(r, 204);
        return;
    }
    http_set_header(r, "X-Sqlstate", db_last_sqlstate());
    http_reply_db(r, st);
}

struct create_ctx {
    struct http_req *r;
    const char *name;
    bool fail_after_reply;
};

static enum db_status create_txn(struct db_conn *c, void *arg)
{
    struct create_ctx *x = arg;
    char id[IDS_UUID_LEN], location[80];
    ids_uuid7(id);
    const char *p[] = {id, x->name};
    enum db_status st = db_exec(c, "kit_insert", DB_PARAMS(p), NULL);
    if (st != DB_OK)
        return st;
    snprintf(location, sizeof location, "/k/items/%s", id);
    http_set_header(x->r, "Location", location);
    http_set_header(x->r, "ETag", "\"1\"");
    http_reply_json(x->r, 201, json_pack("{s:s,s:s}", "id", id, "name", x->name));
    return x->fail_after_reply ? DB_CHECK : DB_OK;
}

/* POST /k/items {"name"}: "fail" rolls back after building the reply. */
static void create(struct http_req *r)
{
    const char *name = json_string_value(json_object_get(http_req_json(r), "name"));
    if (!name) {
        http_reply_field(r, 422, "name", "is required");
        return;
    }
    struct create_ctx x = {r, name, strcmp(name, "fail") == 0};
    enum db_status st = http_txn(r, create_txn, &x);
    if (st == DB_CHECK)
        http_reply_problem(r, 409, "invalid_state", "rolled back on purpose");
    else if (st != DB_OK)
        http_reply_db(r, st);
}

static void by_id(struct http_req *r)
{
    const char *id = http_uuid_param_or_reply(r, "id", "item");
    if (id)
        http_reply_json(r, 200, json_pack("{s:s}", "id", id));
}

static void retry_exhausted(struct http_req *r)
{
    http_reply_db(r, DB_RETRY);
}

static void db_error(struct http_req *r)
{
    http_reply_db(r, DB_ERROR);
}

static const struct http_route queries[] = {
    {"GET", "/k/write", query_writes, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/k/items/{id}", by_id, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/k/retry", retry_exhausted, HTTP_AUTH_NONE, 0, 0},
    {"GET", "/k/error", db_error, HTTP_AUTH_NONE, 0, 0},
};

static const struct http_route commands[] = {
    {"POST", "/k/items", create, HTTP_AUTH_NONE, HTTP_JSON_BODY, 0},
    {"POST", "/k/write", query_writes, HTTP_AUTH_NONE, 0, 0},
};

/* ---- set-up ------------------------------------------------------------------------------ */

/* Any bearer token is the one test user: keys are then scoped to that caller. */
static int fake_auth(const char *bearer, struct http_principal *who)
{
    snprintf(who->user_id, sizeof who->user_id, "0190f7c2-8a1e-7abc-8def-00000000000a");
    who->roles = HTTP_ROLE_BUYER;
    who->phone_verified = true;
    return 0;
}

static void admin_exec(const char *sql)
{
    PGconn *pg = PQconnectdb(adminurl);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
}

static void primary_exec(const char *sql)
{
    PGresult *res = PQexec(db_pg(db_conn(DB_PRIMARY)), sql);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
}

static long long count_rows(void)
{
    PGresult *res = NULL;
    assert_int_equal(db_query(DB_PRIMARY, "kit_count", 0, NULL, &res), DB_OK);
    long long n = db_col_ll(res, 0, 0);
    PQclear(res);
    return n;
}

static int setup(void **state)
{
    const char *url = getenv("DATABASE_URL"), *admin = getenv("HAAT_PG_ADMIN_URL");
    if (!url || !admin)
        fail_msg("DATABASE_URL and HAAT_PG_ADMIN_URL must be set (make test sets them)");
    log_init("error", "json");
    assert_true(sodium_init() >= 0);
    snprintf(adminurl, sizeof adminurl, "%s", admin);
    snprintf(dbname, sizeof dbname, "haat_kit_%d", (int)getpid());
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", dbname);
    admin_exec(sql);
    /* the admin URL with the throwaway database instead of postgres */
    const char *slash = strrchr(admin, '/');
    snprintf(dburl, sizeof dburl, "%.*s/%s", (int)(slash - admin), admin, dbname);
    assert_true(db_migrate(dburl, "migrations") >= 0);
    assert_int_equal(db_init(dburl, dburl), 0); /* read URL == primary URL */
    idem_init();
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
    primary_exec("CREATE TABLE kit_items (id uuid PRIMARY KEY, name text NOT NULL)");
    curl_global_init(CURL_GLOBAL_ALL);
    router = router_new();
    router_add(router, HTTP_QUERIES, queries, sizeof queries / sizeof queries[0]);
    router_add(router, HTTP_COMMANDS, commands, sizeof commands / sizeof commands[0]);
    struct http_server_opts o = {.host = "127.0.0.1",
                                 .threads = 2,
                                 .connection_limit = 64,
                                 .timeout_s = 10,
                                 .connection_memory = 64 * 1024};
    server = http_server_new(&o, router);
    http_server_set_auth(server, fake_auth);
    http_server_set_idempotency(server, app_idem_hooks());
    assert_int_equal(http_server_start(server), 0);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", http_server_port(server));
    return 0;
}

static int teardown(void **state)
{
    http_server_stop(server, 2000);
    http_server_free(server);
    router_free(router);
    db_shutdown();
    curl_global_cleanup();
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", dbname);
    admin_exec(sql);
    return 0;
}

/* ---- a small client ---------------------------------------------------------------------- */

struct resp {
    long status;
    char body[4096];
    size_t len;
    char headers[4096];
    size_t hlen;
    json_t *json;
};

static size_t keep(char *data, size_t size, size_t n, char *buf, size_t *len, size_t cap)
{
    size_t add = size * n, room = cap - 1 - *len;
    size_t k = add < room ? add : room;
    memcpy(buf + *len, data, k);
    *len += k;
    buf[*len] = '\0';
    return add;
}

static size_t on_body(char *d, size_t s, size_t n, void *arg)
{
    struct resp *r = arg;
    return keep(d, s, n, r->body, &r->len, sizeof r->body);
}

static size_t on_header(char *d, size_t s, size_t n, void *arg)
{
    struct resp *r = arg;
    return keep(d, s, n, r->headers, &r->hlen, sizeof r->headers);
}

static long call(const char *method, const char *path, const char *body, const char *key,
                 struct resp *out)
{
    memset(out, 0, sizeof *out);
    char url[256], idem[300];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *h = curl_easy_init();
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    if (key) { /* keyed requests come from the signed-in test user */
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", key);
        hs = curl_slist_append(hs, idem);
        hs = curl_slist_append(hs, "Authorization: Bearer test");
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hs);
    out->json = json_loadb(out->body, out->len, JSON_DECODE_ANY, NULL);
    return out->status;
}

/* The value of header name (copied into buf), or NULL. */
static const char *header(const struct resp *r, const char *name, char *buf, size_t n)
{
    size_t nl = strlen(name);
    for (const char *line = r->headers; *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end)
            break;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1 + strspn(line + nl + 1, " ");
            snprintf(buf, n, "%.*s", (int)(end - v), v);
            return buf;
        }
        line = end + 2;
    }
    return NULL;
}

static const char *code_of(const struct resp *r)
{
    return json_string_value(json_object_get(r->json, "code"));
}

/* ---- tests ------------------------------------------------------------------------------- */

/* CQRS: a query route's handler is handed the read connection, which refuses to write even
 * though DATABASE_READ_URL here is the primary's own URL; the same handler on a command route
 * (the primary) writes. */
static void test_query_routes_cannot_write(void **state)
{
    struct resp r;
    char v[64];
    long long before = count_rows();
    assert_int_equal(call("GET", "/k/write", NULL, NULL, &r), 500);
    assert_string_equal(code_of(&r), "internal");
    assert_string_equal(header(&r, "X-Sqlstate", v, sizeof v), "25006"); /* read-only txn */
    json_decref(r.json);
    assert_int_equal(count_rows(), before);
    assert_int_equal(call("POST", "/k/write", NULL, NULL, &r), 204);
    assert_int_equal(count_rows(), before + 1);
}

static void test_txn_reply_after_commit(void **state)
{
    struct resp r;
    char v[128];
    long long before = count_rows();
    assert_int_equal(call("POST", "/k/items", "{\"name\":\"a\"}", NULL, &r), 201);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "a");
    assert_non_null(header(&r, "Location", v, sizeof v));
    assert_string_equal(header(&r, "ETag", v, sizeof v), "\"1\"");
    json_decref(r.json);
    assert_int_equal(count_rows(), before + 1);
}

/* A reply built inside a transaction that rolls back is never sent, nor its headers. */
static void test_txn_rollback_drops_reply(void **state)
{
    struct resp r;
    char v[128];
    long long before = count_rows();
    assert_int_equal(call("POST", "/k/items", "{\"name\":\"fail\"}", NULL, &r), 409);
    assert_string_equal(code_of(&r), "invalid_state");
    assert_null(header(&r, "Location", v, sizeof v));
    assert_null(header(&r, "ETag", v, sizeof v));
    json_decref(r.json);
    assert_int_equal(count_rows(), before);
}

/* The key completes in the command's commit; the replay has the first answer's body,
 * Location and ETag, and runs nothing. */
static void test_idempotent_replay_with_headers(void **state)
{
    struct resp a, b;
    char la[128], lb[128], e[32];
    long long before = count_rows();
    assert_int_equal(call("POST", "/k/items", "{\"name\":\"k\"}", "kit-key-1", &a), 201);
    assert_int_equal(call("POST", "/k/items", "{\"name\":\"k\"}", "kit-key-1", &b), 201);
    assert_int_equal(count_rows(), before + 1);
    assert_string_equal(header(&b, "Idempotent-Replayed", e, sizeof e), "true");
    assert_string_equal(header(&a, "Location", la, sizeof la),
                        header(&b, "Location", lb, sizeof lb));
    assert_string_equal(header(&b, "ETag", e, sizeof e), "\"1\"");
    assert_string_equal(a.body, b.body);
    json_decref(a.json);
    json_decref(b.json);
    assert_int_equal(call("POST", "/k/items", "{\"name\":\"other\"}", "kit-key-1", &b), 422);
    assert_string_equal(code_of(&b), "idempotency_key_reused");
    json_decref(b.json);
}

/* A rolled-back command committed nothing, so its key is released: a retry runs again (not a
 * replay), and the same key then serves the corrected request. */
static void test_idempotent_rollback_keeps_nothing_done(void **state)
{
    struct resp r;
    char v[32];
    long long before = count_rows();
    assert_int_equal(call("POST", "/k/items", "{\"name\":\"fail\"}", "kit-key-2", &r), 409);
    json_decref(r.json);
    assert_int_equal(call("POST", "/k/items", "{\"name\":\"fail\"}", "kit-key-2", &r), 409);
    assert_null(header(&r, "Idempotent-Replayed", v, sizeof v));
    json_decref(r.json);
    assert_int_equal(count_rows(), before);
    assert_int_equal(call("POST", "/k/items", "{\"name\":\"b\"}", "kit-key-2", &r), 201);
    json_decref(r.json);
    assert_int_equal(count_rows(), before + 1);
}

/* A claim taken over (stale) is no longer ours: completing it fails, so the command's
 * transaction rolls back and its effect cannot happen twice. */
struct lost_ctx {
    const char *claim;
    enum db_status got;
};

static enum db_status complete_lost(struct db_conn *c, void *arg)
{
    struct lost_ctx *x = arg;
    struct idem_response resp = {201, "application/json", "{}", 2, NULL, NULL};
    x->got = idem_complete_txn(c, "kit scope", "kit-lost", x->claim, &resp);
    return x->got;
}

static void test_lost_claim_cannot_complete(void **state)
{
    char claim[IDEM_CLAIM_LEN], hash[IDEM_HASH_LEN];
    idem_hash("POST", "/k/lost", "{}", 2, hash);
    assert_int_equal(idem_begin("kit scope", "kit-lost", hash, claim, NULL), IDEM_PROCEED);
    primary_exec("UPDATE idempotency_keys SET claim_id = gen_random_uuid() "
                 "WHERE key = 'kit-lost'"); /* another request took it over */
    struct lost_ctx x = {claim, DB_OK};
    assert_int_equal(db_txn(DB_PRIMARY, complete_lost, &x), DB_NOT_FOUND);
    assert_int_equal(x.got, DB_NOT_FOUND);
    PGresult *res =
        PQexec(db_pg(db_conn(DB_PRIMARY)), "SELECT completed_at IS NULL FROM idempotency_keys "
                                           "WHERE key = 'kit-lost'");
    assert_string_equal(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
}

static void test_outcome_replies(void **state)
{
    struct resp r;
    char v[32];
    assert_int_equal(call("GET", "/k/retry", NULL, NULL, &r), 503);
    assert_string_equal(code_of(&r), "service_unavailable");
    assert_string_equal(header(&r, "Retry-After", v, sizeof v), "1");
    json_decref(r.json);
    assert_int_equal(call("GET", "/k/error", NULL, NULL, &r), 500);
    assert_string_equal(code_of(&r), "internal");
    assert_null(header(&r, "Retry-After", v, sizeof v));
    json_decref(r.json);
}

static void test_uuid_param_and_field_error(void **state)
{
    struct resp r;
    assert_int_equal(call("GET", "/k/items/not-a-uuid", NULL, NULL, &r), 404);
    assert_string_equal(code_of(&r), "not_found");
    assert_string_equal(json_string_value(json_object_get(r.json, "detail")), "no such item");
    json_decref(r.json);
    assert_int_equal(call("GET", "/k/items/0190f7c2-8a1e-7abc-8def-0123456789ab", NULL, NULL, &r),
                     200);
    json_decref(r.json);
    assert_int_equal(call("POST", "/k/items", "{}", NULL, &r), 422);
    assert_string_equal(code_of(&r), "validation_failed");
    json_t *e0 = json_array_get(json_object_get(r.json, "errors"), 0);
    assert_string_equal(json_string_value(json_object_get(e0, "field")), "name");
    assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 1);
    json_decref(r.json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_routes_cannot_write),
        cmocka_unit_test(test_txn_reply_after_commit),
        cmocka_unit_test(test_txn_rollback_drops_reply),
        cmocka_unit_test(test_idempotent_replay_with_headers),
        cmocka_unit_test(test_idempotent_rollback_keeps_nothing_done),
        cmocka_unit_test(test_lost_claim_cannot_complete),
        cmocka_unit_test(test_outcome_replies),
        cmocka_unit_test(test_uuid_param_and_field_error),
    };
    return HAAT_RUN_GROUP("http_kit", tests, setup, teardown);
}
