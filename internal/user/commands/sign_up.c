/* POST /v1/auth/signup {name, email, phone, password} -> 201 {"user":{...}}
 *
 * Creates an unverified user and, in the same transaction, emits user.signed_up and one
 * otp.requested per channel (the SMS code to the phone, the email code to the address); both
 * sends count towards the per-destination throttle and the hourly send budgets (per client
 * address and in all), and a code that is throttled or over budget is skipped (the user can
 * ask for one later). A phone outside HAAT_SMS_COUNTRIES is refused (422): no code could
 * reach it. No account is told anything but its codes until it verifies an address, so a
 * name typed here never reaches a phone nobody verified. Only name, email, phone and password are
 * read: roles, *_verified, id and the like in the body are ignored. The password is hashed on the
 * password pool; the pool thread runs the transaction, whose commit sends the reply. */
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/log/log.h"
#include "pkg/outbox/outbox.h"
#include "pkg/util/xalloc.h"

struct body {
    const char *name, *email, *phone, *password;
};

static const struct jsonh_field spec[] = {
    {.name = "name",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED | JSONH_NOT_BLANK,
     .min = 2,
     .max = 100,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct body, name)},
    {.name = "email",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 3,
     .max = 254,
     .offset = offsetof(struct body, email)},
    {.name = "phone",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = 32,
     .offset = offsetof(struct body, phone)},
    {.name = "password",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = USER_PASSWORD_MIN,
     .max = USER_PASSWORD_MAX,
     .offset = offsetof(struct body, password)},
    {0},
};

/* The pool job and everything the transaction needs. user.name is owned; user.email and
 * user.phone point into the arrays below. The password is borrowed from the request body,
 * which lives until the reply. */
struct signup {
    struct sec_pwjob job; /* first: done() receives &job */
    struct http_req *req;
    struct user_rec user;
    char email[USER_EMAIL_LEN];
    char phone[USER_PHONE_LEN];
};

/* Reads and validates the body into s; replies 422 itself. */
static bool parse_or_reply(struct http_req *r, struct signup *s, struct body *b)
{
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    jsonh_parse(http_req_json(r), spec, b, &e, NULL);
    if (b->email && !user_email_normalize(b->email, s->email))
        jsonh_errors_add(&e, "email", "must be a valid email address");
    if (b->phone && !user_phone_normalize(b->phone, s->phone))
        jsonh_errors_add(&e, "phone",
                         "must be a phone number in E.164 form (+<country code><number>)");
    else if (b->phone && !user_sms_country_allowed(s->phone))
        jsonh_errors_add(&e, "phone", "numbers of this country cannot receive our codes");
    return http_errors_or_reply(r, &e);
}

/* Sends the verify code to (channel, dest) unless the destination is throttled or the
 * send budgets of the client's address or of everyone are spent. */
static enum db_status send_code(struct db_conn *c, const struct signup *s, const char *channel,
                                const char *dest)
{
    int wait = 0;
    enum db_status st = user_otp_throttle(c, channel, dest, &wait);
    if (st == DB_OK && wait == 0)
        st = user_send_budget_take(c, channel, http_req_client(s->req), &wait);
    if (st != DB_OK || wait > 0)
        return st;
    return user_otp_issue(c, s->user.id, channel, dest, "verify");
}

static void reply_exists(struct http_req *r)
{
    http_reply_problem(r, 409, "already_exists", "an account with these details exists");
}

/* The account, its events and codes; replies 201. DB_CONFLICT on a duplicate. */
static enum db_status create_txn(struct db_conn *c, void *arg)
{
    struct signup *s = arg;
    enum db_status st = user_repo_insert(c, &s->user, s->job.out);
    if (st != DB_OK)
        return st;
    json_t *ev = json_pack("{s:s,s:s,s:s,s:s}", "user_id", s->user.id, "name", s->user.name,
                           "email", s->user.email, "phone", s->user.phone);
    st = outbox_emit(c, "user.signed_up", s->user.id, ev);
    json_decref(ev);
    if (st == DB_OK)
        st = send_code(c, s, "sms", s->user.phone);
    if (st == DB_OK)
        st = send_code(c, s, "email", s->user.email);
    if (st == DB_OK) {
        http_req_set_user(s->req, s->user.id);
        http_reply_json(s->req, 201, json_pack("{s:o}", "user", user_rec_json(&s->user)));
    }
    return st;
}

/* On the pool thread. */
static void hashed(struct sec_pwjob *job)
{
    struct signup *s = (struct signup *)job;
    struct http_req *r = s->req;
    http_req_log_context(r);
    if (job->result == SEC_PW_CANCELLED) {
        user_reply_busy(r);
    } else if (job->result != SEC_PW_OK) {
        http_reply_db(r, DB_ERROR);
    } else {
        enum db_status st = http_txn(r, create_txn, s);
        if (st == DB_CONFLICT)
            reply_exists(r);
        else if (st != DB_OK)
            http_reply_db(r, st);
    }
    sodium_memzero(job->out, sizeof job->out);
    free(s->user.name);
    free(s);
    http_req_log_context(NULL);
}

void user_sign_up(struct http_req *r)
{
    if (!user_ip_allow_or_reply(r))
        return;
    struct body b = {0};
    struct signup *s = xcalloc(1, sizeof *s);
    if (!parse_or_reply(r, s, &b))
        goto fail;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        goto fail;
    /* A cheap early answer for the common duplicate (the unique indexes decide races). */
    enum db_status st = user_repo_exists(c, s->email, s->phone);
    if (st == DB_OK) {
        reply_exists(r);
        goto fail;
    }
    if (st != DB_NOT_FOUND) {
        http_reply_db(r, st);
        goto fail;
    }
    s->req = r;
    ids_uuid7(s->user.id);
    s->user.name = xstrdup(b.name);
    s->user.email = s->email;
    s->user.phone = s->phone;
    s->job = (struct sec_pwjob){.op = SEC_PW_HASH, .password = b.password, .done = hashed};
    if (user_pwjob_submit(r, &s->job))
        return;
    user_reply_busy(r);
fail:
    free(s->user.name);
    free(s);
}
