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
#include "pkg/page/page.h"
#include "pkg/util/strbuf.h"

/* Registers the module's statements and keeps the settings it needs (commission rate,
 * payment timeout, hold period, auto-confirm delay; copied). Call at start-up, before the
 * first db_conn(). Returns 0. */
int order_init(const struct cfg *c);

/* Adds the order module's command and query routes. */
void order_routes(struct router *r);

/* Registers the jobs: expiry of unpaid orders, auto-confirmation of shipped ones and the
 * release of delivered ones whose hold period passed. Returns 0, or -1 (logged). */
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
    /* Inside an order's completing transaction on c (the release job, or a dispute resolved
     * for the seller): posts the release of the money held for the seller, commission_minor
     * to the platform and total_minor - commission_minor to the seller's available balance.
     * Posting twice is a no-op. A non-OK status rolls the completion back. */
    enum db_status (*release_order)(struct db_conn *c, const char *order_id, const char *seller_id,
                                    int64_t total_minor, int64_t commission_minor);
};
/* p is borrowed (static data); NULL removes it. Call at start-up, before serving. Without a
 * port, cancelling a paid order answers 503: the money is never silently kept. */
void order_set_payment_port(const struct order_payment_port *p);

/* ---- disputes, for the admin module ------------------------------------------------------- */

enum order_resolve_decision { ORDER_DECIDE_REFUND, ORDER_DECIDE_RELEASE };
enum order_resolve_outcome {
    ORDER_RESOLVED,
    ORDER_RESOLVE_NOT_FOUND,    /* no such order (a malformed id included) */
    ORDER_RESOLVE_NOT_DISPUTED, /* the order has no open dispute (409 invalid_state) */
    ORDER_RESOLVE_NO_PAYMENTS,  /* no payment port wired (503) */
};
/* Inside the caller's transaction on c: decides the open dispute of order_id. refund: the
 * buyer is refunded in full through the payment port (a refund the refund job sends to the
 * provider) and the order ends refunded; release: the money is released as the release job
 * does and the order ends completed. Both record dispute.resolved (and release
 * order.completed), and the decision is audited (audit_record: actor actor_id, action
 * order.resolve_dispute, target order, reason note, before/after status) in the same
 * transaction. *out says whether it happened; nothing is written unless ORDER_RESOLVED. */
enum db_status order_resolve_dispute(struct db_conn *c, const char *order_id,
                                     enum order_resolve_decision decision, const char *note,
                                     const char *actor_id, enum order_resolve_outcome *out);
/* The order as an admin sees it (the seller's view: commission figures included), as JSON
 * text into *json (heap; caller frees). DB_NOT_FOUND when none. */
enum db_status order_admin_json(struct db_conn *c, const char *order_id, char **json);
/* Listing name of the disputes queue's cursors (pkg/page). */
#define ORDER_LISTING_DISPUTES "order.disputes"
/* A page of open disputes, oldest first (disputed_at, id), as the order objects of
 * order_admin_json: appends {"items":[...],"next_cursor":...} to out, cursors of
 * ORDER_LISTING_DISPUTES bound to owner. */
enum db_status order_disputes_page(struct db_conn *c, const struct page_req *pg, const char *owner,
                                   struct strbuf *out);

#endif
