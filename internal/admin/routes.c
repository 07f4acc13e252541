/* The admin routes (docs/openapi.yaml, tag "admin"). Every one is registered with one handler,
 * gate(), which rate-limits the admin, logs the call at info with the admin's id, then runs
 * the route's own handler from the tables below: a route added to a table gets both. */
#include <string.h>

#include "internal/admin/internal.h"
#include "pkg/log/log.h"

static const struct http_route commands[] = {
    {"POST", "/v1/admin/users/{id}/suspend", admin_suspend_user, HTTP_AUTH_ADMIN, HTTP_JSON_BODY,
     HTTP_BODY_DEFAULT},
    {"POST", "/v1/admin/users/{id}/unsuspend", admin_unsuspend_user, HTTP_AUTH_ADMIN,
     HTTP_JSON_BODY, HTTP_BODY_DEFAULT},
    {"POST", "/v1/admin/products/{id}/takedown", admin_takedown_product, HTTP_AUTH_ADMIN,
     HTTP_JSON_BODY, HTTP_BODY_DEFAULT},
    {"POST", "/v1/admin/products/{id}/restore", admin_restore_product, HTTP_AUTH_ADMIN,
     HTTP_JSON_BODY, HTTP_BODY_DEFAULT},
    {"POST", "/v1/admin/notifications/{id}/retry", admin_retry_notification, HTTP_AUTH_ADMIN, 0,
     HTTP_BODY_DEFAULT},
    {"POST", "/v1/admin/orders/{id}/resolve-dispute", admin_resolve_dispute, HTTP_AUTH_ADMIN,
     HTTP_JSON_BODY, HTTP_BODY_DEFAULT},
};

static const struct http_route queries[] = {
    {"GET", "/v1/admin/users", admin_list_users, HTTP_AUTH_ADMIN, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/admin/reports", admin_list_reports, HTTP_AUTH_ADMIN, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/admin/notifications", admin_list_notifications, HTTP_AUTH_ADMIN, 0,
     HTTP_BODY_DEFAULT},
    {"GET", "/v1/admin/audit-log", admin_list_audit_log, HTTP_AUTH_ADMIN, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/admin/disputes", admin_list_disputes, HTTP_AUTH_ADMIN, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/admin/revenue", admin_get_revenue, HTTP_AUTH_ADMIN, 0, HTTP_BODY_DEFAULT},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])
#define NQUERIES  (sizeof queries / sizeof queries[0])

static struct http_route gated_commands[NCOMMANDS], gated_queries[NQUERIES];

/* The table entry behind the matched route (the router keeps our pattern pointers). */
static http_handler_fn inner(const char *method, const char *pattern)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].pattern == pattern && strcmp(commands[i].method, method) == 0)
            return commands[i].handler;
    for (size_t i = 0; i < NQUERIES; i++)
        if (queries[i].pattern == pattern && strcmp(queries[i].method, method) == 0)
            return queries[i].handler;
    return NULL;
}

static void gate(struct http_req *r)
{
    const char *admin = http_req_principal(r)->user_id;
    log_info("admin_request", "admin %s: %s %s", admin, http_req_method(r), http_req_route(r));
    int retry_s = 1;
    if (!admin_gate_take(admin, &retry_s)) {
        http_reply_rate_limited(r, retry_s, "too many admin requests; retry later");
        return;
    }
    http_handler_fn fn = inner(http_req_method(r), http_req_route(r));
    if (fn)
        fn(r);
    else
        http_reply_problem(r, 500, "internal", "admin route without a handler");
}

static void wrap(struct http_route *out, const struct http_route *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = in[i];
        out[i].handler = gate;
    }
}

void admin_routes(struct router *r)
{
    wrap(gated_commands, commands, NCOMMANDS);
    wrap(gated_queries, queries, NQUERIES);
    router_add(r, HTTP_COMMANDS, gated_commands, NCOMMANDS);
    router_add(r, HTTP_QUERIES, gated_queries, NQUERIES);
}
