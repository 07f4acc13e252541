/* POST /v1/auth/refresh {refresh_token} -> 200 new token pair
 *
 * Rotation with reuse detection: the presented token is marked rotated and a successor is
 * issued in the same family. Presenting a token that was already rotated (or revoked) means
 * two parties hold it, so the whole family is revoked, the newest token included, and the
 * answer is 401. One exception, for two tabs refreshing at once: within USER_REFRESH_GRACE_S of
 * its rotation a rotated token whose successor has not been used yet answers that same
 * successor again (kept sealed on the rotated row for the window only) with a fresh access
 * token. The user is re-read on every refresh: a suspended user's family is revoked too (the
 * access tokens already issued are refused by the auth hook's suspension list). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

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

/* Reads the user of row into x->user: DB_OK when they may still refresh, USER_UNCHANGED when
 * they may not (gone or suspended: the caller revokes). */
static enum db_status load_user(struct db_conn *c, struct ctx *x,
                                const struct user_refresh_row *row)
{
    enum db_status st = user_repo_get(c, USER_BY_ID, row->user_id, false, &x->user);
    if (st == DB_NOT_FOUND || (st == DB_OK && x->user.suspended))
        return USER_UNCHANGED;
    return st;
}

/* A rotated token presented again: inside the grace window, with its successor unused, x->refresh
 * becomes that successor (DB_OK); otherwise USER_UNCHANGED (a reuse). */
static enum db_status grace_successor(struct db_conn *c, struct ctx *x,
                                      const struct user_refresh_row *row)
{
    struct user_refresh_row next = {0};
    char hash[SEC_HEX_LEN];
    char *token = row->successor_sealed ? sec_open(row->successor_sealed) : NULL;
    enum db_status st = USER_UNCHANGED;
    if (!token || strlen(token) >= sizeof x->refresh)
        goto out;
    sec_hash_token(token, hash);
    st = user_repo_refresh_find(c, hash, &next);
    if (st == DB_NOT_FOUND || (st == DB_OK && (next.rotated || next.revoked || next.expired)))
        st = USER_UNCHANGED;
    if (st == DB_OK)
        memcpy(x->refresh, token, strlen(token) + 1);
out:
    if (token) {
        sodium_memzero(token, strlen(token));
        free(token);
    }
    free(next.successor_sealed);
    return st;
}

/* Rotates row: issues its successor into x->refresh and keeps it sealed on row. */
static enum db_status rotate(struct db_conn *c, struct ctx *x, const struct user_refresh_row *row)
{
    enum db_status st = user_refresh_issue(c, row->user_id, row->family_id, x->refresh);
    if (st != DB_OK)
        return st;
    char *sealed = sec_seal(x->refresh);
    if (!sealed)
        return DB_ERROR;
    st = user_repo_refresh_rotate(c, row->id, sealed);
    free(sealed);
    return st;
}

/* Rotates a live token (or answers its successor again inside the grace window) and replies
 * the pair. A reuse or a user who may no longer refresh revokes the family; an unknown or
 * expired token is USER_UNCHANGED. */
static enum db_status refresh_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    struct user_refresh_row row = {0};
    user_rec_cleanup(&x->user);
    enum db_status st = user_repo_refresh_find(c, x->hash, &row);
    if (st != DB_OK)
        goto out; /* DB_NOT_FOUND is USER_UNCHANGED: an unknown token */
    if (row.revoked || (row.rotated && !row.successor_sealed)) {
        st = revoke(c, x, row.family_id);
        goto out;
    }
    st = row.expired ? USER_UNCHANGED : load_user(c, x, &row);
    if (st == DB_OK)
        st = row.rotated ? grace_successor(c, x, &row) : rotate(c, x, &row);
    if (st == USER_UNCHANGED && !row.expired)
        st = revoke(c, x, row.family_id);
    else if (st == DB_OK) {
        http_req_set_user(x->req, x->user.id);
        http_reply_json(x->req, 200, user_token_pair_json(&x->user, x->refresh));
    }
out:
    free(row.successor_sealed);
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
