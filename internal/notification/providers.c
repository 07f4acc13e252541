/* Provider selection and shared plumbing: the settings (copied from struct cfg at start-up),
 * one reusable libcurl handle per worker thread (connection reuse), dispatch by channel. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
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

static char *dup_or_empty(const char *s)
{
    return xstrdup(s ? s : "");
}

int notify_providers_init(const struct cfg *c)
{
    notify_providers_cleanup();
    pcfg.sms = dup_or_empty(c->sms_provider);
    pcfg.email = dup_or_empty(c->email_provider);
    pcfg.log_dir = dup_or_empty(c->notify_log_dir);
    pcfg.twilio_base_url = dup_or_empty(c->twilio_base_url);
    pcfg.twilio_sid = dup_or_empty(c->twilio_account_sid);
    pcfg.twilio_token = dup_or_empty(c->twilio_auth_token);
    pcfg.twilio_from = dup_or_empty(c->twilio_from);
    pcfg.smtp_url = dup_or_empty(c->smtp_url);
    pcfg.smtp_user = dup_or_empty(c->smtp_user);
    pcfg.smtp_password = dup_or_empty(c->smtp_password);
    pcfg.smtp_from = dup_or_empty(c->smtp_from);
    pcfg.smtp_tls = dup_or_empty(c->smtp_tls);
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
    char **all[] = {&pcfg.sms,        &pcfg.email,         &pcfg.log_dir,     &pcfg.twilio_base_url,
                    &pcfg.twilio_sid, &pcfg.twilio_token,  &pcfg.twilio_from, &pcfg.smtp_url,
                    &pcfg.smtp_user,  &pcfg.smtp_password, &pcfg.smtp_from,   &pcfg.smtp_tls};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (*all[i] && (all[i] == &pcfg.smtp_password || all[i] == &pcfg.twilio_token))
            memset(*all[i], 0, strlen(*all[i]));
        free(*all[i]);
        *all[i] = NULL;
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
