/* order — orders, their life cycle and buyers' reviews (tables orders, order_items, reviews).
 *
 * The public face of the order module: the only header other modules and internal/app may
 * include. HTTP routes are listed in docs/openapi.yaml (tag "orders"); the life cycle, stock
 * rules and jobs are described in docs/architecture.md.
 *
 * Every status change goes through one state machine (a static table of from, action, actor,
 * to) applied under the order's row lock. Stock is taken and returned through catalog.h
 * inside the order's own transaction. The payment module reaches orders through the functions
 * below; this module reaches payments only through the port the app wires. */
#ifndef HAAT_INTERNAL_ORDER_ORDER_H
#define HAAT_INTERNAL_ORDER_ORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "pkg/config/config.h"
#include "pkg/db/db.h"
#include "pkg/http/router.h"
#include "pkg/ids/ids.h"

/* Registers the module's statements and keeps the settings it needs (commission rate,
 * payment timeout, hold period, auto-confirm delay; copied). Call at start-up, before the
 * first db_conn(). Returns 0. */
int order_init(const struct cfg *c);

/* Adds the order module's command and query routes. */
void order_routes(struct router *r);

/* Registers the jobs: expiry of unpaid orders and auto-confirmation of shipped ones. Returns
 * 0, or -1 (logged). */
int order_register_jobs(void);

/* The seller stats provider's rating (user.h): the average and number of the seller's
 * reviews, read on c. Returns 0 (count 0 when none; avg unused then), or -1 when the database
 * failed (logged). A malformed id counts 0. */
int order_seller_rating(struct db_conn *c, const char *seller_id, double *avg, long long *count);

/* What the payment module needs of an order. */
struct order_for_payment {
    char id[IDS_UUID_LEN];
    char buyer_id[IDS_UUID_LEN];
    char seller_id[IDS_UUID_LEN];
    char status[24]; /* "pending_payment", "paid", "shipped", ... */
    int64_t total_minor;
    char currency[4];         /* "INR" */
    int64_t commission_minor; /* fixed when the order was placed */
};
/* Reads the order with its row locked (SELECT ... FOR UPDATE) inside the caller's transaction
 * on c. DB_NOT_FOUND when there is no such order (a malformed id included). */
enum db_status order_lock_for_payment(struct db_conn *c, const char *order_id,
                                      struct order_for_payment *out);
/* Inside the payment's transaction: pending_payment -> paid through the state machine (actor
 * system), stamps paid_at and records payment_id; emits nothing (the payment module emits
 * payment.succeeded). DB_OK with *applied false when the order is no longer pending_payment
 * (expired, cancelled, or already paid): the caller then refunds that payment. DB_NOT_FOUND
 * when there is no such order. */
enum db_status order_mark_paid(struct db_conn *c, const char *order_id, const char *payment_id,
                               bool *applied);

/* The port through which the order module asks for money back (wired by internal/app/app.c). */
struct order_payment_port {
    /* Inside an order's cancel transaction on c: refunds in full the order's succeeded
     * payment, if it has one (*refunded says whether it had). A non-OK status rolls the cancel
     * back. */
    enum db_status (*refund_order)(struct db_conn *c, const char *order_id, const char *reason,
                                   bool *refunded);
};
/* p is borrowed (static data); NULL removes it. Call at start-up, before serving. Without a
 * port, cancelling a paid order answers 503: the money is never silently kept. */
void order_set_payment_port(const struct order_payment_port *p);

#endif
