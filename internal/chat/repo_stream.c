/* What the stream pump reads and writes (tables chat_messages, chat_feed, chat_inboxes,
 * chat_presence), on the primary: a NOTIFY means "committed on the primary", and a replica
 * may not have it yet. */
#include <stdio.h>

#include "internal/chat/internal.h"
#include "internal/chat/sql.h"

/* How long an expired presence row is kept before the heartbeat's purge removes it. */
#define PRESENCE_PURGE_S 3600

/* clang-format off */
static const struct db_stmt stmts[] = {
    {"chat_conv_end", "SELECT last_seq FROM chat_conversations WHERE id = $1::uuid"},
    {"chat_feed_end", "SELECT pos FROM chat_inboxes WHERE user_id = $1::uuid"},
    {"chat_feed_pos",
     "SELECT pos FROM chat_feed WHERE user_id = $1::uuid AND message_id = $2::uuid"},
    {"chat_conv_after",
     "SELECT " CHAT_MSG_COLS ", m.seq FROM chat_messages m WHERE m.conversation_id = $1::uuid "
     "AND m.seq > $2::bigint ORDER BY m.seq LIMIT $3::int"},
    {"chat_feed_after",
     "SELECT " CHAT_MSG_COLS ", f.pos FROM chat_feed f JOIN chat_messages m ON m.id = f.message_id "
     "WHERE f.user_id = $1::uuid AND f.pos > $2::bigint ORDER BY f.pos LIMIT $3::int"},
    {"chat_presence_add",
     "INSERT INTO chat_presence (stream_id, user_id, conversation_id, expires_at) "
     "VALUES ($1::uuid, $2::uuid, $3::uuid, now() + $4::int * interval '1 second')"},
    {"chat_presence_touch",
     "WITH t AS (UPDATE chat_presence SET expires_at = now() + $2::int * interval '1 second' "
     "WHERE stream_id = ANY ($1::uuid[])) "
     "DELETE FROM chat_presence WHERE expires_at < now() - interval '"
     DB_STR(PRESENCE_PURGE_S) " seconds'"},
    {"chat_presence_drop", "DELETE FROM chat_presence WHERE stream_id = $1::uuid"},
};
/* clang-format on */

void chat_repo_stream_register(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

/* The single bigint of a one-column statement; 0 when there is no row. */
static enum db_status scalar(struct db_conn *c, const char *stmt, const char *a, const char *b,
                             long long *out, bool need_row)
{
    PGresult *res = NULL;
    const char *p2[] = {a, b};
    const char *p1[] = {a};
    enum db_status st =
        b ? db_exec(c, stmt, DB_PARAMS(p2), &res) : db_exec(c, stmt, DB_PARAMS(p1), &res);
    *out = 0;
    if (st == DB_OK && PQntuples(res) == 0 && need_row)
        st = DB_NOT_FOUND;
    else if (st == DB_OK && PQntuples(res) > 0)
        *out = db_col_ll(res, 0, 0);
    PQclear(res);
    return st;
}

enum db_status chat_repo_conv_end(struct db_conn *c, const char *conv_id, long long *seq)
{
    return scalar(c, "chat_conv_end", conv_id, NULL, seq, false);
}

enum db_status chat_repo_feed_end(struct db_conn *c, const char *user_id, long long *pos)
{
    return scalar(c, "chat_feed_end", user_id, NULL, pos, false);
}

enum db_status chat_repo_feed_pos(struct db_conn *c, const char *user_id, const char *msg_id,
                                  long long *pos)
{
    return scalar(c, "chat_feed_pos", user_id, msg_id, pos, true);
}

static enum db_status after(struct db_conn *c, const char *stmt, const char *key, long long from,
                            int limit, PGresult **res)
{
    char f[24], l[16];
    snprintf(f, sizeof f, "%lld", from);
    snprintf(l, sizeof l, "%d", limit);
    const char *p[] = {key, f, l};
    return db_exec(c, stmt, DB_PARAMS(p), res);
}

enum db_status chat_repo_conv_after(struct db_conn *c, const char *conv_id, long long seq,
                                    int limit, PGresult **res)
{
    return after(c, "chat_conv_after", conv_id, seq, limit, res);
}

enum db_status chat_repo_feed_after(struct db_conn *c, const char *user_id, long long pos,
                                    int limit, PGresult **res)
{
    return after(c, "chat_feed_after", user_id, pos, limit, res);
}

enum db_status chat_repo_presence_add(struct db_conn *c, const char *stream_id, const char *user_id,
                                      const char *conv_id, int ttl_s)
{
    char t[16];
    snprintf(t, sizeof t, "%d", ttl_s);
    const char *p[] = {stream_id, user_id, conv_id && *conv_id ? conv_id : NULL, t};
    return db_exec(c, "chat_presence_add", DB_PARAMS(p), NULL);
}

enum db_status chat_repo_presence_touch(struct db_conn *c, const char *ids, int ttl_s)
{
    char t[16];
    snprintf(t, sizeof t, "%d", ttl_s);
    const char *p[] = {ids, t};
    return db_exec(c, "chat_presence_touch", DB_PARAMS(p), NULL);
}

enum db_status chat_repo_presence_drop(struct db_conn *c, const char *stream_id)
{
    const char *p[] = {stream_id};
    return db_exec(c, "chat_presence_drop", DB_PARAMS(p), NULL);
}
