/* Replies shared by the chat's use cases. */
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
