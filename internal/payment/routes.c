/* The payment module's routes (docs/openapi.yaml, tag "payments"). The sandbox's own routes
 * exist only while it is the provider. */
#include "internal/payment/internal.h"

static const struct http_route commands[] = {
    {"POST", "/v1/orders/{id}/payments", payment_create_payment, HTTP_AUTH_USER,
     HTTP_JSON_BODY | HTTP_IDEMPOTENT, HTTP_BODY_DEFAULT},
    {"POST", "/v1/payments/webhooks/{provider}", payment_receive_webhook, HTTP_AUTH_NONE,
     HTTP_RAW_BODY, HTTP_KIB(64)},
};

static const struct http_route queries[] = {
    {"GET", "/v1/payments/{id}", payment_get_payment, HTTP_AUTH_USER, 0, HTTP_BODY_DEFAULT},
};

static const struct http_route sandbox_commands[] = {
    {"POST", "/v1/sandbox/payments/{id}/complete", payment_complete_sandbox_payment, HTTP_AUTH_NONE,
     HTTP_JSON_BODY, HTTP_BODY_DEFAULT},
};

static const struct http_route sandbox_queries[] = {
    {"GET", "/v1/sandbox/payments/{id}/checkout", payment_get_sandbox_checkout, HTTP_AUTH_NONE, 0,
     HTTP_BODY_DEFAULT},
};

void payment_routes(struct router *r)
{
    router_add(r, HTTP_COMMANDS, commands, sizeof commands / sizeof commands[0]);
    router_add(r, HTTP_QUERIES, queries, sizeof queries / sizeof queries[0]);
    if (!payment_settings()->sandbox)
        return;
    router_add(r, HTTP_COMMANDS, sandbox_commands,
               sizeof sandbox_commands / sizeof sandbox_commands[0]);
    router_add(r, HTTP_QUERIES, sandbox_queries,
               sizeof sandbox_queries / sizeof sandbox_queries[0]);
}
