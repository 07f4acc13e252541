/* POST /v1/auth/otp {channel, destination, purpose} -> 202 {"expires_in":600}
 *
 * The answer is the same whether or not the destination belongs to an account, and the
 * throttle (1 per 30 s, 10 per hour per destination, in PostgreSQL) is applied and counted
 * before the account is even looked up, so neither the answer nor the 429 is an oracle. A code
 * is sent only when it is useful: an account exists, is not suspended, and for "verify" the
 * channel is not verified yet. */
#include <stddef.h>
#include <string.h>

#include "internal/user/internal.h"

static const char *const channels[] = {"sms", "email", NULL};
static const char *const purposes[] = {"verify", "login", "reset_password", NULL};

struct body {
    const char *channel, *destination, *purpose;
};

static const struct jsonh_field spec[] = {
    {.name = "channel",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .one_of = channels,
     .offset = offsetof(struct body, channel)},
    {.name = "destination",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = 254,
     .offset = offsetof(struct body, destination)},
    {.name = "purpose",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .one_of = purposes,
     .offset = offsetof(struct body, purpose)},
    {0},
};

struct ctx {
    const char *channel, *purpose;
    char dest[USER_DEST_LEN];
    int retry_after; /* > 0: throttled */
};

static bool parse_or_reply(struct http_req *r, struct body *b, struct ctx *x)
{
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    jsonh_parse(http_req_json(r), spec, b, &e, NULL);
    if (b->channel && b->destination &&
        !user_destination_normalize(b->channel, b->destination, x->dest))
        jsonh_errors_add(&e, "destination",
                         strcmp(b->channel, "sms") == 0
                             ? "must be a phone number in E.164 form (+<country code><number>)"
                             : "must be a valid email address");
    bool valid = !jsonh_errors_any(&e);
    if (!valid)
        user_reply_invalid(r, &e);
    jsonh_errors_cleanup(&e);
    x->channel = b->channel;
    x->purpose = b->purpose;
    return valid;
}

/* Whether a code for purpose on channel is of any use to u. */
static bool worth_sending(const struct user_rec *u, const char *channel, const char *purpose)
{
    if (u->suspended)
        return false;
    if (strcmp(purpose, "verify") != 0)
        return true;
    return strcmp(channel, "sms") == 0 ? !u->phone_verified : !u->email_verified;
}

static enum db_status request_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    struct user_rec u;
    enum db_status st = user_otp_throttle(c, x->channel, x->dest, &x->retry_after);
    if (st != DB_OK || x->retry_after > 0)
        return st;
    st = user_repo_get(c, strcmp(x->channel, "sms") == 0 ? USER_BY_PHONE : USER_BY_EMAIL, x->dest,
                       false, &u);
    if (st == DB_NOT_FOUND)
        return DB_OK; /* nothing is sent; the send still counted */
    if (st == DB_OK && worth_sending(&u, x->channel, x->purpose))
        st = user_otp_issue(c, u.id, x->channel, x->dest, x->purpose);
    user_rec_cleanup(&u);
    return st;
}

void user_otp_request_handler(struct http_req *r)
{
    struct body b = {0};
    struct ctx x = {0};
    if (!parse_or_reply(r, &b, &x))
        return;
    enum db_status st = db_txn(DB_PRIMARY, request_txn, &x);
    if (st != DB_OK)
        user_reply_db(r, st);
    else if (x.retry_after > 0)
        user_reply_rate_limited(r, x.retry_after, "too many codes for this destination");
    else
        http_reply_json(r, 202, json_pack("{s:i}", "expires_in", USER_OTP_TTL_S));
}
