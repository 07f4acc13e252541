/* The chat's conversation and message statements (tables chat_conversations, chat_members,
 * chat_messages, chat_inboxes, chat_feed, chat_presence).
 *
 * Commit order: a send locks the conversation's row first (chat_repo_conv_get lock), then
 * both participants' chat_inboxes rows in id order (chat_inbox_bump), and holds them until
 * COMMIT; seq and pos taken under those locks are therefore in commit order, and the fixed
 * lock order cannot deadlock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/chat/internal.h"
#include "internal/chat/sql.h"

/* SQL reads better laid out by hand. */
/* clang-format off */
static const struct db_stmt stmts[] = {
    {"chat_conv_get",
     "SELECT id, product_id, buyer_id, seller_id, last_seq FROM chat_conversations "
     "WHERE id = $1::uuid AND $2::uuid IN (buyer_id, seller_id)"},
    {"chat_conv_lock",
     "SELECT id, product_id, buyer_id, seller_id, last_seq FROM chat_conversations "
     "WHERE id = $1::uuid AND $2::uuid IN (buyer_id, seller_id) FOR UPDATE"},
    {"chat_conv_insert",
     "WITH ins AS (INSERT INTO chat_conversations (id, product_id, buyer_id, seller_id) "
     "VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid) "
     "ON CONFLICT ON CONSTRAINT chat_conversations_one DO NOTHING RETURNING id), "
     "mem AS (INSERT INTO chat_members (user_id, conversation_id, other_id, role) "
     "SELECT v.u, ins.id, v.o, v.r FROM ins, (VALUES ($3::uuid, $4::uuid, 'buyer'), "
     "($4::uuid, $3::uuid, 'seller')) AS v(u, o, r)) "
     "SELECT id FROM ins"},
    {"chat_conv_find",
     "SELECT id FROM chat_conversations WHERE product_id = $1::uuid AND buyer_id = $2::uuid"},
    /* $1 < $2: rows are locked in id order. */
    {"chat_inbox_bump",
     "INSERT INTO chat_inboxes AS i (user_id, pos) VALUES ($1::uuid, 1), ($2::uuid, 1) "
     "ON CONFLICT (user_id) DO UPDATE SET pos = i.pos + 1 RETURNING user_id, pos"},
    /* Exact under the sender's chat_inboxes row lock, held since chat_inbox_bump. */
    {"chat_send_rate",
     "SELECT count(*), COALESCE(ceil(extract(epoch FROM min(created_at) + interval '60 seconds' "
     "- now()))::bigint, 0) FROM chat_messages "
     "WHERE sender_id = $1::uuid AND created_at > now() - interval '60 seconds'"},
    {"chat_message_append",
     "WITH conv AS (UPDATE chat_conversations SET last_seq = last_seq + 1, "
     "last_message_id = $2::uuid, updated_at = now() WHERE id = $1::uuid "
     "RETURNING id, last_seq), "
     "msg AS (INSERT INTO chat_messages (id, conversation_id, seq, sender_id, body) "
     "SELECT $2::uuid, id, last_seq, $3::uuid, $4 FROM conv "
     "RETURNING " CHAT_MSG_RET "), "
     "mem AS (UPDATE chat_members m SET updated_at = now(), "
     "unread = CASE WHEN m.user_id = $3::uuid THEN 0 ELSE m.unread + 1 END, "
     "read_seq = CASE WHEN m.user_id = $3::uuid THEN (SELECT seq FROM msg) ELSE m.read_seq END "
     "WHERE m.conversation_id = $1::uuid RETURNING 1), "
     "feed AS (INSERT INTO chat_feed (user_id, pos, message_id) "
     "SELECT f.u, f.p, msg.id FROM msg, "
     "unnest(ARRAY[$5::uuid, $7::uuid], ARRAY[$6::bigint, $8::bigint]) AS f(u, p) RETURNING 1) "
     "SELECT " CHAT_MSG_OUT ", (SELECT count(*) FROM mem), (SELECT count(*) FROM feed) FROM msg"},
    {"chat_notify", "SELECT pg_notify('" CHAT_CHANNEL "', $1)"},
    {"chat_watching",
     "SELECT EXISTS (SELECT 1 FROM chat_presence WHERE user_id = $1::uuid "
     "AND (conversation_id = $2::uuid OR conversation_id IS NULL) AND expires_at > now())"},
    /* The member row lock orders this after any send in progress; the recount (a new
     * statement, so a new snapshot) then sees every message committed before it. */
    {"chat_member_lock",
     "SELECT m.read_seq, (SELECT seq FROM chat_messages WHERE id = $3::uuid "
     "AND conversation_id = $1::uuid) FROM chat_members m "
     "WHERE m.conversation_id = $1::uuid AND m.user_id = $2::uuid FOR UPDATE"},
    {"chat_member_read",
     "UPDATE chat_members m SET read_seq = GREATEST(m.read_seq, $3::bigint), "
     "unread = (SELECT count(*) FROM chat_messages x WHERE x.conversation_id = $1::uuid "
     "AND x.seq > GREATEST(m.read_seq, $3::bigint) AND x.sender_id <> $2::uuid) "
     "WHERE m.conversation_id = $1::uuid AND m.user_id = $2::uuid"},
    {"chat_message_seq",
     "SELECT seq FROM chat_messages WHERE id = $2::uuid AND conversation_id = $1::uuid"},
    {"chat_messages_first",
     "SELECT " CHAT_MSG_COLS " FROM chat_messages m WHERE m.conversation_id = $1::uuid "
     "AND m.seq > $2::bigint AND ($3::bigint <= 0 OR m.seq < $3::bigint) "
     "ORDER BY m.seq LIMIT $4::int"},
    {"chat_messages_last",
     "SELECT * FROM (SELECT " CHAT_MSG_COLS " FROM chat_messages m "
     "WHERE m.conversation_id = $1::uuid AND m.seq > $2::bigint "
     "AND ($3::bigint <= 0 OR m.seq < $3::bigint) ORDER BY m.seq DESC LIMIT $4::int) t "
     "ORDER BY 3"},
    {"chat_inbox",
     "SELECT " CHAT_INBOX_COLS " FROM chat_members b "
     "JOIN chat_conversations c ON c.id = b.conversation_id "
     "LEFT JOIN chat_messages m ON m.id = c.last_message_id "
     "WHERE b.user_id = $1::uuid AND ($2::bigint < 0 "
     "OR (b.updated_at, b.conversation_id) < "
     "(timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid)) "
     "ORDER BY b.updated_at DESC, b.conversation_id DESC LIMIT $4::int"},
    {"chat_inbox_one",
     "SELECT " CHAT_INBOX_COLS " FROM chat_members b "
     "JOIN chat_conversations c ON c.id = b.conversation_id "
     "LEFT JOIN chat_messages m ON m.id = c.last_message_id "
     "WHERE b.user_id = $1::uuid AND b.conversation_id = $2::uuid"},
};
/* clang-format on */

