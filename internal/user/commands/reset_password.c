/* POST /v1/auth/password/reset {channel, destination, code, new_password} -> 204
 *
 * Two phases so a bad code never costs a password hash and a full pool never burns a good
 * code: (1) on the HTTP thread, check the reset_password code (a wrong try counts; the code
 * stays live); (2) hash the new password on the pool; (3) on the pool thread, in one
 * transaction, close the code (401 if it was used or expired meanwhile), store the hash,
 * revoke every refresh token of the user and clear its failed-login counter. Steps 1 and 3
 * each run through http_txn: the first answers only a bad code, the last every outcome.
 * Access tokens already issued live out their <= 15 minutes (docs/decisions/0002). */
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>

#include "internal/user/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

/* The members besides the shared ones. */
struct body {
    const char *new_password;
};

static const struct jsonh_field spec[] = {
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
    struct user_otp_body otp;
    enum user_otp_check check;
    struct user_otp_hit hit;
};

/* Phase 1. A bad code (or a good one for a channel the user has not verified) is answered
 * 401 and its try committed; a good one changes nothing: USER_UNCHANGED, on to hashing. */
static enum db_status check_txn(struct db_conn *c, void *arg)
{
    struct reset *x = arg;
    enum db_status st = user_otp_consume(c, x->otp.channel, x->otp.dest, "reset_password",
                                         x->otp.code, false, &x->check, &x->hit);
    if (st == DB_OK && x->check == USER_OTP_GOOD) {
        /* Reset codes go only to verified channels (request_otp.c); refuse any other. */
        struct user_rec u = {0};
        st = user_repo_get(c, USER_BY_ID, x->hit.user_id, false, &u);
        if (st == DB_NOT_FOUND || (st == DB_OK && !user_channel_verified(&u, x->otp.channel))) {
            x->check = USER_OTP_BAD;
            st = DB_OK;
        }
        user_rec_cleanup(&u);
    }
    if (st != DB_OK)
        return st;
    if (x->check == USER_OTP_GOOD)
        return USER_UNCHANGED;
    user_reply_bad_code(x->req);
    return DB_OK;
}

/* Phase 2, with the new hash: replies 204; USER_UNCHANGED when the code was used or expired
 * since phase 1. */
static enum db_status apply_txn(struct db_conn *c, void *arg)
{
    struct reset *x = arg;
    char subject[SEC_HEX_LEN];
    enum db_status st = user_otp_close(c, x->hit.otp_id);
    if (st == DB_NOT_FOUND)
        return USER_UNCHANGED;
    if (st == DB_OK)
        st = user_repo_set_password(c, x->hit.user_id, x->job.out);
    if (st == DB_OK)
        st = user_repo_refresh_revoke_user(c, x->hit.user_id);
    char *who = xasprintf("%s|%s", x->hit.user_id, http_req_client(x->req));
    user_login_subject("u", who, subject); /* this address's failures (login.c) */
    free(who);
    if (st == DB_OK)
        st = user_repo_login_clear(c, subject);
    if (st == DB_OK)
        http_reply_status(x->req, 204);
    return st;
}

/* On the pool thread. */
static void hashed(struct sec_pwjob *job)
{
    struct reset *x = (struct reset *)job;
    struct http_req *r = x->req;
    http_req_log_context(r);
    if (job->result == SEC_PW_OK) {
        enum db_status st = http_txn(r, apply_txn, x);
        if (st == USER_UNCHANGED)
            user_reply_bad_code(r);
        else if (st != DB_OK)
            http_reply_db(r, st);
    } else {
        user_reply_busy(r);
    }
    sodium_memzero(job->out, sizeof job->out);
    free(x);
    http_req_log_context(NULL);
}

void user_reset_password(struct http_req *r)
{
    if (!user_ip_allow_or_reply(r))
        return;
    struct body b = {0};
    struct reset *x = xcalloc(1, sizeof *x);
    x->req = r;
    if (!user_otp_body_parse_or_reply(r, USER_OTP_CHECK, NULL, spec, &b, &x->otp))
        goto fail;
    enum db_status st = http_txn(r, check_txn, x);
    if (st != USER_UNCHANGED) { /* DB_OK: answered 401 in the transaction */
        if (st != DB_OK)
            http_reply_db(r, st);
        goto fail;
    }
    x->job = (struct sec_pwjob){.op = SEC_PW_HASH, .password = b.new_password, .done = hashed};
    if (user_pwjob_submit(r, &x->job))
        return;
    user_reply_busy(r);
fail:
    free(x);
}
