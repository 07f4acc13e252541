/* GET /v1/admin/revenue?from=YYYY-MM-DD&to=YYYY-MM-DD (admin): the platform's revenue per UTC
 * day from the ledger, {"days":[{date, orders_completed, gmv_minor, commission_minor,
 * refunds_minor, payouts_minor}]}, days with nothing omitted (payment_revenue_days). */
#include "internal/admin/internal.h"
#include "internal/payment/payment.h"
#include "pkg/json/jsonh.h"

void admin_get_revenue(struct http_req *r)
{
    const char *from = http_req_query(r, "from"), *to = http_req_query(r, "to");
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    payment_check_revenue_range(from, to, &e);
    if (!http_errors_or_reply(r, &e))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    struct strbuf sb;
    strbuf_init(&sb);
    enum db_status st = payment_revenue_days(c, from, to, &sb);
    if (st == DB_OK)
        http_reply_bytes(r, 200, "application/json; charset=utf-8", sb.buf, sb.len);
    else
        http_reply_db(r, st);
    strbuf_cleanup(&sb);
}
