/* GET /v1/seller/payouts (a seller): the caller's payouts, newest first, in cursor pages
 * (?limit, ?cursor as every listing); destination shows the method and the last 4 characters
 * of the account or VPA only. */
#include "internal/payment/internal.h"
#include "pkg/util/strbuf.h"

#define LISTING "payment.payouts"

static void reply_page(struct http_req *r, const struct payout_page *pg, const char *owner)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "{\"items\":[");
    for (size_t i = 0; i < pg->n; i++) {
        if (i)
            strbuf_append(&sb, ",", 1);
        strbuf_puts(&sb, pg->items[i]);
    }
    strbuf_puts(&sb, "],\"next_cursor\":");
    page_write_cursor(&sb, LISTING, owner, pg->more ? &pg->next : NULL);
    strbuf_append(&sb, "}", 1);
    http_reply_bytes(r, 200, PAYOUT_JSON_TYPE, sb.buf, sb.len);
    strbuf_cleanup(&sb);
}

void payment_list_payouts(struct http_req *r)
{
    const char *seller_id = http_req_principal(r)->user_id;
    struct page_req page;
    struct payout_page pg = {0};
    if (!page_params_or_reply(r, LISTING, seller_id, &page))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    enum db_status st = payout_repo_page(c, seller_id, &page, &pg);
    if (st != DB_OK)
        http_reply_db(r, st);
    else
        reply_page(r, &pg, seller_id);
    payout_page_cleanup(&pg);
}
