/* The one function that changes an order's status: under the row lock it asks the state table
 * (state.c), does what the target status implies, writes the status with its timestamp and
 * records the table's events, all in the caller's transaction. */
#include <stdlib.h>
#include <string.h>

#include "internal/order/internal.h"

/* The caller's side of the order; false when the caller is neither its buyer nor its seller. */
static bool side_of(const struct order_row *row, const struct order_change *ch,
                    enum order_actor *actor)
{
    *actor = ch->actor;
    if (!ch->user_id)
        return true;
    if (strcmp(ch->user_id, row->buyer_id) == 0)
        *actor = ORDER_BUYER;
    else if (strcmp(ch->user_id, row->seller_id) == 0)
        *actor = ORDER_SELLER;
    else
        return false;
    return true;
}

/* Gives back every line's stock (in product-id order, as it was taken). */
static enum db_status return_stock(struct db_conn *c, const char *order_id)
{
    struct order_item *items = NULL;
    size_t n = 0;
    enum db_status st = order_repo_items(c, order_id, &items, &n);
    for (size_t i = 0; st == DB_OK && i < n; i++) {
        st = catalog_stock_return(c, items[i].product_id, items[i].quantity, order_id);
        if (st == DB_NOT_FOUND)
            st = DB_OK; /* the product is gone: nothing to give back to */
    }
    free(items);
    return st;
}

/* A cancel: the money back (a paid order) and the stock back. */
static enum db_status cancel_effects(struct db_conn *c, const struct order_row *row,
                                     const struct order_change *ch, struct order_applied *out)
{
    if (row->status == ORDER_PAID) {
        const struct order_payment_port *port = order_payment_port();
        if (!port || !port->refund_order) {
            out->outcome = ORDER_NO_PAYMENTS;
            return DB_OK;
        }
        enum db_status st = port->refund_order(c, row->id, ch->reason, &out->refunded);
        if (st != DB_OK)
            return st;
    }
    return return_stock(c, row->id);
}

/* A completion (the hold period passed, or a dispute decided for the seller): the money held
 * for the seller is released. A dispute decided for the buyer: the money goes back. */
static enum db_status money_effects(struct db_conn *c, const struct order_row *row,
                                    const struct order_change *ch, enum order_status to,
                                    struct order_applied *out)
{
    const struct order_payment_port *port = order_payment_port();
    if (to == ORDER_COMPLETED) {
        if (!port || !port->release_order) {
            out->outcome = ORDER_NO_PAYMENTS;
            return DB_OK;
        }
        return port->release_order(c, row->id, row->seller_id, row->total_minor,
                                   row->commission_minor);
    }
    if (!port || !port->refund_order) {
        out->outcome = ORDER_NO_PAYMENTS;
        return DB_OK;
    }
    return port->refund_order(c, row->id, ch->reason, &out->refunded);
}

/* The decision for ch on row, in out->outcome (ORDER_DONE: allowed, *t its table row). */
static void decide(const struct order_row *row, const struct order_change *ch,
                   enum order_actor *actor, const struct order_transition **t,
                   struct order_applied *out)
{
    *t = NULL;
    if (!side_of(row, ch, actor)) {
        out->outcome = ORDER_NO_SUCH;
        return;
    }
    switch (order_decide(row->status, ch->action, *actor, t)) {
    case ORDER_WRONG_ACTOR:
        out->outcome = ORDER_FORBIDDEN;
        return;
    case ORDER_WRONG_STATE:
        out->outcome = ORDER_INVALID;
        return;
    case ORDER_ALLOWED:
        break;
    }
    /* A dispute is open only during the hold period after delivery. */
    out->outcome = ch->action == ORDER_DISPUTE && !row->in_hold ? ORDER_INVALID : ORDER_DONE;
}

static enum db_status write_change(struct db_conn *c, const struct order_row *row,
                                   const struct order_change *ch, enum order_actor actor,
                                   const struct order_transition *t, struct order_applied *out)
{
    struct order_update u = {.id = row->id,
                             .from = row->status,
                             .to = t->to,
                             .payment_id = ch->payment_id,
                             .carrier = ch->carrier,
                             .tracking_number = ch->tracking_number,
                             .reason = ch->reason,
                             .cancelled_by =
                                 t->to == ORDER_CANCELLED ? order_actor_name(actor) : NULL};
    enum db_status st = order_repo_update(c, &u);
    for (size_t i = 0; st == DB_OK && t->events[i]; i++)
        st = order_emit(c, t->events[i], row, ch, out->refunded);
    return st;
}

enum db_status order_apply(struct db_conn *c, const char *order_id, const struct order_change *ch,
                           struct order_applied *out)
{
    struct order_row row;
    const struct order_transition *t;
    enum order_actor actor;
    memset(out, 0, sizeof *out);
    enum db_status st = ids_is_uuid(order_id) ? order_repo_lock(c, order_id, &row) : DB_NOT_FOUND;
    if (st == DB_NOT_FOUND) {
        out->outcome = ORDER_NO_SUCH;
        return DB_OK;
    }
    if (st != DB_OK)
        return st;
    decide(&row, ch, &actor, &t, out);
    if (out->outcome != ORDER_DONE)
        return DB_OK;
    out->from = row.status;
    out->to = t->to;
    if (t->to == ORDER_CANCELLED)
        st = cancel_effects(c, &row, ch, out);
    else if (t->to == ORDER_COMPLETED || t->to == ORDER_REFUNDED)
        st = money_effects(c, &row, ch, t->to, out);
    if (st != DB_OK || out->outcome != ORDER_DONE)
        return st;
    return write_change(c, &row, ch, actor, t, out);
}
