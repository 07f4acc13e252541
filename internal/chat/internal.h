/* Private to internal/chat: records, limits, the repository, validation and JSON writers.
 *
 * Handlers (commands/, queries/) never read a PGresult: the repository returns typed records,
 * or an opaque result that only json.c reads. Repository functions take the connection they
 * run on first; handlers get it from the request kit, the stream pump from pkg/db itself
 * (the primary). */
#ifndef HAAT_INTERNAL_CHAT_INTERNAL_H
#define HAAT_INTERNAL_CHAT_INTERNAL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/chat/chat.h"
#include "pkg/db/db.h"
#include "pkg/http/http.h"
#include "pkg/ids/ids.h"
#include "pkg/page/page.h"

#define CHAT_BODY_MAX_CHARS   4000
#define CHAT_REASON_MAX_CHARS 1000
#define CHAT_PREVIEW_CHARS    100
/* NOTIFY channel of stored messages; payload "<conversation> <buyer> <seller> <message>". */
#define CHAT_CHANNEL "haat_chat"
/* What a stream's client waits before reconnecting (the SSE retry: field), ms. */
#define CHAT_RETRY_MS 3000

#define CHAT_LISTING_INBOX   "chat.conversations"
#define CHAT_LISTING_OLDER   "chat.messages.before"
#define CHAT_LISTING_NEWER   "chat.messages.after"
#define CHAT_LISTING_REPORTS "chat.reports"

/* Settings (module.c, from the configuration). */
struct chat_settings {
    int streams_max, streams_per_user, heartbeat_s, sends_per_min;
};
extern struct chat_settings chat_cfg;

/* ---- use cases ------------------------------------------------------------------------- */
void chat_start_conversation(struct http_req *r);
void chat_send_message(struct http_req *r);
void chat_mark_read(struct http_req *r);
void chat_block_user(struct http_req *r);
void chat_unblock_user(struct http_req *r);
void chat_report_content(struct http_req *r);
void chat_list_conversations(struct http_req *r);
void chat_list_messages(struct http_req *r);
void chat_stream_conversation(struct http_req *r);
void chat_stream_me(struct http_req *r);

/* ---- validation (validate.c, pure) ----------------------------------------------------- */
/* jsonh checks: a UUID string; 1..4000 characters after trimming, then the free-text rule
 * with line feeds and tabs (jsonh_check_multiline_text); 1..1000 likewise, single-line
 * (jsonh_check_plain_text). */
const char *chat_check_uuid(const json_t *v);
const char *chat_check_body(const json_t *v);
const char *chat_check_reason(const json_t *v);
/* s without leading and trailing whitespace, as a new string. */
char *chat_trim(const char *s);
/* The first max characters of s (UTF-8 aware), "…" appended when cut; new string. */
char *chat_preview(const char *s, size_t max);

/* ---- records --------------------------------------------------------------------------- */
struct chat_conv {
    char id[IDS_UUID_LEN];
    char product_id[IDS_UUID_LEN];
    char buyer_id[IDS_UUID_LEN];
    char seller_id[IDS_UUID_LEN];
    long long last_seq;
};

/* A stored message; body is a heap string (chat_msg_cleanup). */
struct chat_msg {
    char id[IDS_UUID_LEN];
    char conversation_id[IDS_UUID_LEN];
    long long seq;
    char sender_id[IDS_UUID_LEN];
    char *body;
    char created_at[32];
};
void chat_msg_cleanup(struct chat_msg *m);
/* Reads a message row (enum chat_msg_col) into m (repository side). */
void chat_msg_from_row(const PGresult *res, int row, struct chat_msg *m);

/* ---- sending (send.c) ---------------------------------------------------------------- */
enum chat_send_why { CHAT_SEND_OK, CHAT_SEND_BLOCKED, CHAT_SEND_SUSPENDED, CHAT_SEND_RATE };
struct chat_send {
    const char *sender, *body; /* in: body trimmed and valid */
    struct chat_msg msg;       /* out: the stored message (chat_msg_cleanup) */
    enum chat_send_why why;    /* out: why DB_CHECK */
    int retry_after;           /* out: CHAT_SEND_RATE's seconds */
};
/* Appends s->body from s->sender to cv (locked by the caller's transaction on c): refuses
 * with DB_CHECK when the recipient blocked the sender or the sender is over the rate; then
 * the message, the NOTIFY and message.received, in c's transaction. */
