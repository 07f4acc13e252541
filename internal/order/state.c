/* The order life cycle as data: one table of (from, action, actor, to, events) and the one
 * lookup every status change goes through (order_apply in transition.c). */
#include <string.h>

#include "internal/order/internal.h"

#define NO_EVENT \
    {            \
        NULL     \
    }

static const struct order_transition table[] = {
    {ORDER_PENDING_PAYMENT, ORDER_PAY, ORDER_SYSTEM, ORDER_PAID, NO_EVENT},
    {ORDER_PENDING_PAYMENT, ORDER_CANCEL, ORDER_BUYER, ORDER_CANCELLED, {"order.cancelled"}},
    {ORDER_PENDING_PAYMENT, ORDER_EXPIRE, ORDER_SYSTEM, ORDER_CANCELLED, {"order.cancelled"}},
    {ORDER_PAID, ORDER_CANCEL, ORDER_BUYER, ORDER_CANCELLED, {"order.cancelled"}},
    {ORDER_PAID, ORDER_CANCEL, ORDER_SELLER, ORDER_CANCELLED, {"order.cancelled"}},
    {ORDER_PAID, ORDER_SHIP, ORDER_SELLER, ORDER_SHIPPED, {"order.shipped"}},
    {ORDER_SHIPPED, ORDER_CONFIRM, ORDER_BUYER, ORDER_DELIVERED, {"order.delivered"}},
    {ORDER_SHIPPED,
     ORDER_AUTO_CONFIRM,
     ORDER_SYSTEM,
     ORDER_DELIVERED,
     {"order.delivered", "order.auto_confirmed"}},
    {ORDER_DELIVERED, ORDER_COMPLETE, ORDER_SYSTEM, ORDER_COMPLETED, {"order.completed"}},
    {ORDER_DELIVERED, ORDER_DISPUTE, ORDER_BUYER, ORDER_DISPUTED, {"dispute.opened"}},
    {ORDER_DISPUTED,
     ORDER_RESOLVE_COMPLETE,
     ORDER_ADMIN,
     ORDER_COMPLETED,
     {"dispute.resolved", "order.completed"}},
    {ORDER_DISPUTED, ORDER_RESOLVE_REFUND, ORDER_ADMIN, ORDER_REFUNDED, {"dispute.resolved"}},
};

static const char *const status_names[ORDER_STATUS_COUNT] = {
    "pending_payment", "paid",      "shipped",  "delivered",
    "completed",       "cancelled", "disputed", "refunded",
};

const struct order_transition *order_transitions(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

enum order_decision order_decide(enum order_status from, enum order_action action,
                                 enum order_actor actor, const struct order_transition **t)
{
    bool actor_may = false;
    *t = NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].action != action || table[i].actor != actor)
            continue;
        actor_may = true;
        if (table[i].from == from) {
            *t = &table[i];
            return ORDER_ALLOWED;
        }
    }
    return actor_may ? ORDER_WRONG_STATE : ORDER_WRONG_ACTOR;
}

const char *order_status_name(enum order_status s)
{
    return (unsigned)s < ORDER_STATUS_COUNT ? status_names[s] : "unknown";
}

bool order_status_parse(const char *s, enum order_status *out)
{
    for (int i = 0; s && i < ORDER_STATUS_COUNT; i++)
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum order_status)i;
            return true;
        }
    return false;
}

const char *order_actor_name(enum order_actor a)
{
    static const char *const names[] = {"buyer", "seller", "system", "admin"};
    return (unsigned)a < sizeof names / sizeof names[0] ? names[a] : "unknown";
}

int64_t order_commission(int64_t total_minor, int bps)
{
    if (total_minor <= 0 || bps <= 0)
        return 0;
    __int128 x = (__int128)total_minor * bps + 5000;
    return (int64_t)(x / 10000);
}
