/* GET /v1/conversations/{id}/events (participant): text/event-stream of the conversation's
 * new messages, on whichever instance the stream is open — `event: message`, `id: <message
 * id>`, `data: <message JSON with conversation_id>`, a `retry:` hint and a comment
 * heartbeat. Last-Event-ID resumes with every message after that one, by seq, none lost and
 * none repeated; without it the stream starts after the last message stored now. 404 for
 * anyone but the participants; 503 when the process holds its maximum of streams. */
#include "internal/chat/internal.h"

void chat_stream_conversation(struct http_req *r)
{
    const char *user_id = http_req_principal(r)->user_id;
    const char *id = NULL;
    struct db_conn *c = NULL;
    struct chat_conv cv;
    if (chat_conv_or_reply(r, user_id, &id, &c, &cv))
        chat_stream_open(r, user_id, id, http_req_header(r, "Last-Event-ID"), cv.last_seq);
}
