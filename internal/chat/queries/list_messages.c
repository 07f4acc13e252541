/* GET /v1/conversations/{id}/messages?after=&before=&limit=&cursor= (participant): messages
 * oldest first, by seq (commit order).
 *   after=<message id>   the messages after it; next_cursor continues forward
 *   before=<message id>  the latest page before it; next_cursor continues further back
 *   neither              the latest page; next_cursor continues back
 * Both bound a range read forward. A cursor carries its direction (listings
 * "chat.messages.after" / "chat.messages.before", bound to the caller). 404 for anyone but
 * the participants; 422 on after / before for a message not in this conversation. */
#include "internal/chat/internal.h"

struct range {
    long long after, before; /* seq bounds, exclusive; before 0: none */
    bool backward;           /* the last page of the range, else the first */
    int limit;
};

/* The seq of the message named by query parameter name (0 when absent). */
static bool seq_param_or_reply(struct http_req *r, struct db_conn *c, const char *conv,
                               const char *name, long long *seq)
{
    const char *v = http_req_query(r, name);
    *seq = 0;
    if (!v)
        return true;
    enum db_status st = ids_is_uuid(v) ? chat_repo_message_seq(c, conv, v, seq) : DB_NOT_FOUND;
    if (st == DB_NOT_FOUND)
        http_reply_field(r, 422, name, "is not a message of this conversation");
    else if (st != DB_OK)
        http_reply_db(r, st);
    return st == DB_OK;
}

/* limit and cursor; a cursor decides the direction and the bound. */
static bool page_or_reply(struct http_req *r, const char *user_id, struct range *g, bool *cursor)
{
    if (!page_parse_limit(http_req_query(r, "limit"), &g->limit)) {
        http_reply_field(r, 422, "limit", "must be an integer from 1 to 100");
        return false;
    }
    const char *text = http_req_query(r, "cursor");
    struct page_key k;
    *cursor = text != NULL;
    if (!text)
        return true;
    if (page_cursor_decode(text, CHAT_LISTING_NEWER, user_id, &k)) {
        g->after = k.key;
        return true;
    }
    if (page_cursor_decode(text, CHAT_LISTING_OLDER, user_id, &k)) {
        g->before = k.key;
        g->backward = true;
        return true;
    }
    http_reply_field(r, 422, "cursor", "is not a valid cursor");
    return false;
}

static bool range_or_reply(struct http_req *r, struct db_conn *c, const char *conv,
                           const char *user_id, struct range *g)
{
    bool cursor = false;
    if (!page_or_reply(r, user_id, g, &cursor))
        return false;
    if (cursor)
        return true;
    if (!seq_param_or_reply(r, c, conv, "after", &g->after) ||
        !seq_param_or_reply(r, c, conv, "before", &g->before))
        return false;
    g->backward = g->after == 0;
    return true;
}

/* Replies the page of res (limit + 1 rows asked). */
static void reply_page(struct http_req *r, const char *user_id, const struct range *g,
                       PGresult *res)
{
    int n = chat_rows(res);
    bool more = n > g->limit;
    int from = more && g->backward ? 1 : 0, to = more && !g->backward ? g->limit : n;
    struct page_key k = {.key = 0, .id = ""};
    if (more)
        k.key = chat_msg_row_seq(res, g->backward ? from : to - 1);
    json_t *items = chat_json_messages(res, from, to);
    page_reply(r, items, g->backward ? CHAT_LISTING_OLDER : CHAT_LISTING_NEWER, user_id,
               more ? &k : NULL);
}

void chat_list_messages(struct http_req *r)
{
    const char *user_id = http_req_principal(r)->user_id;
    const char *id = NULL;
    struct db_conn *c = NULL;
    struct chat_conv cv;
    if (!chat_conv_or_reply(r, user_id, &id, &c, &cv))
        return;
    struct range g = {.after = 0, .before = 0, .backward = false, .limit = 0};
    if (!range_or_reply(r, c, id, user_id, &g))
        return;
    PGresult *res = NULL;
    enum db_status st = chat_repo_messages(c, id, g.after, g.before, g.limit + 1, g.backward, &res);
    if (st == DB_OK)
        reply_page(r, user_id, &g, res);
    else
        http_reply_db(r, st);
    PQclear(res);
}
