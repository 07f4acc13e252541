/* Private to internal/user: limits, the user record, validation, OTP and token helpers, the
 * repository (repo_*.c: the only files with SQL), reply helpers and the commands' transaction
 * pattern. */
#ifndef HAAT_INTERNAL_USER_INTERNAL_H
#define HAAT_INTERNAL_USER_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/clock/clock.h"
#include "pkg/crypto/sec.h"
#include "pkg/db/db.h"
#include "pkg/http/http.h"
#include "pkg/ids/ids.h"
#include "pkg/json/jsonh.h"
#include "internal/user/user.h"

/* --- limits (the contract states them: docs/openapi.yaml) --- */
#define USER_ACCESS_TTL_S    900     /* access token life: <= 15 min */
#define USER_REFRESH_TTL_S   2592000 /* each refresh token: 30 days (literal: SQL) */
#define USER_REFRESH_BYTES   32      /* random bytes in a refresh token */
#define USER_REFRESH_LEN     SEC_TOKEN_LEN(USER_REFRESH_BYTES)
#define USER_REFRESH_GRACE_S 10  /* a rotated token answers its successor again (literal: SQL) */
#define USER_OTP_TTL_S       600 /* 10 minutes */
#define USER_OTP_DIGITS      6
#define USER_OTP_MAX_TRIES   5   /* the 5th wrong try kills the code */
#define USER_OTP_GAP_S       30  /* at most 1 send per destination per 30 s */
#define USER_OTP_PER_HOUR    10  /* ... and 10 per hour */
#define USER_LOGIN_MAX_FAILS 10  /* failed logins per account ... */
#define USER_LOGIN_WINDOW_S  900 /* ... within 15 minutes */
#define USER_PASSWORD_MIN    10  /* characters */
#define USER_PASSWORD_MAX    256
#define USER_PHONE_LEN       17             /* "+" + at most 15 digits + NUL */
#define USER_EMAIL_LEN       255            /* at most 254 + NUL */
#define USER_DEST_LEN        USER_EMAIL_LEN /* a normalised destination of either channel */
#define USER_UPI_LEN         322            /* 256 + "@" + 64 + NUL */
#define USER_IFSC_LEN        12
#define USER_BUSY_RETRY_S    "1" /* Retry-After when the password pool is full */
/* The auth hook's suspension list (auth_cache.c): reloaded this often (the worst-case delay
 * before a suspension bites on every route), holding users suspended within the window (two
 * access token lives: covers a token issued by a refresh racing the suspension, and clock
 * skew between the instances and PostgreSQL). */
#define USER_SUSPENDED_POLL_MS  2000
#define USER_SUSPENDED_WINDOW_S 1800 /* literal: SQL */

/* --- the user record --- */
struct user_rec {
    char id[IDS_UUID_LEN];
    char *name, *email, *phone; /* owned */
    bool email_verified, phone_verified, is_admin, is_seller, suspended;
    char created_at[CLOCK_RFC3339_LEN];
    char *password_hash; /* owned; only from the user_repo_auth_* lookups, else NULL */
};

void user_rec_cleanup(struct user_rec *u);
/* Whether u has verified channel ("sms": the phone, "email": the email). */
bool user_channel_verified(const struct user_rec *u, const char *channel);
/* The contract's user object (new reference): never the hash. */
json_t *user_rec_json(const struct user_rec *u);
/* enum http_role bits: buyer always, seller, admin. */
unsigned user_rec_roles(const struct user_rec *u);
/* The same as ["buyer"(,"seller")(,"admin")], new reference. */
json_t *user_rec_roles_json(const struct user_rec *u);

/* --- validation (validate.c; pure functions, unit-tested) --- */

/* E.164. Indian numbers may come as 10 digits (6-9 first), with a 0 or 91 prefix, or +91;
 * other countries need the +. Spaces, dashes, dots and parentheses between digits are
 * ignored. True and out = "+<digits>" when valid. */
bool user_phone_normalize(const char *in, char out[USER_PHONE_LEN]);
/* A practical address check (ASCII, local@domain, a dotted domain, lengths per RFC 5321);
 * out is the lower-cased address. */
