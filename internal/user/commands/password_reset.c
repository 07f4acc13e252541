/* POST /v1/auth/password/reset {channel, destination, code, new_password} -> 204
 *
 * Two phases so a bad code never costs a password hash and a full pool never burns a good
 * code: (1) on the HTTP thread, check the reset_password code (a wrong try counts; the code
 * stays live); (2) hash the new password on the pool; (3) on the pool thread, in one
 * transaction, close the code (401 if it was used or expired meanwhile), store the hash,
 * revoke every refresh token of the user and clear its failed-login counter. Access tokens
 * already issued live out their <= 15 minutes (docs/decisions/0002). */
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>

#include "internal/user/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

static const char *const channels[] = {"sms", "email", NULL};

struct body {
    const char *channel, *destination, *code, *new_password;
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
    {.name = "new_password",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = USER_PASSWORD_MIN,
     .max = USER_PASSWORD_MAX,
     .offset = offsetof(struct body, new_password)},
    {0},
};

struct reset {
    struct sec_pwjob job; /* first: done() receives &job */
    struct http_req *req;
    const char *channel, *code;
    char dest[USER_DEST_LEN];
    enum user_otp_check check;
    struct user_otp_hit hit;
    bool closed;
};

static bool parse_or_reply(struct http_req *r, struct body *b, struct reset *x)
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
    x->code = b->code;
    return valid;
}

static void reply_bad_code(struct http_req *r)
{
    http_reply_problem(r, 401, "invalid_code", "the code is wrong, expired or already used");
}

static enum db_status check_txn(struct db_conn *c, void *arg)
{
    struct reset *x = arg;
    return user_otp_consume(c, x->channel, x->dest, "reset_password", x->code, false, &x->check,
                            &x->hit);
}

static enum db_status apply_txn(struct db_conn *c, void *arg)
{
    struct reset *x = arg;
    char subject[SEC_HEX_LEN];
    enum db_status st = user_otp_close(c, x->hit.otp_id);
    x->closed = st == DB_OK;
    if (st == DB_NOT_FOUND)
        return DB_OK; /* used or expired since phase 1: nothing changes */
    if (st == DB_OK)
        st = user_repo_set_password(c, x->hit.user_id, x->job.out);
    if (st == DB_OK)
        st = user_repo_refresh_revoke_user(c, x->hit.user_id);
    user_login_subject("u", x->hit.user_id, subject);
    return st == DB_OK ? user_repo_login_clear(c, subject) : st;
}

/* On the pool thread. */
static void hashed(struct sec_pwjob *job)
{
    struct reset *x = (struct reset *)job;
    struct http_req *r = x->req;
    log_set_request_id(http_req_id(r));
    if (job->result == SEC_PW_OK) {
        enum db_status st = db_txn(DB_PRIMARY, apply_txn, x);
        if (st != DB_OK)
            user_reply_db(r, st);
        else if (!x->closed)
            reply_bad_code(r);
        else
            http_reply_status(r, 204);
    } else {
        user_reply_busy(r);
    }
    sodium_memzero(job->out, sizeof job->out);
    free(x);
    log_set_request_id(NULL);
}

void user_password_reset_handler(struct http_req *r)
{
    struct body b = {0};
    struct reset *x = xcalloc(1, sizeof *x);
    if (!parse_or_reply(r, &b, x))
        goto fail;
    enum db_status st = db_txn(DB_PRIMARY, check_txn, x);
    if (st != DB_OK) {
        user_reply_db(r, st);
        goto fail;
    }
    if (x->check != USER_OTP_GOOD) {
        reply_bad_code(r);
        goto fail;
    }
    x->req = r;
    x->job = (struct sec_pwjob){.op = SEC_PW_HASH, .password = b.new_password, .done = hashed};
    if (user_pwjob_submit_or_reply(r, &x->job))
        return;
fail:
    free(x);
}
