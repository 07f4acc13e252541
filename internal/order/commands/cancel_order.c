/* POST /v1/orders/{id}/cancel (its buyer or seller): {reason?} -> 200 the order, cancelled.
 * The buyer cancels an unpaid or a paid order, the seller a paid one, before shipping; the
 * stock returns and a paid order is refunded in full through the payment port (503 while no
 * payment module is wired). 404 for anyone else, 409 invalid_state once shipped. */
#include <stddef.h>

#include "internal/order/internal.h"

struct cancel_body {
    const char *reason;
};

static const struct jsonh_field fields[] = {
    {.name = "reason",
     .type = JSONH_STRING,
     .flags = JSONH_NULLABLE | JSONH_NOT_BLANK,
     .min = 1,
     .max = ORDER_REASON_MAX,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct cancel_body, reason)},
    {0},
};

void order_cancel_order(struct http_req *r)
{
    struct cancel_body body = {0};
    if (http_req_json(r) && !http_parse_or_reply(r, fields, &body))
        return;
    struct order_change ch = {.action = ORDER_CANCEL, .reason = body.reason};
    order_run_transition(r, &ch);
}
