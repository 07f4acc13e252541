/* Private to internal/order: shared between its commands, queries, jobs and repository.
 *
 * Handlers (commands/, queries/) never read a PGresult: the repository returns typed rows
 * (struct order_row, items, counts) and order JSON as text (the statements build the API
 * objects). Repository functions take the connection they run on as their first parameter;
 * handlers get it from the request kit (http_req_db_or_reply, or http_txn for commands). */
#ifndef HAAT_INTERNAL_ORDER_INTERNAL_H
#define HAAT_INTERNAL_ORDER_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/catalog/catalog.h"
#include "internal/order/order.h"
#include "pkg/db/db.h"
#include "pkg/http/http.h"
#include "pkg/json/jsonh.h"
#include "pkg/page/page.h"

#define ORDER_ITEMS_MAX    50      /* lines in one order */
#define ORDER_QUANTITY_MAX 1000000 /* units of one line (the catalog's stock bound) */
#define ORDER_REASON_MAX   500
#define ORDER_COMMENT_MAX  2000
#define ORDER_CARRIER_MAX  60
#define ORDER_TRACKING_MAX 100

/* Listing names of the module's cursors (pkg/page). */
#define ORDER_LISTING_BUYER   "order.buyer"
#define ORDER_LISTING_SELLER  "order.seller"
#define ORDER_LISTING_REVIEWS "order.reviews"

/* The settings order_init kept. */
struct order_settings {
    int commission_bps;
    int64_t payment_timeout_s, hold_period_s, auto_confirm_s;
};
const struct order_settings *order_settings(void);
/* The payment port, or NULL when none is wired. */
const struct order_payment_port *order_payment_port(void);

/* ---- the state machine (state.c; pure, unit-tested) ----------------------------------- */

enum order_status {
    ORDER_PENDING_PAYMENT,
    ORDER_PAID,
    ORDER_SHIPPED,
    ORDER_DELIVERED,
    ORDER_COMPLETED,
    ORDER_CANCELLED,
    ORDER_DISPUTED,
    ORDER_REFUNDED,
    ORDER_STATUS_COUNT
};
enum order_action {
    ORDER_PAY,              /* the payment succeeded */
    ORDER_CANCEL,           /* buyer or seller, before shipping */
    ORDER_EXPIRE,           /* unpaid after the payment timeout */
    ORDER_SHIP,             /* the seller hands it to a carrier */
    ORDER_CONFIRM,          /* the buyer confirms delivery */
    ORDER_AUTO_CONFIRM,     /* HAAT_AUTO_CONFIRM_S after shipping */
    ORDER_COMPLETE,         /* the hold period passed (funds released) */
    ORDER_DISPUTE,          /* the buyer, during the hold period */
    ORDER_RESOLVE_COMPLETE, /* an operator decides for the seller */
    ORDER_RESOLVE_REFUND,   /* an operator decides for the buyer */
    ORDER_ACTION_COUNT
};
enum order_actor { ORDER_BUYER, ORDER_SELLER, ORDER_SYSTEM, ORDER_ADMIN };

/* One row of the state table: actor may do action on an order in status from, which then is
 * in status to; events are the domain events the change records (NULL-terminated, at most
 * two). */
struct order_transition {
    enum order_status from;
    enum order_action action;
    enum order_actor actor;
    enum order_status to;
    const char *events[3];
};
/* The table itself (for tests and documentation). */
const struct order_transition *order_transitions(size_t *n);

enum order_decision {
    ORDER_ALLOWED,
    ORDER_WRONG_ACTOR, /* actor never does action, whatever the status (403) */
    ORDER_WRONG_STATE, /* actor may do action, but not from this status (409 invalid_state) */
};
/* Looks up (from, action, actor): ORDER_ALLOWED with *t set to its row, or why not. */
enum order_decision order_decide(enum order_status from, enum order_action action,
                                 enum order_actor actor, const struct order_transition **t);

const char *order_status_name(enum order_status s);
/* false when s names no status. */
bool order_status_parse(const char *s, enum order_status *out);
const char *order_actor_name(enum order_actor a);

/* round_half_up(total_minor * bps / 10000), exact for any total up to INT64_MAX. */
int64_t order_commission(int64_t total_minor, int bps);

/* ---- request bodies (validate.c; pure, unit-tested) ------------------------------------ */

/* A line as the buyer asked for it. */
struct order_place_line {
    char product_id[IDS_UUID_LEN]; /* lower-case */
    int quantity;
    int index; /* its position in the request's items[] */
};
/* A POST /v1/orders body, validated: the lines sorted by product id (the order in which stock
 * is taken, so two baskets never wait on each other in opposite orders). */
