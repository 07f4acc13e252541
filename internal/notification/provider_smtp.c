/* Email over SMTP with libcurl: smtp:// (STARTTLS when HAAT_SMTP_TLS=require) or smtps://,
 * AUTH when HAAT_SMTP_USER is set, connect timeout 3 s, whole conversation 10 s. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/notification/internal.h"
#include "pkg/clock/clock.h"
#include "pkg/util/xalloc.h"

struct upload {
    const char *data;
    size_t len, off;
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct upload *u = arg;
    size_t room = size * nitems, left = u->len - u->off;
    size_t n = left < room ? left : room;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

static void set_options(CURL *h, const struct notify_provider_cfg *p, const char *from_addr,
                        struct curl_slist *rcpt, struct upload *u, char *errbuf)
{
    char *mail_from = xasprintf("<%s>", from_addr);
    curl_easy_setopt(h, CURLOPT_URL, p->smtp_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     strcmp(p->smtp_tls, "none") == 0 ? (long)CURLUSESSL_NONE
                                                      : (long)CURLUSESSL_ALL);
    if (*p->smtp_user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, p->smtp_user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, p->smtp_password);
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from); /* copied by libcurl */
    free(mail_from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, u);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->len);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)NOTIFY_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)NOTIFY_TOTAL_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
}

enum notify_result notify_smtp_send(const struct notify_provider_cfg *p, const struct notify_msg *m,
                                    char *err, size_t errlen)
{
    if (!notify_mail_addr_ok(m->to)) {
        snprintf(err, errlen, "not a usable email address");
        return NOTIFY_FAILED;
    }
    char *from_addr = notify_mail_addr(p->smtp_from);
    CURL *h = notify_curl_handle();
    if (!from_addr || !h) {
        snprintf(err, errlen, from_addr ? "libcurl handle unavailable" : "HAAT_SMTP_FROM unusable");
        free(from_addr);
        return NOTIFY_RETRY;
    }
    struct notify_mail mail = {
        .from = p->smtp_from,
        .to = m->to,
        .to_name = m->to_name,
        .subject = m->subject ? m->subject : "",
        .body = m->body,
        .id = m->id,
        .unix_s = clock_unix_s(),
    };
    struct upload u = {0};
    char *msg = notify_mail_build(&mail, &u.len);
    u.data = msg;
    char *rcpt_addr = xasprintf("<%s>", m->to);
    struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_addr);
    char errbuf[CURL_ERROR_SIZE] = "";
    set_options(h, p, from_addr, rcpt, &u, errbuf);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    enum notify_result res = notify_classify_smtp(rc == CURLE_OK, code);
    if (res != NOTIFY_SENT)
        snprintf(err, errlen, "smtp: %s (reply %ld)", errbuf[0] ? errbuf : curl_easy_strerror(rc),
                 code);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(rcpt);
    free(rcpt_addr);
    free(msg);
    free(from_addr);
    return res;
}
