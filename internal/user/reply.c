/* Reply helpers shared by the module's handlers. */
#include <stdio.h>

#include "internal/user/internal.h"
#include "pkg/log/log.h"

void user_reply_db(struct http_req *r, enum db_status st)
{
    if (st == DB_UNAVAILABLE) {
        http_set_header(r, "Retry-After", "1");
        http_reply_problem(r, 503, "service_unavailable", "the database is unavailable");
        return;
    }
    http_reply_problem(r, 500, "internal", "the server could not answer this request");
}

void user_reply_rate_limited(struct http_req *r, int seconds, const char *detail)
{
    char v[16];
    snprintf(v, sizeof v, "%d", seconds > 0 ? seconds : 1);
    http_set_header(r, "Retry-After", v);
    http_reply_problem(r, 429, "rate_limited", detail);
}

void user_reply_suspended(struct http_req *r)
{
    http_reply_problem(r, 403, "account_suspended", "this account is suspended");
}

void user_reply_unverified(struct http_req *r)
{
    http_reply_problem(r, 403, "verification_required", "verify your phone number first");
}

void user_reply_unauthorized(struct http_req *r, const char *detail)
{
    http_set_header(r, "WWW-Authenticate", "Bearer");
    http_reply_problem(r, 401, "unauthorized", detail);
}

void user_reply_bad_code(struct http_req *r)
{
    http_reply_problem(r, 401, "invalid_code", "the code is wrong, expired or already used");
}

bool user_errors_or_reply(struct http_req *r, struct jsonh_errors *e)
{
    bool ok = !jsonh_errors_any(e);
    if (!ok) /* json_incref: the reply steals a reference, e keeps its own */
        http_reply_problem_errors(r, 422, "validation_failed", "some fields are invalid",
                                  json_incref(e->list));
    jsonh_errors_cleanup(e);
    return ok;
}

bool user_parse_or_reply(struct http_req *r, const struct jsonh_field *spec, void *out)
{
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    jsonh_parse(http_req_json(r), spec, out, &e, NULL);
    return user_errors_or_reply(r, &e);
}

void user_reply_busy(struct http_req *r)
{
    http_set_header(r, "Retry-After", USER_BUSY_RETRY_S);
    http_reply_problem(r, 503, "service_unavailable", "too many requests right now; retry soon");
}

bool user_pwjob_submit_or_reply(struct http_req *r, struct sec_pwjob *job)
{
    http_req_defer(r); /* before submitting: the pool may reply at once */
    if (sec_pwpool_submit(job) == 0)
        return true;
    log_warn("user_pwpool_full", "password pool full or stopped: %s answered 503",
             http_req_route(r));
    user_reply_busy(r);
    return false;
}

bool user_load_caller_or_reply(struct http_req *r, struct db_conn *c, struct user_rec *u)
{
    const struct http_principal *who = http_req_principal(r);
    enum db_status st = who ? user_repo_get(c, USER_BY_ID, who->user_id, false, u) : DB_NOT_FOUND;
    if (st == DB_OK && !u->suspended)
        return true;
    if (st == DB_OK) {
        user_reply_suspended(r);
    } else if (st == DB_NOT_FOUND) {
        user_reply_unauthorized(r, USER_NO_CALLER);
    } else {
        user_reply_db(r, st);
    }
    user_rec_cleanup(u);
    return false;
}
