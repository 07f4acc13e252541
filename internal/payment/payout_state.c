/* The payout life cycle as data: one table of (from, event, to, posting, event emitted) and
 * the one lookup every payout status change goes through (payout_apply in payout_apply.c).
 * Provider outcomes only move a payout forward: an outcome that arrives after the payout moved
 * past it (a late or repeated webhook, a reconciliation racing a webhook) finds no row. */
#include <string.h>

#include "internal/payment/internal.h"

static const struct payout_transition table[] = {
    {PAYOUT_PROCESSING, PAYOUT_EV_PROCESSED, PAYOUT_PAID, "payout_paid", "payout.paid"},
    {PAYOUT_PROCESSING, PAYOUT_EV_FAILED, PAYOUT_FAILED, "payout_failed", "payout.failed"},
    /* Reversed before we heard it was processed: the money never reached the seller. */
    {PAYOUT_PROCESSING, PAYOUT_EV_REVERSED, PAYOUT_FAILED, "payout_failed", "payout.failed"},
    {PAYOUT_PAID, PAYOUT_EV_REVERSED, PAYOUT_REVERSED, "payout_reversal", "payout.reversed"},
};

static const char *const names[] = {"processing", "paid", "failed", "reversed"};

const struct payout_transition *payout_decide(enum payout_status from, enum payout_event event)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].from == from && table[i].event == event)
            return &table[i];
    return NULL;
}

const char *payout_status_name(enum payout_status s)
{
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

bool payout_status_parse(const char *s, enum payout_status *out)
{
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum payout_status)i;
            return true;
        }
    return false;
}
