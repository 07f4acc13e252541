/* SQL for credentials and their limits (tables otps, otp_sends, login_failures,
 * refresh_tokens). Every limit lives in PostgreSQL so it holds across instances. */
#include <stdlib.h>
#include <string.h>

#include "internal/user/internal.h"

#define STR_(x) #x
#define STR(x)  STR_(x)
#define SECS(n) "interval '" STR(n) " seconds'"
/* Whole seconds from now until ts (rounded up), for Retry-After. */
#define WAIT_UNTIL(ts) "ceil(extract(epoch FROM (" ts ") - now()))::int"

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
    {"user_otp_close_live",
     "UPDATE otps SET closed_at = now() WHERE dest_key = $1 AND purpose = $2 "
     "AND closed_at IS NULL"},
    {"user_otp_insert",
     "INSERT INTO otps (id, user_id, channel, purpose, dest_key, code_hash, expires_at) "
     "VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, now() + " SECS(USER_OTP_TTL_S) ")"},
    {"user_otp_live",
     "SELECT id, user_id, code_hash FROM otps WHERE dest_key = $1 AND purpose = $2 "
     "AND closed_at IS NULL AND expires_at > clock_timestamp() "
     "AND attempts < " STR(USER_OTP_MAX_TRIES) " FOR UPDATE"},
    {"user_otp_wrong",
     "UPDATE otps SET attempts = attempts + 1, "
     "closed_at = CASE WHEN attempts + 1 >= " STR(USER_OTP_MAX_TRIES) " THEN now() END "
     "WHERE id = $1::uuid AND closed_at IS NULL"},
    {"user_otp_close",
     "UPDATE otps SET closed_at = now() WHERE id = $1::uuid AND closed_at IS NULL "
     "AND expires_at > clock_timestamp()"},
    /* Serialises the attempts on one subject (any instance) between check and record. */
    {"user_login_lock",
     "SELECT pg_advisory_xact_lock(hashtext('haat.user.login_failures'), hashtext($1))"},
    /* Blocked while the 10th most recent failure is inside the window: the wait is until it
     * leaves the window. */
    {"user_login_blocked",
     "SELECT " WAIT_UNTIL("f.failed_at + " SECS(USER_LOGIN_WINDOW_S)) " FROM "
     "(SELECT failed_at FROM login_failures WHERE subject_key = $1 "
     "AND failed_at > now() - " SECS(USER_LOGIN_WINDOW_S) " "
     "ORDER BY failed_at DESC OFFSET " STR(USER_LOGIN_MAX_FAILS) " - 1 LIMIT 1) f"},
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
     "expires_at <= now() FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE"},
    {"user_refresh_rotate", "UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1::uuid"},
    {"user_refresh_revoke_family",
     "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1::uuid "
     "AND revoked_at IS NULL"},
    {"user_refresh_revoke_user",
     "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1::uuid "
     "AND revoked_at IS NULL"},
    {"user_purge",
     "WITH a AS (DELETE FROM otp_sends WHERE sent_at <= now() - interval '1 hour' RETURNING 1), "
     "b AS (DELETE FROM login_failures "
     "WHERE failed_at <= now() - " SECS(USER_LOGIN_WINDOW_S) " RETURNING 1), "
     "c AS (DELETE FROM otps WHERE expires_at <= now() - interval '1 day' RETURNING 1), "
     "d AS (DELETE FROM refresh_tokens WHERE expires_at <= now() - interval '1 day' "
     "RETURNING 1) "
     "SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) + (SELECT count(*) FROM c) "
     "+ (SELECT count(*) FROM d)"},
};
/* clang-format on */

