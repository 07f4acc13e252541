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
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct body, name)},
    {0},
};

enum refusal { GONE, SUSPENDED };

struct ctx {
    struct http_req *req;
    const char *name;
    struct user_rec user;
    enum refusal refusal; /* with USER_UNCHANGED */
};

/* Sets the name (when given) and replies the user; USER_UNCHANGED when the caller's account
 * is gone or suspended. */
static enum db_status update_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    const char *id = http_req_principal(x->req)->user_id;
    user_rec_cleanup(&x->user);
    x->refusal = GONE;
    enum db_status st = user_repo_get(c, USER_BY_ID, id, true, &x->user);
    if (st != DB_OK)
        return st; /* DB_NOT_FOUND is USER_UNCHANGED: GONE */
    if (x->user.suspended) {
        x->refusal = SUSPENDED;
        return USER_UNCHANGED;
    }
    if (x->name) {
        st = user_repo_set_name(c, id, x->name);
        user_rec_cleanup(&x->user);
        if (st == DB_OK)
            st = user_repo_get(c, USER_BY_ID, id, false, &x->user);
    }
    if (st == DB_OK)
        http_reply_json(x->req, 200, user_rec_json(&x->user));
    return st;
}

void user_update_me(struct http_req *r)
{
    struct body b = {0};
    if (!http_parse_or_reply(r, spec, &b))
        return;
    struct ctx x = {.req = r, .name = b.name};
    enum db_status st = http_txn(r, update_txn, &x);
    if (st == USER_UNCHANGED && x.refusal == SUSPENDED)
        user_reply_suspended(r);
    else if (st == USER_UNCHANGED)
        http_reply_unauthorized(r, NULL);
    else if (st != DB_OK)
        http_reply_db(r, st);
    user_rec_cleanup(&x.user);
}
