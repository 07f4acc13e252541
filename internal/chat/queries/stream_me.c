/* GET /v1/me/events (user): one text/event-stream of every new message in any of the
 * caller's conversations, the caller's own included (so other devices stay in sync); frames
 * as on a conversation's stream. Last-Event-ID resumes after that message in the caller's
 * feed, which orders the caller's messages of all conversations by commit: per conversation,
 * everything after the last message the client saw. */
#include "internal/chat/internal.h"

void chat_stream_me(struct http_req *r)
{
    const char *user_id = http_req_principal(r)->user_id;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    long long end = 0;
    enum db_status st = chat_repo_feed_end(c, user_id, &end);
    if (st != DB_OK)
        http_reply_db(r, st);
    else
        chat_stream_open(r, user_id, "", http_req_header(r, "Last-Event-ID"), end);
}
