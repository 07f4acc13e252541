/* The sandbox payout provider: takes every payout at once and, when the reconciliation job
 * asks (HAAT_PAYOUT_RECONCILE_AFTER_S after it was sent), says it was processed — unless its
 * amount's paise are PAYOUT_SANDBOX_FAIL_PAISE (e.g. 1013 = ₹10.13), which fail on demand. A
 * paid payout is reversed on demand by POST /v1/sandbox/payouts/{id}/reverse. Nothing leaves
 * the machine; the destination is not read. */
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"

static enum payout_send_result sandbox_send(const struct payout_send_in *in,
                                            struct payout_send_out *out)
{
    snprintf(out->ref, sizeof out->ref, "sandbox_payout_%s", in->payout_id);
    return PAYOUT_SEND_DONE;
}

static int sandbox_fetch_state(const char *provider_ref, int64_t amount_minor,
                               struct payout_state *out)
{
    (void)provider_ref;
    memset(out, 0, sizeof *out);
    if (amount_minor % 100 == PAYOUT_SANDBOX_FAIL_PAISE) {
        snprintf(out->status, sizeof out->status, "failed");
        snprintf(out->reason, sizeof out->reason,
                 "sandbox: amounts ending in %d paise fail on demand", PAYOUT_SANDBOX_FAIL_PAISE);
    } else {
        snprintf(out->status, sizeof out->status, "processed");
    }
    return 0;
}

const struct payout_provider payout_sandbox_provider = {
    .name = "sandbox",
    .send = sandbox_send,
    .fetch_state = sandbox_fetch_state,
};
