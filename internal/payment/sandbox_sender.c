/* The sandbox's webhook sender (job PAYMENT_JOB_SANDBOX): leases one queued webhook, POSTs it
 * signed to HAAT_PUBLIC_URL/v1/payments/webhooks/sandbox outside any transaction, then records
 * delivered (2xx), retry with backoff (5xx, 408, 429, a transport error) or failed (any other
 * status, or PAYMENT_SANDBOX_MAX_ATTEMPTS attempts). A worker that dies mid-send leaves a lease
 * that expires, so the webhook goes again: at-least-once, which the receiver's event-id dedup
 * absorbs. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/clock/clock.h"
#include "pkg/log/log.h"

#define CONNECT_TIMEOUT_MS 2000
#define TOTAL_TIMEOUT_MS   5000

static size_t discard(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data, (void)arg;
    return size * nmemb;
}

/* POSTs body signed now; the HTTP status, or 0 with err set when the transfer failed. */
static long post_signed(const char *body, char *err, size_t errlen)
{
    const struct payment_settings *s = payment_settings();
    char url[PAYMENT_URL_LEN], sig[PAYMENT_SIGNATURE_LEN], hdr[PAYMENT_SIGNATURE_LEN + 32];
    char errbuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "libcurl handle unavailable");
        return 0;
    }
    snprintf(url, sizeof url, "%s/v1/payments/webhooks/sandbox", s->public_url);
    payment_sandbox_sign(s->sandbox_secret, clock_unix_s(), body, strlen(body), sig);
    snprintf(hdr, sizeof hdr, "X-Sandbox-Signature: %s", sig);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, hdr);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)TOTAL_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return status;
}

struct claim_ctx {
    struct payment_sandbox_claim claim;
    bool found;
};

static enum db_status claim_txn(struct db_conn *c, void *arg)
{
    struct claim_ctx *x = arg;
    free(x->claim.body);
    x->claim.body = NULL;
    enum db_status st = payment_repo_sandbox_claim(c, &x->claim);
    x->found = st == DB_OK;
    return st == DB_NOT_FOUND ? DB_OK : st;
}

struct outcome_ctx {
    const char *id;
    long status;
    int attempts;
    const char *error;
};

static enum db_status outcome_txn(struct db_conn *c, void *arg)
{
    const struct outcome_ctx *x = arg;
    if (x->status >= 200 && x->status < 300)
        return payment_repo_sandbox_done(c, x->id);
    bool retryable = x->status == 0 || x->status >= 500 || x->status == 408 || x->status == 429;
    bool final = !retryable || x->attempts >= PAYMENT_SANDBOX_MAX_ATTEMPTS;
    if (final)
        log_error("payment_sandbox_webhook_failed", "webhook %s given up after %d attempt(s): %s",
                  x->id, x->attempts, x->error);
    return payment_repo_sandbox_retry(c, x->id, payment_retry_delay(x->attempts), final, x->error);
}

int payment_sandbox_send_run(void *arg)
{
    (void)arg;
    struct claim_ctx x = {0};
    enum db_status st = db_txn(DB_PRIMARY, claim_txn, &x);
    if (st != DB_OK || !x.found) {
        free(x.claim.body);
        return st == DB_OK ? 0 : -1;
    }
    char err[256] = "", why[300];
    long status = post_signed(x.claim.body, err, sizeof err);
    if (status != 0)
        snprintf(why, sizeof why, "HTTP %ld", status);
    else
        snprintf(why, sizeof why, "%s", err);
    struct outcome_ctx o = {x.claim.id, status, x.claim.attempts, why};
    st = db_txn(DB_PRIMARY, outcome_txn, &o);
    free(x.claim.body);
    return st == DB_OK ? 1 : -1;
}
