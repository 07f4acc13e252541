/* GET /v1/admin/notifications?status=failed (admin): deliveries with that status (queued,
 * sent or failed; default failed), newest first, each with the provider's last error; keyset
 * pages (listing "admin.notifications", bound to the admin and the status). */
#include <stdio.h>
#include <string.h>

#include "internal/admin/internal.h"
#include "internal/notification/notification.h"

static const char *status_param(struct http_req *r)
{
    const char *s = http_req_query(r, "status");
    if (!s)
        return "failed";
    static const char *const ok[] = {"queued", "sent", "failed"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(s, ok[i]) == 0)
            return ok[i];
    http_reply_field(r, 422, "status", "must be queued, sent or failed");
    return NULL;
}

void admin_list_notifications(struct http_req *r)
{
    const char *status = status_param(r);
    if (!status)
        return;
    char owner[IDS_UUID_LEN + 16];
    snprintf(owner, sizeof owner, "%s:%s", http_req_principal(r)->user_id, status);
    struct page_req pg;
    if (!page_params_or_reply(r, ADMIN_LISTING_NOTIFICATIONS, owner, &pg))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    json_t *items = NULL;
    bool more = false;
    struct page_key next;
    enum db_status st = notify_admin_list(c, status, pg.limit, pg.has_cursor ? &pg.after : NULL,
                                          &items, &more, &next);
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    page_reply(r, items, ADMIN_LISTING_NOTIFICATIONS, owner, more ? &next : NULL);
}
