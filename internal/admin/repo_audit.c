/* SQL of the audit log's query (table audit_log, written by pkg/audit). Read only: nothing
 * here or anywhere changes or deletes a row (a trigger refuses it). */
#include <stdio.h>

#include "internal/admin/internal.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

enum audit_col {
    AU_ID,
    AU_ACTOR,
    AU_ACTION,
    AU_KIND,
    AU_TARGET,
    AU_REASON,
    AU_BEFORE,
    AU_AFTER,
    AU_CREATED_AT,
    AU_KEY
};

/* clang-format off */
static const struct db_stmt stmts[] = {
    /* $1 actor, $2 target id (NULL: any), $3 key (-1: first page), $4 id, $5 limit. */
    {"admin_audit_page",
     "SELECT id::text, actor_id, action, target_kind, target_id, reason, before::text, "
     "after::text, " TS("created_at") ", " US("created_at") " FROM audit_log "
     "WHERE ($1::text IS NULL OR actor_id = $1) AND ($2::text IS NULL OR target_id = $2) "
     "AND ($3::bigint < 0 OR (created_at, id) < "
     "(timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::uuid)) "
     "ORDER BY created_at DESC, id DESC LIMIT $5::int"},
};
/* clang-format on */

void admin_repo_register(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

static json_t *text_or_null(const PGresult *res, int i, int col)
{
    return db_col_is_null(res, i, col) ? json_null() : json_string(db_col_str(res, i, col));
}

static json_t *jsonb_or_null(const PGresult *res, int i, int col)
{
    if (db_col_is_null(res, i, col))
        return json_null();
    json_t *v = json_loads(db_col_str(res, i, col), JSON_DECODE_ANY, NULL);
    return v ? v : json_null();
}

static json_t *row_json(const PGresult *res, int i)
{
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s}", "id", db_col_str(res, i, AU_ID), "actor_id",
        db_col_str(res, i, AU_ACTOR), "action", db_col_str(res, i, AU_ACTION), "target_kind",
        db_col_str(res, i, AU_KIND), "target_id", db_col_str(res, i, AU_TARGET), "reason",
        text_or_null(res, i, AU_REASON), "before", jsonb_or_null(res, i, AU_BEFORE), "after",
        jsonb_or_null(res, i, AU_AFTER), "created_at", db_col_str(res, i, AU_CREATED_AT));
}

enum db_status admin_repo_audit_page(struct db_conn *c, const char *actor, const char *target,
                                     int limit, const struct page_key *after, json_t **items,
                                     bool *more, struct page_key *next)
{
    char key[24], lim[16];
    snprintf(key, sizeof key, "%lld", after ? (long long)after->key : -1LL);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[] = {actor, target, key,
                       after ? after->id : "00000000-0000-0000-0000-000000000000", lim};
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "admin_audit_page", DB_PARAMS(p), &res);
    if (st != DB_OK)
        return st;
    int n = PQntuples(res);
    *more = n > limit;
    if (*more)
        n = limit;
    *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(*items, row_json(res, i));
    if (*more) {
        next->key = db_col_ll(res, n - 1, AU_KEY);
        db_col_copy(res, n - 1, AU_ID, next->id, sizeof next->id);
    }
    PQclear(res);
    return DB_OK;
}
