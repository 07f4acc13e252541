/* POST /v1/auth/logout {refresh_token} -> 204
 *
 * Revokes the whole family of the given refresh token (this device's session), but only when
 * the token belongs to the caller: someone else's token, an unknown one or a dead one changes
 * nothing, and the answer is the same 204 (logout is idempotent and leaks nothing). The
 * caller's access token stays valid until it expires (<= 15 min); clients drop it. */
#include <stdlib.h>
#include <string.h>

#include "internal/user/internal.h"

struct ctx {
    struct http_req *req;
    const char *user_id;
    char hash[SEC_HEX_LEN];
};

/* Revokes the token's family when it is the caller's; replies 204 whatever the token was. */
static enum db_status logout_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    struct user_refresh_row row = {0};
    enum db_status st = user_repo_refresh_find(c, x->hash, &row);
    free(row.successor_sealed);
    if (st == DB_OK && strcmp(row.user_id, x->user_id) == 0)
        st = user_repo_refresh_revoke_family(c, row.family_id);
    else if (st == DB_OK || st == DB_NOT_FOUND)
        st = DB_OK; /* someone else's token, or an unknown one: nothing changes */
    if (st == DB_OK)
        http_reply_status(x->req, 204);
    return st;
}

void user_log_out(struct http_req *r)
{
    struct ctx x = {.req = r, .user_id = http_req_principal(r)->user_id};
    if (!user_refresh_body_or_reply(r, x.hash))
        return;
    enum db_status st = http_txn(r, logout_txn, &x);
    if (st != DB_OK)
        http_reply_db(r, st);
}
