/* SQL for credentials and their limits (tables otps, otp_sends, login_failures,
 * refresh_tokens). Every limit lives in PostgreSQL so it holds across instances. */
#include <stdio.h>

#include "internal/user/internal.h"

#define SECS(n) "interval '" DB_STR(n) " seconds'"
/* Whole seconds from now until ts (rounded up), for Retry-After. */
#define WAIT_UNTIL(ts) "ceil(extract(epoch FROM (" ts ") - now()))::int"

/* The columns of user_throttle_stats, user_otp_live and user_refresh_find. */
enum throttle_col { THROTTLE_COUNT, THROTTLE_GAP_WAIT, THROTTLE_HOUR_WAIT };
enum otp_col { OTP_ID, OTP_USER_ID, OTP_CODE_HASH };
enum refresh_col {
    REFRESH_ID,
    REFRESH_USER_ID,
    REFRESH_FAMILY_ID,
    REFRESH_ROTATED,
    REFRESH_REVOKED,
    REFRESH_EXPIRED,
    REFRESH_SUCCESSOR,
};

/* SQL reads better laid out by hand. */
/* clang-format off */
static const struct db_stmt stmts[] = {
    /* The two-key form keeps this lock space apart from other advisory locks. */
    {"user_throttle_lock",
     "SELECT pg_advisory_xact_lock(hashtext('haat.user.otp_sends'), hashtext($1))"},
    {"user_throttle_stats",
     "SELECT count(*), "
     "COALESCE(" WAIT_UNTIL("max(sent_at) + " SECS(USER_OTP_GAP_S)) ", 0), "
     "COALESCE(" WAIT_UNTIL("min(sent_at) + interval '1 hour'") ", 0) "
     "FROM otp_sends WHERE dest_key = $1 AND sent_at > now() - interval '1 hour'"},
    {"user_throttle_record",
     "WITH old AS (DELETE FROM otp_sends WHERE dest_key = $1 "
     "AND sent_at <= now() - interval '1 hour') "
     "INSERT INTO otp_sends (dest_key) VALUES ($1)"},
    /* One more send on a budget's scope this hour; no row when limit ($2) are spent. */
    {"user_budget_take",
     "INSERT INTO send_budgets AS b (scope, hour, sent) VALUES ($1, date_trunc('hour', now()), 1) "
     "ON CONFLICT (scope, hour) DO UPDATE SET sent = b.sent + 1 WHERE b.sent < $2::int "
     "RETURNING " WAIT_UNTIL("date_trunc('hour', now()) + interval '1 hour'")},
    {"user_budget_wait",
     "SELECT " WAIT_UNTIL("date_trunc('hour', now()) + interval '1 hour'")},
    {"user_otp_close_live",
     "UPDATE otps SET closed_at = now() WHERE dest_key = $1 AND purpose = $2 "
     "AND closed_at IS NULL"},
    /* Without an owner ($2 NULL) the code is closed at once (request_otp.c). */
    {"user_otp_insert",
     "INSERT INTO otps (id, user_id, channel, purpose, dest_key, code_hash, expires_at, "
     "closed_at) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, now() + " SECS(USER_OTP_TTL_S) ", "
     "CASE WHEN $2::uuid IS NULL THEN now() END)"},
    {"user_otp_live",
     "SELECT id, user_id, code_hash FROM otps WHERE dest_key = $1 AND purpose = $2 "
     "AND closed_at IS NULL AND expires_at > clock_timestamp() "
     "AND attempts < " DB_STR(USER_OTP_MAX_TRIES) " FOR UPDATE"},
    {"user_otp_wrong",
     "UPDATE otps SET attempts = attempts + 1, "
     "closed_at = CASE WHEN attempts + 1 >= " DB_STR(USER_OTP_MAX_TRIES) " THEN now() END "
     "WHERE id = $1::uuid AND closed_at IS NULL"},
    /* The inserted row is not visible to the count of the same statement: + 1. */
    {"user_otp_failure_add",
     "WITH i AS (INSERT INTO otp_failures (user_id) VALUES ($1::uuid)) "
     "SELECT count(*) + 1 FROM otp_failures WHERE user_id = $1::uuid "
     "AND failed_at > now() - interval '1 day'"},
    {"user_otp_failures",
     "SELECT count(*) FROM otp_failures WHERE user_id = $1::uuid "
     "AND failed_at > now() - interval '1 day'"},
    {"user_otp_close",
     "UPDATE otps SET closed_at = now() WHERE id = $1::uuid AND closed_at IS NULL "
     "AND expires_at > clock_timestamp()"},
    /* Serialises the attempts on one subject (any instance) between check and record. */
    {"user_login_lock",
     "SELECT pg_advisory_xact_lock(hashtext('haat.user.login_failures'), hashtext($1))"},
    /* With n >= 10 failures inside the window, the next try waits until the latest one plus
     * USER_LOGIN_DELAY_S * 2^(n - 10), at most the window (a row only when n >= 10; a wait of
     * 0 or less is no wait). */
    {"user_login_blocked",
     "SELECT " WAIT_UNTIL("max(failed_at) + make_interval(secs => least("
     DB_STR(USER_LOGIN_WINDOW_S) ", " DB_STR(USER_LOGIN_DELAY_S) " * power(2, least(count(*) - "
     DB_STR(USER_LOGIN_MAX_FAILS) ", 20))))") " FROM login_failures WHERE subject_key = $1 "
     "AND failed_at > now() - " SECS(USER_LOGIN_WINDOW_S) " "
     "HAVING count(*) >= " DB_STR(USER_LOGIN_MAX_FAILS)},
    {"user_login_failed",
     "WITH old AS (DELETE FROM login_failures WHERE subject_key = $1 "
     "AND failed_at <= now() - " SECS(USER_LOGIN_WINDOW_S) ") "
     "INSERT INTO login_failures (subject_key) VALUES ($1) RETURNING id"},
    {"user_login_forget", "DELETE FROM login_failures WHERE id = $1::bigint"},
    {"user_login_clear", "DELETE FROM login_failures WHERE subject_key = $1"},
    {"user_refresh_insert",
     "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at) "
     "VALUES ($1::uuid, $2::uuid, $3::uuid, $4, now() + " SECS(USER_REFRESH_TTL_S) ")"},
    {"user_refresh_find",
     "SELECT id, user_id, family_id, rotated_at IS NOT NULL, revoked_at IS NOT NULL, "
     "expires_at <= now(), "
     "CASE WHEN rotated_at > now() - " SECS(USER_REFRESH_GRACE_S) " THEN successor_sealed END "
     "FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE"},
    {"user_refresh_rotate",
     "UPDATE refresh_tokens SET rotated_at = now(), successor_sealed = $2 WHERE id = $1::uuid"},
    {"user_refresh_revoke_family",
     "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, now()), "
     "successor_sealed = NULL WHERE family_id = $1::uuid "
     "AND (revoked_at IS NULL OR successor_sealed IS NOT NULL)"},
    {"user_refresh_revoke_user",
     "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, now()), "
     "successor_sealed = NULL WHERE user_id = $1::uuid "
     "AND (revoked_at IS NULL OR successor_sealed IS NOT NULL)"},
    {"user_purge",
     "WITH a AS (DELETE FROM otp_sends WHERE sent_at <= now() - interval '1 hour' RETURNING 1), "
     "b AS (DELETE FROM login_failures "
     "WHERE failed_at <= now() - " SECS(USER_LOGIN_WINDOW_S) " RETURNING 1), "
     "c AS (DELETE FROM otps WHERE expires_at <= now() - interval '1 day' RETURNING 1), "
     "f AS (DELETE FROM otp_failures WHERE failed_at <= now() - interval '1 day' RETURNING 1), "
     "g AS (DELETE FROM send_budgets WHERE hour <= now() - interval '1 day' RETURNING 1), "
     "d AS (DELETE FROM refresh_tokens WHERE expires_at <= now() - interval '1 day' "
     "RETURNING 1), "
     /* The sealed successors outlive their grace window by at most one purge period. */
     "e AS (UPDATE refresh_tokens SET successor_sealed = NULL "
     "WHERE successor_sealed IS NOT NULL "
     "AND rotated_at <= now() - " SECS(USER_REFRESH_GRACE_S) " RETURNING 1) "
     "SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) + (SELECT count(*) FROM c) "
     "+ (SELECT count(*) FROM d) + (SELECT count(*) FROM e) + (SELECT count(*) FROM f) "
     "+ (SELECT count(*) FROM g)"},
};
/* clang-format on */

