/* POST /v1/conversations/{id}/read {up_to_message_id} (participant): the caller has read
 * the conversation up to that message; the unread count becomes the other party's messages
 * after it (a read position never moves back). 204; 404 for non-participants; 422 on
 * up_to_message_id when it is not a message of this conversation. */
#include "internal/chat/internal.h"

struct body {
    const char *up_to;
};

static const struct jsonh_field spec[] = {
    {.name = "up_to_message_id",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .check = chat_check_uuid,
     .offset = offsetof(struct body, up_to)},
    {.name = NULL},
};

struct read_ctx {
    struct http_req *r;
    const char *conv_id, *user_id, *msg_id;
};

static enum db_status read_txn(struct db_conn *c, void *arg)
{
    struct read_ctx *x = arg;
    enum db_status st = chat_repo_mark_read(c, x->conv_id, x->user_id, x->msg_id);
    if (st == DB_OK)
        http_reply_status(x->r, 204);
    return st;
}

void chat_mark_read(struct http_req *r)
{
    struct body b = {0};
    const char *id = http_uuid_param_or_reply(r, "id", "conversation");
    if (!id || !http_parse_or_reply(r, spec, &b))
        return;
    struct read_ctx x = {r, id, http_req_principal(r)->user_id, b.up_to};
    enum db_status st = http_txn(r, read_txn, &x);
    if (st == DB_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such conversation");
    else if (st == DB_CHECK)
        http_reply_field(r, 422, "up_to_message_id", "is not a message of this conversation");
    else if (st != DB_OK)
        http_reply_db(r, st);
}
