/* user — users and identity: signup, OTPs, login, tokens, the caller's profile, sellers.
 *
 * The only header other modules and internal/app include. Start-up order (internal/app):
 *   sec_init(cfg->jwt_secret)                   pkg/crypto/sec.h: keys for tokens and seals
 *   user_init(cfg)                              statements; before the first db_conn()
 *   user_routes(router)                         /v1/auth/..., /v1/me..., /v1/sellers/{id}
 *   user_auth_cache_start()                     every serve process (not worker): the
 *                                               suspension list user_authenticate consults
 *   http_server_set_auth(srv, user_authenticate)
 *   sec_pwpool_start(2, 64)                     before the server accepts requests
 *   a periodic job calling user_purge_expired() (e.g. every 10 minutes)
 * and at shutdown: http_server_quiesce, sec_pwpool_stop, http_server_stop (queued password
 * jobs then answer 503 instead of touching a request the server already freed), then
 * user_auth_cache_stop(grace_ms) before db_shutdown. */
#ifndef HAAT_INTERNAL_USER_USER_H
#define HAAT_INTERNAL_USER_USER_H

#include "pkg/config/config.h"
#include "pkg/http/http.h"
#include "pkg/http/router.h"
#include "pkg/page/page.h"

/* Registers the module's statements (idempotent) and reads its abuse limits (HAAT_LIMIT_AUTH_
 * PER_IP_MIN, HAAT_LIMIT_{SMS,EMAIL}_PER{_IP,}_HOUR, HAAT_SMS_COUNTRIES) from c. */
void user_init(const struct cfg *c);
/* Adds the module's command and query routes. */
void user_routes(struct router *r);

/* The http_auth_fn of the server (pkg/http/http.h): verifies an access token (JWT HS256)
 * without a database call and fills *who (user id, roles, phone verified). 0 or -1 (the
 * server answers 401 unauthorized). A token whose user is on the in-memory suspension list
 * (below) is refused like an expired one; see docs/decisions/0002-stateless-access-tokens.md. */
int user_authenticate(const char *bearer, struct http_principal *who);

/* The suspension list of user_authenticate: the users suspended (users.suspended_at set to
 * the time of the suspension) within the last 30 minutes, reloaded from the primary every
 * 2 s by a thread of this module. Worst case, a suspension stops the user's access tokens on
 * every route 2 s (plus one query) after it commits; un-suspending lets a new login's token
 * through within the same delay (the login itself works at once).
 * Start: starts the thread and waits (up to 5 s) for its first load, so the server listens
 * with the list loaded; 0, or -1 (logged) when the thread cannot start or already runs. Needs
 * db_init and user_init; start and stop from one thread. A database that is down is no error:
 * until the first load succeeds nothing is refused (fail open: such tokens expire within 15
 * minutes and cannot be refreshed), and after a failed reload the last list stays. Gauges:
 * user_suspensions_cached, user_suspensions_age_seconds.
 * Stop: ends the thread (waiting up to grace_ms for a query in flight) and forgets the list. */
int user_auth_cache_start(void);
void user_auth_cache_stop(int grace_ms);

/* `haat admin grant EMAIL`: gives the admin role to the account with that email and records
 * it in the audit log (pkg/audit, actor "cli", action "admin.grant") in the same transaction.
 * Opens the database itself (db_init + user_init + audit_init), prints one line, returns the
 * exit code: 0 granted (or already admin), 1 no such account or database error, 2 malformed
 * email. */
int user_grant_admin(const struct cfg *c, const char *email);

/* `haat admin seal-accounts`: seals (HAAT_DATA_KEY) every seller's bank account number still
 * stored in the clear, once, each in the audit log (actor "cli", action
 * "seller.seal_account"). Opens the database itself, prints one line, returns 0, or 1 when the
 * database failed (a line on stderr). Running it again seals nothing more. */
int user_seal_accounts(const struct cfg *c);

/* For the admin module, on c inside the caller's transaction (the primary), which also writes
 * the audit row. user_admin_set_suspended suspends (on) or unsuspends the user: suspended_at
 * set (kept when already suspended) or cleared; the auth hook's list then refuses or accepts
 * the user's tokens within 2 s. user_admin_revoke takes the admin role from the account with
 * that email and fills its id. user_admin_find_email fills the id of the account with that
 * email. *was_* / *suspended: the state before. DB_NOT_FOUND: no such user; DB_CHECK: a
 * malformed email. *user (when not NULL): the User object after the change, with status
 * "active" or "suspended" (new reference). */
