/* GET /v1/sellers/{id}/reviews (anyone): the seller's reviews, newest first; limit, cursor
 * (public cursors). An unknown seller has an empty list; a malformed id is a 404. */
#include "internal/order/internal.h"

void order_list_reviews(struct http_req *r)
{
    const char *seller_id = http_uuid_param_or_reply(r, "id", "seller");
    struct page_req page;
    struct order_page pg = {0};
    if (!seller_id || !page_params_or_reply(r, ORDER_LISTING_REVIEWS, NULL, &page))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    enum db_status st = order_repo_reviews(c, seller_id, &page, &pg);
    if (st != DB_OK)
        http_reply_db(r, st);
    else
        order_reply_page(r, &pg, ORDER_LISTING_REVIEWS, NULL);
    order_page_cleanup(&pg);
}
