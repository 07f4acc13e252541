/* GET /v1/orders (user): the caller's orders as buyer, newest first; ?status= filters (one of
 * the order statuses); limit, cursor: keyset pages, a cursor is the caller's own. The buyer's
 * view has no commission figures. */
#include "internal/order/internal.h"

void order_list_side(struct http_req *r, bool seller, const char *listing)
{
    const struct http_principal *who = http_req_principal(r);
    const char *status = http_req_query(r, "status");
    enum order_status s;
    struct page_req page;
    struct order_page pg = {0};
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    if (status && !order_status_parse(status, &s))
        jsonh_errors_add(&e, "status",
                         "must be one of: pending_payment, paid, shipped, delivered, completed, "
                         "cancelled, disputed, refunded");
    page_params(r, listing, who->user_id, &page, &e);
    if (!http_errors_or_reply(r, &e))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    enum db_status st = order_repo_list(c, who->user_id, seller, status, &page, &pg);
    if (st != DB_OK)
        http_reply_db(r, st);
    else
        order_reply_page(r, &pg, listing, who->user_id);
    order_page_cleanup(&pg);
}

void order_list_orders(struct http_req *r)
{
    order_list_side(r, false, ORDER_LISTING_BUYER);
}
