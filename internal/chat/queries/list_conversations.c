/* GET /v1/conversations (user): the caller's conversations, latest activity first, each
 * with product_title, other_party {id, display_name}, last_message and unread_count, so a
 * client draws the inbox in one call. Keyset pages (listing "chat.conversations", cursors
 * bound to the caller). Unread counts are stored counters: nothing is counted here. */
#include "internal/chat/internal.h"

void chat_list_conversations(struct http_req *r)
{
    const char *user_id = http_req_principal(r)->user_id;
    struct page_req pg;
    if (!page_params_or_reply(r, CHAT_LISTING_INBOX, user_id, &pg))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    PGresult *res = NULL;
    json_t *items = NULL;
    bool more = false;
    struct page_key next;
    enum db_status st =
        chat_repo_inbox(c, user_id, pg.limit + 1, pg.has_cursor ? &pg.after : NULL, &res);
    if (st == DB_OK)
        st = chat_json_inbox(c, res, pg.limit, &items, &more, &next);
    PQclear(res);
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    page_reply(r, items, CHAT_LISTING_INBOX, user_id, more ? &next : NULL);
}
