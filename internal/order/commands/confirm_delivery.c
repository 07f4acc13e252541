/* POST /v1/orders/{id}/confirm-delivery (its buyer) -> 200 the order, delivered; emits
 * order.delivered. The hold period (HAAT_HOLD_PERIOD_S) starts now. A shipped order only
 * (409 invalid_state otherwise); the seller gets 403, anyone else 404. */
#include "internal/order/internal.h"

void order_confirm_delivery(struct http_req *r)
{
    struct order_change ch = {.action = ORDER_CONFIRM};
    order_run_transition(r, &ch);
}
