/* POST /v1/orders/{id}/payments {method, return_url?} (the order's buyer; Idempotency-Key
 * required): a payment attempt for an order awaiting payment. 201 with the payment, its
 * next_action (redirect to the provider's checkout) and an absolute Location.
 *   404 not_found      no such order, or not the caller's (the same answer)
 *   409 invalid_state  the order is not pending_payment (another attempt after a failed one
 *                      is allowed while it is)
 *   422                bad method, a return_url outside HAAT_PUBLIC_URL, or card data */
#include <stdio.h>
#include <string.h>

#include "internal/order/order.h"
#include "internal/payment/internal.h"

enum miss { MISS_NONE, MISS_NOT_FOUND, MISS_STATE, MISS_PROVIDER };

struct create_ctx {
    struct http_req *r;
    const char *order_id;
    const char *buyer_id;
    const struct payment_create_input *in;
    enum miss miss;
};

/* The payment row for order o (checkout made by the provider). */
static int build(const struct create_ctx *x, const struct order_for_payment *o,
                 struct payment_row *p)
{
    const struct payment_provider *pv = payment_provider();
    struct payment_checkout out = {0};
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
    struct payment_checkout_in in = {p->id, p->method, p->amount_minor, p->currency};
    if (!pv || pv->create_checkout(&in, &out) != 0)
        return -1;
    snprintf(p->provider, sizeof p->provider, "%s", pv->name);
    snprintf(p->provider_ref, sizeof p->provider_ref, "%s", out.provider_ref);
    snprintf(p->checkout_url, sizeof p->checkout_url, "%s", out.url);
    snprintf(p->return_url, sizeof p->return_url, "%s", x->in->return_url ? x->in->return_url : "");
    return 0;
}

static void reply_created(struct http_req *r, struct payment_row *p)
{
    char location[64];
    snprintf(location, sizeof location, "/v1/payments/%s", p->id);
    json_t *body = payment_json(p);
    http_set_location(r, location);
    http_reply_json(r, 201, body);
}

static enum db_status create_txn(struct db_conn *c, void *arg)
{
    struct create_ctx *x = arg;
    struct order_for_payment o;
    struct payment_row p;
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
    if (build(x, &o, &p) != 0) {
        x->miss = MISS_PROVIDER;
        return DB_ERROR;
    }
    st = payment_repo_insert(c, &p);
    if (st == DB_OK)
        st = payment_repo_get(c, p.id, false, &p); /* created_at as stored */
    if (st == DB_OK)
        reply_created(x->r, &p);
    return st;
}

void payment_create_payment(struct http_req *r)
{
    struct payment_create_input in;
    struct jsonh_errors e;
    struct create_ctx x = {.r = r, .in = &in, .buyer_id = http_req_principal(r)->user_id};
    x.order_id = http_uuid_param_or_reply(r, "id", "order");
    if (!x.order_id)
        return;
    jsonh_errors_init(&e);
    payment_parse_create(http_req_json(r), payment_settings()->public_url, &in, &e);
    if (!http_errors_or_reply(r, &e))
        return;
    enum db_status st = http_txn(r, create_txn, &x);
    if (st == DB_OK)
        return;
    if (x.miss == MISS_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such order");
    else if (x.miss == MISS_STATE)
        http_reply_problem(r, 409, "invalid_state", "the order is not awaiting payment");
    else if (x.miss == MISS_PROVIDER)
        http_reply_problem(r, 503, "service_unavailable", "the payment provider is unavailable");
    else
        http_reply_db(r, st);
}