void user_repo_register_auth(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

/* A statement of one parameter whose result is not needed. */
static enum db_status run1(struct db_conn *c, const char *stmt, const char *a)
{
    const char *p[] = {a};
    return db_exec(c, stmt, DB_PARAMS(p), NULL);
}

enum db_status user_repo_throttle_lock(struct db_conn *c, const char *dest_key)
{
    return run1(c, "user_throttle_lock", dest_key);
}

enum db_status user_repo_throttle_stats(struct db_conn *c, const char *dest_key, long *count,
                                        int *gap_wait, int *hour_wait)
{
    PGresult *res = NULL;
    const char *p[] = {dest_key};
    enum db_status st = db_exec(c, "user_throttle_stats", DB_PARAMS(p), &res);
    if (st == DB_OK) {
        *count = (long)db_col_ll(res, 0, THROTTLE_COUNT);
        *gap_wait = (int)db_col_ll(res, 0, THROTTLE_GAP_WAIT);
        *hour_wait = (int)db_col_ll(res, 0, THROTTLE_HOUR_WAIT);
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_throttle_record(struct db_conn *c, const char *dest_key)
{
    return run1(c, "user_throttle_record", dest_key);
}

enum db_status user_repo_budget_take(struct db_conn *c, const char *scope, int limit,
                                     int *retry_after)
{
    PGresult *res = NULL;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {scope, lim};
    enum db_status st = user_repo_row(c, "user_budget_take", DB_PARAMS(p), &res);
    if (st == DB_OK)
        *retry_after = (int)db_col_ll(res, 0, 0);
    PQclear(res);
    if (st == DB_NOT_FOUND && user_repo_budget_wait(c, retry_after) != DB_OK)
        return DB_ERROR;
    return st;
}

enum db_status user_repo_budget_wait(struct db_conn *c, int *retry_after)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "user_budget_wait", 0, NULL, &res);
    if (st == DB_OK) {
        int w = (int)db_col_ll(res, 0, 0);
        *retry_after = w > 0 ? w : 1;
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_otp_close_live(struct db_conn *c, const char *dest_key,
                                        const char *purpose)
{
    const char *p[] = {dest_key, purpose};
    return db_exec(c, "user_otp_close_live", DB_PARAMS(p), NULL);
}

enum db_status user_repo_otp_insert(struct db_conn *c, const char *otp_id, const char *user_id,
                                    const char *channel, const char *purpose, const char *dest_key,
                                    const char *code_hash)
{
    const char *p[] = {otp_id, user_id, channel, purpose, dest_key, code_hash};
    return db_exec(c, "user_otp_insert", DB_PARAMS(p), NULL);
}

enum db_status user_repo_otp_live(struct db_conn *c, const char *dest_key, const char *purpose,
                                  struct user_otp_row *out)
{
    PGresult *res = NULL;
    const char *p[] = {dest_key, purpose};
    enum db_status st = user_repo_row(c, "user_otp_live", DB_PARAMS(p), &res);
    if (st == DB_OK) {
        db_col_copy(res, 0, OTP_ID, out->id, sizeof out->id);
        db_col_copy(res, 0, OTP_USER_ID, out->user_id, sizeof out->user_id);
        db_col_copy(res, 0, OTP_CODE_HASH, out->code_hash, sizeof out->code_hash);
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_otp_wrong(struct db_conn *c, const char *otp_id)
{
    return run1(c, "user_otp_wrong", otp_id);
}

/* A statement of one parameter answering one count. */
static enum db_status count1(struct db_conn *c, const char *stmt, const char *a, long *n)
{
    PGresult *res = NULL;
    const char *p[] = {a};
    enum db_status st = db_exec(c, stmt, DB_PARAMS(p), &res);
    *n = st == DB_OK ? (long)db_col_ll(res, 0, 0) : 0;
    PQclear(res);
    return st;
}

enum db_status user_repo_otp_failure_add(struct db_conn *c, const char *user_id, long *n)
{
    return count1(c, "user_otp_failure_add", user_id, n);
}

enum db_status user_repo_otp_failures(struct db_conn *c, const char *user_id, long *n)
{
    return count1(c, "user_otp_failures", user_id, n);
}

enum db_status user_repo_otp_close(struct db_conn *c, const char *otp_id)
{
    const char *p[] = {otp_id};
    return user_repo_change(c, "user_otp_close", DB_PARAMS(p));
}

enum db_status user_repo_login_blocked(struct db_conn *c, const char *subject_key, int *retry_after)
{
    PGresult *res = NULL;
    const char *p[] = {subject_key};
    *retry_after = 0;
    enum db_status st = user_repo_row(c, "user_login_blocked", DB_PARAMS(p), &res);
    if (st == DB_NOT_FOUND)
        return DB_OK; /* fewer than the limit inside the window */
    if (st == DB_OK) {
        int wait = (int)db_col_ll(res, 0, 0);
        *retry_after = wait > 0 ? wait : 0;
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_login_lock(struct db_conn *c, const char *subject_key)
{
    return run1(c, "user_login_lock", subject_key);
}

enum db_status user_repo_login_failed(struct db_conn *c, const char *subject_key,
                                      char id[USER_ROWID_LEN])
{
    PGresult *res = NULL;
    const char *p[] = {subject_key};
    enum db_status st = db_exec(c, "user_login_failed", DB_PARAMS(p), &res);
    if (st == DB_OK)
        db_col_copy(res, 0, 0, id, USER_ROWID_LEN);
    PQclear(res);
    return st;
}

enum db_status user_repo_login_forget(struct db_conn *c, const char *id)
{
    return run1(c, "user_login_forget", id);
}

enum db_status user_repo_login_clear(struct db_conn *c, const char *subject_key)
{
    return run1(c, "user_login_clear", subject_key);
}

enum db_status user_repo_refresh_insert(struct db_conn *c, const char *id, const char *user_id,
                                        const char *family_id, const char *token_hash)
{
    const char *p[] = {id, user_id, family_id, token_hash};
    return db_exec(c, "user_refresh_insert", DB_PARAMS(p), NULL);
}

enum db_status user_repo_refresh_find(struct db_conn *c, const char *token_hash,
                                      struct user_refresh_row *out)
{
    PGresult *res = NULL;
    const char *p[] = {token_hash};
    out->successor_sealed = NULL;
    enum db_status st = user_repo_row(c, "user_refresh_find", DB_PARAMS(p), &res);
    if (st == DB_OK) {
        db_col_copy(res, 0, REFRESH_ID, out->id, sizeof out->id);
        db_col_copy(res, 0, REFRESH_USER_ID, out->user_id, sizeof out->user_id);
        db_col_copy(res, 0, REFRESH_FAMILY_ID, out->family_id, sizeof out->family_id);
        out->rotated = db_col_bool(res, 0, REFRESH_ROTATED);
        out->revoked = db_col_bool(res, 0, REFRESH_REVOKED);
        out->expired = db_col_bool(res, 0, REFRESH_EXPIRED);
        out->successor_sealed = db_col_strdup(res, 0, REFRESH_SUCCESSOR);
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_refresh_rotate(struct db_conn *c, const char *id,
                                        const char *successor_sealed)
{
    const char *p[] = {id, successor_sealed};
    return db_exec(c, "user_refresh_rotate", DB_PARAMS(p), NULL);
}

enum db_status user_repo_refresh_revoke_family(struct db_conn *c, const char *family_id)
{
    return run1(c, "user_refresh_revoke_family", family_id);
}

enum db_status user_repo_refresh_revoke_user(struct db_conn *c, const char *user_id)
{
    return run1(c, "user_refresh_revoke_user", user_id);
}

long long user_repo_purge(struct db_conn *c)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "user_purge", 0, NULL, &res);
    long long n = st == DB_OK ? db_col_ll(res, 0, 0) : -1;
    PQclear(res);
    return n;
}