bool user_email_normalize(const char *in, char out[USER_EMAIL_LEN]);
/* "name@bank": [a-zA-Z0-9._-]{2,256} "@" [a-zA-Z]{2,64}; out lower-cased. */
bool user_upi_normalize(const char *in, char out[USER_UPI_LEN]);
/* ^[A-Z]{4}0[A-Z0-9]{6}$ after upper-casing; out upper-cased. */
bool user_ifsc_normalize(const char *in, char out[USER_IFSC_LEN]);
/* 9 to 18 ASCII digits. */
bool user_account_number_valid(const char *s);
/* "sms" + phone or "email" + address, normalised into out (USER_DEST_LEN). */
bool user_destination_normalize(const char *channel, const char *in, char out[USER_DEST_LEN]);

/* --- OTP (otp.c) --- */

/* USER_OTP_DIGITS uniformly random digits (libsodium randombytes_uniform). */
void user_otp_generate(char code[USER_OTP_DIGITS + 1]);
/* True when code is exactly USER_OTP_DIGITS ASCII digits. */
bool user_otp_wellformed(const char *code);
/* HMAC of the code bound to its otp id (so equal codes never share a hash). */
void user_otp_hash(const char *otp_id, const char *code, char out[SEC_HEX_LEN]);
/* Constant-time: does code hash to stored for otp_id? */
bool user_otp_matches(const char *otp_id, const char *code, const char *stored);
/* The lookup key of a destination: HMAC("channel:destination"). */
void user_dest_key(const char *channel, const char *dest, char out[SEC_HEX_LEN]);

/* Records one send to (channel, dest) if the throttle allows it: *retry_after = 0 and the send
 * counts; otherwise *retry_after = seconds to wait (>= 1) and nothing is recorded. Holds a
 * transaction-scoped advisory lock on the destination, so concurrent requests (on any
 * instance) see each other. Inside the caller's transaction on c. */
enum db_status user_otp_throttle(struct db_conn *c, const char *channel, const char *dest,
                                 int *retry_after);
/* Issues a fresh code to user_id at (channel, dest) for purpose: closes the previous live
 * code, stores the new one hashed, and emits otp.requested with the code sealed. Inside the
 * caller's transaction on c. */
enum db_status user_otp_issue(struct db_conn *c, const char *user_id, const char *channel,
                              const char *dest, const char *purpose);

/* The outcome of checking a code. */
enum user_otp_check { USER_OTP_GOOD, USER_OTP_BAD };
struct user_otp_hit {
    char otp_id[IDS_UUID_LEN];
    char user_id[IDS_UUID_LEN];
};
/* Checks code against the live code of (channel, dest, purpose), counting a wrong try (the
 * 5th kills it). On GOOD *hit is filled and, when close, the code is closed (single use);
 * without close the caller closes it later with user_otp_close (two-phase: password reset
 * hashes between the two). Every failure (no live code, expired, used, wrong) is BAD. Inside
 * the caller's transaction on c; the caller must commit even on BAD so the try counts. */
enum db_status user_otp_consume(struct db_conn *c, const char *channel, const char *dest,
                                const char *purpose, const char *code, bool close,
                                enum user_otp_check *out, struct user_otp_hit *hit);
/* Closes a code found by user_otp_consume(close = false): DB_NOT_FOUND when it was closed
 * or expired in between. */
enum db_status user_otp_close(struct db_conn *c, const char *otp_id);

/* The login-failure throttle key of an account ("u", user id) or of an unknown login name
 * ("l", normalised login). */
void user_login_subject(const char *kind, const char *value, char out[SEC_HEX_LEN]);

/* --- tokens (tokens.c) --- */

/* A signed access token for u (heap string), claims sub, roles, pv, iat, exp. */
char *user_access_token(const struct user_rec *u);
/* Stores a new refresh token for user_id in family_id (NULL: a new family, i.e. a login)
 * and writes it to token. Inside the caller's transaction on c. */
enum db_status user_refresh_issue(struct db_conn *c, const char *user_id, const char *family_id,
                                  char token[USER_REFRESH_LEN]);
/* The contract's token pair for u (new reference). */
json_t *user_token_pair_json(const struct user_rec *u, const char *refresh_token);
/* access_token, token_type, expires_in added to obj (after a role change). */
void user_add_access_token(json_t *obj, const struct user_rec *u);