/* Result columns of chat_conv_get / chat_conv_lock. */
enum conv_col { CONV_ID, CONV_PRODUCT, CONV_BUYER, CONV_SELLER, CONV_LAST_SEQ };
/* chat_inbox_bump. */
enum bump_col { BUMP_USER, BUMP_POS };
/* chat_send_rate. */
enum rate_col { RATE_COUNT, RATE_RETRY };
/* chat_member_lock. */
enum lock_col { LOCK_READ_SEQ, LOCK_MSG_SEQ };

void chat_repo_register(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

void chat_msg_cleanup(struct chat_msg *m)
{
    free(m->body);
    m->body = NULL;
}

enum db_status chat_repo_conv_get(struct db_conn *c, const char *conv_id, const char *user_id,
                                  bool lock, struct chat_conv *out)
{
    PGresult *res = NULL;
    const char *p[] = {conv_id, user_id};
    enum db_status st = db_exec(c, lock ? "chat_conv_lock" : "chat_conv_get", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK) {
        db_col_copy(res, 0, CONV_ID, out->id, sizeof out->id);
        db_col_copy(res, 0, CONV_PRODUCT, out->product_id, sizeof out->product_id);
        db_col_copy(res, 0, CONV_BUYER, out->buyer_id, sizeof out->buyer_id);
        db_col_copy(res, 0, CONV_SELLER, out->seller_id, sizeof out->seller_id);
        out->last_seq = db_col_ll(res, 0, CONV_LAST_SEQ);
    }
    PQclear(res);
    return st;
}

enum db_status chat_repo_conv_open(struct db_conn *c, const char *product_id, const char *buyer_id,
                                   const char *seller_id, bool *created, char out_id[IDS_UUID_LEN])
{
    char id[IDS_UUID_LEN];
    ids_uuid7(id);
    PGresult *res = NULL;
    const char *p[] = {id, product_id, buyer_id, seller_id};
    enum db_status st = db_exec(c, "chat_conv_insert", DB_PARAMS(p), &res);
    *created = st == DB_OK && PQntuples(res) == 1;
    PQclear(res);
    res = NULL;
    if (st != DB_OK || *created) {
        snprintf(out_id, IDS_UUID_LEN, "%s", id);
        return st;
    }
    /* Someone else's: a new statement sees it even when it committed just now. */
    const char *q[] = {product_id, buyer_id};
    st = db_exec(c, "chat_conv_find", DB_PARAMS(q), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_ERROR;
    if (st == DB_OK)
        db_col_copy(res, 0, 0, out_id, IDS_UUID_LEN);
    PQclear(res);
    return st;
}

/* Bumps both participants' feed positions; *sender_pos / *other_pos get them. */
static enum db_status bump(struct db_conn *c, const struct chat_conv *cv, const char *sender,
                           long long *pos_buyer, long long *pos_seller)
{
    bool buyer_first = strcmp(cv->buyer_id, cv->seller_id) < 0;
    const char *p[] = {buyer_first ? cv->buyer_id : cv->seller_id,
                       buyer_first ? cv->seller_id : cv->buyer_id};
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "chat_inbox_bump", DB_PARAMS(p), &res);
    for (int i = 0; st == DB_OK && i < PQntuples(res); i++) {
        bool is_buyer = strcmp(db_col_str(res, i, BUMP_USER), cv->buyer_id) == 0;
        *(is_buyer ? pos_buyer : pos_seller) = db_col_ll(res, i, BUMP_POS);
    }
    PQclear(res);
    return st;
}

/* *retry_after: 0 when sender may send one more now, else the seconds to wait. */
static enum db_status rate(struct db_conn *c, const char *sender, int per_min, int *retry_after)
{
    PGresult *res = NULL;
    const char *p[] = {sender};
    enum db_status st = db_exec(c, "chat_send_rate", DB_PARAMS(p), &res);
    *retry_after = 0;
    if (st == DB_OK && db_col_ll(res, 0, RATE_COUNT) >= per_min) {
        long long s = db_col_ll(res, 0, RATE_RETRY);
        *retry_after = s < 1 ? 1 : (int)s;
    }
    PQclear(res);
    return st;
}

void chat_msg_from_row(const PGresult *res, int row, struct chat_msg *m)
{
    db_col_copy(res, row, CHAT_MSG_ID, m->id, sizeof m->id);
    db_col_copy(res, row, CHAT_MSG_CONV, m->conversation_id, sizeof m->conversation_id);
    m->seq = db_col_ll(res, row, CHAT_MSG_SEQ);
    db_col_copy(res, row, CHAT_MSG_SENDER, m->sender_id, sizeof m->sender_id);
    m->body = db_col_strdup(res, row, CHAT_MSG_BODY);
    db_col_copy(res, row, CHAT_MSG_CREATED, m->created_at, sizeof m->created_at);
}

enum db_status chat_repo_append(struct db_conn *c, const struct chat_conv *cv, const char *sender,
                                const char *body, int per_min, int *retry_after,
                                struct chat_msg *out)
{
    long long pos_buyer = 0, pos_seller = 0;
    enum db_status st = bump(c, cv, sender, &pos_buyer, &pos_seller);
    if (st == DB_OK)
        st = rate(c, sender, per_min, retry_after);
    if (st != DB_OK || *retry_after > 0)
        return st;
    char id[IDS_UUID_LEN], pb[24], ps[24];
    ids_uuid7(id);
    snprintf(pb, sizeof pb, "%lld", pos_buyer);
    snprintf(ps, sizeof ps, "%lld", pos_seller);
    const char *p[] = {cv->id, id, sender, body, cv->buyer_id, pb, cv->seller_id, ps};
    PGresult *res = NULL;
    st = db_exec(c, "chat_message_append", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_ERROR;
    if (st == DB_OK)
        chat_msg_from_row(res, 0, out);
    PQclear(res);
    return st;
}

enum db_status chat_repo_notify(struct db_conn *c, const struct chat_conv *cv, const char *msg_id)
{
    char payload[4 * IDS_UUID_LEN + 4];
    snprintf(payload, sizeof payload, "%s %s %s %s", cv->id, cv->buyer_id, cv->seller_id, msg_id);
    const char *p[] = {payload};
    return db_exec(c, "chat_notify", DB_PARAMS(p), NULL);
}

enum db_status chat_repo_watching(struct db_conn *c, const char *user_id, const char *conv_id,
                                  bool *out)
{
    PGresult *res = NULL;
    const char *p[] = {user_id, conv_id};
    enum db_status st = db_exec(c, "chat_watching", DB_PARAMS(p), &res);
    *out = st == DB_OK && db_col_bool(res, 0, 0);
    PQclear(res);
    return st;
}

enum db_status chat_repo_mark_read(struct db_conn *c, const char *conv_id, const char *user_id,
                                   const char *msg_id)
{
    PGresult *res = NULL;
    const char *p[] = {conv_id, user_id, msg_id};
    enum db_status st = db_exec(c, "chat_member_lock", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    else if (st == DB_OK && db_col_is_null(res, 0, LOCK_MSG_SEQ))
        st = DB_CHECK;
    char seq[24] = "";
    if (st == DB_OK)
        snprintf(seq, sizeof seq, "%lld", db_col_ll(res, 0, LOCK_MSG_SEQ));
    PQclear(res);
    if (st != DB_OK)
        return st;
    const char *q[] = {conv_id, user_id, seq};
    return db_exec(c, "chat_member_read", DB_PARAMS(q), NULL);
}

enum db_status chat_repo_message_seq(struct db_conn *c, const char *conv_id, const char *msg_id,
                                     long long *seq)
{
    PGresult *res = NULL;
    const char *p[] = {conv_id, msg_id};
    enum db_status st = db_exec(c, "chat_message_seq", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK)
        *seq = db_col_ll(res, 0, 0);
    PQclear(res);
    return st;
}

enum db_status chat_repo_messages(struct db_conn *c, const char *conv_id, long long after,
                                  long long before, int limit, bool newest, PGresult **res)
{
    char a[24], b[24], l[16];
    snprintf(a, sizeof a, "%lld", after);
    snprintf(b, sizeof b, "%lld", before);
    snprintf(l, sizeof l, "%d", limit);
    const char *p[] = {conv_id, a, b, l};
    return db_exec(c, newest ? "chat_messages_last" : "chat_messages_first", DB_PARAMS(p), res);
}

enum db_status chat_repo_inbox(struct db_conn *c, const char *user_id, int limit,
                               const struct page_key *after, PGresult **res)
{
    char k[24], l[16];
    snprintf(k, sizeof k, "%lld", after ? (long long)after->key : -1LL);
    snprintf(l, sizeof l, "%d", limit);
    const char *p[] = {user_id, k, after ? after->id : NULL, l};
    return db_exec(c, "chat_inbox", DB_PARAMS(p), res);
}

enum db_status chat_repo_inbox_one(struct db_conn *c, const char *user_id, const char *conv_id,
                                   PGresult **res)
{
    const char *p[] = {user_id, conv_id};
    return db_exec(c, "chat_inbox_one", DB_PARAMS(p), res);
}
