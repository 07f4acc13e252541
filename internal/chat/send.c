/* Appending a message inside a command's transaction, shared by POST /v1/conversations and
 * POST /v1/conversations/{id}/messages: the block check, the stored message (seq and feed
 * positions in commit order), the NOTIFY for the streams of every instance and the
 * message.received event — all in the caller's transaction. */
#include <stdlib.h>
#include <string.h>

#include "internal/chat/internal.h"
#include "internal/user/user.h"
#include "pkg/outbox/outbox.h"

/* message.received for the other party, unless they watch the conversation right now (the
 * notification module limits it to one per conversation and 10 minutes per recipient). */
static enum db_status emit_received(struct db_conn *c, const struct chat_conv *cv,
                                    const struct chat_msg *m, const char *recipient)
{
    bool watching = false;
    enum db_status st = chat_repo_watching(c, recipient, cv->id, &watching);
    if (st != DB_OK || watching)
        return st;
    char *preview = chat_preview(m->body, CHAT_PREVIEW_CHARS);
    json_t *payload = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "conversation_id", cv->id,
                                "message_id", m->id, "sender_id", m->sender_id, "recipient_id",
                                recipient, "product_id", cv->product_id, "preview", preview);
    st = outbox_emit(c, "message.received", cv->id, payload);
    json_decref(payload);
    free(preview);
    return st;
}

enum db_status chat_send_in_txn(struct db_conn *c, const struct chat_conv *cv, struct chat_send *s)
{
    const char *recipient = strcmp(s->sender, cv->buyer_id) == 0 ? cv->seller_id : cv->buyer_id;
    bool blocked = false;
    s->why = CHAT_SEND_OK;
    enum db_status st = chat_repo_blocked(c, recipient, s->sender, &blocked);
    /* A suspended party's conversations take no new messages (their own tokens stop already). */
    bool suspended = false;
    if (st == DB_OK && !blocked)
        st = user_is_suspended(c, recipient, &suspended);
    if (st == DB_OK && suspended) {
        s->why = CHAT_SEND_SUSPENDED;
        return DB_CHECK;
    }
    if (st == DB_OK && blocked) {
        s->why = CHAT_SEND_BLOCKED;
        return DB_CHECK;
    }
    if (st == DB_OK)
        st = chat_repo_append(c, cv, s->sender, s->body, chat_cfg.sends_per_min, &s->retry_after,
                              &s->msg);
    if (st == DB_OK && s->retry_after > 0) {
        s->why = CHAT_SEND_RATE;
        return DB_CHECK;
    }
    if (st == DB_OK)
        st = chat_repo_notify(c, cv, s->msg.id);
    if (st == DB_OK)
        st = emit_received(c, cv, &s->msg, recipient);
    return st;
}

bool chat_send_refused_reply(struct http_req *r, const struct chat_send *s)
{
    if (s->why == CHAT_SEND_BLOCKED) {
        http_reply_problem(r, 403, "blocked", "this user does not accept your messages");
        return true;
    }
    if (s->why == CHAT_SEND_SUSPENDED) {
        http_reply_problem(r, 403, "blocked",
                           "the other party's account is suspended; it takes no messages");
        return true;
    }
    if (s->why == CHAT_SEND_RATE) {
        http_reply_rate_limited(r, s->retry_after, "you are sending messages too fast");
        return true;
    }
    return false;
}
