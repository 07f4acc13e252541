/* POST /v1/auth/otp/verify {channel, destination, code, purpose}
 *   purpose "verify": 200 {"user":{...}} with that channel now verified;
 *   purpose "login":  200 token pair (a new refresh-token family), like a password login.
 *
 * Any failure of the code (none sent, expired, used, wrong; the 5th wrong try kills it) is one
 * answer: 401 invalid_code. An address belongs to whoever verifies it first: verifying takes
 * it from the other accounts that claimed it unverified; a code for an address the account
 * lost that way is a bad code, and one for an address another account verified meanwhile is
 * 409 already_exists. Past the daily cap of wrong codes (otp.c) a login code is a bad code.
 * Password resets use POST /v1/auth/password/reset instead. A user who verifies the phone gets
 * tokens carrying pv=true at the next login or refresh. */
#include <string.h>

#include "internal/user/internal.h"

static const char *const purposes[] = {"verify", "login", NULL};

enum outcome { BAD_CODE, SUSPENDED, UNVERIFIED, VERIFIED, LOGGED_IN };

struct ctx {
    struct http_req *req;
    struct user_otp_body b;
    enum outcome outcome;
    struct user_rec user;
    char refresh[USER_REFRESH_LEN];
};

/* After a good code: the account's state decides. */
static enum db_status act(struct db_conn *c, struct ctx *x, const char *user_id)
{
    enum db_status st = user_repo_get(c, USER_BY_ID, user_id, true, &x->user);
    if (st == DB_NOT_FOUND) {
        x->outcome = BAD_CODE;
        return DB_OK;
    }
    if (st != DB_OK || x->user.suspended) {
        x->outcome = SUSPENDED;
        return st;
    }
    if (strcmp(x->b.purpose, "verify") == 0) {
        st = user_repo_set_verified(c, user_id, x->b.channel, x->b.dest);
        if (st == DB_NOT_FOUND) { /* the address went to whoever verified it first */
            x->outcome = BAD_CODE;
            return DB_OK;
        }
        if (st == DB_CONFLICT) /* another account verified it: rolled back, 409 */
            return st;
        if (strcmp(x->b.channel, "sms") == 0)
            x->user.phone_verified = true;
        else
            x->user.email_verified = true;
        x->outcome = VERIFIED;
        return st;
    }
    if (!user_channel_verified(&x->user, x->b.channel)) {
        x->outcome = BAD_CODE; /* never issued for an unverified channel (request_otp.c) */
        return DB_OK;
    }
    if (!x->user.phone_verified) {
        x->outcome = UNVERIFIED;
        return DB_OK;
    }
    x->outcome = LOGGED_IN;
    return user_refresh_issue(c, user_id, NULL, x->refresh);
}

static void reply(struct http_req *r, struct ctx *x)
{
    switch (x->outcome) {
    case BAD_CODE:
        user_reply_bad_code(r);
        break;
    case SUSPENDED:
        user_reply_suspended(r);
        break;
    case UNVERIFIED:
        http_reply_verification_required(r);
        break;
    case VERIFIED:
        http_reply_json(r, 200, json_pack("{s:o}", "user", user_rec_json(&x->user)));
        break;
    case LOGGED_IN:
        http_req_set_user(r, x->user.id);
        http_reply_json(r, 200, user_token_pair_json(&x->user, x->refresh));
        break;
    }
}

/* Checks the code and acts on the account; every outcome commits (a wrong try counts, a good
 * code is used up) and is answered here. */
static enum db_status verify_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    enum user_otp_check check;
    struct user_otp_hit hit;
    user_rec_cleanup(&x->user); /* a retried transaction starts afresh */
    x->outcome = BAD_CODE;
    const struct user_otp_body *b = &x->b;
    enum db_status st =
        user_otp_consume(c, b->channel, b->dest, b->purpose, b->code, true, &check, &hit);
    if (st == DB_OK && check == USER_OTP_GOOD)
        st = act(c, x, hit.user_id);
    if (st == DB_OK)
        reply(x->req, x);
    return st;
}

void user_verify_otp(struct http_req *r)
{
    if (!user_ip_allow_or_reply(r))
        return;
    struct ctx x = {.req = r};
    if (!user_otp_body_parse_or_reply(r, USER_OTP_CHECK, purposes, NULL, NULL, &x.b))
        return;
    enum db_status st = http_txn(r, verify_txn, &x);
    if (st == DB_CONFLICT)
        http_reply_problem(r, 409, "already_exists", "another account verified this address");
    else if (st != DB_OK)
        http_reply_db(r, st);
    user_rec_cleanup(&x.user);
}
