/* POST /v1/auth/login {login, password} -> 200 token pair
 *
 * `login` is an email or a phone number. An unknown login and a wrong password take the same
 * path and the same time: the account is looked up, the failure throttle checked, a password
 * verified (against a fixed dummy hash when there is no account), a failure recorded, and the
 * same 401 invalid_credentials returned. Failures are counted per account (per login name when
 * no account matches) and client address together, in PostgreSQL: after 10 failures within
 * 15 minutes from one address, that address waits before its next try, 1 minute after the
 * 10th failure, then doubling with each further failure up to 15 minutes (429 rate_limited
 * with Retry-After, before any hashing). The owner on another address, and OTP login, are
 * never held up by it, so failures cannot be used to lock someone out. Each attempt records
 * its failure before hashing, under a per-subject advisory lock, so a burst of parallel
 * guesses gets no more than 10 either; a correct password clears the record. Only after the
 * password matches do suspension (403 account_suspended) and an unverified phone (403
 * verification_required) show. Verification runs on the password pool; the HTTP thread
 * returns at once and the pool thread replies. */
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

#define LOGIN_MAX 320

struct body {
    const char *login, *password;
};

static const struct jsonh_field spec[] = {
    {.name = "login",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = LOGIN_MAX,
     .offset = offsetof(struct body, login)},
    {.name = "password",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = USER_PASSWORD_MAX,
     .offset = offsetof(struct body, password)},
    {0},
};

struct login {
    struct sec_pwjob job; /* first: done() receives &job */
    struct http_req *req;
    struct user_rec user; /* id empty when no account matched */
    char subject[SEC_HEX_LEN];
    char attempt[USER_ROWID_LEN]; /* this attempt's login_failures row */
    int retry_after;              /* > 0: locked out */
    char refresh[USER_REFRESH_LEN];
    char new_hash[SEC_PWHASH_LEN]; /* the password rehashed with current limits, or "" */
};

/* Finds the account for login (an email when it holds '@', else a phone) and writes the
 * normalised login into norm (or the login as typed, case-folded, when it is neither);
 * DB_NOT_FOUND when no account matches. */
static enum db_status find_account(struct db_conn *c, const char *login, struct user_rec *u,
                                   char norm[LOGIN_MAX * 4 + 1])
{
    bool email = strchr(login, '@') != NULL;
    memset(u, 0, sizeof *u);
    if (email ? user_email_normalize(login, norm) : user_phone_normalize(login, norm))
        return user_repo_auth(c, email ? USER_BY_EMAIL : USER_BY_PHONE, norm, u);
    size_t i = 0;
    for (; i < LOGIN_MAX * 4 && login[i]; i++)
        norm[i] = (char)(login[i] >= 'A' && login[i] <= 'Z' ? login[i] + 32 : login[i]);
    norm[i] = '\0';
    return DB_NOT_FOUND;
}

/* The throttle key: the account when there is one, else the normalised login, so an unknown
 * login is throttled exactly like a known one; each with the client's address. */
static void subject_key(const struct user_rec *u, const char *norm, const char *client,
                        char out[SEC_HEX_LEN])
{
    char *v = xasprintf("%s|%s", u->id[0] ? u->id : norm, client);
    user_login_subject(u->id[0] ? "u" : "l", v, out);
    free(v);
}

static void login_free(struct login *l)
{
    sodium_memzero(l->refresh, sizeof l->refresh);
    sodium_memzero(l->new_hash, sizeof l->new_hash);
    user_rec_cleanup(&l->user);
    free(l);
}

static void reply_invalid(struct http_req *r)
{
    http_reply_problem(r, 401, "invalid_credentials", "the login or the password is wrong");
}

/* The password matched but the account may not log in: 403 account_suspended or
 * verification_required. */
static void reply_refused(struct http_req *r, const struct login *l)
{
    if (l->user.suspended)
        user_reply_suspended(r);
    else
        http_reply_verification_required(r);
}

/* A right password is no failure, even for an account that may not log in. */
static enum db_status refused_txn(struct db_conn *c, void *arg)
{
    struct login *l = arg;
    enum db_status st = user_repo_login_clear(c, l->subject);
    if (st == DB_OK)
        reply_refused(l->req, l);
    return st;
}

