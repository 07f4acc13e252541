/* The order module's start-up (statements, settings), its jobs' registration and the public
 * functions other modules call (payment, the user module's seller stats). */
#include <stdio.h>
#include <string.h>

#include "internal/order/internal.h"
#include "pkg/jobs/jobs.h"
#include "pkg/log/log.h"

static struct order_settings settings = {.commission_bps = 500,
                                         .payment_timeout_s = 900,
                                         .hold_period_s = 604800,
                                         .auto_confirm_s = 1209600};
static const struct order_payment_port *payment_port;

const struct order_settings *order_settings(void)
{
    return &settings;
}

const struct order_payment_port *order_payment_port(void)
{
    return payment_port;
}

void order_set_payment_port(const struct order_payment_port *p)
{
    payment_port = p;
}

int order_init(const struct cfg *c)
{
    settings.commission_bps = c->commission_bps;
    settings.payment_timeout_s = c->payment_timeout_s;
    settings.hold_period_s = c->hold_period_s;
    settings.auto_confirm_s = c->auto_confirm_s;
    order_repo_register();
    order_repo_register_reviews();
    return 0;
}

/* The jobs poll (every 2 s, 5 s and 1 s); each batch claims its rows with SKIP LOCKED, so any
 * number of instances (and two threads here) share the work without doing an order twice. */
static const struct jobs_spec jobs[] = {
    {"order.expire", order_run_expiry, NULL, 2000, NULL, 2},
    {"order.auto_confirm", order_run_auto_confirm, NULL, 5000, NULL, 1},
    {"order.release", order_run_release, NULL, 1000, NULL, 1},
};

int order_register_jobs(void)
{
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++)
        if (jobs_register(&jobs[i]) != 0)
            return -1;
    return 0;
}

int order_seller_rating(struct db_conn *c, const char *seller_id, double *avg, long long *count)
{
    *avg = 0;
    *count = 0;
    if (!seller_id || !ids_is_uuid(seller_id))
        return 0;
    if (!c || order_repo_rating(c, seller_id, avg, count) != DB_OK)
        return -1; /* a failed statement is logged by pkg/db */
    return 0;
}

enum db_status order_lock_for_payment(struct db_conn *c, const char *order_id,
                                      struct order_for_payment *out)
{
    struct order_row row;
    memset(out, 0, sizeof *out);
    if (!order_id || !ids_is_uuid(order_id))
        return DB_NOT_FOUND;
    enum db_status st = order_repo_lock(c, order_id, &row);
    if (st != DB_OK)
        return st;
    snprintf(out->id, sizeof out->id, "%s", row.id);
    snprintf(out->buyer_id, sizeof out->buyer_id, "%s", row.buyer_id);
    snprintf(out->seller_id, sizeof out->seller_id, "%s", row.seller_id);
    snprintf(out->status, sizeof out->status, "%s", order_status_name(row.status));
    snprintf(out->currency, sizeof out->currency, "%s", row.currency);
    out->total_minor = row.total_minor;
    out->commission_minor = row.commission_minor;
    return DB_OK;
}

enum db_status order_mark_paid(struct db_conn *c, const char *order_id, const char *payment_id,
                               bool *applied)
{
    struct order_change ch = {.action = ORDER_PAY, .actor = ORDER_SYSTEM, .payment_id = payment_id};
    struct order_applied out;
    *applied = false;
    if (!payment_id || !ids_is_uuid(payment_id)) {
        log_error("order_misuse", "order_mark_paid: payment id not a UUID");
        return DB_ERROR;
    }
    enum db_status st = order_apply(c, order_id, &ch, &out);
    if (st != DB_OK)
        return st;
    if (out.outcome == ORDER_NO_SUCH)
        return DB_NOT_FOUND;
    *applied = out.outcome == ORDER_DONE;
    return DB_OK;
}
