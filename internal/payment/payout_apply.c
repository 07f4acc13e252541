/* The one path of every payout outcome (the provider's answer to the reconciliation job, the
 * sandbox's reversal, the provider's webhooks): payout_decide says whether the payout moves,
 * and the move, its ledger transfer and the seller's event happen in the caller's transaction.
 * Events (docs/events.md): payout.paid, payout.failed, payout.reversed, to the seller. */
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/log/log.h"
#include "pkg/outbox/outbox.h"

/* "UPI ID ending 4321" / "bank account ending 4321": what the seller is told. */
static void destination_text(const struct payout_row *p, char *out, size_t n)
{
    snprintf(out, n, "%s ending %s", strcmp(p->method, "upi") == 0 ? "UPI ID" : "bank account",
             p->last4);
}

static enum db_status emit(struct db_conn *c, const char *type, const struct payout_row *p,
                           const char *reason)
{
    char dest[48];
    destination_text(p, dest, sizeof dest);
    json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:s}", "payout_id", p->id, "seller_id", p->seller_id,
                          "amount_minor", (json_int_t)p->amount_minor, "currency", p->currency,
                          "destination", dest);
    if (strcmp(type, "payout.paid") != 0)
        json_object_set_new(o, "reason", json_string(reason && *reason ? reason : "not given"));
    enum db_status st = outbox_emit(c, type, p->id, o);
    json_decref(o);
    return st;
}

enum db_status payout_apply(struct db_conn *c, const char *id, enum payout_event ev,
                            const char *reason, const char **outcome)
{
    struct payout_row p;
    enum payout_status from;
    *outcome = "unknown_payout";
    enum db_status st = payout_repo_get(c, id, true, &p);
    if (st == DB_NOT_FOUND)
        return DB_OK;
    if (st != DB_OK)
        return st;
    if (!payout_status_parse(p.status, &from)) {
        log_error("payout_apply", "payout %s has status %s", id, p.status);
        return DB_ERROR;
    }
    const struct payout_transition *t = payout_decide(from, ev);
    *outcome = "ignored";
    if (!t)
        return DB_OK;
    const char *to = payout_status_name(t->to);
    st = payout_repo_set_status(c, id, to, t->to == PAYOUT_PAID ? NULL : reason);
    if (st == DB_OK)
        st = payout_post(c, t->posting, &p);
    if (st == DB_OK)
        st = emit(c, t->emits, &p, reason);
    if (st == DB_OK)
        *outcome = to;
    return st;
}
