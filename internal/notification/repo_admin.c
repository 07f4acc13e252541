/* SQL of the operators' view of deliveries (table notifications): the list by status and the
 * resend of a failed message. */
#include <stdio.h>
#include <string.h>

#include "internal/notification/internal.h"
#include "internal/notification/notification.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
#define ADMIN_COLS                                                                  \
    "id::text, event_type, channel, destination, user_id::text, status, attempts, " \
    "last_error, " TS("created_at") ", " TS("sent_at") ", " US("created_at")

enum admin_col {
    AC_ID,
    AC_EVENT,
    AC_CHANNEL,
    AC_DESTINATION,
    AC_USER,
    AC_STATUS,
    AC_ATTEMPTS,
    AC_LAST_ERROR,
    AC_CREATED_AT,
    AC_SENT_AT,
    AC_KEY
};

/* clang-format off */
static const struct db_stmt stmts[] = {
    /* $1 status, $2 key (-1: first page), $3 id, $4 limit; newest first. */
    {"notify_admin_list",
     "SELECT " ADMIN_COLS " FROM notifications WHERE status = $1 AND ($2::bigint < 0 "
     "OR (created_at, id) < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', "
     "$3::uuid)) ORDER BY created_at DESC, id DESC LIMIT $4::int"},
    {"notify_admin_lock",
     "SELECT " ADMIN_COLS ", priority FROM notifications WHERE id = $1::uuid FOR UPDATE"},
    /* Back to the queue as if new: the delivery job sends it through the normal path. */
    {"notify_admin_requeue",
     "UPDATE notifications SET status = 'queued', attempts = 0, next_attempt_at = now(), "
     "locked_until = NULL WHERE id = $1::uuid AND status = 'failed'"},
};
/* clang-format on */

void notify_repo_register_admin(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

static json_t *str_or_null(const PGresult *res, int i, int col)
{
    return db_col_is_null(res, i, col) ? json_null() : json_string(db_col_str(res, i, col));
}

static json_t *row_json(const PGresult *res, int i)
{
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:o,s:s,s:I,s:o,s:s,s:o}", "id", db_col_str(res, i, AC_ID), "event_type",
        db_col_str(res, i, AC_EVENT), "channel", db_col_str(res, i, AC_CHANNEL), "destination",
        db_col_str(res, i, AC_DESTINATION), "user_id", str_or_null(res, i, AC_USER), "status",
        db_col_str(res, i, AC_STATUS), "attempts", (json_int_t)db_col_ll(res, i, AC_ATTEMPTS),
        "last_error", str_or_null(res, i, AC_LAST_ERROR), "created_at",
        db_col_str(res, i, AC_CREATED_AT), "sent_at", str_or_null(res, i, AC_SENT_AT));
}

enum db_status notify_admin_list(struct db_conn *c, const char *status, int limit,
                                 const struct page_key *after, json_t **items, bool *more,
                                 struct page_key *next)
{
    char key[24], lim[16];
    snprintf(key, sizeof key, "%lld", after ? (long long)after->key : -1LL);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[] = {status, key, after ? after->id : "00000000-0000-0000-0000-000000000000",
                       lim};
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "notify_admin_list", DB_PARAMS(p), &res);
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
        next->key = db_col_ll(res, n - 1, AC_KEY);
        db_col_copy(res, n - 1, AC_ID, next->id, sizeof next->id);
    }
    PQclear(res);
    return DB_OK;
}

enum db_status notify_admin_retry(struct db_conn *c, const char *id, json_t **before,
                                  json_t **after)
{
    const char *p[] = {id};
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "notify_admin_lock", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    /* A failed one-time code lost its sealed body and is never resent: a new code is asked. */
    if (st == DB_OK &&
        (strcmp(db_col_str(res, 0, AC_STATUS), "failed") != 0 || db_col_bool(res, 0, AC_KEY + 1)))
        st = DB_CONFLICT;
    if (st == DB_OK) {
        *before = json_pack("{s:s,s:o}", "status", "failed", "last_error",
                            str_or_null(res, 0, AC_LAST_ERROR));
        st = db_exec(c, "notify_admin_requeue", DB_PARAMS(p), NULL);
    }
    PQclear(res);
    if (st == DB_OK)
        st = notify_repo_wake(c);
    if (st == DB_OK)
        *after = json_pack("{s:s}", "status", "queued");
    return st;
}
