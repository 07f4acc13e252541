/* The chat's routes (docs/openapi.yaml, tag "chat"). */
#include "internal/chat/internal.h"

static const struct http_route commands[] = {
    {"POST", "/v1/conversations", chat_start_conversation, HTTP_AUTH_VERIFIED, HTTP_JSON_BODY,
     HTTP_KIB(32)},
    {"POST", "/v1/conversations/{id}/messages", chat_send_message, HTTP_AUTH_USER, HTTP_JSON_BODY,
     HTTP_KIB(32)},
    {"POST", "/v1/conversations/{id}/read", chat_mark_read, HTTP_AUTH_USER, HTTP_JSON_BODY,
     HTTP_BODY_DEFAULT},
    {"POST", "/v1/users/{id}/block", chat_block_user, HTTP_AUTH_USER, 0, HTTP_BODY_DEFAULT},
    {"DELETE", "/v1/users/{id}/block", chat_unblock_user, HTTP_AUTH_USER, 0, HTTP_BODY_DEFAULT},
    {"POST", "/v1/reports", chat_report_content, HTTP_AUTH_VERIFIED, HTTP_JSON_BODY,
     HTTP_BODY_DEFAULT},
};

static const struct http_route queries[] = {
    {"GET", "/v1/conversations", chat_list_conversations, HTTP_AUTH_USER, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/conversations/{id}/messages", chat_list_messages, HTTP_AUTH_USER, 0,
     HTTP_BODY_DEFAULT},
    {"GET", "/v1/conversations/{id}/events", chat_stream_conversation, HTTP_AUTH_USER, 0,
     HTTP_BODY_DEFAULT},
    {"GET", "/v1/me/events", chat_stream_me, HTTP_AUTH_USER, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/admin/reports", chat_list_reports, HTTP_AUTH_ADMIN, 0, HTTP_BODY_DEFAULT},
};

void chat_routes(struct router *r)
{
    router_add(r, HTTP_COMMANDS, commands, sizeof commands / sizeof commands[0]);
    router_add(r, HTTP_QUERIES, queries, sizeof queries / sizeof queries[0]);
}
