/* GET /v1/admin/audit-log?actor=&target= (admin): every admin and operator action, newest
 * first: who (actor_id: a user id or "cli"), what (action), on which object (target_kind,
 * target_id), when, the reason and the state before and after. actor and target filter by
 * exact value; keyset pages (listing "admin.audit_log", bound to the admin and the filters). */
#include <stdio.h>
#include <string.h>

#include "internal/admin/internal.h"
#include "pkg/util/strbuf.h"

void admin_list_audit_log(struct http_req *r)
{
    const char *actor = NULL, *target = NULL;
    if (!admin_filter_or_reply(r, "actor", &actor) || !admin_filter_or_reply(r, "target", &target))
        return;
    char owner[256];
    snprintf(owner, sizeof owner, "%s|%s|%s", http_req_principal(r)->user_id, actor ? actor : "",
             target ? target : "");
    struct page_req pg;
    if (!page_params_or_reply(r, ADMIN_LISTING_AUDIT, owner, &pg))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    json_t *items = NULL;
    bool more = false;
    struct page_key next;
    enum db_status st = admin_repo_audit_page(
        c, actor, target, pg.limit, pg.has_cursor ? &pg.after : NULL, &items, &more, &next);
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    page_reply(r, items, ADMIN_LISTING_AUDIT, owner, more ? &next : NULL);
}
