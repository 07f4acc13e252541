/* The notification module's routes: the caller's feed and preferences. */
#include "internal/notification/internal.h"
#include "internal/notification/notification.h"

static const struct http_route commands[] = {
    {"PUT", "/v1/me/notification-preferences", notify_put_preferences, HTTP_AUTH_USER,
     HTTP_JSON_BODY, HTTP_BODY_DEFAULT},
};

static const struct http_route queries[] = {
    {"GET", "/v1/me/notifications", notify_list_notifications, HTTP_AUTH_USER, 0,
     HTTP_BODY_DEFAULT},
    {"GET", "/v1/me/notification-preferences", notify_get_preferences, HTTP_AUTH_USER, 0,
     HTTP_BODY_DEFAULT},
};

void notify_routes(struct router *r)
{
    router_add(r, HTTP_COMMANDS, commands, sizeof commands / sizeof commands[0]);
    router_add(r, HTTP_QUERIES, queries, sizeof queries / sizeof queries[0]);
}
