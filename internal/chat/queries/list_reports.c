/* GET /v1/admin/reports (admin): reports newest first, each with the snapshot of what was
 * reported; keyset pages (listing "chat.reports", cursors bound to the admin). */
#include "internal/chat/internal.h"

void chat_list_reports(struct http_req *r)
{
    const char *admin = http_req_principal(r)->user_id;
    struct page_req pg;
    if (!page_params_or_reply(r, CHAT_LISTING_REPORTS, admin, &pg))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    PGresult *res = NULL;
    enum db_status st = chat_repo_reports(c, pg.limit + 1, pg.has_cursor ? &pg.after : NULL, &res);
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    bool more = false;
    struct page_key next;
    json_t *items = chat_json_reports(res, pg.limit, &more, &next);
    PQclear(res);
    page_reply(r, items, CHAT_LISTING_REPORTS, admin, more ? &next : NULL);
}
