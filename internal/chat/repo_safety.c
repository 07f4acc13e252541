/* Blocks and reports (tables chat_blocks, chat_reports). */
#include <stdio.h>
#include <stdlib.h>

#include "internal/chat/internal.h"
#include "internal/chat/sql.h"

/* clang-format off */
static const struct db_stmt stmts[] = {
    {"chat_blocked",
     "SELECT EXISTS (SELECT 1 FROM chat_blocks WHERE blocker_id = $1::uuid "
     "AND blocked_id = $2::uuid)"},
    {"chat_block",
     "INSERT INTO chat_blocks (blocker_id, blocked_id) VALUES ($1::uuid, $2::uuid) "
     "ON CONFLICT DO NOTHING"},
    {"chat_unblock",
     "DELETE FROM chat_blocks WHERE blocker_id = $1::uuid AND blocked_id = $2::uuid"},
    {"chat_message_body",
     "SELECT m.body FROM chat_messages m JOIN chat_conversations c ON c.id = m.conversation_id "
     "WHERE m.id = $1::uuid AND $2::uuid IN (c.buyer_id, c.seller_id)"},
    {"chat_report_insert",
     "INSERT INTO chat_reports (id, kind, target_id, reporter_id, reason, snapshot) "
     "VALUES ($1::uuid, $2, $3::uuid, $4::uuid, $5, $6) RETURNING " CHAT_REPORT_COLS},
    {"chat_reports",
     "SELECT " CHAT_REPORT_COLS " FROM chat_reports WHERE $1::bigint < 0 "
     "OR (created_at, id) < (timestamptz 'epoch' + $1::bigint * interval '1 microsecond', "
     "$2::uuid) ORDER BY created_at DESC, id DESC LIMIT $3::int"},
};
/* clang-format on */

void chat_repo_safety_register(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

enum db_status chat_repo_blocked(struct db_conn *c, const char *blocker, const char *blocked,
                                 bool *out)
{
    PGresult *res = NULL;
    const char *p[] = {blocker, blocked};
    enum db_status st = db_exec(c, "chat_blocked", DB_PARAMS(p), &res);
    *out = st == DB_OK && db_col_bool(res, 0, 0);
    PQclear(res);
    return st;
}

enum db_status chat_repo_block(struct db_conn *c, const char *blocker, const char *blocked)
{
    const char *p[] = {blocker, blocked};
    return db_exec(c, "chat_block", DB_PARAMS(p), NULL);
}

enum db_status chat_repo_unblock(struct db_conn *c, const char *blocker, const char *blocked)
{
    const char *p[] = {blocker, blocked};
    return db_exec(c, "chat_unblock", DB_PARAMS(p), NULL);
}

enum db_status chat_repo_message_body(struct db_conn *c, const char *msg_id, const char *user_id,
                                      char **body)
{
    PGresult *res = NULL;
    const char *p[] = {msg_id, user_id};
    *body = NULL;
    enum db_status st = db_exec(c, "chat_message_body", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK)
        *body = db_col_strdup(res, 0, 0);
    PQclear(res);
    return st;
}

enum db_status chat_repo_report_insert(struct db_conn *c, const char *kind, const char *target,
                                       const char *reporter, const char *reason,
                                       const char *snapshot, PGresult **res)
{
    char id[IDS_UUID_LEN];
    ids_uuid7(id);
    const char *p[] = {id, kind, target, reporter, reason, snapshot};
    return db_exec(c, "chat_report_insert", DB_PARAMS(p), res);
}

enum db_status chat_repo_reports(struct db_conn *c, int limit, const struct page_key *after,
                                 PGresult **res)
{
    char k[24], l[16];
    snprintf(k, sizeof k, "%lld", after ? (long long)after->key : -1LL);
    snprintf(l, sizeof l, "%d", limit);
    const char *p[] = {k, after ? after->id : NULL, l};
    return db_exec(c, "chat_reports", DB_PARAMS(p), res);
}