enum db_status chat_send_in_txn(struct db_conn *c, const struct chat_conv *cv, struct chat_send *s);
/* The refusal of s as a reply (403 blocked, 429 rate_limited); false when s was not refused. */
bool chat_send_refused_reply(struct http_req *r, const struct chat_send *s);
/* Replies status with the caller's inbox row of conv_id (plus "message" when m is set). */
/* For the conversation queries: the {id} conversation as the caller (a participant) sees it,
 * read on the query's connection (*c). Replies 404 (malformed id, not a participant, no such
 * conversation) or 503 and returns false otherwise. */
bool chat_conv_or_reply(struct http_req *r, const char *user_id, const char **id,
                        struct db_conn **c, struct chat_conv *cv);
enum db_status chat_reply_conversation(struct http_req *r, struct db_conn *c, int status,
                                       const char *user_id, const char *conv_id,
                                       const struct chat_msg *m);

/* ---- repository: conversations and messages (repo_conv.c) ------------------------------ */
void chat_repo_register(void);
/* The conversation when user_id takes part in it (DB_NOT_FOUND otherwise); lock: FOR UPDATE
 * (a command's transaction: messages then get seq in commit order). */
enum db_status chat_repo_conv_get(struct db_conn *c, const char *conv_id, const char *user_id,
                                  bool lock, struct chat_conv *out);
/* Creates the conversation (and its two member rows) unless (product, buyer) has one;
 * *created says which; out_id gets its id either way. */
enum db_status chat_repo_conv_open(struct db_conn *c, const char *product_id, const char *buyer_id,
                                   const char *seller_id, bool *created, char out_id[IDS_UUID_LEN]);
/* Appends a message inside the caller's transaction, which must hold the conversation's row
 * lock (chat_repo_conv_get lock): bumps both participants' feed positions, checks the
 * sender's rate (*retry_after > 0: over the limit, nothing written, seconds to wait) and
 * stores the message with its seq, feed rows, member rows (unread, inbox order). */
enum db_status chat_repo_append(struct db_conn *c, const struct chat_conv *cv, const char *sender,
                                const char *body, int per_min, int *retry_after,
                                struct chat_msg *out);
/* pg_notify(CHAT_CHANNEL, payload), delivered at COMMIT. */
enum db_status chat_repo_notify(struct db_conn *c, const struct chat_conv *cv, const char *msg_id);
/* Whether user_id has an event stream open (on any instance) that shows conv_id. */
enum db_status chat_repo_watching(struct db_conn *c, const char *user_id, const char *conv_id,
                                  bool *out);
/* Marks conv_id read by user_id up to message msg_id (never backwards) and recounts the
 * unread messages after it. DB_NOT_FOUND: not a participant; DB_CHECK: msg_id is not a
 * message of this conversation. */
enum db_status chat_repo_mark_read(struct db_conn *c, const char *conv_id, const char *user_id,
                                   const char *msg_id);
/* The message position of msg_id in conv_id (DB_NOT_FOUND when it is not one of it). */
enum db_status chat_repo_message_seq(struct db_conn *c, const char *conv_id, const char *msg_id,
                                     long long *seq);
/* A page of messages, oldest first: seq in (after, before) — before <= 0: no upper bound —
 * at most limit; newest: the last limit of that range, else the first. res is opaque for
 * json.c (chat_json_messages). */
enum db_status chat_repo_messages(struct db_conn *c, const char *conv_id, long long after,
                                  long long before, int limit, bool newest, PGresult **res);
/* The caller's inbox: up to limit member rows after the cursor (NULL: from the newest). */
enum db_status chat_repo_inbox(struct db_conn *c, const char *user_id, int limit,
                               const struct page_key *after, PGresult **res);
/* One inbox row (the conversation just written), for a command's reply. */
enum db_status chat_repo_inbox_one(struct db_conn *c, const char *user_id, const char *conv_id,
                                   PGresult **res);

/* ---- repository: blocks and reports (repo_safety.c) ------------------------------------ */
void chat_repo_safety_register(void);
enum db_status chat_repo_blocked(struct db_conn *c, const char *blocker, const char *blocked,
                                 bool *out);
