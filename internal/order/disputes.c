/* Disputes as the admin module sees them: an operator's decision on an open dispute (applied
 * through the state machine, audited in the same transaction) and the queue of open disputes,
 * oldest first. The admin module owns the routes; the effects are here, where orders are. */
#include <string.h>

#include "internal/order/internal.h"
#include "pkg/audit/audit.h"

/* Audits the decision: before/after are the order's status. */
static enum db_status audit(struct db_conn *c, const char *order_id, const char *actor_id,
                            const char *note, const struct order_applied *a)
{
    json_t *before = json_pack("{s:s}", "status", order_status_name(a->from));
    json_t *after =
        json_pack("{s:s,s:b}", "status", order_status_name(a->to), "refunded", a->refunded);
    struct audit_entry e = {.actor_id = actor_id,
                            .action = "order.resolve_dispute",
                            .target_kind = "order",
                            .target_id = order_id,
                            .reason = note,
                            .before = before,
                            .after = after};
    enum db_status st = audit_record(c, &e);
    json_decref(before);
    json_decref(after);
    return st;
}

enum db_status order_resolve_dispute(struct db_conn *c, const char *order_id,
                                     enum order_resolve_decision decision, const char *note,
                                     const char *actor_id, enum order_resolve_outcome *out)
{
    struct order_change ch = {.action = decision == ORDER_DECIDE_REFUND ? ORDER_RESOLVE_REFUND
                                                                        : ORDER_RESOLVE_COMPLETE,
                              .actor = ORDER_ADMIN,
                              .reason = note};
    struct order_applied a;
    *out = ORDER_RESOLVE_NOT_FOUND;
    enum db_status st = order_apply(c, order_id, &ch, &a);
    if (st != DB_OK)
        return st;
    switch (a.outcome) {
    case ORDER_DONE:
        *out = ORDER_RESOLVED;
        return audit(c, order_id, actor_id, note, &a);
    case ORDER_NO_SUCH:
        *out = ORDER_RESOLVE_NOT_FOUND;
        break;
    case ORDER_NO_PAYMENTS:
        *out = ORDER_RESOLVE_NO_PAYMENTS;
        break;
    case ORDER_FORBIDDEN: /* an admin may decide; only the status can refuse */
    case ORDER_INVALID:
        *out = ORDER_RESOLVE_NOT_DISPUTED;
        break;
    }
    return DB_OK;
}

enum db_status order_disputes_page(struct db_conn *c, const struct page_req *pg, const char *owner,
                                   struct strbuf *out)
{
    struct order_page page;
    enum db_status st = order_repo_disputes(c, pg, &page);
    if (st != DB_OK)
        return st;
    strbuf_puts(out, "{\"items\":[");
    for (size_t i = 0; i < page.n; i++) {
        if (i)
            strbuf_append(out, ",", 1);
        strbuf_puts(out, page.items[i]);
    }
    strbuf_puts(out, "],\"next_cursor\":");
    page_write_cursor(out, ORDER_LISTING_DISPUTES, owner, page.more ? &page.next : NULL);
    strbuf_append(out, "}", 1);
    order_page_cleanup(&page);
    return DB_OK;
}
