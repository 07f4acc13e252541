/* POST /v1/conversations/{id}/messages {body} (participant): appends a message, 201 with
 * it. body: 1..4000 characters after trimming (stored trimmed). 404 for anyone but the two
 * participants, 403 blocked when the other party blocked the caller, 429 over the rate. */
#include <stdlib.h>

#include "internal/chat/internal.h"

struct body {
    const char *body;
};

static const struct jsonh_field spec[] = {
    {.name = "body",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .check = chat_check_body,
     .offset = offsetof(struct body, body)},
    {.name = NULL},
};

struct send_ctx {
    struct http_req *r;
    const char *conv_id;
    struct chat_send send;
};

static enum db_status send_txn(struct db_conn *c, void *arg)
{
    struct send_ctx *x = arg;
    struct chat_conv cv = {.last_seq = 0};
    chat_msg_cleanup(&x->send.msg);
    enum db_status st = chat_repo_conv_get(c, x->conv_id, x->send.sender, true, &cv);
    if (st == DB_OK)
        st = chat_send_in_txn(c, &cv, &x->send);
    if (st == DB_OK)
        http_reply_json(x->r, 201, chat_json_msg(&x->send.msg));
    return st;
}

void chat_send_message(struct http_req *r)
{
    struct body b = {0};
    const char *id = http_uuid_param_or_reply(r, "id", "conversation");
    if (!id || !http_parse_or_reply(r, spec, &b))
        return;
    char *text = chat_trim(b.body);
    struct send_ctx x = {.r = r, .conv_id = id};
    x.send.sender = http_req_principal(r)->user_id;
    x.send.body = text;
    enum db_status st = http_txn(r, send_txn, &x);
    if (st == DB_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such conversation");
    else if (st != DB_OK && !(st == DB_CHECK && chat_send_refused_reply(r, &x.send)))
        http_reply_db(r, st);
    chat_msg_cleanup(&x.send.msg);
    free(text);
}