/* --- the suspension list of the auth hook (suspended_set.c, auth_cache.c) --- */

#define USER_UUID_BYTES 16
/* A canonical 36-character UUID, any case, into its 16 bytes; false when malformed. */
bool user_uuid_parse(const char *s, unsigned char out[USER_UUID_BYTES]);

struct user_suspension {
    unsigned char id[USER_UUID_BYTES];
    int64_t at; /* suspended_at, unix seconds */
};
/* An immutable set of suspensions, sorted for binary search; any thread may search it. */
struct user_suspended_set;
/* A set holding v[0..n) (copied; any order; for a repeated id the latest time wins). */
struct user_suspended_set *user_suspended_set_new(const struct user_suspension *v, size_t n);
void user_suspended_set_free(struct user_suspended_set *s);         /* NULL: no-op */
size_t user_suspended_set_size(const struct user_suspended_set *s); /* NULL: 0 */
/* Whether id is in s (NULL: empty); *at (may be NULL) gets its suspended_at. */
bool user_suspended_set_find(const struct user_suspended_set *s,
                             const unsigned char id[USER_UUID_BYTES], int64_t *at);

/* Publishes s as the auth hook's list (steals it; frees the previous one). NULL forgets the
 * list: the hook is back to "never loaded" and refuses nothing. Any thread. */
void user_auth_cache_install(struct user_suspended_set *s);
/* Whether the auth hook must refuse user_id's tokens: it is in the current list. Lock-free
 * (one atomic load) while the list is empty or was never loaded; else a read lock around a
 * binary search. */
bool user_auth_cache_refuses(const char *user_id);

/* --- replies (reply.c): the ones only this module gives; the rest come from the request
 * kit (pkg/http/http.h) --- */

/* 403 account_suspended. */
void user_reply_suspended(struct http_req *r);
/* 401 invalid_code: any failure of a one-time code (none sent, expired, used, wrong). */
void user_reply_bad_code(struct http_req *r);
/* 503 when the password pool is full or stopping. */
void user_reply_busy(struct http_req *r);
/* Defers r and queues job on the password pool. job->password is copied into request
 * memory and the request's body and JSON tree are freed first (http_req_drop_body): copy out
 * anything else of the body the job's done() needs before calling this. False when the pool is full
 * or stopping (logged): the job was not queued, the caller frees it and replies (user_reply_busy,
 * after undoing what it recorded for the job, if anything). */
bool user_pwjob_submit(struct http_req *r, struct sec_pwjob *job);

/* --- commands: one transaction pattern ---
 * Every command runs its effect through http_txn (pkg/http/http.h). Its transaction function
 * replies, inside the transaction, for every outcome it commits: the success, and the refusals
 * whose effect must stay (a wrong code's counted try, a revoked token family). An outcome
 * that must change nothing (a refusal, or a check that passed and hands over to the next
 * phase) is recorded in the function's context and returned as USER_UNCHANGED: http_txn rolls
 * back and returns it, and the handler answers from the context. Any other status is a
 * database failure the handler answers with http_reply_db. */
#define USER_UNCHANGED DB_NOT_FOUND

/* --- request bodies shared by several handlers (body.c) --- */

/* The members shared by the one-time-code bodies (request_otp, verify_otp, reset_password).
 * The strings are borrowed from the request body. */
struct user_otp_body {
    const char *channel;      /* "sms" | "email" */
    const char *destination;  /* as sent */
    const char *code;         /* USER_OTP_CHECK only */
    const char *purpose;      /* when the use case has the member */
    char dest[USER_DEST_LEN]; /* destination normalised for channel */
};
enum user_otp_use {
    USER_OTP_SEND,  /* {channel, destination, ...}: asking for a code */
    USER_OTP_CHECK, /* {channel, destination, code, ...}: presenting one */
};
/* Parses channel and destination (and code for USER_OTP_CHECK) into b, then a required
 * "purpose" member with one of purposes (NULL: the body has none), then the use case's other
 * members (rest, a jsonh table; may be NULL) into rest_out; checks the destination against the
 * channel and the code's form. Errors come in that order, then destination, then code. b must
 * be zeroed. Replies 422 itself and returns false when anything is wrong. */
