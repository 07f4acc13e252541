/* The razorpay provider: Razorpay's REST API at HAAT_RAZORPAY_BASE_URL with Basic auth
 * key_id:key_secret (docs/decisions/0005-razorpay-checkout.md).
 *
 * Checkout: POST /v1/orders (amount in paise, receipt = our payment id, notes naming our order
 * and payment), then POST /v1/payment_links (reference_id = our payment id) whose short_url is
 * the buyer's next_action. provider_ref is the payment link's id: Razorpay makes the link an
 * order of its own, and the link knows its payments (GET /v1/payment_links/{id}).
 * Webhooks: X-Razorpay-Signature is the hex HMAC-SHA256 of the raw body keyed with
 * HAAT_RAZORPAY_WEBHOOK_SECRET; X-Razorpay-Event-Id names the event (replays are deduplicated
 * by it: Razorpay signs no timestamp). payment.captured and order.paid succeed a payment,
 * payment.failed fails it.
 * Refunds: POST /v1/payments/{razorpay payment id}/refund with X-Refund-Idempotency: our
 * refund id, the Razorpay payment being the link's captured one. */
#include <curl/curl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

#define RZP_SIG_HEADER   "X-Razorpay-Signature"
#define RZP_EVENT_HEADER "X-Razorpay-Event-Id"

static void rzp_call(const char *path, bool post, const json_t *body, const char *extra,
                     struct rzp_answer *a)
{
    const struct payment_settings *s = payment_settings();
    const struct rzp_creds cr = {s->rzp_base_url, s->rzp_key_id, s->rzp_key_secret, "razorpay"};
    rzp_http_call(&cr, path, post, body, extra, a);
}

static json_t *notes_of(const struct payment_checkout_in *in)
{
    return json_pack("{s:s,s:s}", "haat_order_id", in->order_id ? in->order_id : "",
                     "haat_payment_id", in->payment_id);
}

/* POST /v1/orders: the Razorpay order id into ref. */
static int create_order(const struct payment_checkout_in *in, char *ref, size_t n)
{
    struct rzp_answer a;
    json_t *body =
        json_pack("{s:I,s:s,s:s,s:o}", "amount", (json_int_t)in->amount_minor, "currency",
                  in->currency, "receipt", in->payment_id, "notes", notes_of(in));
    rzp_call("/v1/orders", true, body, NULL, &a);
    int rc = rzp_answer_ok(&a) && rzp_str_member(a.json, "id", ref, n) ? 0 : -1;
    if (rc != 0)
        log_warn("payment_razorpay", "order for payment %s not created: %s", in->payment_id,
                 a.err[0] ? a.err : "no order id in the answer");
    json_decref(body);
    json_decref(a.json);
    return rc;
}

/* POST /v1/payment_links: its id and short_url into out. */
static int create_link(const struct payment_checkout_in *in, const char *order_ref,
                       struct payment_checkout *out)
{
    struct rzp_answer a;
    const char *back =
        in->return_url && *in->return_url ? in->return_url : payment_settings()->public_url;
    json_t *notes = notes_of(in);
    json_object_set_new(notes, "razorpay_order_id", json_string(order_ref));
    json_t *body = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:o}", "amount",
                             (json_int_t)in->amount_minor, "currency", in->currency, "reference_id",
                             in->payment_id, "description", "haat order payment", "callback_url",
                             back, "callback_method", "get", "notes", notes);
    rzp_call("/v1/payment_links", true, body, NULL, &a);
    bool ok = rzp_answer_ok(&a) &&
              rzp_str_member(a.json, "id", out->provider_ref, sizeof out->provider_ref) &&
              rzp_str_member(a.json, "short_url", out->url, sizeof out->url);
    if (!ok)
        log_warn("payment_razorpay", "payment link for payment %s not created: %s", in->payment_id,
                 a.err[0] ? a.err : "no id or short_url in the answer");
    json_decref(body);
    json_decref(a.json);
    return ok ? 0 : -1;
}

