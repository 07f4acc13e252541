/* GET /v1/seller/transactions (a seller): the caller's money movements newest first, keyset
 * pages (listing "payment.transactions", cursors bound to the seller) of {id, type, order_id,
 * payout_id, amount_minor, available_after_minor, created_at}; type is sale, commission,
 * release, payout, payout_failed, payout_reversal or refund. */
#include "internal/payment/internal.h"

void payment_list_transactions(struct http_req *r)
{
    const char *seller = http_req_principal(r)->user_id;
    struct page_req pg;
    if (!page_params_or_reply(r, PAYMENT_LISTING_TRANSACTIONS, seller, &pg))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    struct strbuf sb;
    struct page_key next;
    bool more = false;
    strbuf_init(&sb);
    strbuf_puts(&sb, "{\"items\":[");
    enum db_status st = payment_repo_transactions(c, seller, &pg, &sb, &more, &next);
    if (st == DB_OK) {
        strbuf_puts(&sb, "],\"next_cursor\":");
        page_write_cursor(&sb, PAYMENT_LISTING_TRANSACTIONS, seller, more ? &next : NULL);
        strbuf_append(&sb, "}", 1);
        http_reply_bytes(r, 200, "application/json; charset=utf-8", sb.buf, sb.len);
    } else {
        http_reply_db(r, st);
    }
    strbuf_cleanup(&sb);
}
