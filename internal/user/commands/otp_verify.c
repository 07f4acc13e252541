/* POST /v1/auth/otp/verify {channel, destination, code, purpose}
 *   purpose "verify": 200 {"user":{...}} with that channel now verified;
 *   purpose "login":  200 token pair (a new refresh-token family), like a password login.
 *
 * Any failure of the code (none sent, expired, used, wrong; the 5th wrong try kills it) is one
 * answer: 401 invalid_code. Password resets use POST /v1/auth/password/reset instead.
 * A user who verifies the phone gets tokens carrying pv=true at the next login or refresh. */
#include <stddef.h>
#include <string.h>

#include "internal/user/internal.h"

static const char *const channels[] = {"sms", "email", NULL};
static const char *const purposes[] = {"verify", "login", NULL};

struct body {
    const char *channel, *destination, *code, *purpose;
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
    {.name = "code",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = 16,
     .offset = offsetof(struct body, code)},
    {.name = "purpose",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .one_of = purposes,
     .offset = offsetof(struct body, purpose)},
    {0},
};

enum outcome { BAD_CODE, SUSPENDED, UNVERIFIED, VERIFIED, LOGGED_IN };

struct ctx {
    const char *channel, *purpose, *code;
    char dest[USER_DEST_LEN];
    enum outcome outcome;
    struct user_rec user;
    char refresh[USER_REFRESH_LEN];
};

static bool parse_or_reply(struct http_req *r, struct body *b, struct ctx *x)
{
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    jsonh_parse(http_req_json(r), spec, b, &e, NULL);
    if (b->channel && b->destination &&
        !user_destination_normalize(b->channel, b->destination, x->dest))
        jsonh_errors_add(&e, "destination", "must be a valid phone number or email address");
    if (b->code && !user_otp_wellformed(b->code))
        jsonh_errors_add(&e, "code", "must be 6 digits");
    bool valid = !jsonh_errors_any(&e);
    if (!valid)
        user_reply_invalid(r, &e);
    jsonh_errors_cleanup(&e);
    x->channel = b->channel;
    x->purpose = b->purpose;
    x->code = b->code;
    return valid;
}

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
    if (strcmp(x->purpose, "verify") == 0) {
        st = user_repo_set_verified(c, user_id, x->channel);
        if (strcmp(x->channel, "sms") == 0)
            x->user.phone_verified = true;
        else
            x->user.email_verified = true;
        x->outcome = VERIFIED;
        return st;
    }
    if (!x->user.phone_verified) {
        x->outcome = UNVERIFIED;
        return DB_OK;
    }
    x->outcome = LOGGED_IN;
    return user_refresh_issue(c, user_id, NULL, x->refresh);
}

static enum db_status verify_txn(struct db_conn *c, void *arg)
{
    struct ctx *x = arg;
    enum user_otp_check check;
    struct user_otp_hit hit;
    user_rec_cleanup(&x->user); /* a retried transaction starts afresh */
    x->outcome = BAD_CODE;
    enum db_status st =
        user_otp_consume(c, x->channel, x->dest, x->purpose, x->code, true, &check, &hit);
    if (st != DB_OK || check == USER_OTP_BAD)
        return st; /* commits a wrong try */
    return act(c, x, hit.user_id);
}

static void reply(struct http_req *r, struct ctx *x)
{
    switch (x->outcome) {
    case BAD_CODE:
        http_reply_problem(r, 401, "invalid_code", "the code is wrong, expired or already used");
        break;
    case SUSPENDED:
        http_reply_problem(r, 403, "account_suspended", "this account is suspended");
        break;
    case UNVERIFIED:
        http_reply_problem(r, 403, "verification_required", "verify your phone number first");
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

void user_otp_verify_handler(struct http_req *r)
{
    struct body b = {0};
    struct ctx x = {0};
    if (!parse_or_reply(r, &b, &x))
        return;
    enum db_status st = db_txn(DB_PRIMARY, verify_txn, &x);
    if (st != DB_OK)
        user_reply_db(r, st);
    else
        reply(r, &x);
    user_rec_cleanup(&x.user);
}
