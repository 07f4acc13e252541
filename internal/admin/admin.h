/* admin — the operators' API under /v1/admin (admin role only; everyone else 403, anonymous
 * 401): users and their suspension, reports, failed notifications and the audit log. It owns
 * no other module's tables: every effect is a public function of the owning module taking the
 * admin command's connection, so the command's http_txn holds the effect and its audit row
 * (pkg/audit). The audit log's query lives here.
 *
 * Start-up (internal/app): admin_init(cfg) after the other modules' init, admin_routes(router).
 * Every admin route passes one gate first (routes.c): a token bucket per admin
 * (HAAT_LIMIT_ADMIN_PER_MIN, 429 rate_limited with Retry-After beyond) and an info log line
 * naming the admin. */
#ifndef HAAT_INTERNAL_ADMIN_ADMIN_H
#define HAAT_INTERNAL_ADMIN_ADMIN_H

#include "pkg/config/config.h"
#include "pkg/http/router.h"

/* Registers the statements and reads the settings. 0 (cannot fail today). */
int admin_init(const struct cfg *c);
/* Adds the module's command and query routes, each behind the gate. */
void admin_routes(struct router *r);

/* `haat admin revoke EMAIL` and `haat admin suspend EMAIL --reason TEXT`: the same effects as
 * the routes, audited with actor "cli" in the same transaction. Open the database themselves;
 * print one line; exit code 0 done, 1 no such account or database error, 2 bad arguments. */
int admin_cli_revoke(const struct cfg *c, const char *email);
int admin_cli_suspend(const struct cfg *c, const char *email, const char *reason);

#endif
