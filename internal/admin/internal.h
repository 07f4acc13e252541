/* Private to the admin module: its use cases, the gate, the audit log's repository. */
#ifndef HAAT_INTERNAL_ADMIN_INTERNAL_H
#define HAAT_INTERNAL_ADMIN_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "internal/admin/admin.h"
#include "pkg/db/db.h"
#include "pkg/http/http.h"
#include "pkg/page/page.h"

#define ADMIN_LISTING_AUDIT         "admin.audit_log"
#define ADMIN_LISTING_NOTIFICATIONS "admin.notifications"
#define ADMIN_LISTING_USERS         "admin.users"
#define ADMIN_REASON_MAX            1000 /* characters, as audit_log.reason */
#define ADMIN_NOTE_MAX              500  /* a dispute decision's note */

/* ---- the gate (gate.c) ---------------------------------------------------------------- */
void admin_gate_configure(int per_min);
/* Takes one token from the admin's bucket: true, or false with *retry_after_s set. */
bool admin_gate_take(const char *admin_id, int *retry_after_s);

/* ---- use cases ------------------------------------------------------------------------ */
void admin_suspend_user(struct http_req *r);
void admin_unsuspend_user(struct http_req *r);
void admin_retry_notification(struct http_req *r);
void admin_takedown_product(struct http_req *r);
void admin_restore_product(struct http_req *r);
void admin_list_reports(struct http_req *r);
void admin_list_notifications(struct http_req *r);
void admin_list_audit_log(struct http_req *r);
void admin_list_users(struct http_req *r);
void admin_resolve_dispute(struct http_req *r);
void admin_list_disputes(struct http_req *r);
void admin_get_revenue(struct http_req *r);

/* suspension.c: the body of suspend and unsuspend (on: which one). */
void admin_set_suspension(struct http_req *r, bool on);
/* moderation.c: the body of take down and restore (take_down: which one). */
void admin_moderate_product(struct http_req *r, bool take_down);
/* A text filter of a listing (?name=): absent is NULL; present must be 1..100 characters
 * (false after answering 422 on name). */
bool admin_filter_or_reply(struct http_req *r, const char *name, const char **out);
/* Reads the required {reason} body into *reason (borrowed from the body): false after
 * answering 422. */
bool admin_reason_or_reply(struct http_req *r, const char **reason);

/* ---- repository (repo_audit.c) -------------------------------------------------------- */
void admin_repo_register(void);
/* A page of audit rows newest first; actor / target (NULL: any) filter; *items new. */
enum db_status admin_repo_audit_page(struct db_conn *c, const char *actor, const char *target,
                                     int limit, const struct page_key *after, json_t **items,
                                     bool *more, struct page_key *next);

#endif