void user_repo_register_auth(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

/* Runs a statement whose result is not needed. */
static enum db_status run(struct db_conn *c, const char *stmt, int n, const char *a, const char *b)
{
    const char *params[2] = {a, b};
    return db_exec(c, stmt, n, params, NULL);
}

enum db_status user_repo_throttle_lock(struct db_conn *c, const char *dest_key)
{
    return run(c, "user_throttle_lock", 1, dest_key, NULL);
}

enum db_status user_repo_throttle_stats(struct db_conn *c, const char *dest_key, long *count,
                                        int *gap_wait, int *hour_wait)
{
    PGresult *res = NULL;
    const char *params[1] = {dest_key};
    enum db_status st = db_exec(c, "user_throttle_stats", 1, params, &res);
    if (st == DB_OK) {
        *count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        *gap_wait = (int)strtol(PQgetvalue(res, 0, 1), NULL, 10);
        *hour_wait = (int)strtol(PQgetvalue(res, 0, 2), NULL, 10);
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_throttle_record(struct db_conn *c, const char *dest_key)
{
    return run(c, "user_throttle_record", 1, dest_key, NULL);
}

enum db_status user_repo_otp_close_live(struct db_conn *c, const char *dest_key,
                                        const char *purpose)
{
    return run(c, "user_otp_close_live", 2, dest_key, purpose);
}

enum db_status user_repo_otp_insert(struct db_conn *c, const char *otp_id, const char *user_id,
                                    const char *channel, const char *purpose, const char *dest_key,
                                    const char *code_hash)
{
    const char *params[6] = {otp_id, user_id, channel, purpose, dest_key, code_hash};
    return db_exec(c, "user_otp_insert", 6, params, NULL);
}

enum db_status user_repo_otp_live(struct db_conn *c, const char *dest_key, const char *purpose,
                                  struct user_otp_row *out)
{
    PGresult *res = NULL;
    const char *params[2] = {dest_key, purpose};
    enum db_status st = user_repo_row(c, "user_otp_live", 2, params, &res);
    if (st == DB_OK) {
        user_col_copy(res, 0, out->id, sizeof out->id);
        user_col_copy(res, 1, out->user_id, sizeof out->user_id);
        user_col_copy(res, 2, out->code_hash, sizeof out->code_hash);
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_otp_wrong(struct db_conn *c, const char *otp_id)
{
    return run(c, "user_otp_wrong", 1, otp_id, NULL);
}

enum db_status user_repo_otp_close(struct db_conn *c, const char *otp_id)
{
    PGresult *res = NULL;
    const char *params[1] = {otp_id};
    enum db_status st = db_exec(c, "user_otp_close", 1, params, &res);
    if (st == DB_OK && strcmp(PQcmdTuples(res), "1") != 0)
        st = DB_NOT_FOUND;
    PQclear(res);
    return st;
}

enum db_status user_repo_login_blocked(struct db_conn *c, const char *subject_key, int *retry_after)
{
    PGresult *res = NULL;
    const char *params[1] = {subject_key};
    *retry_after = 0;
    enum db_status st = db_exec(c, "user_login_blocked", 1, params, &res);
    if (st == DB_OK && PQntuples(res) == 1) {
        int wait = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
        *retry_after = wait > 0 ? wait : 1;
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_login_lock(struct db_conn *c, const char *subject_key)
{
    return run(c, "user_login_lock", 1, subject_key, NULL);
}

enum db_status user_repo_login_failed(struct db_conn *c, const char *subject_key,
                                      char id[USER_ROWID_LEN])
{
    PGresult *res = NULL;
    const char *params[1] = {subject_key};
    enum db_status st = db_exec(c, "user_login_failed", 1, params, &res);
    if (st == DB_OK)
        user_col_copy(res, 0, id, USER_ROWID_LEN);
    PQclear(res);
    return st;
}

enum db_status user_repo_login_forget(struct db_conn *c, const char *id)
{
    return run(c, "user_login_forget", 1, id, NULL);
}

enum db_status user_repo_login_clear(struct db_conn *c, const char *subject_key)
{
    return run(c, "user_login_clear", 1, subject_key, NULL);
}

enum db_status user_repo_refresh_insert(struct db_conn *c, const char *id, const char *user_id,
                                        const char *family_id, const char *token_hash)
{
    const char *params[4] = {id, user_id, family_id, token_hash};
    return db_exec(c, "user_refresh_insert", 4, params, NULL);
}

enum db_status user_repo_refresh_find(struct db_conn *c, const char *token_hash,
                                      struct user_refresh_row *out)
{
    PGresult *res = NULL;
    const char *params[1] = {token_hash};
    enum db_status st = user_repo_row(c, "user_refresh_find", 1, params, &res);
    if (st == DB_OK) {
        user_col_copy(res, 0, out->id, sizeof out->id);
        user_col_copy(res, 1, out->user_id, sizeof out->user_id);
        user_col_copy(res, 2, out->family_id, sizeof out->family_id);
        out->rotated = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
        out->revoked = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
        out->expired = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_refresh_rotate(struct db_conn *c, const char *id)
{
    return run(c, "user_refresh_rotate", 1, id, NULL);
}

enum db_status user_repo_refresh_revoke_family(struct db_conn *c, const char *family_id)
{
    return run(c, "user_refresh_revoke_family", 1, family_id, NULL);
}

enum db_status user_repo_refresh_revoke_user(struct db_conn *c, const char *user_id)
{
    return run(c, "user_refresh_revoke_user", 1, user_id, NULL);
}

long long user_repo_purge(struct db_conn *c)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "user_purge", 0, NULL, &res);
    long long n = st == DB_OK ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return n;
}
