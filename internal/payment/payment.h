/* payment — payments of orders, refunds, provider webhooks and the double-entry ledger
 * (tables payments, payment_refunds, webhook_events, sandbox_webhooks, ledger_accounts,
 * ledger_transfers, ledger_legs; migration 0011).
 *
 * The public face of the payment module: the only header other modules and internal/app may
 * include. HTTP routes are listed in docs/openapi.yaml (tag "payments"); the money flow is
 * described in docs/architecture.md and docs/decisions/0004-ledger.md.
 *
 * Every money movement is one ledger transfer posted in the transaction of the change that
 * caused it; the database refuses a transfer whose legs do not sum to zero and any change to a
 * posted transfer. */
#ifndef HAAT_INTERNAL_PAYMENT_PAYMENT_H
#define HAAT_INTERNAL_PAYMENT_PAYMENT_H

#include <stdbool.h>

#include "pkg/config/config.h"
#include "pkg/db/db.h"
#include "pkg/http/router.h"

/* Registers the module's statements and metrics and chooses the provider
 * (HAAT_PAYMENT_PROVIDER: sandbox or razorpay). Returns 0, or -1 (logged) when the provider
 * cannot be used. Call at start-up, before the first db_conn(). */
int payment_init(const struct cfg *c);
/* `haat admin failed-refunds`: prints the refunds the provider kept refusing (after every
 * retry), newest first, one JSON object a line, for an operator to settle by hand. 0, or 1
 * when the database failed (a line on stderr). */
int payment_list_failed_refunds(const struct cfg *c);
/* Frees what payment_init kept (secrets are wiped). */
void payment_cleanup(void);

/* Adds the payment routes; the sandbox's own routes only while the provider is the sandbox
 * (the default when payment_init was not called, e.g. for the OpenAPI check). */
void payment_routes(struct router *r);

/* Registers the background jobs: refunds to the provider and, with the sandbox, the delivery
 * of its signed webhooks, with razorpay the reconciliation of payments left waiting. Returns 0, or
 * -1 (logged). */
int payment_register_jobs(void);

/* Inside the caller's transaction on c (an order's cancel): refunds in full the order's
 * succeeded payment, if it has one (*refunded says whether it had). The payment becomes
 * refunded, a pending refund row is created (sent to the provider later by the refund job),
 * the ledger transfer that takes the money out of the seller's pending is posted, and
 * payment.refunded is emitted. A non-OK status must roll the caller's transaction back. */
enum db_status payment_refund_order(struct db_conn *c, const char *order_id, const char *reason,
                                    bool *refunded);

#endif
