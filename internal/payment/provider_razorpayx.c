/* The razorpayx payout provider: RazorpayX's REST API at HAAT_RAZORPAYX_BASE_URL with Basic
 * auth key_id:key_secret.
 *
 * Once per seller destination (kept in payout_fund_accounts by the send job): POST
 * /v1/contacts (reference_id our seller id), then POST /v1/fund_accounts — account_type "vpa"
 * for a UPI ID, "bank_account" with name, IFSC and account number for a bank account. Each
 * payout: POST /v1/payouts from HAAT_RAZORPAYX_ACCOUNT_NUMBER with mode UPI (VPA), IMPS (bank,
 * up to ₹5 lakh) or NEFT (bank, above), purpose "payout", reference_id our payout id and the
 * header X-Payout-Idempotency: our payout id, so a retry can never pay twice. Its state:
 * GET /v1/payouts/{id} (the reconciliation job). Webhooks: commands/receive_payout_webhook.c.
 * No error text carries the account number: errors name the path and the HTTP status. */
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "internal/user/user.h"
#include "pkg/log/log.h"

const char *payout_mode(const char *method, int64_t amount_minor)
{
    if (strcmp(method, "upi") == 0)
        return "UPI";
    return amount_minor <= PAYOUT_IMPS_MAX_MINOR ? "IMPS" : "NEFT";
}

static void call(const char *path, bool post, const json_t *body, const char *extra,
                 struct rzp_answer *a)
{
    rzp_http_call(&payout_settings()->api, path, post, body, extra, a);
}

/* RETRY for what may pass later (transport, 429, 5xx), REFUSED for the rest. */
static enum payout_send_result failure(const struct rzp_answer *a, const char *what,
                                       struct payout_send_out *out)
{
    snprintf(out->err, sizeof out->err, "%s", a->err[0] ? a->err : what);
    return a->status == 0 || a->status == 429 || a->status >= 500 ? PAYOUT_SEND_RETRY
                                                                  : PAYOUT_SEND_REFUSED;
}

static json_t *fund_account_body(const struct payout_send_in *in, const char *contact_id)
{
    const struct user_payout *d = in->dest;
    if (strcmp(d->method, "upi") == 0)
        return json_pack("{s:s,s:s,s:{s:s}}", "contact_id", contact_id, "account_type", "vpa",
                         "vpa", "address", d->upi_vpa);
    return json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "contact_id", contact_id, "account_type",
                     "bank_account", "bank_account", "name", d->account_name, "ifsc", d->ifsc,
                     "account_number", d->account_number);
}

/* The Contact and Fund Account of the destination, made now (ids into out). */
static enum payout_send_result make_fund_account(const struct payout_send_in *in,
                                                 struct payout_send_out *out)
{
    struct rzp_answer a;
    const char *name = in->dest->account_name ? in->dest->account_name : "haat seller";
    json_t *body =
        json_pack("{s:s,s:s,s:s}", "name", name, "type", "vendor", "reference_id", in->seller_id);
    call("/v1/contacts", true, body, NULL, &a);
    json_decref(body);
    bool ok =
        rzp_answer_ok(&a) && rzp_str_member(a.json, "id", out->contact_id, sizeof out->contact_id);
    enum payout_send_result res = ok ? PAYOUT_SEND_DONE : failure(&a, "razorpayx: no contact", out);
    json_decref(a.json);
    if (!ok)
        return res;
    body = fund_account_body(in, out->contact_id);
    call("/v1/fund_accounts", true, body, NULL, &a);
    json_decref(body);
    ok = rzp_answer_ok(&a) &&
         rzp_str_member(a.json, "id", out->fund_account_id, sizeof out->fund_account_id);
    res = ok ? PAYOUT_SEND_DONE : failure(&a, "razorpayx: no fund account", out);
    json_decref(a.json);
    return res;
}

static enum payout_send_result rzpx_send(const struct payout_send_in *in,
                                         struct payout_send_out *out)
{
    const char *fund = in->fund_account_id;
    if (!fund || !*fund) {
        enum payout_send_result res = make_fund_account(in, out);
        if (res != PAYOUT_SEND_DONE)
            return res;
        fund = out->fund_account_id;
    }
    struct rzp_answer a;
    char idem[IDS_UUID_LEN + 32];
    snprintf(idem, sizeof idem, "X-Payout-Idempotency: %s", in->payout_id);
    json_t *body = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:b,s:s,s:s,s:{s:s}}", "account_number",
                             payout_settings()->account_number, "fund_account_id", fund, "amount",
                             (json_int_t)in->amount_minor, "currency", in->currency, "mode",
                             payout_mode(in->dest->method, in->amount_minor), "purpose", "payout",
                             "queue_if_low_balance", 1, "reference_id", in->payout_id, "narration",
                             "haat payout", "notes", "haat_payout_id", in->payout_id);
    call("/v1/payouts", true, body, idem, &a);
    json_decref(body);
    bool ok = rzp_answer_ok(&a) && rzp_str_member(a.json, "id", out->ref, sizeof out->ref);
    enum payout_send_result res =
        ok ? PAYOUT_SEND_DONE : failure(&a, "razorpayx: no payout id", out);
    json_decref(a.json);
    return res;
}

/* RazorpayX's payout status as ours: processed, reversed, failed (failed, rejected,
 * cancelled) or pending (queued, pending, processing, anything else). */
static const char *state_of(const char *status)
{
    static const char *const failed[] = {"failed", "rejected", "cancelled", NULL};
    if (!status)
        return "pending";
    if (strcmp(status, "processed") == 0 || strcmp(status, "reversed") == 0)
        return status;
    for (size_t i = 0; failed[i]; i++)
        if (strcmp(status, failed[i]) == 0)
            return "failed";
    return "pending";
}

static int rzpx_fetch_state(const char *provider_ref, int64_t amount_minor,
                            struct payout_state *out)
{
    (void)amount_minor;
    struct rzp_answer a;
    char path[PAYMENT_REF_LEN + 16];
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "/v1/payouts/%s", provider_ref);
    call(path, false, NULL, NULL, &a);
    int rc = rzp_answer_ok(&a) ? 0 : -1;
    if (rc == 0) {
        snprintf(out->status, sizeof out->status, "%s",
                 state_of(json_string_value(json_object_get(a.json, "status"))));
        payout_reason_of(a.json, out->reason, sizeof out->reason);
    } else {
        log_warn("payout_razorpayx", "state of payout %s unknown: %s", provider_ref, a.err);
    }
    json_decref(a.json);
    return rc;
}

void payout_reason_of(const json_t *payout, char *out, size_t n)
{
    const char *r = json_string_value(
        json_object_get(json_object_get(payout, "status_details"), "description"));
    if (!r)
        r = json_string_value(json_object_get(payout, "failure_reason"));
    snprintf(out, n, "%s", r ? r : "");
}

const struct payout_provider payout_razorpayx_provider = {
    .name = "razorpayx",
    .send = rzpx_send,
    .fetch_state = rzpx_fetch_state,
};
