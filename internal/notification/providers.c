/* Provider selection and shared plumbing: the settings (copied from struct cfg at start-up),
 * one reusable libcurl handle per worker thread (connection reuse), dispatch by channel. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal/notification/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

static struct notify_provider_cfg pcfg;
static pthread_key_t curl_key;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_handle_free(void *h)
{
    curl_easy_cleanup(h);
}

static void make_key(void)
{
    pthread_key_create(&curl_key, curl_handle_free);
}

/* Aborts a transfer once notify_cleanup() has begun (called at least once a second). */
static int progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return notify_stopping() ? 1 : 0;
}

void *notify_curl_handle(void)
{
    pthread_once(&curl_once, make_key);
    CURL *h = pthread_getspecific(curl_key);
    if (h) {
        curl_easy_reset(h);
    } else if ((h = curl_easy_init())) {
        pthread_setspecific(curl_key, h);
    } else {
        return NULL;
    }
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
    return h;
}

/* mkdir -p for the log directory. 0 or -1 (errno). */
static int mkdirs(const char *dir)
{
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1; *s && rc == 0; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0750) != 0 && errno != EEXIST)
            rc = -1;
        *s = '/';
    }
    if (rc == 0 && mkdir(p, 0750) != 0 && errno != EEXIST)
        rc = -1;
    free(p);
    return rc;
}

/* Every setting: where it lives in pcfg and in struct cfg, and whether it is a secret (wiped
 * before it is freed). */
#define TO(f)   offsetof(struct notify_provider_cfg, f)
#define FROM(f) offsetof(struct cfg, f)
static const struct setting {
    size_t to, from;
    bool secret;
} settings[] = {
    {TO(sms), FROM(sms_provider), false},
    {TO(email), FROM(email_provider), false},
    {TO(log_dir), FROM(notify_log_dir), false},
    {TO(twilio_base_url), FROM(twilio_base_url), false},
    {TO(twilio_sid), FROM(twilio_account_sid), false},
    {TO(twilio_token), FROM(twilio_auth_token), true},
    {TO(twilio_from), FROM(twilio_from), false},
    {TO(smtp_url), FROM(smtp_url), false},
    {TO(smtp_user), FROM(smtp_user), false},
    {TO(smtp_password), FROM(smtp_password), true},
    {TO(smtp_from), FROM(smtp_from), false},
    {TO(smtp_tls), FROM(smtp_tls), false},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static char **slot(const struct setting *s)
{
    return (char **)((char *)&pcfg + s->to);
}

int notify_providers_init(const struct cfg *c)
{
    notify_providers_cleanup();
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = *(char *const *)((const char *)c + settings[i].from);
        *slot(&settings[i]) = xstrdup(v ? v : "");
    }
    bool uses_log = strcmp(pcfg.sms, "log") == 0 || strcmp(pcfg.email, "log") == 0;
    if (uses_log && (!*pcfg.log_dir || mkdirs(pcfg.log_dir) != 0)) {
        log_error("notify_log_dir", "HAAT_NOTIFY_LOG_DIR %s: cannot create it: %s", pcfg.log_dir,
                  strerror(errno));
        return -1;
    }
    if (strcmp(pcfg.email, "smtp") == 0) {
        char *a = notify_mail_addr(pcfg.smtp_from);
        if (!a) {
            log_error("notify_smtp_from", "HAAT_SMTP_FROM: no usable address in \"%s\"",
                      pcfg.smtp_from);
            return -1;
        }
        free(a);
    }
    log_info("notify_providers", "email via %s, sms via %s", pcfg.email, pcfg.sms);
    return 0;
}

void notify_providers_cleanup(void)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        char **v = slot(&settings[i]);
        if (*v && settings[i].secret)
            memset(*v, 0, strlen(*v));
        free(*v);
        *v = NULL;
    }
}

enum notify_result notify_send(enum notify_channel ch, const struct notify_msg *m, char *err,
                               size_t errlen)
{
    const char *which = ch == NOTIFY_EMAIL ? pcfg.email : pcfg.sms;
    if (!which) {
        snprintf(err, errlen, "providers not initialised");
        return NOTIFY_RETRY;
    }
    if (strcmp(which, "log") == 0)
        return notify_log_send(pcfg.log_dir, ch, m, err, errlen);
    if (ch == NOTIFY_EMAIL && strcmp(which, "smtp") == 0)
        return notify_smtp_send(&pcfg, m, err, errlen);
    if (ch == NOTIFY_SMS && strcmp(which, "twilio") == 0)
        return notify_twilio_send(&pcfg, m, err, errlen);
    snprintf(err, errlen, "unknown %s provider %s", notify_channel_name(ch), which);
    return NOTIFY_FAILED;
}
