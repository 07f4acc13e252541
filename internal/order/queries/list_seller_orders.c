/* GET /v1/seller/orders (seller): the orders of the caller's products, newest first, with
 * commission_minor and seller_amount_minor; ?status=, limit, cursor as GET /v1/orders. */
#include "internal/order/internal.h"

void order_list_seller_orders(struct http_req *r)
{
    order_list_side(r, true, ORDER_LISTING_SELLER);
}
