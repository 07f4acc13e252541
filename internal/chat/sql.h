/* Column lists shared by the chat's repository files, in the order of their enums
 * (internal.h: enum chat_msg_col; json.c: enum inbox_col). */
#ifndef HAAT_INTERNAL_CHAT_SQL_H
#define HAAT_INTERNAL_CHAT_SQL_H

#define CHAT_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* A timestamp as whole microseconds since the epoch (a cursor key). */
#define CHAT_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

/* enum chat_msg_col, from chat_messages m. */
#define CHAT_MSG_COLS \
    "m.id, m.conversation_id, m.seq, m.sender_id, m.body, " CHAT_TS("m.created_at")
/* The same from an INSERT's RETURNING (raw) and the statement reading it back. */
#define CHAT_MSG_RET "id, conversation_id, seq, sender_id, body, created_at"
#define CHAT_MSG_OUT \
    "msg.id, msg.conversation_id, msg.seq, msg.sender_id, msg.body, " CHAT_TS("msg.created_at")

/* enum inbox_col (json.c): the member row b, its conversation c, the last message m. */
#define CHAT_INBOX_COLS                                                             \
    "c.id, c.product_id, c.buyer_id, c.seller_id, b.other_id, b.unread, " CHAT_TS(  \
        "b.updated_at") ", " CHAT_US("b.updated_at") ", m.id, m.seq, m.sender_id, " \
                                                     "m.body, " CHAT_TS("m.created_at")

/* enum report_col (json.c). */
#define CHAT_REPORT_COLS                                                                       \
    "id, kind, target_id, reporter_id, reason, snapshot, " CHAT_TS("created_at") ", " CHAT_US( \
        "created_at")

#endif
