/* The sandbox provider: a stand-in for a real gateway that needs no account and no internet.
 *
 * Its checkout is a page served by haat itself (GET /v1/sandbox/payments/{id}/checkout) where a
 * person picks UPI, card or net banking and then succeeds or fails the payment; POST
 * /v1/sandbox/payments/{id}/complete does the same from code. Either way the outcome is queued
 * as a webhook that a job POSTs, signed, to HAAT_PUBLIC_URL/v1/payments/webhooks/sandbox,
 * exactly as a real provider would. Refunds are processed at once.
 *
 * Signature: X-Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256> over "<t>.<raw body>",
 * keyed with the bytes of HAAT_SANDBOX_WEBHOOK_SECRET. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/util/strbuf.h"

#define SANDBOX_HEADER "X-Sandbox-Signature"

static void hmac_hex(const char *secret, int64_t t, const char *body, size_t len,
                     char hex[crypto_auth_hmacsha256_BYTES * 2 + 1])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%" PRId64 ".", t);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, crypto_auth_hmacsha256_BYTES * 2 + 1, mac, sizeof mac);
}

void payment_sandbox_sign(const char *secret, int64_t t, const char *body, size_t len,
                          char out[PAYMENT_SIGNATURE_LEN])
{
    char hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
    hmac_hex(secret, t, body, len, hex);
    snprintf(out, PAYMENT_SIGNATURE_LEN, "t=%" PRId64 ",v1=%s", t, hex);
}

/* "t=<digits>,v1=<64 hex>" (elements in any order, other elements ignored). */
static bool parse_header(const char *h, int64_t *t, char v1[65])
{
    bool have_t = false, have_v1 = false;
    while (h && *h) {
        size_t n = strcspn(h, ",");
        if (n > 2 && strncmp(h, "t=", 2) == 0 && strspn(h + 2, "0123456789") == n - 2 && n < 14) {
            *t = strtoll(h + 2, NULL, 10);
            have_t = true;
        } else if (n == 67 && strncmp(h, "v1=", 3) == 0 &&
                   strspn(h + 3, "0123456789abcdef") == 64) {
            memcpy(v1, h + 3, 64);
            v1[64] = '\0';
            have_v1 = true;
        }
        h += n;
        h += *h == ',';
    }
    return have_t && have_v1;
}

bool payment_sandbox_verify(const char *secret, const char *header, const char *body, size_t len,
                            int64_t now)
{
    int64_t t = 0;
    char v1[65], want[crypto_auth_hmacsha256_BYTES * 2 + 1];
    if (!secret || !*secret || !parse_header(header, &t, v1))
        return false;
    if (t < now - PAYMENT_WEBHOOK_TOLERANCE_S || t > now + PAYMENT_WEBHOOK_TOLERANCE_S)
        return false;
    hmac_hex(secret, t, body, len, want);
    return sodium_memcmp(want, v1, 64) == 0;
}

/* Copies the string member k of o into buf; false when absent, not a string or too long. */
static bool str_member(const json_t *o, const char *k, char *buf, size_t n)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s || !*s || strlen(s) >= n)
        return false;
    memcpy(buf, s, strlen(s) + 1);
    return true;
}

bool payment_sandbox_parse(const char *body, size_t len, struct payment_event *out)
{
    memset(out, 0, sizeof *out);
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *data = json_object_get(doc, "data");
    json_t *amount = json_object_get(data, "amount_minor"),
           *created = json_object_get(doc, "created");
    bool ok = json_is_object(doc) && json_is_object(data) && json_is_integer(amount) &&
              json_is_integer(created) && str_member(doc, "id", out->id, sizeof out->id) &&
              str_member(doc, "type", out->type, sizeof out->type) &&
              str_member(data, "provider_ref", out->provider_ref, sizeof out->provider_ref) &&
              str_member(data, "currency", out->currency, sizeof out->currency) &&
              str_member(data, "payment_id", out->payment_id, sizeof out->payment_id);
    if (ok) {
        out->amount_minor = json_integer_value(amount);
        out->created = json_integer_value(created);
        if (!ids_is_uuid(out->payment_id))
            out->payment_id[0] = '\0';
        out->kind = strcmp(out->type, "payment.succeeded") == 0 ? PAYMENT_EVENT_SUCCEEDED
                    : strcmp(out->type, "payment.failed") == 0  ? PAYMENT_EVENT_FAILED
                                                                : PAYMENT_EVENT_OTHER;
    }
    json_decref(doc);
    return ok;
}

static enum payment_verdict sandbox_parse_webhook(payment_header_fn header, void *ctx,
                                                  const char *body, size_t len, int64_t now,
                                                  struct payment_event *out)
{
    const char *sig = header(ctx, SANDBOX_HEADER);
    if (!payment_sandbox_verify(payment_settings()->sandbox_secret, sig, body, len, now))
        return PAYMENT_WEBHOOK_BAD_SIGNATURE;
    return payment_sandbox_parse(body, len, out) ? PAYMENT_WEBHOOK_OK : PAYMENT_WEBHOOK_MALFORMED;
}

static int sandbox_create_checkout(const struct payment_checkout_in *in,
                                   struct payment_checkout *out)
{
    char hex[33];
    ids_random_hex(hex, 16);
    snprintf(out->provider_ref, sizeof out->provider_ref, "sbx_pay_%s", hex);
    int n = snprintf(out->url, sizeof out->url, "%s/v1/sandbox/payments/%s/checkout",
                     payment_settings()->public_url, in->payment_id);
    return n > 0 && (size_t)n < sizeof out->url ? 0 : -1;
}

/* The sandbox's state is the outcome of the latest webhook it queued for the payment. */
static int sandbox_fetch_state(struct db_conn *c, const char *provider_ref,
                               struct payment_state *out)
{
    char type[48];
    if (payment_repo_sandbox_latest(c, provider_ref, type, sizeof type) != DB_OK)
        return -1;
    const char *s = strcmp(type, "payment.succeeded") == 0 ? "succeeded"
                    : strcmp(type, "payment.failed") == 0  ? "failed"
                                                           : "pending";
    snprintf(out->status, sizeof out->status, "%s", s);
    out->amount_minor = -1;
    out->currency[0] = '\0';
    return 0;
}

static enum payment_refund_result sandbox_refund(const struct payment_refund_in *in, char *ref,
                                                 size_t reflen, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    char hex[33];
    ids_random_hex(hex, 16);
    snprintf(ref, reflen, "sbx_rf_%s", hex);
    (void)in;
    return PAYMENT_REFUND_DONE;
}

const struct payment_provider payment_sandbox_provider = {
    .name = "sandbox",
    .create_checkout = sandbox_create_checkout,
    .parse_webhook = sandbox_parse_webhook,
    .fetch_state = sandbox_fetch_state,
    .refund = sandbox_refund,
};
