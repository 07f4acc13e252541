/* POST /v1/auth/refresh {refresh_token} -> 200 new token pair
 *
 * Rotation with reuse detection: the presented token is marked rotated and a successor is
 * issued in the same family. Presenting a token that was already rotated (or revoked) means
 * two parties hold it, so the whole family is revoked, the newest token included, and the
 * answer is 401. The user is re-read on every refresh: a suspended user's family is revoked
 * too (the access tokens already issued are refused by the auth hook's suspension list). */
#include <sodium.h>

#include "internal/user/internal.h"

struct ctx {
    struct http_req *req;
    char hash[SEC_HEX_LEN];
    struct user_rec user;
    char refresh[USER_REFRESH_LEN];
};

static void reply_invalid(struct http_req *r)
{
    http_reply_unauthorized(r, "the refresh token is not valid");
}

/* A token that must never work again: its whole family is revoked (committed) and the
 * answer is 401. */
static enum db_status revoke(struct db_conn *c, struct ctx *x, const char *family_id)
{
    enum db_status st = user_repo_refresh_revoke_family(c, family_id);
    if (st == DB_OK)
        reply_invalid(x->req);
    return st;
}

/* Rotates a live token and replies the new pair. A reuse (rotated or revoked) or a user who
 * may no longer refresh revokes the family; an unknown or expired token is USER_UNCHANGED. */
static enum db_status refresh_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    struct user_refresh_row row;
    user_rec_cleanup(&x->user);
    enum db_status st = user_repo_refresh_find(c, x->hash, &row);
    if (st != DB_OK)
        return st; /* DB_NOT_FOUND is USER_UNCHANGED: an unknown token */
    if (row.rotated || row.revoked)
        return revoke(c, x, row.family_id);
    if (row.expired)
        return USER_UNCHANGED;
    st = user_repo_get(c, USER_BY_ID, row.user_id, false, &x->user);
    if (st == DB_NOT_FOUND || (st == DB_OK && x->user.suspended))
        return revoke(c, x, row.family_id);
    if (st == DB_OK)
        st = user_repo_refresh_rotate(c, row.id);
    if (st == DB_OK)
        st = user_refresh_issue(c, row.user_id, row.family_id, x->refresh);
    if (st == DB_OK) {
        http_req_set_user(x->req, x->user.id);
        http_reply_json(x->req, 200, user_token_pair_json(&x->user, x->refresh));
    }
    return st;
}

void user_refresh_token(struct http_req *r)
{
    struct ctx x = {.req = r};
    if (!user_refresh_body_or_reply(r, x.hash))
        return;
    enum db_status st = http_txn(r, refresh_txn, &x);
    if (st == USER_UNCHANGED)
        reply_invalid(r);
    else if (st != DB_OK)
        http_reply_db(r, st);
    sodium_memzero(x.refresh, sizeof x.refresh);
    user_rec_cleanup(&x.user);
}
