/* One-time codes: generation, hashing, the per-destination send throttle, issuing (with the
 * otp.requested event carrying the code sealed) and single-use checking with a try limit.
 *
 * A code never exists in clear outside this process's memory and the sealed event: the otps
 * row holds HMAC(otp id ":" code) under the server's MAC subkey (a bare hash of 6 digits would
 * fall to a million guesses), and only the notification worker can open code_sealed. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/log/log.h"
#include "pkg/outbox/outbox.h"
#include "pkg/util/xalloc.h"

void user_otp_generate(char code[USER_OTP_DIGITS + 1])
{
    sec_random_digits(code, USER_OTP_DIGITS);
}

bool user_otp_wellformed(const char *code)
{
    if (!code || strlen(code) != USER_OTP_DIGITS)
        return false;
    for (size_t i = 0; i < USER_OTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return false;
    return true;
}

void user_otp_hash(const char *otp_id, const char *code, char out[SEC_HEX_LEN])
{
    char msg[IDS_UUID_LEN + USER_OTP_DIGITS + 2];
    snprintf(msg, sizeof msg, "%s:%s", otp_id, code);
    sec_mac_hex("haat.otp.v1", msg, out);
}

bool user_otp_matches(const char *otp_id, const char *code, const char *stored)
{
    char h[SEC_HEX_LEN];
    if (!user_otp_wellformed(code))
        return false;
    user_otp_hash(otp_id, code, h);
    return sec_streq(h, stored);
}

void user_dest_key(const char *channel, const char *dest, char out[SEC_HEX_LEN])
{
    char msg[8 + USER_DEST_LEN];
    snprintf(msg, sizeof msg, "%s:%s", channel, dest);
    sec_mac_hex("haat.dest.v1", msg, out);
}

void user_login_subject(const char *kind, const char *value, char out[SEC_HEX_LEN])
{
    char *msg = xasprintf("%s:%s", kind, value);
    sec_mac_hex("haat.login.v1", msg, out);
    free(msg);
}

enum db_status user_otp_throttle(struct db_conn *c, const char *channel, const char *dest,
                                 int *retry_after)
{
    char key[SEC_HEX_LEN];
    long count = 0;
    int gap_wait = 0, hour_wait = 0;
    *retry_after = 0;
    user_dest_key(channel, dest, key);
    enum db_status st = user_repo_throttle_lock(c, key);
    if (st == DB_OK)
        st = user_repo_throttle_stats(c, key, &count, &gap_wait, &hour_wait);
    if (st != DB_OK)
        return st;
    if (count >= USER_OTP_PER_HOUR)
        *retry_after = hour_wait > gap_wait ? hour_wait : gap_wait;
    else if (gap_wait > 0)
        *retry_after = gap_wait;
    if (*retry_after > 0)
        return DB_OK;
    return user_repo_throttle_record(c, key);
}

static json_t *otp_event(const char *user_id, const char *channel, const char *dest,
                         const char *purpose, const char *sealed)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:i}", "channel", channel, "destination", dest,
                     "purpose", purpose, "code_sealed", sealed, "user_id", user_id, "expires_in",
                     USER_OTP_TTL_S);
}

enum db_status user_otp_issue(struct db_conn *c, const char *user_id, const char *channel,
                              const char *dest, const char *purpose)
{
    char key[SEC_HEX_LEN], otp_id[IDS_UUID_LEN], code[USER_OTP_DIGITS + 1], hash[SEC_HEX_LEN];
    char *sealed = NULL;
    json_t *ev = NULL;
    user_dest_key(channel, dest, key);
    enum db_status st = user_repo_otp_close_live(c, key, purpose);
    if (st != DB_OK)
        goto out;
    ids_uuid7(otp_id);
    user_otp_generate(code);
    user_otp_hash(otp_id, code, hash);
    st = user_repo_otp_insert(c, otp_id, user_id, channel, purpose, key, hash);
    if (st != DB_OK)
        goto out;
    sealed = sec_seal(code);
    if (user_id) {
        ev = sealed ? otp_event(user_id, channel, dest, purpose, sealed) : NULL;
        st = ev ? outbox_emit(c, "otp.requested", user_id, ev) : DB_ERROR;
    } else { /* the same work, nothing sent and nothing personal kept */
        ev = sealed ? json_pack("{s:s,s:s}", "channel", channel, "purpose", purpose) : NULL;
        st = ev ? outbox_emit(c, "otp.withheld", otp_id, ev) : DB_ERROR;
    }
out:
    sodium_memzero(code, sizeof code);
    free(sealed);
    json_decref(ev);
    return st;
}

/* A wrong try: counted on the code (the 5th kills it) and on its owner's day; the failure
 * that reaches the daily cap tells the owner (user.otp_locked). */
static enum db_status wrong_try(struct db_conn *c, const struct user_otp_row *row)
{
    enum db_status st = user_repo_otp_wrong(c, row->id);
    long n = 0;
    if (st == DB_OK && row->user_id[0])
        st = user_repo_otp_failure_add(c, row->user_id, &n);
    if (st == DB_OK && n == USER_OTP_FAILS_PER_DAY) {
        json_t *ev = json_pack("{s:s,s:i}", "user_id", row->user_id, "failed_codes", (int)n);
        st = outbox_emit(c, "user.otp_locked", row->user_id, ev);
        json_decref(ev);
        log_warn("user_otp_locked",
                 "user %s: %ld wrong codes in a day; codes alone no longer "
                 "log in",
                 row->user_id, n);
    }
    return st;
}

enum db_status user_otp_consume(struct db_conn *c, const char *channel, const char *dest,
                                const char *purpose, const char *code, bool close,
                                enum user_otp_check *out, struct user_otp_hit *hit)
{
    char key[SEC_HEX_LEN];
    struct user_otp_row row;
    *out = USER_OTP_BAD;
    user_dest_key(channel, dest, key);
    enum db_status st = user_repo_otp_live(c, key, purpose, &row);
    if (st == DB_NOT_FOUND)
        return DB_OK;
    if (st != DB_OK)
        return st;
    if (!user_otp_matches(row.id, code, row.code_hash))
        return wrong_try(c, &row);
    if (strcmp(purpose, "verify") != 0) { /* a code that would let someone in */
        long fails = 0;
        st = user_repo_otp_failures(c, row.user_id, &fails);
        if (st != DB_OK || fails >= USER_OTP_FAILS_PER_DAY)
            return st; /* capped for the day: BAD, whatever the code (the password still works) */
    }
    st = close ? user_repo_otp_close(c, row.id) : DB_OK;
    if (st == DB_NOT_FOUND)
        return DB_OK; /* cannot happen under FOR UPDATE; BAD if it did */
    if (st == DB_OK) {
        *out = USER_OTP_GOOD;
        memcpy(hit->otp_id, row.id, IDS_UUID_LEN);
        memcpy(hit->user_id, row.user_id, IDS_UUID_LEN);
    }
    return st;
}

enum db_status user_otp_close(struct db_conn *c, const char *otp_id)
{
    return user_repo_otp_close(c, otp_id);
}
