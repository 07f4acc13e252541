/* Replies shared by the chat's use cases. */
#include <string.h>

#include "internal/chat/internal.h"

enum db_status chat_reply_conversation(struct http_req *r, struct db_conn *c, int status,
                                       const char *user_id, const char *conv_id,
                                       const struct chat_msg *m)
{
    PGresult *res = NULL;
    json_t *items = NULL;
    bool more = false;
    struct page_key next;
    enum db_status st = chat_repo_inbox_one(c, user_id, conv_id, &res);
    if (st == DB_OK && chat_rows(res) != 1)
        st = DB_ERROR;
    if (st == DB_OK)
        st = chat_json_inbox(c, res, 1, &items, &more, &next);
    PQclear(res);
    if (st != DB_OK)
        return st;
    json_t *conv = json_incref(json_array_get(items, 0));
    json_decref(items);
    if (m)
        json_object_set_new(conv, "message", chat_json_msg(m));
    http_reply_json(r, status, conv);
    return DB_OK;
}

bool chat_conv_or_reply(struct http_req *r, const char *user_id, const char **id,
                        struct db_conn **c, struct chat_conv *cv)
{
    *id = http_uuid_param_or_reply(r, "id", "conversation");
    *c = *id ? http_req_db_or_reply(r) : NULL;
    if (!*c)
        return false;
    memset(cv, 0, sizeof *cv);
    enum db_status st = chat_repo_conv_get(*c, *id, user_id, false, cv);
    if (st == DB_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such conversation");
    else if (st != DB_OK)
        http_reply_db(r, st);
    return st == DB_OK;
}