enum db_status chat_repo_block(struct db_conn *c, const char *blocker, const char *blocked);
enum db_status chat_repo_unblock(struct db_conn *c, const char *blocker, const char *blocked);
/* A message's body when user_id may see it (a participant); DB_NOT_FOUND otherwise. */
enum db_status chat_repo_message_body(struct db_conn *c, const char *msg_id, const char *user_id,
                                      char **body);
enum db_status chat_repo_report_insert(struct db_conn *c, const char *kind, const char *target,
                                       const char *reporter, const char *reason,
                                       const char *snapshot, PGresult **res);
enum db_status chat_repo_reports(struct db_conn *c, int limit, const struct page_key *after,
                                 PGresult **res);

/* ---- repository: streams (repo_stream.c), on the pump's primary connection -------------- */
void chat_repo_stream_register(void);
/* The current end of a conversation (its last seq) or of a user's feed (the last pos). */
enum db_status chat_repo_conv_end(struct db_conn *c, const char *conv_id, long long *seq);
enum db_status chat_repo_feed_end(struct db_conn *c, const char *user_id, long long *pos);
/* The feed position of msg_id for user_id (DB_NOT_FOUND when it is not in the feed). */
enum db_status chat_repo_feed_pos(struct db_conn *c, const char *user_id, const char *msg_id,
                                  long long *pos);
/* Up to limit messages after a position, in order, with their position in column
 * CHAT_MSG_POS: of a conversation (by seq) or of a user's feed (by pos). */
enum db_status chat_repo_conv_after(struct db_conn *c, const char *conv_id, long long seq,
                                    int limit, PGresult **res);
enum db_status chat_repo_feed_after(struct db_conn *c, const char *user_id, long long pos,
                                    int limit, PGresult **res);
enum db_status chat_repo_presence_add(struct db_conn *c, const char *stream_id, const char *user_id,
                                      const char *conv_id, int ttl_s);
/* Refreshes the given streams (a uuid[] text "{a,b}") and drops rows long expired. */
enum db_status chat_repo_presence_touch(struct db_conn *c, const char *ids, int ttl_s);
enum db_status chat_repo_presence_drop(struct db_conn *c, const char *stream_id);

/* ---- JSON (json.c): the only readers of message, inbox and report rows ------------------ */
/* Columns of every statement returning messages (CHAT_MSG_COLS); stream reads add
 * CHAT_MSG_POS. */
enum chat_msg_col {
    CHAT_MSG_ID,
    CHAT_MSG_CONV,
    CHAT_MSG_SEQ,
    CHAT_MSG_SENDER,
    CHAT_MSG_BODY,
    CHAT_MSG_CREATED,
    CHAT_MSG_POS,
};
json_t *chat_json_msg(const struct chat_msg *m);
json_t *chat_json_msg_row(const PGresult *res, int row);
/* Rows [from, to) as a JSON array. */
json_t *chat_json_messages(const PGresult *res, int from, int to);
/* The seq of row (for cursors); rows counted. */
long long chat_msg_row_seq(const PGresult *res, int row);
long long chat_msg_row_pos(const PGresult *res, int row);
int chat_rows(const PGresult *res);
/* An SSE frame of a message row: event, id, data (the message JSON). New string. */
char *chat_sse_frame(const PGresult *res, int row, size_t *len);
/* Inbox rows as items, with product titles and the other party's name read on c. next
 * gets the cursor of the last row when there are more than limit rows. */
enum db_status chat_json_inbox(struct db_conn *c, const PGresult *res, int limit, json_t **items,
                               bool *more, struct page_key *next);
json_t *chat_json_reports(const PGresult *res, int limit, bool *more, struct page_key *next);

/* ---- streams (streams.c) ---------------------------------------------------------------- */
/* Opens a stream of conv_id ("" : every conversation of user_id) for r, resuming after
 * last_event_id (a message id, may be NULL) or, without it, after start (the end the handler
 * read). Replies itself (the stream, or 503). */
void chat_stream_open(struct http_req *r, const char *user_id, const char *conv_id,
                      const char *last_event_id, long long start);
/* From the listener: a message was stored in conv_id between buyer and seller. */
void chat_streams_notify(const char *conv_id, const char *buyer_id, const char *seller_id);
/* From the listener after it (re)connected: every stream re-reads. */
void chat_streams_recheck(void);
int chat_pump_start(void);
bool chat_pump_stop(int grace_ms);

#endif
