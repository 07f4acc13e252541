/* POST /v1/orders/{id}/payments {method, return_url?} (the order's buyer; Idempotency-Key
 * required): a payment attempt for an order awaiting payment. 201 with the payment, its
 * next_action (redirect to the provider's checkout) and an absolute Location.
 *   404 not_found      no such order, or not the caller's (the same answer)
 *   409 invalid_state  the order is not pending_payment (another attempt after a failed one
 *                      is allowed while it is)
 *   422                bad method, a return_url outside HAAT_PUBLIC_URL, or card data
 *   503                the provider's checkout failed (the payment is left failed)
 *
 * The provider is called outside any transaction: the payment row is inserted in a first
 * transaction (under the order's lock), the checkout made with no lock held, and its reference
 * and URL recorded in a second one (http_txn: the 201, and the Idempotency-Key's completion). */
#include <stdio.h>
#include <string.h>

#include "internal/order/order.h"
#include "internal/payment/internal.h"
#include "pkg/log/log.h"

enum miss { MISS_NONE, MISS_NOT_FOUND, MISS_STATE };

struct create_ctx {
    struct http_req *r;
    const char *order_id;
    const char *buyer_id;
    const struct payment_create_input *in;
    const struct payment_provider *pv;
    enum miss miss;
    struct payment_row p;
    struct payment_checkout out;
};

/* The payment row for order o, before its checkout: a placeholder reference, no URL. */
static void build(struct create_ctx *x, const struct order_for_payment *o)
{
    struct payment_row *p = &x->p;
    memset(p, 0, sizeof *p);
    ids_uuid7(p->id);
    snprintf(p->order_id, sizeof p->order_id, "%s", o->id);
    snprintf(p->buyer_id, sizeof p->buyer_id, "%s", o->buyer_id);
    snprintf(p->seller_id, sizeof p->seller_id, "%s", o->seller_id);
    snprintf(p->status, sizeof p->status, "requires_action");
    snprintf(p->method, sizeof p->method, "%s", x->in->method);
    p->amount_minor = o->total_minor;
    snprintf(p->currency, sizeof p->currency, "%s", o->currency);
    p->commission_minor = o->commission_minor;
    snprintf(p->provider, sizeof p->provider, "%s", x->pv->name);
    snprintf(p->provider_ref, sizeof p->provider_ref, "pending:%s", p->id);
    snprintf(p->return_url, sizeof p->return_url, "%s", x->in->return_url ? x->in->return_url : "");
}

static void reply_created(struct http_req *r, struct payment_row *p)
{
    char location[64];
    snprintf(location, sizeof location, "/v1/payments/%s", p->id);
    json_t *body = payment_json(p);
    http_set_location(r, location);
    http_reply_json(r, 201, body);
}

/* First transaction: the order checked under its lock and the payment row inserted. */
static enum db_status reserve_txn(struct db_conn *c, void *arg)
{
    struct create_ctx *x = arg;
    struct order_for_payment o;
    enum db_status st = order_lock_for_payment(c, x->order_id, &o);
    if (st == DB_OK && strcmp(o.buyer_id, x->buyer_id) != 0)
        st = DB_NOT_FOUND;
    if (st == DB_NOT_FOUND)
        x->miss = MISS_NOT_FOUND;
    if (st != DB_OK)
        return st;
    if (strcmp(o.status, "pending_payment") != 0) {
        x->miss = MISS_STATE;
        return DB_CHECK;
    }
    build(x, &o);
    return payment_repo_insert(c, &x->p);
}

/* Second transaction: the provider's reference and checkout recorded; the 201. */
static enum db_status record_txn(struct db_conn *c, void *arg)
{
    struct create_ctx *x = arg;
    struct payment_row p;
    enum db_status st = payment_repo_set_checkout(c, x->p.id, x->out.provider_ref, x->out.url);
    if (st == DB_OK)
        st = payment_repo_get(c, x->p.id, false, &p); /* as stored */
    if (st == DB_OK)
        reply_created(x->r, &p);
    return st;
}

/* The provider refused or could not be reached: the payment is left failed. */
static enum db_status fail_txn(struct db_conn *c, void *arg)
{
    const struct create_ctx *x = arg;
    return payment_repo_set_status(c, x->p.id, "failed");
}

/* The provider's checkout, outside any transaction (no row lock is held over the network). */
static bool checkout(struct create_ctx *x)
{
    struct payment_checkout_in in = {x->p.id,     x->p.order_id,     x->in->return_url,
                                     x->p.method, x->p.amount_minor, x->p.currency};
    if (x->pv->create_checkout(&in, &x->out) == 0)
        return true;
    log_warn("payment_checkout", "payment %s: the %s checkout failed; payment failed", x->p.id,
             x->pv->name);
    if (db_txn(DB_PRIMARY, fail_txn, x) != DB_OK)
        log_error("payment_checkout", "payment %s could not be marked failed", x->p.id);
    return false;
}

void payment_create_payment(struct http_req *r)
{
    struct payment_create_input in;
    struct jsonh_errors e;
    struct create_ctx x = {.r = r, .in = &in, .buyer_id = http_req_principal(r)->user_id};
    x.pv = payment_provider();
    x.order_id = http_uuid_param_or_reply(r, "id", "order");
    if (!x.order_id)
        return;
    jsonh_errors_init(&e);
    payment_parse_create(http_req_json(r), payment_settings()->public_url, &in, &e);
    if (!http_errors_or_reply(r, &e))
        return;
    enum db_status st = db_txn(DB_PRIMARY, reserve_txn, &x);
    if (st == DB_OK && !checkout(&x)) {
        http_reply_problem(r, 503, "service_unavailable", "the payment provider is unavailable");
        return;
    }
    if (st == DB_OK)
        st = http_txn(r, record_txn, &x);
    if (st == DB_OK)
        return;
    if (x.miss == MISS_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such order");
    else if (x.miss == MISS_STATE)
        http_reply_problem(r, 409, "invalid_state", "the order is not awaiting payment");
    else
        http_reply_db(r, st);
}
