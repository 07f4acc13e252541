/* POST /v1/orders/{id}/ship (its seller): {carrier, tracking_number} -> 200 the order,
 * shipped; emits order.shipped. A paid order only (409 invalid_state otherwise); the buyer
 * gets 403, anyone else 404. Delivery confirms itself HAAT_AUTO_CONFIRM_S later. */
#include <stddef.h>

#include "internal/order/internal.h"

struct ship_body {
    const char *carrier, *tracking_number;
};

static const struct jsonh_field fields[] = {
    {.name = "carrier",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED | JSONH_NOT_BLANK,
     .min = 1,
     .max = ORDER_CARRIER_MAX,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct ship_body, carrier)},
    {.name = "tracking_number",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED | JSONH_NOT_BLANK,
     .min = 1,
     .max = ORDER_TRACKING_MAX,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct ship_body, tracking_number)},
    {0},
};

void order_ship_order(struct http_req *r)
{
    struct ship_body body = {0};
    if (!http_parse_or_reply(r, fields, &body))
        return;
    struct order_change ch = {
        .action = ORDER_SHIP, .carrier = body.carrier, .tracking_number = body.tracking_number};
    order_run_transition(r, &ch);
}
