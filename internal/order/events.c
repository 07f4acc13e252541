/* Domain events of the order module (payloads: docs/events.md), written with outbox_emit() in
 * the transaction of the change. */
#include <string.h>

#include "internal/order/internal.h"
#include "pkg/outbox/outbox.h"

/* {order_id, buyer_id, seller_id} plus what the event adds. */
static json_t *payload(const char *event, const struct order_row *row,
                       const struct order_change *ch, bool refunded)
{
    json_t *p = json_pack("{s:s,s:s,s:s}", "order_id", row->id, "buyer_id", row->buyer_id,
                          "seller_id", row->seller_id);
    if (strcmp(event, "order.cancelled") == 0) {
        if (ch->reason)
            json_object_set_new(p, "reason", json_string(ch->reason));
        json_object_set_new(p, "refunded", json_boolean(refunded));
    } else if (strcmp(event, "order.shipped") == 0) {
        json_object_set_new(p, "carrier", json_string(ch->carrier));
        json_object_set_new(p, "tracking_number", json_string(ch->tracking_number));
    } else if (strcmp(event, "dispute.opened") == 0) {
        json_object_set_new(p, "reason", json_string(ch->reason));
    } else if (strcmp(event, "order.completed") == 0) {
        json_object_set_new(p, "total_minor", json_integer((json_int_t)row->total_minor));
        json_object_set_new(p, "commission_minor", json_integer((json_int_t)row->commission_minor));
        json_object_set_new(p, "seller_amount_minor",
                            json_integer((json_int_t)row->seller_amount_minor));
        json_object_set_new(p, "currency", json_string(row->currency));
    } else if (strcmp(event, "dispute.resolved") == 0) {
        json_object_set_new(
            p, "outcome",
            json_string(ch->action == ORDER_RESOLVE_REFUND ? "refunded" : "completed"));
    }
    return p;
}

enum db_status order_emit(struct db_conn *c, const char *event, const struct order_row *row,
                          const struct order_change *ch, bool refunded)
{
    json_t *p = payload(event, row, ch, refunded);
    enum db_status st = outbox_emit(c, event, row->id, p);
    json_decref(p);
    return st;
}

/* order.placed: order_id, buyer_id, seller_id, total_minor, currency, item_count. */
enum db_status order_emit_placed(struct db_conn *c, const struct order_new *o)
{
    json_t *p = json_pack("{s:s,s:s,s:s,s:I,s:s,s:i}", "order_id", o->id, "buyer_id", o->buyer_id,
                          "seller_id", o->seller_id, "total_minor", (json_int_t)o->subtotal_minor,
                          "currency", "INR", "item_count", (int)o->n);
    enum db_status st = outbox_emit(c, "order.placed", o->id, p);
    json_decref(p);
    return st;
}
