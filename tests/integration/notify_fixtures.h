/* Fixtures of the notification tests (test_notify_messages.c, test_notify_feed.c,
 * test_notify_workers.c): the provider settings that point a server at the SMTP sink and the
 * Twilio-compatible capture server, users made through the real signup route, forged-token API
 * calls, events inserted the way outbox_emit does, and readers of what the sinks received.
 *
 * Every test binary owns its server and sinks and passes them in; nothing here holds one. This
 * file is linked into every integration test binary, so its names all start with nf_ (NF_). */
#ifndef HAAT_TESTS_INTEGRATION_NOTIFY_FIXTURES_H
#define HAAT_TESTS_INTEGRATION_NOTIFY_FIXTURES_H

#include <jansson.h>
#include <stddef.h>

#include "tests/integration/harness.h"

/* What the provider settings say (the tests check the messages carry them). */
#define NF_SID            "AC00000000000000000000000000000001"
#define NF_TOKEN          "twilio-secret-token"
#define NF_SMS_FROM       "+15005550006"
#define NF_MAIL_FROM_ADDR "no-reply@haat.test"
/* How the feed shows a code. */
#define NF_MASK "••••••"

/* The provider settings pointing at the given sinks, NULL-terminated in env (which must hold
 * 16 entries), plus up to two extra "NAME=value" strings (may be NULL). buf holds the texts. */
void nf_provider_env(char buf[10][256], const char *env[16], const struct h_sink *mail,
                     const struct h_sink *text, const char *extra1, const char *extra2);
/* Group set-up: starts the SMTP sink (mail), the HTTP capture (text) and s sending through
 * them. Tear-down: s cleaned up (database dropped), both sinks stopped. */
void nf_start(struct h_server *s, struct h_sink *mail, struct h_sink *text);
void nf_stop(struct h_server *s, struct h_sink *mail, struct h_sink *text);

struct nf_user {
    char id[64];
    char name[64];
    char email[128];
    char phone[32];
};

/* A fresh user (unique email and phone) through the real signup route on s; once the signup's
 * codes are out, both addresses are marked verified (SQL), so later messages reach them. */
void nf_signup(const struct h_server *s, struct nf_user *u, const char *name);
/* The signup alone: nothing verified, nothing waited for (its codes are on their way). */
void nf_signup_unverified(const struct h_server *s, struct nf_user *u, const char *name);
/* A request as user_id (a forged access token signed like the server's; NULL: none). */
long nf_api(const struct h_server *s, const char *method, const char *path, const char *user_id,
            const char *body, struct h_resp *r);
/* Inserts an event the way outbox_emit does (row + pg_notify in one transaction). The event id
 * goes to out (37 bytes; may be NULL). */
void nf_emit_at(const char *db_url, const char *type, const char *payload, char out[37]);
/* The printf-formatted query's first value as a number, or -1. */
long long nf_db_int(const char *url, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string member name of o (borrowed), or NULL. */
const char *nf_member(const json_t *o, const char *name);

/* Captured SMS requests to `to` (NULL: anyone) whose Body contains needle (NULL: any). */
size_t nf_count_sms(const json_t *all, const char *to, const char *needle);
/* Polls the capture until nf_count_sms(to, needle) >= want or timeout_ms passes. Returns the
 * last read (new reference). */
json_t *nf_wait_sms(const struct h_sink *k, const char *to, const char *needle, size_t want,
                    int timeout_ms);
/* The first captured SMS to `to` containing needle (borrowed from all), or NULL. */
const json_t *nf_find_sms(const json_t *all, const char *to, const char *needle);
/* Mails to `to` whose subject contains subject_part: how many, the first (borrowed), and a
 * poll until want arrived or timeout_ms passed (new reference). */
size_t nf_count_mail(const json_t *all, const char *to, const char *subject_part);
const json_t *nf_find_mail(const json_t *all, const char *to, const char *subject_part);
json_t *nf_wait_mail(const struct h_sink *k, const char *to, const char *subject_part, size_t want,
                     int timeout_ms);
/* Waits until no notification of the database is queued and no event is unprocessed; fails
 * the test after timeout_ms. */
void nf_wait_quiet(const char *url, int timeout_ms);
/* The 6-digit code in s, or "" (out holds 7). */
void nf_code_in(const char *s, char out[7]);
/* A random (version 4) UUID. */
void nf_uuid_new(char out[37]);

#endif