static int rzp_create_checkout(const struct payment_checkout_in *in, struct payment_checkout *out)
{
    char order_ref[PAYMENT_REF_LEN];
    if (create_order(in, order_ref, sizeof order_ref) != 0)
        return -1;
    return create_link(in, order_ref, out);
}

static bool signature_ok(const char *header, const char *body, size_t len)
{
    return rzp_signature_ok(payment_settings()->rzp_webhook_secret, header, body, len);
}

static json_t *entity_of(const json_t *payload, const char *name)
{
    return json_object_get(json_object_get(payload, name), "entity");
}

/* Our payment id: the notes of the payment or the order, the order's receipt, or the payment
 * link's reference_id. The link's id is kept only when none names ours. */
static void map_payment(const json_t *payload, struct payment_event *out)
{
    const json_t *pay = entity_of(payload, "payment"), *order = entity_of(payload, "order"),
                 *link = entity_of(payload, "payment_link");
    if (!rzp_str_member(json_object_get(pay, "notes"), "haat_payment_id", out->payment_id,
                        sizeof out->payment_id) &&
        !rzp_str_member(json_object_get(order, "notes"), "haat_payment_id", out->payment_id,
                        sizeof out->payment_id) &&
        !rzp_str_member(order, "receipt", out->payment_id, sizeof out->payment_id))
        rzp_str_member(link, "reference_id", out->payment_id, sizeof out->payment_id);
    if (!ids_is_uuid(out->payment_id))
        out->payment_id[0] = '\0';
    if (!out->payment_id[0])
        rzp_str_member(link, "id", out->provider_ref, sizeof out->provider_ref);
}

static bool parse_event(const char *body, size_t len, struct payment_event *out)
{
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *payload = json_object_get(doc, "payload");
    json_t *money = entity_of(payload, "payment");
    if (!money)
        money = entity_of(payload, "order");
    json_t *amount = json_object_get(money, "amount");
    bool ok = json_is_object(doc) && json_is_integer(amount) &&
              rzp_str_member(doc, "event", out->type, sizeof out->type) &&
              rzp_str_member(money, "currency", out->currency, sizeof out->currency);
    if (ok) {
        out->amount_minor = json_integer_value(amount);
        out->created = json_integer_value(json_object_get(doc, "created_at"));
        map_payment(payload, out);
        out->kind =
            strcmp(out->type, "payment.captured") == 0 || strcmp(out->type, "order.paid") == 0
                ? PAYMENT_EVENT_SUCCEEDED
            : strcmp(out->type, "payment.failed") == 0 ? PAYMENT_EVENT_FAILED
                                                       : PAYMENT_EVENT_OTHER;
    }
    json_decref(doc);
    return ok;
}

static enum payment_verdict rzp_parse_webhook(payment_header_fn header, void *ctx, const char *body,
                                              size_t len, int64_t now, struct payment_event *out)
{
    (void)now; /* Razorpay signs no timestamp: replays are caught by the event id */
    memset(out, 0, sizeof *out);
    if (!signature_ok(header(ctx, RZP_SIG_HEADER), body, len))
        return PAYMENT_WEBHOOK_BAD_SIGNATURE;
    const char *id = header(ctx, RZP_EVENT_HEADER);
    if (!id || !*id || strlen(id) >= sizeof out->id)
        return PAYMENT_WEBHOOK_MALFORMED;
    memcpy(out->id, id, strlen(id) + 1);
    return parse_event(body, len, out) ? PAYMENT_WEBHOOK_OK : PAYMENT_WEBHOOK_MALFORMED;
}

/* GET /v1/payment_links/{ref}: its captured payment (id into pay_id, "" when none; its amount
 * and the link's currency into st) and st->status. -1 when the call failed (err says why). */