bool user_otp_body_parse_or_reply(struct http_req *r, enum user_otp_use use,
                                  const char *const *purposes, const struct jsonh_field *rest,
                                  void *rest_out, struct user_otp_body *b);

/* Parses a {refresh_token} body (logout, refresh) and writes the token's hash, its lookup
 * key, into hash. Replies 422 itself and returns false when the body is wrong. */
bool user_refresh_body_or_reply(struct http_req *r, char hash[SEC_HEX_LEN]);

/* The caller's record (principal's user id) into *u, answering 401 when the account is gone
 * or suspended and 503/500 on database failure. For /v1/me handlers. */
bool user_load_caller_or_reply(struct http_req *r, struct db_conn *c, struct user_rec *u);

/* --- repository (repo_users.c, repo_auth.c) --- */

/* Registers both files' statements. */
void user_repo_register_users(void);
void user_repo_register_auth(void);

/* Helpers of both files (repo_rows.c), called with DB_PARAMS(p). user_repo_row: db_exec of a
 * statement that answers at most one row; DB_NOT_FOUND (and *res NULL) when it answers none.
 * user_repo_change: db_exec of a statement that must change a row; DB_NOT_FOUND when it
 * changed none. */
enum db_status user_repo_row(struct db_conn *c, const char *stmt, int n, const char *const *params,
                             PGresult **res);
enum db_status user_repo_change(struct db_conn *c, const char *stmt, int n,
                                const char *const *params);

enum user_key { USER_BY_ID, USER_BY_EMAIL, USER_BY_PHONE };

/* One user without the password hash; lock: FOR UPDATE. DB_NOT_FOUND when none. */
enum db_status user_repo_get(struct db_conn *c, enum user_key key, const char *value, bool lock,
                             struct user_rec *out);
/* As user_repo_get by email or phone, with password_hash filled. */
enum db_status user_repo_auth(struct db_conn *c, enum user_key key, const char *value,
                              struct user_rec *out);
/* DB_OK when an account has this email or this phone, DB_NOT_FOUND otherwise. */
enum db_status user_repo_exists(struct db_conn *c, const char *email, const char *phone);
/* DB_CONFLICT on a duplicate email or phone. created_at filled into u on DB_OK. */
enum db_status user_repo_insert(struct db_conn *c, struct user_rec *u, const char *hash);
enum db_status user_repo_set_verified(struct db_conn *c, const char *id, const char *channel);
enum db_status user_repo_set_name(struct db_conn *c, const char *id, const char *name);
enum db_status user_repo_set_password(struct db_conn *c, const char *id, const char *hash);
/* Sets is_admin on the account with email (row locked). DB_NOT_FOUND when there is none;
 * else *before gets its id, is_seller and is_admin as they were before (other fields zero). */
enum db_status user_repo_grant_admin(struct db_conn *c, const char *email, struct user_rec *before);

struct user_seller_in {
    const char *display_name;
    const char *method;                                         /* "upi" | "bank" */
    const char *upi_vpa, *account_name, *account_number, *ifsc; /* normalised; NULL if n/a */
};
/* DB_CONFLICT when already a seller; joined_at filled on DB_OK. */
enum db_status user_repo_seller_insert(struct db_conn *c, const char *user_id,
                                       const struct user_seller_in *in,
                                       char joined_at[CLOCK_RFC3339_LEN]);
/* A non-suspended seller's public name and join time; display_name is a heap string. */
enum db_status user_repo_seller_public(struct db_conn *c, const char *id, char **display_name,
                                       char joined_at[CLOCK_RFC3339_LEN]);
enum db_status user_repo_seller_payout(struct db_conn *c, const char *id, struct user_payout *out);
/* A user's email, phone and name (heap strings, NULL for SQL NULL); DB_NOT_FOUND when none. */
/* user_display_names' statement. */
enum db_status user_repo_display_names(struct db_conn *c, struct user_name *out, size_t n);
enum db_status user_repo_contact(struct db_conn *c, const char *id, char **email, char **phone,
                                 char **name);

/* OTP rows and the send throttle. */
enum db_status user_repo_throttle_lock(struct db_conn *c, const char *dest_key);
/* Sends in the last hour: their number and the seconds until each limit frees up. */
enum db_status user_repo_throttle_stats(struct db_conn *c, const char *dest_key, long *count,
                                        int *gap_wait, int *hour_wait);
