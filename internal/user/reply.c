/* The replies only this module gives (the request kit in pkg/http gives the rest), the
 * password pool hand-off and the caller's record for the /v1/me handlers. */
#include "internal/user/internal.h"
#include "pkg/log/log.h"

void user_reply_suspended(struct http_req *r)
{
    http_reply_problem(r, 403, "account_suspended", "this account is suspended");
}

void user_reply_bad_code(struct http_req *r)
{
    http_reply_problem(r, 401, "invalid_code", "the code is wrong, expired or already used");
}

void user_reply_busy(struct http_req *r)
{
    http_set_header(r, "Retry-After", USER_BUSY_RETRY_S);
    http_reply_problem(r, 503, "service_unavailable", "too many requests right now; retry soon");
}

bool user_pwjob_submit(struct http_req *r, struct sec_pwjob *job)
{
    /* While it waits for the pool the request holds the password and nothing else of its
     * body (the use cases copied what else they need): a burst of big bodies queued here
     * cannot hold their parsed trees. */
    job->password = http_req_keep_string(r, job->password);
    http_req_drop_body(r);
    http_req_defer(r); /* before submitting: the pool may reply at once */
    if (sec_pwpool_submit(job) == 0)
        return true;
    log_warn("user_pwpool_full", "password pool full or stopped: %s answered 503",
             http_req_route(r));
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
        http_reply_unauthorized(r, NULL);
    } else {
        http_reply_db(r, st);
    }
    user_rec_cleanup(u);
    return false;
}
