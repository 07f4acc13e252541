/* The order module's routes (docs/openapi.yaml, tag "orders"). */
#include "internal/order/internal.h"

static const struct http_route commands[] = {
    {"POST", "/v1/orders", order_place_order, HTTP_AUTH_VERIFIED, HTTP_JSON_BODY | HTTP_IDEMPOTENT,
     HTTP_KIB(16)},
    {"POST", "/v1/orders/{id}/cancel", order_cancel_order, HTTP_AUTH_USER,
     HTTP_JSON_BODY | HTTP_OPTIONAL_BODY, HTTP_BODY_DEFAULT},
    {"POST", "/v1/orders/{id}/ship", order_ship_order, HTTP_AUTH_USER, HTTP_JSON_BODY,
     HTTP_BODY_DEFAULT},
    {"POST", "/v1/orders/{id}/confirm-delivery", order_confirm_delivery, HTTP_AUTH_USER, 0,
     HTTP_BODY_DEFAULT},
    {"POST", "/v1/orders/{id}/dispute", order_open_dispute, HTTP_AUTH_USER, HTTP_JSON_BODY,
     HTTP_BODY_DEFAULT},
    {"POST", "/v1/orders/{id}/review", order_review_order, HTTP_AUTH_USER, HTTP_JSON_BODY,
     HTTP_KIB(16)},
};

static const struct http_route queries[] = {
    {"GET", "/v1/orders", order_list_orders, HTTP_AUTH_USER, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/orders/{id}", order_get_order, HTTP_AUTH_USER, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/seller/orders", order_list_seller_orders, HTTP_AUTH_SELLER, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/sellers/{id}/reviews", order_list_reviews, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
};

void order_routes(struct router *r)
{
    router_add(r, HTTP_COMMANDS, commands, sizeof commands / sizeof commands[0]);
    router_add(r, HTTP_QUERIES, queries, sizeof queries / sizeof queries[0]);
}
