/* POST /v1/auth/otp {channel, destination, purpose} -> 202 {"expires_in":600}
 *
 * The answer is the same whether or not the destination belongs to an account, and the
 * throttle (1 per 30 s, 10 per hour per destination, in PostgreSQL) and the hourly send
 * budgets (per client address and in all) are applied and counted before the account is even
 * looked up, so neither the answer nor the 429 is an oracle. SMS go only to the countries of
 * HAAT_SMS_COUNTRIES (422 otherwise). A code
 * is sent only when it is useful: an account exists, is not suspended, and the channel is not
 * verified yet ("verify") or is verified ("login", "reset_password"). */
#include <string.h>

#include "internal/user/internal.h"

static const char *const purposes[] = {"verify", "login", "reset_password", NULL};

struct ctx {
    struct http_req *req;
    struct user_otp_body b;
    int retry_after; /* > 0: throttled */
};

/* Whether a code for purpose on channel is of any use to u. Login and password-reset codes
 * go only to a channel the user has verified: an address typed wrong at signup, or someone
 * else's address registered with the attacker's phone, must never open the account. */
static bool worth_sending(const struct user_rec *u, const char *channel, const char *purpose)
{
    if (u->suspended)
        return false;
    bool verified = user_channel_verified(u, channel);
    return strcmp(purpose, "verify") == 0 ? !verified : verified;
}

/* Counts the send, sends a code when it is of use and replies 202; USER_UNCHANGED when the
 * destination is throttled or the send budgets are spent (x->retry_after). */
static enum db_status request_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    struct user_rec u;
    const struct user_otp_body *b = &x->b;
    enum db_status st = user_otp_throttle(c, b->channel, b->dest, &x->retry_after);
    if (st == DB_OK && x->retry_after == 0)
        st = user_send_budget_take(c, b->channel, http_req_client(x->req), &x->retry_after);
    if (st != DB_OK)
        return st;
    if (x->retry_after > 0)
        return USER_UNCHANGED;
    st = user_repo_get(c, strcmp(b->channel, "sms") == 0 ? USER_BY_PHONE : USER_BY_EMAIL, b->dest,
                       false, &u);
    /* Either way the same work: a code is made, sealed and written with its event; only the
     * one that is of use has an owner and goes out (otp.requested), the other is closed at
     * once and its event (otp.withheld) sends nothing. */
    bool send = st == DB_OK && worth_sending(&u, b->channel, b->purpose);
    if (st == DB_OK || st == DB_NOT_FOUND)
        st = user_otp_issue(c, send ? u.id : NULL, b->channel, b->dest, b->purpose);
    user_rec_cleanup(&u);
    if (st == DB_OK)
        http_reply_json(x->req, 202, json_pack("{s:i}", "expires_in", USER_OTP_TTL_S));
    return st;
}

void user_request_otp(struct http_req *r)
{
    if (!user_ip_allow_or_reply(r))
        return;
    struct ctx x = {.req = r};
    if (!user_otp_body_parse_or_reply(r, USER_OTP_SEND, purposes, NULL, NULL, &x.b))
        return;
    enum db_status st = http_txn(r, request_txn, &x);
    if (st == USER_UNCHANGED)
        http_reply_rate_limited(r, x.retry_after, "too many codes requested; try again later");
    else if (st != DB_OK)
        http_reply_db(r, st);
}
