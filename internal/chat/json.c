/* The chat's JSON: messages, inbox items, reports and SSE frames. The only reader of the
 * message, inbox and report rows the repository hands out. */
#include <stdlib.h>
#include <string.h>

#include "internal/catalog/catalog.h"
#include "internal/chat/internal.h"
#include "internal/user/user.h"
#include "pkg/util/xalloc.h"

/* Result columns of chat_inbox / chat_inbox_one (CHAT_INBOX_COLS). */
enum inbox_col {
    INBOX_ID,
    INBOX_PRODUCT,
    INBOX_BUYER,
    INBOX_SELLER,
    INBOX_OTHER,
    INBOX_UNREAD,
    INBOX_UPDATED,
    INBOX_KEY,
    INBOX_MSG_ID,
    INBOX_MSG_SEQ,
    INBOX_MSG_SENDER,
    INBOX_MSG_BODY,
    INBOX_MSG_CREATED,
};
/* Result columns of chat_report_insert / chat_reports (CHAT_REPORT_COLS). */
enum report_col {
    REPORT_ID,
    REPORT_KIND,
    REPORT_TARGET,
    REPORT_REPORTER,
    REPORT_REASON,
    REPORT_SNAPSHOT,
    REPORT_CREATED,
    REPORT_KEY,
};

int chat_rows(const PGresult *res)
{
    return res ? PQntuples(res) : 0;
}

json_t *chat_json_msg(const struct chat_msg *m)
{
    return json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "id", m->id, "conversation_id",
                     m->conversation_id, "seq", (json_int_t)m->seq, "sender_id", m->sender_id,
                     "body", m->body ? m->body : "", "created_at", m->created_at);
}

json_t *chat_json_msg_row(const PGresult *res, int row)
{
    struct chat_msg m = {.body = NULL};
    chat_msg_from_row(res, row, &m);
    json_t *j = chat_json_msg(&m);
    chat_msg_cleanup(&m);
    return j;
}

json_t *chat_json_messages(const PGresult *res, int from, int to)
{
    json_t *items = json_array();
    for (int i = from; i < to && i < chat_rows(res); i++)
        json_array_append_new(items, chat_json_msg_row(res, i));
    return items;
}

long long chat_msg_row_seq(const PGresult *res, int row)
{
    return db_col_ll(res, row, CHAT_MSG_SEQ);
}

long long chat_msg_row_pos(const PGresult *res, int row)
{
    return db_col_ll(res, row, CHAT_MSG_POS);
}

char *chat_sse_frame(const PGresult *res, int row, size_t *len)
{
    json_t *j = chat_json_msg_row(res, row);
    char *data = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER); /* one line: no raw \n */
    json_decref(j);
    char *frame = xasprintf("event: message\nid: %s\ndata: %s\n\n",
                            db_col_str(res, row, CHAT_MSG_ID), data ? data : "{}");
    free(data);
    *len = strlen(frame);
    return frame;
}

static json_t *last_message(const PGresult *res, int row)
{
    if (db_col_is_null(res, row, INBOX_MSG_ID))
        return json_null();
    return json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "id", db_col_str(res, row, INBOX_MSG_ID),
                     "conversation_id", db_col_str(res, row, INBOX_ID), "seq",
                     (json_int_t)db_col_ll(res, row, INBOX_MSG_SEQ), "sender_id",
                     db_col_str(res, row, INBOX_MSG_SENDER), "body",
                     db_col_str(res, row, INBOX_MSG_BODY), "created_at",
                     db_col_str(res, row, INBOX_MSG_CREATED));
}

static json_t *inbox_item(const PGresult *res, int row, const struct catalog_brief *p,
                          const struct user_name *u)
{
    return json_pack(
        "{s:s,s:s,s:s?,s:s,s:s,s:{s:s,s:s?},s:o,s:I,s:s}", "id", db_col_str(res, row, INBOX_ID),
        "product_id", db_col_str(res, row, INBOX_PRODUCT), "product_title",
        p->found ? p->title : NULL, "buyer_id", db_col_str(res, row, INBOX_BUYER), "seller_id",
        db_col_str(res, row, INBOX_SELLER), "other_party", "id", db_col_str(res, row, INBOX_OTHER),
        "display_name", u->found ? u->display_name : NULL, "last_message", last_message(res, row),
        "unread_count", (json_int_t)db_col_ll(res, row, INBOX_UNREAD), "updated_at",
        db_col_str(res, row, INBOX_UPDATED));
}

/* Reads the titles and names of rows [0, n) on c. */
static enum db_status lookups(struct db_conn *c, const PGresult *res, int n,
                              struct catalog_brief *p, struct user_name *u)
{
    for (int i = 0; i < n; i++) {
        db_col_copy(res, i, INBOX_PRODUCT, p[i].product_id, sizeof p[i].product_id);
        db_col_copy(res, i, INBOX_OTHER, u[i].user_id, sizeof u[i].user_id);
    }
    if (catalog_product_briefs(c, p, (size_t)n) != 0 || user_display_names(c, u, (size_t)n) != 0)
        return DB_UNAVAILABLE;
    return DB_OK;
}

enum db_status chat_json_inbox(struct db_conn *c, const PGresult *res, int limit, json_t **items,
                               bool *more, struct page_key *next)
{
    int n = chat_rows(res);
    *more = n > limit;
    if (*more)
        n = limit;
    struct catalog_brief *p = xcalloc((size_t)n + 1, sizeof *p);
    struct user_name *u = xcalloc((size_t)n + 1, sizeof *u);
    enum db_status st = lookups(c, res, n, p, u);
    *items = st == DB_OK ? json_array() : NULL;
    for (int i = 0; st == DB_OK && i < n; i++)
        json_array_append_new(*items, inbox_item(res, i, &p[i], &u[i]));
    if (st == DB_OK && *more) {
        next->key = db_col_ll(res, n - 1, INBOX_KEY);
        db_col_copy(res, n - 1, INBOX_ID, next->id, sizeof next->id);
    }
    free(p);
    free(u);
    return st;
}

static json_t *report(const PGresult *res, int row)
{
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", db_col_str(res, row, REPORT_ID), "kind",
        db_col_str(res, row, REPORT_KIND), "target_id", db_col_str(res, row, REPORT_TARGET),
        "reporter_id", db_col_str(res, row, REPORT_REPORTER), "reason",
        db_col_str(res, row, REPORT_REASON), "snapshot", db_col_str(res, row, REPORT_SNAPSHOT),
        "created_at", db_col_str(res, row, REPORT_CREATED));
}

json_t *chat_json_reports(const PGresult *res, int limit, bool *more, struct page_key *next)
{
    int n = chat_rows(res);
    *more = limit > 0 && n > limit;
    if (*more)
        n = limit;
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, report(res, i));
    if (*more) {
        next->key = db_col_ll(res, n - 1, REPORT_KEY);
        db_col_copy(res, n - 1, REPORT_ID, next->id, sizeof next->id);
    }
    return items;
}
