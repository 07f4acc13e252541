/* The admin module's routes (docs/openapi.yaml, tag "admin"): all for the admin role. */
#include "internal/admin/internal.h"

static const struct http_route commands[] = {
    {"POST", "/v1/admin/orders/{id}/resolve-dispute", admin_resolve_dispute, HTTP_AUTH_ADMIN,
     HTTP_JSON_BODY, HTTP_BODY_DEFAULT},
};

static const struct http_route queries[] = {
    {"GET", "/v1/admin/disputes", admin_list_disputes, HTTP_AUTH_ADMIN, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/admin/revenue", admin_get_revenue, HTTP_AUTH_ADMIN, 0, HTTP_BODY_DEFAULT},
};

void admin_routes(struct router *r)
{
    router_add(r, HTTP_COMMANDS, commands, sizeof commands / sizeof commands[0]);
    router_add(r, HTTP_QUERIES, queries, sizeof queries / sizeof queries[0]);
}
