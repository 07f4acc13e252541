/* GET /v1/admin/disputes (admin): open disputes oldest first, keyset pages of orders (listing
 * "order.disputes", cursors bound to the admin). */
#include "internal/admin/internal.h"
#include "internal/order/order.h"
#include "pkg/page/page.h"

void admin_list_disputes(struct http_req *r)
{
    const char *admin = http_req_principal(r)->user_id;
    struct page_req pg;
    if (!page_params_or_reply(r, ORDER_LISTING_DISPUTES, admin, &pg))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    struct strbuf sb;
    strbuf_init(&sb);
    enum db_status st = order_disputes_page(c, &pg, admin, &sb);
    if (st == DB_OK)
        http_reply_bytes(r, 200, "application/json; charset=utf-8", sb.buf, sb.len);
    else
        http_reply_db(r, st);
    strbuf_cleanup(&sb);
}
