/* Domain events of the payment module (payloads: docs/events.md), written with outbox_emit()
 * in the transaction of the change. */
#include "internal/payment/internal.h"
#include "pkg/outbox/outbox.h"

/* {payment_id, order_id, buyer_id, amount_minor, currency} (+ seller_id when with_seller). */
static json_t *payload(const struct payment_row *p, bool with_seller)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s}", "payment_id", p->id, "order_id", p->order_id,
                          "buyer_id", p->buyer_id, "amount_minor", (json_int_t)p->amount_minor,
                          "currency", p->currency);
    if (with_seller)
        json_object_set_new(o, "seller_id", json_string(p->seller_id));
    return o;
}

static enum db_status emit(struct db_conn *c, const char *type, const struct payment_row *p,
                           bool with_seller)
{
    json_t *o = payload(p, with_seller);
    enum db_status st = outbox_emit(c, type, p->id, o);
    json_decref(o);
    return st;
}

enum db_status payment_emit_succeeded(struct db_conn *c, const struct payment_row *p)
{
    return emit(c, "payment.succeeded", p, true);
}

enum db_status payment_emit_failed(struct db_conn *c, const struct payment_row *p)
{
    return emit(c, "payment.failed", p, false);
}

enum db_status payment_emit_refunded(struct db_conn *c, const struct payment_row *p)
{
    return emit(c, "payment.refunded", p, false);
}