struct order_place_input {
    struct order_place_line lines[ORDER_ITEMS_MAX];
    size_t n;
    char *address; /* the shipping address as a JSON object text (heap; only known members) */
};
/* Validates body into in; errors go to e, one per field path ("items[0].quantity",
 * "shipping_address.postal_code"). A product named twice is refused on its second
 * occurrence. Free with order_place_input_cleanup (also after errors). */
void order_parse_place(const json_t *body, struct order_place_input *in, struct jsonh_errors *e);
void order_place_input_cleanup(struct order_place_input *in);

/* ---- applying a transition (transition.c) --------------------------------------------- */

/* What is asked of the state machine. user_id is the caller for a human actor (the row tells
 * whether the caller is its buyer or its seller); NULL with actor set for system and admin. */
struct order_change {
    enum order_action action;
    enum order_actor actor; /* ORDER_SYSTEM / ORDER_ADMIN; ignored when user_id is set */
    const char *user_id;
    const char *reason; /* cancel, dispute (NULL: none) */
    const char *carrier, *tracking_number;
    const char *payment_id;
};
enum order_outcome {
    ORDER_DONE,
    ORDER_NO_SUCH,     /* no such order, or the caller is neither its buyer nor its seller */
    ORDER_FORBIDDEN,   /* the caller's side never does this action */
    ORDER_INVALID,     /* the action does not fit the status (or the hold period is over) */
    ORDER_NO_PAYMENTS, /* a paid order cannot be refunded: no payment port */
};
/* The order as the transition left it. */
struct order_applied {
    enum order_outcome outcome;
    enum order_status from, to;
    bool refunded; /* a cancel gave money back */
};
/* Applies ch to order_id inside the caller's transaction on c: locks the row, decides, does
 * what the target status implies (a cancel returns the stock and, for a paid order, refunds
 * through the payment port), writes the status and its timestamp and records the events.
 * DB_OK with out->outcome saying whether it happened; nothing is written unless ORDER_DONE. */
enum db_status order_apply(struct db_conn *c, const char *order_id, const struct order_change *ch,
                           struct order_applied *out);

/* ---- repository (repo_orders.c, repo_reviews.c) --------------------------------------- */

void order_repo_register(void);
const struct db_stmt *order_repo_statements(size_t *n);

/* An order row as commands and jobs decide on it. */
struct order_row {
    char id[IDS_UUID_LEN];
    char buyer_id[IDS_UUID_LEN];
    char seller_id[IDS_UUID_LEN];
    enum order_status status;
    int64_t total_minor, commission_minor, seller_amount_minor;
    char currency[4];
    bool in_hold; /* delivered less than the hold period ago */
};
/* Reads and locks (FOR UPDATE) the order; DB_NOT_FOUND when none. */
enum db_status order_repo_lock(struct db_conn *c, const char *id, struct order_row *out);

/* A line of an order. */
struct order_item {
    char product_id[IDS_UUID_LEN];
    int quantity;
};
/* The order's lines in product-id order (*out: caller frees). */
enum db_status order_repo_items(struct db_conn *c, const char *id, struct order_item **out,
                                size_t *n);

/* The status change of a transition (the row is locked and was in status from). */
struct order_update {
    const char *id;
    enum order_status from, to;
    const char *payment_id, *carrier, *tracking_number, *reason;
    const char *cancelled_by; /* "buyer" | "seller" | "system" when to is cancelled */
};
enum db_status order_repo_update(struct db_conn *c, const struct order_update *u);

/* A placed order: the lines are taken already (catalog_line, in product-id order). */
struct order_new {
    char id[IDS_UUID_LEN];
    const char *buyer_id, *seller_id;
    int64_t subtotal_minor, commission_minor;
    int commission_bps;
    const char *shipping_address; /* JSON object text */
    const struct catalog_line *lines;
    const int *quantities;
    size_t n;
};
enum db_status order_repo_insert(struct db_conn *c, const struct order_new *o);

/* The order as the API object (docs/openapi.yaml "Order"), seen by viewer: NULL when viewer
 * is neither its buyer nor its seller; the seller's view adds the commission figures.
 * *json is a heap string (caller frees). */
enum db_status order_repo_json(struct db_conn *c, const char *id, const char *viewer, char **json);

