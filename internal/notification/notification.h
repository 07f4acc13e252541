/* notification — turns domain events (outbox_events) into email and SMS messages, delivers
 * them through providers (SMTP / Twilio-compatible HTTP / a log file), and serves the in-app
 * feed and the notification preferences.
 *
 * No module calls this one to send something: producers write events with outbox_emit() and
 * the jobs registered here consume them (docs/events.md is the input contract). */
#ifndef HAAT_INTERNAL_NOTIFICATION_NOTIFICATION_H
#define HAAT_INTERNAL_NOTIFICATION_NOTIFICATION_H

#include <stdbool.h>

#include "pkg/config/config.h"
#include "pkg/http/router.h"
#include "pkg/page/page.h"

/* Start-up, before the first db_conn(): registers the statements and metrics, loads every
 * template from c->templates_dir and validates it against the declared fields of its event,
 * and sets up the providers (c->sms_provider, c->email_provider). Returns 0, or -1 with the
 * reason logged (a template error, a missing template, an unusable log directory): start-up
 * must then fail. The settings it needs are copied. */
int notify_init(const struct cfg *c);

/* Adds GET /v1/me/notifications and GET/PUT /v1/me/notification-preferences. Does not touch
 * the database (the route table is static). */
void notify_routes(struct router *r);

/* Registers the background jobs (after notify_init, before jobs_start): the outbox fan-out,
 * the delivery workers, and the OTP fast lane. Returns 0, or -1 (logged by the runner). */
int notify_register_jobs(void);

/* Sent and failed notifications are kept this long in the feed, then purged. */
#define NOTIFY_RETENTION_DAYS 180

/* Deletes sent and failed notifications older than NOTIFY_RETENTION_DAYS, in batches (a
 * periodic job; queued ones are never touched). Returns the number deleted, or -1. */
long long notify_purge_expired(void);

/* Shutdown has begun: no new batch starts and provider calls in progress abort (the message
 * stays queued for a retry). Any thread; does not wait. */
void notify_request_stop(void);

/* Stops (as notify_request_stop), waits up to wait_ms for running batches, then frees the
 * templates and provider settings. Returns false (freeing nothing) when a batch is still
 * running. After jobs_stop(). */
bool notify_cleanup(int wait_ms);

/* For the admin module. notify_admin_list: the messages with that status ("queued", "sent",
 * "failed"), newest first, limit at most, after the keyset position when not NULL; *items is
 * a new JSON array of {id, event_type, channel, destination, user_id, status, attempts,
 * last_error (the provider's last answer), created_at, sent_at}, *more and *next the next
 * page. Read on c (the caller's connection). */
enum db_status notify_admin_list(struct db_conn *c, const char *status, int limit,
                                 const struct page_key *after, json_t **items, bool *more,
                                 struct page_key *next);
/* Puts a failed message back in the queue (same id, attempts from zero), inside the caller's
 * transaction on c; the delivery job sends it once through the normal path after COMMIT.
 * *before / *after: new JSON for the audit row. DB_NOT_FOUND: no such message; DB_CONFLICT:
 * not failed, or a one-time code (its secret body is gone; the user asks for a new code). */
enum db_status notify_admin_retry(struct db_conn *c, const char *id, json_t **before,
                                  json_t **after);

#endif
