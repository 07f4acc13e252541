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
    char hash[SEC_HEX_LEN];
    bool ok;
    struct user_rec user;
    char refresh[USER_REFRESH_LEN];
};

/* A dead token: revoke its family when it was a reuse (rotated/revoked) or its user may no
 * longer refresh. The transaction commits so the revocation sticks; the answer is 401. */
static enum db_status refresh_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    struct user_refresh_row row;
    user_rec_cleanup(&x->user);
    x->ok = false;
    enum db_status st = user_repo_refresh_find(c, x->hash, &row);
    if (st == DB_NOT_FOUND)
        return DB_OK;
    if (st != DB_OK)
        return st;
    if (row.rotated || row.revoked)
        return user_repo_refresh_revoke_family(c, row.family_id);
    if (row.expired)
        return DB_OK;
    st = user_repo_get(c, USER_BY_ID, row.user_id, false, &x->user);
    if (st == DB_NOT_FOUND || (st == DB_OK && x->user.suspended))
        return user_repo_refresh_revoke_family(c, row.family_id);
    if (st == DB_OK)
        st = user_repo_refresh_rotate(c, row.id);
    if (st == DB_OK)
        st = user_refresh_issue(c, row.user_id, row.family_id, x->refresh);
    x->ok = st == DB_OK;
    return st;
}

void user_refresh_token(struct http_req *r)
{
    struct ctx x = {0};
    if (!user_refresh_body_or_reply(r, x.hash))
        return;
    enum db_status st = db_txn(DB_PRIMARY, refresh_txn, &x);
    if (st != DB_OK) {
        http_reply_db(r, st);
    } else if (!x.ok) {
        http_reply_unauthorized(r, "the refresh token is not valid");
    } else {
        http_req_set_user(r, x.user.id);
        http_reply_json(r, 200, user_token_pair_json(&x.user, x.refresh));
    }
    sodium_memzero(x.refresh, sizeof x.refresh);
    user_rec_cleanup(&x.user);
}
