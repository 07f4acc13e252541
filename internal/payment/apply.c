/* Applying a verified provider event to its payment, inside the webhook's transaction.
 *
 * Events arrive out of order and more than once, so status only moves forward:
 *   success: requires_action | processing | failed -> succeeded (a UPI payment that failed and
 *            then went through on a retry ends succeeded); the capture is posted and the order
 *            marked paid. When the order no longer takes the money (expired, cancelled, or paid
 *            by another payment) the payment is captured and refunded at once.
 *   failure: requires_action | processing -> failed; after a success it changes nothing.
 * An event whose amount or currency differ from the payment's is refused (outcome mismatch). */
#include <inttypes.h>
#include <string.h>

#include "internal/order/order.h"
#include "internal/payment/internal.h"
#include "pkg/log/log.h"

static bool settled(const struct payment_row *p)
{
    return strcmp(p->status, "succeeded") == 0 || strcmp(p->status, "refunded") == 0;
}

static enum db_status apply_success(struct db_conn *c, struct payment_row *p, const char **outcome)
{
    bool applied = false;
    enum db_status st = order_mark_paid(c, p->order_id, p->id, &applied);
    if (st == DB_NOT_FOUND) /* no such order: the money still came in, and goes back */
        st = DB_OK;
    if (st == DB_OK && applied)
        st = payment_repo_set_status(c, p->id, "succeeded");
    if (st == DB_OK)
        st = payment_post_capture(c, p);
    if (st == DB_OK && applied) {
        memcpy(p->status, "succeeded", sizeof "succeeded");
        *outcome = "succeeded";
        return payment_emit_succeeded(c, p);
    }
    if (st == DB_OK) {
        log_warn("payment_late_capture",
                 "payment %s succeeded after order %s stopped taking it: "
                 "refunding",
                 p->id, p->order_id);
        *outcome = "refunded";
        st = payment_refund(c, p, "the order no longer takes this payment");
    }
    return st;
}

static bool matches(const struct payment_row *p, const struct payment_event *ev)
{
    if (p->amount_minor == ev->amount_minor && strcmp(p->currency, ev->currency) == 0)
        return true;
    log_warn("payment_webhook_mismatch",
             "event %s for payment %s: %" PRId64 " %s, the payment is %" PRId64 " %s: refused",
             ev->id, p->id, ev->amount_minor, ev->currency, p->amount_minor, p->currency);
    return false;
}

/* The event's payment, locked: by our payment id (then a provider_ref the event names must be
 * the payment's), else by the provider's reference alone. */
static enum db_status find_payment(struct db_conn *c, const struct payment_event *ev,
                                   struct payment_row *p)
{
    const struct payment_provider *pv = payment_provider();
    if (!ev->payment_id[0])
        return ev->provider_ref[0] && pv ? payment_repo_get_by_ref(c, pv->name, ev->provider_ref, p)
                                         : DB_NOT_FOUND;
    enum db_status st = payment_repo_get(c, ev->payment_id, true, p);
    if (st == DB_OK && ev->provider_ref[0] && strcmp(p->provider_ref, ev->provider_ref) != 0)
        st = DB_NOT_FOUND;
    return st;
}

enum db_status payment_apply_event(struct db_conn *c, const struct payment_event *ev,
                                   const char **outcome)
{
    struct payment_row p;
    *outcome = "unknown_payment";
    enum db_status st = find_payment(c, ev, &p);
    if (st == DB_NOT_FOUND)
        return DB_OK;
    if (st != DB_OK)
        return st;
    if (!matches(&p, ev)) {
        *outcome = "mismatch";
        return DB_OK;
    }
    *outcome = "ignored";
    if (ev->kind == PAYMENT_EVENT_SUCCEEDED && !settled(&p))
        return apply_success(c, &p, outcome);
    if (ev->kind == PAYMENT_EVENT_FAILED && !settled(&p) && strcmp(p.status, "failed") != 0) {
        *outcome = "failed";
        st = payment_repo_set_status(c, p.id, "failed");
        return st == DB_OK ? payment_emit_failed(c, &p) : st;
    }
    return DB_OK;
}

enum db_status payment_record_event(struct db_conn *c, const char *provider,
                                    const struct payment_event *ev, const char *body, size_t len,
                                    const char **outcome, bool *fresh)
{
    *fresh = false;
    *outcome = "pending";
    enum db_status st = payment_repo_event_insert(c, provider, ev, body, len, *outcome, fresh);
    if (st == DB_OK && *fresh)
        st = payment_apply_event(c, ev, outcome);
    if (st == DB_OK && *fresh)
        st = payment_repo_event_outcome(c, provider, ev->id, *outcome);
    if (st == DB_OK && !*fresh)
        *outcome = "duplicate";
    return st;
}