enum db_status user_repo_throttle_record(struct db_conn *c, const char *dest_key);
enum db_status user_repo_otp_insert(struct db_conn *c, const char *otp_id, const char *user_id,
                                    const char *channel, const char *purpose, const char *dest_key,
                                    const char *code_hash);
struct user_otp_row {
    char id[IDS_UUID_LEN];
    char user_id[IDS_UUID_LEN];
    char code_hash[SEC_HEX_LEN];
};
/* The live (not closed, not expired, tries left) code, locked. DB_NOT_FOUND when none. */
enum db_status user_repo_otp_live(struct db_conn *c, const char *dest_key, const char *purpose,
                                  struct user_otp_row *out);
enum db_status user_repo_otp_wrong(struct db_conn *c, const char *otp_id);
/* DB_NOT_FOUND when the code is already closed or expired. */
enum db_status user_repo_otp_close(struct db_conn *c, const char *otp_id);
enum db_status user_repo_otp_close_live(struct db_conn *c, const char *dest_key,
                                        const char *purpose);

/* Login failures per subject key. A login attempt takes the subject's transaction-scoped
 * advisory lock, checks the limit and records its failure in advance (its row id in id), so
 * parallel attempts can never exceed the limit; success clears them, a job that never ran
 * forgets its own row. */
#define USER_ROWID_LEN 24
enum db_status user_repo_login_lock(struct db_conn *c, const char *subject_key);
enum db_status user_repo_login_blocked(struct db_conn *c, const char *subject_key,
                                       int *retry_after);
enum db_status user_repo_login_failed(struct db_conn *c, const char *subject_key,
                                      char id[USER_ROWID_LEN]);
enum db_status user_repo_login_forget(struct db_conn *c, const char *id);
enum db_status user_repo_login_clear(struct db_conn *c, const char *subject_key);

/* Refresh tokens. */
enum db_status user_repo_refresh_insert(struct db_conn *c, const char *id, const char *user_id,
                                        const char *family_id, const char *token_hash);
struct user_refresh_row {
    char id[IDS_UUID_LEN];
    char user_id[IDS_UUID_LEN];
    char family_id[IDS_UUID_LEN];
    bool rotated, revoked, expired;
    /* Rotated less than USER_REFRESH_GRACE_S ago: the successor as sec_seal()ed (heap, the
     * caller frees); NULL otherwise. */
    char *successor_sealed;
};
/* By token hash, locked. DB_NOT_FOUND when unknown. */
enum db_status user_repo_refresh_find(struct db_conn *c, const char *token_hash,
                                      struct user_refresh_row *out);
/* Marks id rotated and keeps successor_sealed (a sec_seal() of its successor) for the grace
 * window. */
enum db_status user_repo_refresh_rotate(struct db_conn *c, const char *id,
                                        const char *successor_sealed);
enum db_status user_repo_refresh_revoke_family(struct db_conn *c, const char *family_id);
enum db_status user_repo_refresh_revoke_user(struct db_conn *c, const char *user_id);
/* Rows deleted, or -1. */
long long user_repo_purge(struct db_conn *c);
/* Users suspended within USER_SUSPENDED_WINDOW_S (by the database clock) as a new set in
 * *out; *out NULL unless DB_OK. */
enum db_status user_repo_suspended_recent(struct db_conn *c, struct user_suspended_set **out);

/* --- module state --- */
const struct user_seller_stats_provider *user_stats_provider(void);

/* The use cases: one file each, named after the export (commands/sign_up.c exports
 * user_sign_up). Commands (routes.c's command table): */
void user_sign_up(struct http_req *r);
void user_request_otp(struct http_req *r);
void user_verify_otp(struct http_req *r);
void user_login(struct http_req *r);
void user_refresh_token(struct http_req *r);
void user_log_out(struct http_req *r);
void user_reset_password(struct http_req *r);
void user_update_me(struct http_req *r);
void user_become_seller(struct http_req *r);
/* Queries (routes.c's query table): */
void user_get_me(struct http_req *r);
void user_get_seller(struct http_req *r);

#endif
