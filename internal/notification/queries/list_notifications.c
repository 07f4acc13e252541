/* GET /v1/me/notifications: the caller's notifications, newest first, keyset paginated with
 * the pagination kit (listing "notify.feed", cursors bound to the caller: another user's
 * cursor is a 422 on "cursor"). Only the caller's own rows are ever read (user_id from the
 * access token). Security messages show their code masked: the feed body never held it. */
#include "internal/notification/internal.h"
#include "pkg/page/page.h"

#define FEED_LISTING "notify.feed"

void notify_list_notifications(struct http_req *r)
{
    const char *user_id = http_req_principal(r)->user_id;
    struct page_req pg;
    if (!page_params_or_reply(r, FEED_LISTING, user_id, &pg))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    json_t *items = NULL;
    bool more = false;
    struct page_key last;
    enum db_status st = notify_repo_feed(c, user_id, pg.limit, pg.has_cursor ? &pg.after : NULL,
                                         &items, &more, &last);
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    page_reply(r, items, FEED_LISTING, user_id, more ? &last : NULL);
}
