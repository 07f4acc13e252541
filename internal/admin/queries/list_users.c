/* GET /v1/admin/users?q=&status= (admin): find users by a piece of their email, phone or name,
 * active or suspended, newest first; keyset pages (listing "admin.users", bound to the admin
 * and the filters). Read on the query's connection through user.h. */
#include <stdio.h>
#include <string.h>

#include "internal/admin/internal.h"
#include "internal/user/user.h"

void admin_list_users(struct http_req *r)
{
    const char *q = NULL, *status = http_req_query(r, "status");
    if (!admin_filter_or_reply(r, "q", &q))
        return;
    if (status && strcmp(status, "active") != 0 && strcmp(status, "suspended") != 0) {
        http_reply_field(r, 422, "status", "must be active or suspended");
        return;
    }
    char owner[256];
    snprintf(owner, sizeof owner, "%s|%s|%s", http_req_principal(r)->user_id, q ? q : "",
             status ? status : "");
    struct page_req pg;
    if (!page_params_or_reply(r, ADMIN_LISTING_USERS, owner, &pg))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    json_t *items = NULL;
    bool more = false;
    struct page_key next;
    enum db_status st = user_admin_search(c, q, status, pg.limit, pg.has_cursor ? &pg.after : NULL,
                                          &items, &more, &next);
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    page_reply(r, items, ADMIN_LISTING_USERS, owner, more ? &next : NULL);
}