/* A page of JSON objects (orders or reviews) with the key of the last one shown. */
struct order_page {
    char **items; /* n heap strings */
    size_t n;
    bool more;
    struct page_key next;
};
void order_page_cleanup(struct order_page *pg);
/* Runs a listing statement with parameters (a, b, key, id, limit + 1) whose columns are
 * (object JSON, key, id) and fills out. */
enum db_status order_repo_page(struct db_conn *c, const char *stmt, const char *a, const char *b,
                               const struct page_req *pg, struct order_page *out);
/* The buyer's (seller false) or seller's orders, newest first; status NULL: any. */
enum db_status order_repo_list(struct db_conn *c, const char *user_id, bool seller,
                               const char *status, const struct page_req *pg,
                               struct order_page *out);

/* Claims up to batch orders due for a job (FOR UPDATE SKIP LOCKED) in the caller's
 * transaction: unpaid past expires_at (expire) or shipped more than auto_confirm_s ago.
 * ids: batch slots. */
enum db_status order_repo_claim_expired(struct db_conn *c, int batch, char (*ids)[IDS_UUID_LEN],
                                        int *n);
enum db_status order_repo_claim_shipped(struct db_conn *c, int64_t after_s, int batch,
                                        char (*ids)[IDS_UUID_LEN], int *n);

/* Claims up to batch delivered orders whose hold period (hold_s) passed, oldest delivery
 * first (FOR UPDATE SKIP LOCKED) in the caller's transaction. */
enum db_status order_repo_claim_due(struct db_conn *c, int64_t hold_s, int batch,
                                    char (*ids)[IDS_UUID_LEN], int *n);
/* A page of open disputes, oldest first (order objects with the commission figures). */
enum db_status order_repo_disputes(struct db_conn *c, const struct page_req *pg,
                                   struct order_page *out);

void order_repo_register_reviews(void);
/* Inserts the review of the order (buyer and seller from the order); DB_CONFLICT when the
 * order has one. *json: the review object (heap string). */
enum db_status order_repo_review_insert(struct db_conn *c, const char *id,
                                        const struct order_row *o, int rating, const char *comment,
                                        char **json);
enum db_status order_repo_reviews(struct db_conn *c, const char *seller_id,
                                  const struct page_req *pg, struct order_page *out);
enum db_status order_repo_rating(struct db_conn *c, const char *seller_id, double *avg,
                                 long long *count);

/* ---- events (events.c) ---------------------------------------------------------------- */

/* Records event (a name from the state table, or order.placed) for the order in row. */
enum db_status order_emit(struct db_conn *c, const char *event, const struct order_row *row,
                          const struct order_change *ch, bool refunded);
enum db_status order_emit_placed(struct db_conn *c, const struct order_new *o);

/* ---- replies (reply.c) ---------------------------------------------------------------- */

/* Replies status with the order as viewer sees it (read on c, inside the command's
 * transaction); returns the read's status (nothing is replied unless DB_OK). */
enum db_status order_reply_order(struct http_req *r, struct db_conn *c, int status, const char *id,
                                 const char *viewer);
/* 200 {"items":[...],"next_cursor":...}. */
void order_reply_page(struct http_req *r, const struct order_page *pg, const char *listing,
                      const char *owner);
/* The refusal of a transition: 404, 403, 409 invalid_state, 503. */
void order_reply_refused(struct http_req *r, enum order_outcome o);
/* A transition command on {id}: applies ch inside http_txn and replies 200 with the order, or
 * the refusal. */
void order_run_transition(struct http_req *r, struct order_change *ch);

/* ---- handlers (commands/, queries/; tables and order_routes in routes.c) -------------- */

void order_place_order(struct http_req *r);
void order_cancel_order(struct http_req *r);
void order_ship_order(struct http_req *r);
void order_confirm_delivery(struct http_req *r);
void order_open_dispute(struct http_req *r);
void order_review_order(struct http_req *r);
void order_list_orders(struct http_req *r);
void order_list_seller_orders(struct http_req *r);
void order_get_order(struct http_req *r);
void order_list_reviews(struct http_req *r);
/* The caller's orders on one side (buyer: seller false), the listing's cursors. */
void order_list_side(struct http_req *r, bool seller, const char *listing);

/* ---- jobs (jobs.c) -------------------------------------------------------------------- */

/* One batch of each job (jobs_spec.run): the number of orders changed, or -1. */
int order_run_expiry(void *arg);
int order_run_auto_confirm(void *arg);
/* The release job's batch: up to a batch of due orders, each completed in a transaction of
 * its own; the number completed, or -1. */
int order_run_release(void *arg);

#endif
