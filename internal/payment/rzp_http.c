/* Razorpay's HTTP API, shared by the payment provider (razorpay) and the payout provider
 * (razorpayx): one call with Basic auth, bounded time and a bounded answer, and the webhook
 * signature both use (hex HMAC-SHA256 of the raw body). */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

#define RZP_MAX_ANSWER (64 * 1024)
#define RZP_CONNECT_MS 3000L
#define RZP_TOTAL_MS   10000L
#define RZP_HEX_LEN    (crypto_auth_hmacsha256_BYTES * 2)

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    struct strbuf *sb = arg;
    size_t n = size * nmemb;
    if (sb->len < RZP_MAX_ANSWER)
        strbuf_append(sb, data, n < RZP_MAX_ANSWER - sb->len ? n : RZP_MAX_ANSWER - sb->len);
    return n;
}

static void set_options(CURL *h, const struct rzp_creds *cr, const char *url, const char *body,
                        struct curl_slist *hdrs, struct strbuf *sb, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, cr->key_id ? cr->key_id : "");
    curl_easy_setopt(h, CURLOPT_PASSWORD, cr->key_secret ? cr->key_secret : "");
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sb);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, RZP_CONNECT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, RZP_TOTAL_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
}

void rzp_http_call(const struct rzp_creds *cr, const char *path, bool post, const json_t *body,
                   const char *extra, struct rzp_answer *a)
{
    memset(a, 0, sizeof *a);
    CURL *h = curl_easy_init();
    char *text = post && body ? json_dumps(body, JSON_COMPACT) : NULL;
    char *url = xasprintf("%s%s", cr->base_url ? cr->base_url : "", path);
    char errbuf[CURL_ERROR_SIZE] = "";
    struct strbuf sb;
    strbuf_init(&sb);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    if (post)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    if (extra)
        hdrs = curl_slist_append(hdrs, extra);
    CURLcode rc = CURLE_FAILED_INIT;
    if (h && (text || !post)) {
        set_options(h, cr, url, text, hdrs, &sb, errbuf);
        rc = curl_easy_perform(h);
    }
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    else
        snprintf(a->err, sizeof a->err, "%s: %.180s", cr->who,
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
    if (rc == CURLE_OK && sb.buf)
        a->json = json_loadb(sb.buf, sb.len, 0, NULL);
    if (rc == CURLE_OK && (a->status < 200 || a->status > 299))
        snprintf(a->err, sizeof a->err, "%s: HTTP %ld on %s", cr->who, a->status, path);
    curl_slist_free_all(hdrs);
    if (h)
        curl_easy_cleanup(h);
    strbuf_cleanup(&sb);
    free(url);
    free(text);
}

bool rzp_answer_ok(const struct rzp_answer *a)
{
    return a->status >= 200 && a->status <= 299 && json_is_object(a->json);
}

bool rzp_str_member(const json_t *o, const char *k, char *buf, size_t n)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s || !*s || strlen(s) >= n)
        return false;
    memcpy(buf, s, strlen(s) + 1);
    return true;
}

bool rzp_signature_ok(const char *secret, const char *header, const char *body, size_t len)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char want[RZP_HEX_LEN + 1];
    if (!secret || !*secret || !header || strlen(header) != RZP_HEX_LEN)
        return false;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(want, sizeof want, mac, sizeof mac);
    return sodium_memcmp(want, header, RZP_HEX_LEN) == 0;
}
