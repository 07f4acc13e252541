/* The payment module's start-up: its settings, statements, metrics and jobs. */
#include <curl/curl.h>
#include <sodium.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/jobs/jobs.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"
#include "pkg/util/xalloc.h"

/* Until payment_init runs (the OpenAPI check builds the router without it): the default
 * provider, the sandbox. */
static struct payment_settings settings = {.sandbox = true};
static struct metrics_counter *mismatches, *webhooks;
static bool registered, curl_ready;

const struct payment_settings *payment_settings(void)
{
    return &settings;
}

void payment_count_mismatch(const char *provider)
{
    const char *labels[] = {provider};
    if (mismatches)
        metrics_counter_inc(mismatches, labels);
}

void payment_count_webhook(const char *provider, const char *outcome)
{
    const char *labels[] = {provider, outcome};
    if (webhooks)
        metrics_counter_inc(webhooks, labels);
}

static void register_metrics(void)
{
    const char *one[] = {"provider"}, *two[] = {"provider", "outcome"};
    mismatches = metrics_counter_new(
        "payment_webhook_mismatches_total",
        "Provider webhooks refused because their amount or currency differ from the payment's", 1,
        one);
    webhooks = metrics_counter_new("payment_webhooks_total",
                                   "Provider webhooks accepted, by what they did", 2, two);
}

/* A copy of url without its trailing slashes. */
static char *without_slash(const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    return xstrndup(url, n);
}

/* Wipes and frees *s. */
static void drop_secret(char **s)
{
    if (*s)
        sodium_memzero(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

int payment_init(const struct cfg *c)
{
    if (!payment_provider_named(c->payment_provider)) {
        log_error("payment_provider", "HAAT_PAYMENT_PROVIDER: %s is not a payment provider",
                  c->payment_provider);
        return -1;
    }
    payment_cleanup(); /* a second init starts afresh */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("payment_init", "libcurl failed to initialise");
        return -1;
    }
    curl_ready = true;
    settings.public_url = without_slash(c->public_url);
    settings.sandbox_secret = xstrdup(c->sandbox_webhook_secret);
    settings.sandbox = strcmp(c->payment_provider, "sandbox") == 0;
    settings.reconcile_after_s = c->payment_reconcile_after_s;
    settings.rzp_base_url = without_slash(c->razorpay_base_url ? c->razorpay_base_url : "");
    settings.rzp_key_id = xstrdup(c->razorpay_key_id ? c->razorpay_key_id : "");
    settings.rzp_key_secret = xstrdup(c->razorpay_key_secret ? c->razorpay_key_secret : "");
    settings.rzp_webhook_secret =
        xstrdup(c->razorpay_webhook_secret ? c->razorpay_webhook_secret : "");
    if (!registered) { /* the statement registry takes a table once */
        payment_repo_register();
        payment_repo_ledger_register();
        payment_repo_money_register();
        registered = true;
    }
    register_metrics();
    return payout_init(c);
}

void payment_cleanup(void)
{
    payout_cleanup();
    drop_secret(&settings.sandbox_secret);
    drop_secret(&settings.rzp_key_id);
    drop_secret(&settings.rzp_key_secret);
    drop_secret(&settings.rzp_webhook_secret);
    free(settings.public_url);
    free(settings.rzp_base_url);
    settings.public_url = NULL;
    settings.rzp_base_url = NULL;
    if (curl_ready)
        curl_global_cleanup();
    curl_ready = false;
}

int payment_retry_delay(int attempts)
{
    int d = PAYMENT_RETRY_BASE_S;
    for (int i = 1; i < attempts && d < PAYMENT_RETRY_CAP_S; i++)
        d *= 2;
    return d < PAYMENT_RETRY_CAP_S ? d : PAYMENT_RETRY_CAP_S;
}

int payment_register_jobs(void)
{
    const struct jobs_spec refunds = {
        PAYMENT_JOB_REFUNDS, payment_refunds_run, NULL, 1000, PAYMENT_CHANNEL, 1};
    const struct jobs_spec sandbox = {
        PAYMENT_JOB_SANDBOX, payment_sandbox_send_run, NULL, 500, PAYMENT_CHANNEL, 2};
    const struct jobs_spec reconcile = {
        PAYMENT_JOB_RECONCILE, payment_reconcile_run, NULL, PAYMENT_RECONCILE_IDLE_MS, NULL, 1};
    if (jobs_register(&refunds) != 0 || payout_register_jobs() != 0)
        return -1;
    return jobs_register(settings.sandbox ? &sandbox : &reconcile);
}
