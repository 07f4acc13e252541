/* The module's route tables: commands (writes) and queries (reads). */
#include "internal/user/internal.h"
#include "pkg/http/router.h"

static const struct http_route commands[] = {
    {"POST", "/v1/auth/signup", user_sign_up, HTTP_AUTH_NONE, HTTP_JSON_BODY | HTTP_NO_STORE,
     HTTP_BODY_DEFAULT},
    {"POST", "/v1/auth/otp", user_request_otp, HTTP_AUTH_NONE, HTTP_JSON_BODY, HTTP_BODY_DEFAULT},
    {"POST", "/v1/auth/otp/verify", user_verify_otp, HTTP_AUTH_NONE,
     HTTP_JSON_BODY | HTTP_NO_IDEMPOTENCY | HTTP_NO_STORE, HTTP_BODY_DEFAULT},
    {"POST", "/v1/auth/login", user_login, HTTP_AUTH_NONE,
     HTTP_JSON_BODY | HTTP_NO_IDEMPOTENCY | HTTP_NO_STORE, HTTP_BODY_DEFAULT},
    {"POST", "/v1/auth/refresh", user_refresh_token, HTTP_AUTH_NONE,
     HTTP_JSON_BODY | HTTP_NO_IDEMPOTENCY | HTTP_NO_STORE, HTTP_BODY_DEFAULT},
    {"POST", "/v1/auth/logout", user_log_out, HTTP_AUTH_USER, HTTP_JSON_BODY, HTTP_BODY_DEFAULT},
    {"POST", "/v1/auth/password/reset", user_reset_password, HTTP_AUTH_NONE,
     HTTP_JSON_BODY | HTTP_NO_STORE, HTTP_BODY_DEFAULT},
    {"PATCH", "/v1/me", user_update_me, HTTP_AUTH_USER, HTTP_JSON_BODY | HTTP_NO_STORE,
     HTTP_BODY_DEFAULT},
    {"POST", "/v1/me/seller", user_become_seller, HTTP_AUTH_VERIFIED,
     HTTP_JSON_BODY | HTTP_NO_STORE, HTTP_BODY_DEFAULT},
};

static const struct http_route queries[] = {
    {"GET", "/v1/me", user_get_me, HTTP_AUTH_USER, HTTP_NO_STORE, HTTP_BODY_DEFAULT},
    {"GET", "/v1/sellers/{id}", user_get_seller, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
};

void user_routes(struct router *r)
{
    router_add(r, HTTP_COMMANDS, commands, sizeof commands / sizeof commands[0]);
    router_add(r, HTTP_QUERIES, queries, sizeof queries / sizeof queries[0]);
}
