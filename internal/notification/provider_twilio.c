/* SMS over a Twilio-compatible HTTP API: form POST to
 * <base>/2010-04-01/Accounts/<SID>/Messages.json with Basic auth SID:token and fields To, From,
 * Body. Connect timeout 3 s, whole request 10 s. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/notification/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

#define MAX_ANSWER 2048

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    struct strbuf *sb = arg;
    size_t n = size * nmemb;
    if (sb->len < MAX_ANSWER)
        strbuf_append(sb, data, n < MAX_ANSWER - sb->len ? n : MAX_ANSWER - sb->len);
    return n;
}

/* "To=...&From=...&Body=..." with every value percent-encoded. New string, or NULL. */
static char *form_body(CURL *h, const char *to, const char *from, const char *body)
{
    const char *names[] = {"To", "From", "Body"}, *values[] = {to, from, body};
    struct strbuf sb;
    strbuf_init(&sb);
    for (int i = 0; i < 3; i++) {
        char *enc = curl_easy_escape(h, values[i], (int)strlen(values[i]));
        if (!enc) {
            strbuf_cleanup(&sb);
            return NULL;
        }
        strbuf_printf(&sb, "%s%s=%s", i ? "&" : "", names[i], enc);
        curl_free(enc);
    }
    return strbuf_detach(&sb, NULL);
}

/* One line of the answer for last_error: control characters become spaces. */
static void answer_snippet(const struct strbuf *sb, char *out, size_t outlen)
{
    size_t n = 0;
    for (size_t i = 0; sb->buf && i < sb->len && n + 1 < outlen && n < 160; i++)
        out[n++] = (unsigned char)sb->buf[i] < 0x20 ? ' ' : sb->buf[i];
    out[n] = '\0';
}

/* <base>/2010-04-01/Accounts/<SID>/Messages.json (a trailing slash of base is dropped). */
static char *messages_url(CURL *h, const struct notify_provider_cfg *p)
{
    size_t blen = strlen(p->twilio_base_url);
    while (blen > 0 && p->twilio_base_url[blen - 1] == '/')
        blen--;
    char *sid = curl_easy_escape(h, p->twilio_sid, 0);
    char *url = xasprintf("%.*s/2010-04-01/Accounts/%s/Messages.json", (int)blen,
                          p->twilio_base_url, sid ? sid : "");
    curl_free(sid);
    return url;
}

static void set_options(CURL *h, const struct notify_provider_cfg *p, const char *url,
                        const char *form, struct curl_slist *hdrs, struct strbuf *answer,
                        char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, p->twilio_sid);
    curl_easy_setopt(h, CURLOPT_PASSWORD, p->twilio_token);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)NOTIFY_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)NOTIFY_TOTAL_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
}

enum notify_result notify_twilio_send(const struct notify_provider_cfg *p,
                                      const struct notify_msg *m, char *err, size_t errlen)
{
    CURL *h = notify_curl_handle();
    if (!h) {
        snprintf(err, errlen, "libcurl handle unavailable");
        return NOTIFY_RETRY;
    }
    char *url = messages_url(h, p), *form = form_body(h, m->to, p->twilio_from, m->body);
    struct strbuf answer;
    strbuf_init(&answer);
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    char tp[LOG_TRACEPARENT_LEN], tp_header[LOG_TRACEPARENT_LEN + 16];
    if (log_traceparent(tp)) { /* the call joins the trace of the work that sends it */
        snprintf(tp_header, sizeof tp_header, "traceparent: %s", tp);
        hdrs = curl_slist_append(hdrs, tp_header);
    }
    set_options(h, p, url, form ? form : "", hdrs, &answer, errbuf);
    CURLcode rc = form ? curl_easy_perform(h) : CURLE_OUT_OF_MEMORY;
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    enum notify_result res = notify_classify_http(status);
    if (res != NOTIFY_SENT && rc != CURLE_OK) {
        snprintf(err, errlen, "twilio: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    } else if (res != NOTIFY_SENT) {
        char snippet[200];
        answer_snippet(&answer, snippet, sizeof snippet);
        snprintf(err, errlen, "twilio: HTTP %ld %s", status, snippet);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL); /* nothing dangles into the next use */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(hdrs);
    strbuf_cleanup(&answer);
    free(form);
    free(url);
    return res;
}