enum db_status user_admin_set_suspended(struct db_conn *c, const char *user_id, bool on,
                                        bool *was_suspended, json_t **user);
/* GET /v1/admin/users, on c (the query's read connection): a page of users whose email, phone
 * or name contains q (NULL: any; case-insensitive for email and name), with status "active" or
 * "suspended" (NULL: any), newest first; after is the page cursor's position (NULL: the first
 * page). *items is a new array of User objects with "status"; *more / *next tell the next page. */
enum db_status user_admin_search(struct db_conn *c, const char *q, const char *status, int limit,
                                 const struct page_key *after, json_t **items, bool *more,
                                 struct page_key *next);
/* On c, the caller's connection (chat's send transaction): whether an operator suspended the
 * user now (*suspended). DB_NOT_FOUND: no such user. */
enum db_status user_is_suspended(struct db_conn *c, const char *user_id, bool *suspended);
enum db_status user_admin_revoke(struct db_conn *c, const char *email, char id[IDS_UUID_LEN],
                                 bool *was_admin);
enum db_status user_admin_find_email(struct db_conn *c, const char *email, char id[IDS_UUID_LEN],
                                     bool *suspended);

/* For the notification module: how to reach a user, read on c, the caller's connection (the
 * primary: a just-signed-up user is not on a replica yet; inside or outside the caller's
 * transaction). email, phone and name are heap strings (NULL when the column is); the
 * *_verified flags say whether the user proved the address is theirs: nothing but a
 * verification code may go to an address that is not. */
struct user_contact_info {
    char *email, *phone, *name;
    bool email_verified, phone_verified;
};
/* 0, or -1 when there is no such user or the database failed (c NULL included); *out is
 * filled on 0 and zeroed otherwise. Free with user_contact_cleanup. */
int user_contact(struct db_conn *c, const char *user_id, struct user_contact_info *out);
void user_contact_cleanup(struct user_contact_info *ci);

/* For the chat module: how a user is shown to others — the seller profile's display name
 * when the user has one, else the user's name. */
#define USER_NAME_SIZE (100 * 4 + 1) /* 100 characters of UTF-8 and the NUL */
struct user_name {
    char user_id[IDS_UUID_LEN];        /* in */
    bool found;                        /* out: false for no such user (or a malformed id) */
    char display_name[USER_NAME_SIZE]; /* out; "" when not found */
};
/* Fills names[0..n) (user_id set by the caller) in one statement on c, the caller's
 * connection. Returns 0, or -1 when the database could not answer (logged). */
int user_display_names(struct db_conn *c, struct user_name *names, size_t n);

/* For the payment module: where a seller's payouts go. method is "upi" or "bank"; the other
 * method's fields are NULL. Heap strings the caller frees with user_payout_cleanup. */
struct user_payout {
    char *method;
    char *upi_vpa;
    char *account_name;
    char *account_number; /* in full: never put it in a response, log or event */
    char *ifsc;
};
/* Read on c, the caller's connection. 0, or -1 when seller_id is not a seller or the database
 * failed (c NULL included); *out is zeroed then. */
int user_seller_payout(struct db_conn *c, const char *seller_id, struct user_payout *out);
void user_payout_cleanup(struct user_payout *p);

/* Public seller profile figures owned by other modules (catalog, order), wired by the app so
 * this module needs no compile-time dependency on them. Each reads on c, the connection of the
 * profile query (the read connection), and returns 0, or -1 on failure (the profile then shows
 * the fresh-seller value and the failure is logged). Either function may be NULL. */
struct user_seller_stats_provider {
    int (*active_listings)(struct db_conn *c, const char *seller_id, long long *n);
    /* count 0: avg unused */
    int (*rating)(struct db_conn *c, const char *seller_id, double *avg, long long *count);
};
/* p is borrowed (static data); NULL removes it. Call at start-up, before serving. Without a
 * provider: active_listings 0, rating_count 0, rating_avg null. */
void user_set_seller_stats_provider(const struct user_seller_stats_provider *p);

/* Deletes expired OTPs, throttle rows older than an hour, login failures older than their
 * window and refresh tokens a day past expiry. Returns rows deleted, or -1 when the database
 * failed (logged). */
long long user_purge_expired(void);
/* Deletes the accounts that verified neither address within 7 days of signing up (their
 * claims, codes and tokens go with them). Rows deleted, or -1 (logged). */
long long user_purge_unverified(void);

#endif