/* Clears the failures, stores a rehash, issues a refresh token and replies the token pair. */
static enum db_status success_txn(struct db_conn *c, void *arg)
{
    struct login *l = arg;
    enum db_status st = user_repo_login_clear(c, l->subject);
    if (st == DB_OK && l->new_hash[0])
        st = user_repo_set_password(c, l->user.id, l->new_hash);
    if (st == DB_OK)
        st = user_refresh_issue(c, l->user.id, NULL, l->refresh);
    if (st == DB_OK) {
        http_req_set_user(l->req, l->user.id);
        http_reply_json(l->req, 200, user_token_pair_json(&l->user, l->refresh));
    }
    return st;
}

/* The password matched. */
static void succeed(struct http_req *r, struct login *l)
{
    if (l->user.suspended || !l->user.phone_verified) {
        if (http_txn(r, refused_txn, l) != DB_OK)
            reply_refused(r, l); /* the failures stay counted; the answer is the same */
        return;
    }
    /* Rehash (still on the pool thread) before the transaction, so Argon2 never runs while
     * it holds locks, nor again on a retried transaction. */
    if (l->job.needs_rehash && sec_password_hash(l->job.password, l->new_hash) != 0)
        l->new_hash[0] = '\0'; /* keep the old hash; the next login tries again */
    enum db_status st = http_txn(r, success_txn, l);
    if (st != DB_OK)
        http_reply_db(r, st);
}

/* The password was never checked (the pool is full or stopping): the failure recorded in
 * advance is forgotten, and the answer is 503. */
static enum db_status forget_txn(struct db_conn *c, void *arg)
{
    struct login *l = arg;
    enum db_status st = user_repo_login_forget(c, l->attempt);
    if (st == DB_OK)
        user_reply_busy(l->req);
    return st;
}

static void forget_attempt(struct http_req *r, struct login *l)
{
    if (http_txn(r, forget_txn, l) != DB_OK)
        user_reply_busy(r); /* the attempt stays counted; the answer is the same */
}

/* On the pool thread. */
static void verified(struct sec_pwjob *job)
{
    struct login *l = (struct login *)job;
    struct http_req *r = l->req;
    http_req_log_context(r);
    if (job->result == SEC_PW_OK)
        succeed(r, l);
    else if (job->result == SEC_PW_MISMATCH)
        reply_invalid(r); /* the failure was recorded before hashing */
    else
        forget_attempt(r, l);
    login_free(l);
    http_req_log_context(NULL);
}

/* Locks the subject, checks the limit and records this attempt as a failure in advance;
 * USER_UNCHANGED when locked out (l->retry_after). Its commit has no reply of its own: the
 * answer comes once the password is checked (a login carries no Idempotency-Key, so no
 * response is stored with this commit). */
static enum db_status attempt_txn(struct db_conn *c, void *arg)
{
    struct login *l = arg;
    enum db_status st = user_repo_login_lock(c, l->subject);
    if (st == DB_OK)
        st = user_repo_login_blocked(c, l->subject, &l->retry_after);
    if (st != DB_OK)
        return st;
    if (l->retry_after > 0)
        return USER_UNCHANGED;
    return user_repo_login_failed(c, l->subject, l->attempt);
}

void user_login(struct http_req *r)
{
    if (!user_ip_allow_or_reply(r))
        return;
    struct body b = {0};
    if (!http_parse_or_reply(r, spec, &b))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    struct login *l = xcalloc(1, sizeof *l);
    l->req = r;
    char norm[LOGIN_MAX * 4 + 1];
    enum db_status st = find_account(c, b.login, &l->user, norm);
    if (st == DB_OK || st == DB_NOT_FOUND) {
        subject_key(&l->user, norm, http_req_client(r), l->subject);
        st = http_txn(r, attempt_txn, l);
    }
    if (st == USER_UNCHANGED) {
        http_reply_rate_limited(r, l->retry_after, "too many failed logins; try again later");
    } else if (st != DB_OK) {
        http_reply_db(r, st);
    } else {
        l->job = (struct sec_pwjob){.op = SEC_PW_VERIFY,
                                    .password = b.password,
                                    .hash = l->user.password_hash,
                                    .done = verified};
        if (user_pwjob_submit(r, &l->job))
            return;
        forget_attempt(r, l); /* never ran: not a failure */
    }
    login_free(l);
}
