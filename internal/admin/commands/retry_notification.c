/* POST /v1/admin/notifications/{id}/retry (admin): a failed delivery goes back to the queue
 * under the same id and the delivery job sends it once through the normal path. 202 with
 * {id, status: "queued"}; 404 for no such notification; 409 invalid_state when it is not
 * failed, or is a one-time code (never resent: the user asks for a new one). Audited as
 * notification.retry. */
#include "internal/admin/internal.h"
#include "internal/notification/notification.h"
#include "pkg/audit/audit.h"

struct retry_ctx {
    struct http_req *r;
    const char *id;
};

static enum db_status retry_txn(struct db_conn *c, void *arg)
{
    struct retry_ctx *x = arg;
    json_t *before = NULL, *after = NULL;
    enum db_status st = notify_admin_retry(c, x->id, &before, &after);
    if (st == DB_OK) {
        const struct audit_entry e = {
            .actor_id = http_req_principal(x->r)->user_id,
            .action = "notification.retry",
            .target_kind = "notification",
            .target_id = x->id,
            .before = before,
            .after = after,
        };
        st = audit_record(c, &e);
    }
    json_decref(before);
    json_decref(after);
    if (st == DB_OK)
        http_reply_json(x->r, 202, json_pack("{s:s,s:s}", "id", x->id, "status", "queued"));
    return st;
}

void admin_retry_notification(struct http_req *r)
{
    const char *id = http_uuid_param_or_reply(r, "id", "notification");
    if (!id)
        return;
    struct retry_ctx x = {.r = r, .id = id};
    enum db_status st = http_txn(r, retry_txn, &x);
    if (st == DB_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such notification");
    else if (st == DB_CONFLICT)
        http_reply_problem(r, 409, "invalid_state",
                           "only a failed notification that is not a one-time code is resent");
    else if (st != DB_OK)
        http_reply_db(r, st);
}
