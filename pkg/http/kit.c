/* The request kit: the database connection rule, database outcomes as replies, body parsing
 * and validation replies, UUID path parameters, and the command transaction with held replies
 * and in-transaction idempotency. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "pkg/http/internal.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"
#include "pkg/util/failpoint.h"

static struct metrics_counter *m_token_reads;

static void token_metrics_init(void)
{
    static const char *const labels[] = {"served_by"};
    m_token_reads = metrics_counter_new("http_consistent_reads_total",
                                        "Queries that carried X-Haat-Consistency, by the "
                                        "connection that answered them (read or primary).",
                                        1, labels);
}

/* Read-your-writes: a query that carries a consistency token (X-Haat-Consistency, the commit
 * position a command answered with) is served by the read connection only when that has
 * replayed the token, else by the primary; a malformed token is served by the primary too
 * (never an older state). Decided once per request. */
static enum db_target query_target(struct http_req *r)
{
    const char *token = http_req_header(r, HTTP_CONSISTENCY_HEADER);
    if (!token)
        return DB_READ;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, token_metrics_init);
    bool fresh = db_read_has_replayed(token);
    const char *label[] = {fresh ? "read" : "primary"};
    metrics_counter_inc(m_token_reads, label);
    return fresh ? DB_READ : DB_PRIMARY;
}

struct db_conn *http_req_db(struct http_req *r)
{
    if (r->match.set != HTTP_QUERIES)
        return db_conn(DB_PRIMARY);
    if (!r->db_decided) {
        r->db_target = query_target(r);
        r->db_decided = true;
    }
    return db_conn(r->db_target);
}

struct db_conn *http_req_db_or_reply(struct http_req *r)
{
    struct db_conn *c = http_req_db(r);
    if (!c)
        http_reply_db(r, DB_UNAVAILABLE);
    return c;
}

void http_reply_db(struct http_req *r, enum db_status st)
{
    if (st == DB_UNAVAILABLE || st == DB_RETRY) {
        http_set_header(r, "Retry-After", "1");
        http_reply_problem(r, 503, "service_unavailable",
                           "the database is unavailable; retry shortly");
        return;
    }
    http_reply_problem(r, 500, "internal", "the server could not answer this request");
}

void http_reply_unauthorized(struct http_req *r, const char *detail)
{
    http_set_header(r, "WWW-Authenticate",
                    request_bearer(r) ? "Bearer error=\"invalid_token\"" : "Bearer");
    http_reply_problem(r, 401, "unauthorized",
                       detail ? detail : "a valid access token is required");
}

void http_reply_verification_required(struct http_req *r)
{
    http_reply_problem(r, 403, "verification_required", "verify your phone number first");
}

void http_reply_rate_limited(struct http_req *r, int seconds, const char *detail)
{
    char v[16];
    snprintf(v, sizeof v, "%d", seconds > 0 ? seconds : 1);
    http_set_header(r, "Retry-After", v);
    http_reply_problem(r, 429, "rate_limited", detail);
}

void http_reply_field(struct http_req *r, int status, const char *field, const char *message)
{
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    jsonh_errors_add(&e, field, message);
    /* json_incref: the reply steals a reference, e keeps its own */
    http_reply_problem_errors(r, status, "validation_failed", "some fields are invalid",
                              json_incref(e.list));
    jsonh_errors_cleanup(&e);
}

void http_reply_invalid(struct http_req *r, const struct jsonh_errors *e)
{
    http_reply_problem_errors(r, 422, "validation_failed", "some fields are invalid",
                              json_incref(e->list));
}

bool http_errors_or_reply(struct http_req *r, struct jsonh_errors *e)
{
    bool ok = !jsonh_errors_any(e);
    if (!ok)
        http_reply_invalid(r, e);
    jsonh_errors_cleanup(e);
    return ok;
}

bool http_parse_or_reply(struct http_req *r, const struct jsonh_field *spec, void *out)
{
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    jsonh_parse(http_req_json(r), spec, out, &e, NULL);
    return http_errors_or_reply(r, &e);
}

const char *http_uuid_param_or_reply(struct http_req *r, const char *name, const char *what)
{
    const char *id = http_req_param(r, name);
    if (id && ids_is_uuid(id))
        return id;
    char detail[96];
    snprintf(detail, sizeof detail, "no such %s", what);
    http_reply_problem(r, 404, "not_found", detail);
    return NULL;
}

struct txn_call {
    struct http_req *r;
    db_txn_fn fn;
    void *arg;
};

/* The transaction's body: the command, then (with a key and a reply) the key's completion. */
static enum db_status txn_body(struct db_conn *c, void *arg)
{
    struct txn_call *t = arg;
    struct http_req *r = t->r;
    reply_drop_held(r); /* a rerun after DB_RETRY starts afresh */
    enum db_status st = t->fn(c, t->arg);
    if (st != DB_OK || !r->idem_key || !r->srv->idem || !r->srv->idem->complete_txn)
        return st;
    if (!r->held.set) {
        log_error("http_txn_no_reply", "%s committed without replying inside its transaction",
                  http_req_route(r));
        return st;
    }
    struct http_reply_view v = {r->held.status,
                                r->held.content_type ? r->held.content_type : "",
                                r->held.body,
                                r->held.len,
                                reply_header(r, "Location"),
                                reply_header(r, "ETag")};
    return r->srv->idem->complete_txn(r, c, r->idem_key, r->idem_ctx, &v);
}

enum db_status http_txn(struct http_req *r, db_txn_fn fn, void *arg)
{
    if (r->holding || r->response) {
        log_error("http_txn_misuse", "http_txn nested or after a reply on %s", http_req_route(r));
        return DB_ERROR;
    }
    struct txn_call t = {r, fn, arg};
    r->holding = true;
    r->held_mark = r->nheaders;
    enum db_status st = db_txn(DB_PRIMARY, txn_body, &t);
    r->holding = false;
    if (st != DB_OK) {
        reply_drop_held(r);
        return st;
    }
    if (!r->held.set)
        return DB_OK; /* fn replied nothing: the handler replies (logged above with a key) */
    if (r->idem_key)
        r->idem_recorded = true; /* stored by the commit: finish must not store it again */
    failpoint_crash("http_after_commit");
    reply_release_held(r);
    return DB_OK;
}
