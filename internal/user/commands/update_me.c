/* PATCH /v1/me {name} -> 200 user
 *
 * Changes only the caller's name (2-100 characters). Every other member (roles, email,
 * phone, *_verified, id, status, seller_id, ...) is ignored: never applied. There is no path
 * parameter: the account is always the token's subject, so no user can touch another's. */
#include <stddef.h>

#include "internal/user/internal.h"

struct body {
    const char *name; /* NULL when absent: nothing changes */
};

static const struct jsonh_field spec[] = {
    {.name = "name",
     .type = JSONH_STRING,
     .flags = JSONH_NOT_BLANK,
     .min = 2,
     .max = 100,
     .check = user_check_name,
     .offset = offsetof(struct body, name)},
    {0},
};

struct ctx {
    struct http_req *req;
    const char *name;
    struct user_rec user;
    bool replied;
};

static enum db_status update_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    const struct http_principal *who = http_req_principal(x->req);
    user_rec_cleanup(&x->user);
    enum db_status st = user_repo_get(c, USER_BY_ID, who->user_id, true, &x->user);
    if (st != DB_OK || x->user.suspended || !x->name)
        return st;
    st = user_repo_set_name(c, who->user_id, x->name);
    user_rec_cleanup(&x->user);
    return st == DB_OK ? user_repo_get(c, USER_BY_ID, who->user_id, false, &x->user) : st;
}

void user_update_me(struct http_req *r)
{
    struct body b = {0};
    if (!http_parse_or_reply(r, spec, &b))
        return;
    struct ctx x = {.req = r, .name = b.name};
    enum db_status st = db_txn(DB_PRIMARY, update_txn, &x);
    if (st == DB_NOT_FOUND) {
        http_reply_unauthorized(r, USER_NO_CALLER);
    } else if (st != DB_OK) {
        http_reply_db(r, st);
    } else if (x.user.suspended) {
        user_reply_suspended(r);
    } else {
        http_reply_json(r, 200, user_rec_json(&x.user));
    }
    user_rec_cleanup(&x.user);
}