static int link_payments(const char *ref, char *pay_id, size_t n, struct payment_state *st,
                         char *err, size_t errlen)
{
    struct rzp_answer a;
    char path[PAYMENT_REF_LEN + 32];
    snprintf(path, sizeof path, "/v1/payment_links/%s", ref);
    rzp_call(path, false, NULL, NULL, &a);
    int rc = rzp_answer_ok(&a) ? 0 : -1;
    json_t *items = json_object_get(a.json, "payments"), *it;
    size_t i;
    bool failed = rc == 0 && json_array_size(items) > 0;
    pay_id[0] = '\0';
    st->amount_minor = -1;
    json_array_foreach(items, i, it)
    {
        const char *status = json_string_value(json_object_get(it, "status"));
        bool captured = status && strcmp(status, "captured") == 0;
        if (captured && !pay_id[0] && rzp_str_member(it, "payment_id", pay_id, n) &&
            rzp_str_member(a.json, "currency", st->currency, sizeof st->currency))
            st->amount_minor = json_integer_value(json_object_get(it, "amount"));
        failed = failed && status && strcmp(status, "failed") == 0;
    }
    snprintf(st->status, sizeof st->status, "%s",
             pay_id[0] ? "succeeded"
             : failed  ? "failed"
                       : "pending");
    if (rc != 0)
        snprintf(err, errlen, "%s", a.err[0] ? a.err : "razorpay: unreadable answer");
    json_decref(a.json);
    return rc;
}

static int rzp_fetch_state(struct db_conn *c, const char *provider_ref, struct payment_state *out)
{
    (void)c;
    char pay_id[PAYMENT_REF_LEN], err[200];
    int rc = link_payments(provider_ref, pay_id, sizeof pay_id, out, err, sizeof err);
    if (rc != 0)
        log_warn("payment_razorpay", "state of payment link %s unknown: %s", provider_ref, err);
    return rc;
}

/* The refund answer's status: processed -> DONE, pending -> RETRY (asked again later with the
 * same idempotency key), failed or anything else -> FAILED. */
static enum payment_refund_result refund_result(const struct rzp_answer *a, char *ref,
                                                size_t reflen, char *err, size_t errlen)
{
    if (a->status == 0 || a->status == 429 || a->status >= 500) {
        snprintf(err, errlen, "%s", a->err);
        return PAYMENT_REFUND_RETRY;
    }
    const char *status = json_string_value(json_object_get(a->json, "status"));
    if (rzp_answer_ok(a) && status && strcmp(status, "processed") == 0 &&
        rzp_str_member(a->json, "id", ref, reflen))
        return PAYMENT_REFUND_DONE;
    if (rzp_answer_ok(a) && status && strcmp(status, "pending") == 0) {
        snprintf(err, errlen, "razorpay: refund pending");
        return PAYMENT_REFUND_RETRY;
    }
    snprintf(err, errlen, "%s", a->err[0] ? a->err : "razorpay: refund failed");
    return PAYMENT_REFUND_FAILED;
}

static enum payment_refund_result rzp_refund(const struct payment_refund_in *in, char *ref,
                                             size_t reflen, char *err, size_t errlen)
{
    char pay_id[PAYMENT_REF_LEN], path[PAYMENT_REF_LEN + 32], idem[IDS_UUID_LEN + 32];
    struct payment_state st;
    if (link_payments(in->provider_ref, pay_id, sizeof pay_id, &st, err, errlen) != 0)
        return PAYMENT_REFUND_RETRY;
    if (!pay_id[0]) {
        snprintf(err, errlen, "razorpay: payment link %s has no captured payment",
                 in->provider_ref);
        return PAYMENT_REFUND_RETRY;
    }
    struct rzp_answer a;
    snprintf(path, sizeof path, "/v1/payments/%s/refund", pay_id);
    snprintf(idem, sizeof idem, "X-Refund-Idempotency: %s", in->refund_id);
    json_t *body = json_pack("{s:I,s:{s:s,s:s}}", "amount", (json_int_t)in->amount_minor, "notes",
                             "haat_refund_id", in->refund_id, "haat_payment_id", in->payment_id);
    rzp_call(path, true, body, idem, &a);
    enum payment_refund_result res = refund_result(&a, ref, reflen, err, errlen);
    json_decref(body);
    json_decref(a.json);
    return res;
}

const struct payment_provider payment_razorpay_provider = {
    .name = "razorpay",
    .create_checkout = rzp_create_checkout,
    .parse_webhook = rzp_parse_webhook,
    .fetch_state = rzp_fetch_state,
    .refund = rzp_refund,
};
