/* DELETE /v1/users/{id}/block (user): lifts the caller's block of that user. 204, also when
 * there was none (DELETE is idempotent). */
#include "internal/chat/internal.h"

struct unblock_ctx {
    struct http_req *r;
    const char *blocker, *blocked;
};

static enum db_status unblock_txn(struct db_conn *c, void *arg)
{
    struct unblock_ctx *x = arg;
    enum db_status st = chat_repo_unblock(c, x->blocker, x->blocked);
    if (st == DB_OK)
        http_reply_status(x->r, 204);
    return st;
}

void chat_unblock_user(struct http_req *r)
{
    struct unblock_ctx x = {r, http_req_principal(r)->user_id,
                            http_uuid_param_or_reply(r, "id", "user")};
    if (!x.blocked)
        return;
    enum db_status st = http_txn(r, unblock_txn, &x);
    if (st != DB_OK)
        http_reply_db(r, st);
}
