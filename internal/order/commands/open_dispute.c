/* POST /v1/orders/{id}/dispute (its buyer): {reason} -> 200 the order, disputed; emits
 * dispute.opened. Only a delivered order during the hold period (409 invalid_state
 * otherwise); the seller gets 403, anyone else 404. An operator decides it later. */
#include <stddef.h>

#include "internal/order/internal.h"

struct dispute_body {
    const char *reason;
};

static const struct jsonh_field fields[] = {
    {.name = "reason",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED | JSONH_NOT_BLANK,
     .min = 1,
     .max = ORDER_REASON_MAX,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct dispute_body, reason)},
    {0},
};

void order_open_dispute(struct http_req *r)
{
    struct dispute_body body = {0};
    if (!http_parse_or_reply(r, fields, &body))
        return;
    struct order_change ch = {.action = ORDER_DISPUTE, .reason = body.reason};
    order_run_transition(r, &ch);
}
