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
#include <stdint.h>

#include "pkg/config/config.h"
#include "pkg/db/db.h"
#include "pkg/http/router.h"
#include "pkg/json/jsonh.h"
#include "pkg/util/strbuf.h"

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

/* Inside the caller's transaction on c (an order completing): releases the money held for the
 * seller of order_id, commission_minor to the platform's revenue and total_minor -
 * commission_minor to the seller's available balance (transfers commission:<order id> and
 * release:<order id>; posting again is a no-op). A non-OK status must roll the caller's
 * transaction back. */
enum db_status payment_release_order(struct db_conn *c, const char *order_id, const char *seller_id,
                                     int64_t total_minor, int64_t commission_minor);

/* GET /v1/admin/revenue: the ?from and ?to dates (YYYY-MM-DD, UTC days, from <= to, at most
 * PAYMENT_REVENUE_MAX_DAYS days) checked; errors go to e (fields "from", "to"). */
#define PAYMENT_REVENUE_MAX_DAYS 366
void payment_check_revenue_range(const char *from, const char *to, struct jsonh_errors *e);
/* The platform's revenue per UTC day from from to to (inclusive, checked dates), from the
 * ledger: {"days":[{date, orders_completed, gmv_minor, commission_minor, refunds_minor,
 * payouts_minor}]} oldest first, days with nothing omitted, appended to out as JSON text.
 * Read on c (one statement). */
enum db_status payment_revenue_days(struct db_conn *c, const char *from, const char *to,
                                    struct strbuf *out);

#endif
