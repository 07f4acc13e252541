/* POST /v1/users/{id}/block (user): the caller blocks that user, who can no longer start or
 * continue a conversation with the caller (403 blocked), so the caller gets no more of their
 * messages nor notifications about them. 204, also when already blocked; 404 for no such
 * user; 422 for the caller's own id. */
#include <stdio.h>
#include <string.h>

#include "internal/chat/internal.h"
#include "internal/user/user.h"

struct block_ctx {
    struct http_req *r;
    const char *blocker, *blocked;
};

static enum db_status block_txn(struct db_conn *c, void *arg)
{
    struct block_ctx *x = arg;
    struct user_name u = {.found = false};
    snprintf(u.user_id, sizeof u.user_id, "%s", x->blocked);
    if (user_display_names(c, &u, 1) != 0)
        return DB_UNAVAILABLE;
    if (!u.found)
        return DB_NOT_FOUND;
    enum db_status st = chat_repo_block(c, x->blocker, x->blocked);
    if (st == DB_OK)
        http_reply_status(x->r, 204);
    return st;
}

void chat_block_user(struct http_req *r)
{
    struct block_ctx x = {r, http_req_principal(r)->user_id,
                          http_uuid_param_or_reply(r, "id", "user")};
    if (!x.blocked)
        return;
    if (strcmp(x.blocker, x.blocked) == 0) {
        http_reply_field(r, 422, "id", "you cannot block yourself");
        return;
    }
    enum db_status st = http_txn(r, block_txn, &x);
    if (st == DB_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such user");
    else if (st != DB_OK)
        http_reply_db(r, st);
}
