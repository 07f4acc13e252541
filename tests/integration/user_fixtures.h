/* Fixtures of the user tests (test_user_signup_otp.c, test_user_login_tokens.c,
 * test_user_account.c): unique identities, requests with or without a bearer token, SQL on the
 * server's database, and the OTP codes read back from the notification log providers.
 *
 * Every test binary owns its server (a static struct h_server of its own) and passes it to
 * each fixture that talks to a server; nothing here holds a server. This file is linked into
 * every integration test binary, so its names all start with uf_ (UF_). */
#ifndef HAAT_TESTS_INTEGRATION_USER_FIXTURES_H
#define HAAT_TESTS_INTEGRATION_USER_FIXTURES_H

#include <jansson.h>
#include <stdbool.h>

#include "tests/integration/harness.h"

#define UF_PASSWORD        "correct horse battery"
#define UF_CODE_TIMEOUT_MS 10000

/* A test user: unique email and phone; id and the signup codes once signed up. */
struct uf_ident {
    char email[96];
    char phone[20]; /* E.164 */
    char id[40];
    char code_sms[8];
    char code_email[8];
};

/* A fresh identity (email with upper-case letters, an Indian mobile number); nothing sent. */
void uf_new_ident(struct uf_ident *u);
/* The string member k of o (borrowed), or NULL. */
const char *uf_str(const json_t *o, const char *k);

/* SQL on s's database: uf_sql asserts success; uf_scalar is h_db_scalar (caller frees). */
void uf_sql(const struct h_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *uf_scalar(const struct h_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Lets the next code to any destination go out now (the throttle counts sends in SQL). */
void uf_age_sends(const struct h_server *s);

/* POST path with the printf-formatted body; token (may be NULL) as a bearer token. r is
 * cleaned up first. Returns the status. */
long uf_post(const struct h_server *s, const char *path, const char *token, struct h_resp *r,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Any method, body as is (may be NULL); otherwise as uf_post. */
long uf_call(const struct h_server *s, const char *method, const char *path, const char *token,
             const char *body, struct h_resp *r);

/* Waits for the nth (1-based) code sent to `to` in the log provider's file ("sms.jsonl",
 * "email.jsonl") and returns it in out. Fails the test after UF_CODE_TIMEOUT_MS. */
void uf_wait_code(const struct h_server *s, const char *file, const char *to, int nth, char out[8]);
/* How many codes went to `to` so far. */
int uf_codes_sent(const struct h_server *s, const char *file, const char *to);

/* Signs up u (201; u->email is lower-cased as the server stores it) and reads both
 * verification codes. */
void uf_signup(const struct h_server *s, struct uf_ident *u);
/* POST /v1/auth/otp/verify for u's destination on channel. */
long uf_verify(const struct h_server *s, const struct uf_ident *u, const char *channel,
               const char *code, const char *purpose, struct h_resp *r);
/* Verifies u's phone with its signup code (200). */
void uf_verify_phone(const struct h_server *s, const struct uf_ident *u);
long uf_login(const struct h_server *s, const char *who, const char *password, struct h_resp *r);
/* A signed-up, phone-verified user and a fresh token pair (new reference in *pair). */
void uf_ready_user(const struct h_server *s, struct uf_ident *u, json_t **pair);

/* Whether the user object's roles hold role. */
bool uf_has_role(const json_t *user, const char *role);
/* Whether the errors[] member of a 422 names field. */
bool uf_error_for(const struct h_resp *r, const char *field);
/* The contract's user object: every member present, never the hash, created_at in UTC. */
void uf_assert_user_object(const json_t *u);
/* The Retry-After header as a number, or -1 when absent. */
int uf_retry_after(const struct h_resp *r);

#endif
