/* Fixtures shared by the payment tests (test_payment.c: the sandbox provider;
 * test_payment_razorpay.c: the razorpay provider against its local fake): SQL reads of the
 * test's own database and bounded waits for what the workers do. Header-only, like the other
 * fixtures: each test binary links only its own file and the harness. */
#ifndef HAAT_TESTS_INTEGRATION_PAYMENT_FIXTURES_H
#define HAAT_TESTS_INTEGRATION_PAYMENT_FIXTURES_H

#include "tests/integration/ledger_fixtures.h"
#include "tests/integration/order_fixtures.h"

#define PAY_WAIT_MS 15000

/* ---- a provider's local fake (infra/dev/razorpay_fake.py, razorpayx_fake.py) ------------ */

/* POST text to the fake's control endpoint; r gets the answer (haat's, for a webhook). */
static inline long fake_control(const struct h_sink *fake, const char *text, struct h_resp *r)
{
    char url[128];
    snprintf(url, sizeof url, "%s/__control", fake->url);
    h_resp_cleanup(r);
    return h_request_url("POST", url, text, strlen(text), NULL, r);
}

/* Stops the server, then the fake, and drops the test's database (a group teardown). */
static inline void fake_teardown(struct h_sink *fake)
{
    h_server_cleanup(&cat_srv);
    h_sink_stop(fake);
    h_db_drop(cat_db_name);
}

/* A SQL scalar as a new string (NULL when none); printf-style over test-made values. */
static inline char *pay_scalar(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *pay_scalar(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = h_db_vscalar(cat_db_url, fmt, ap);
    va_end(ap);
    return s;
}

/* Waits until the payment's status is want; fails the test after PAY_WAIT_MS. */
static inline void wait_payment(const char *payment_id, const char *want)
{
    long long until = h_now_ms() + PAY_WAIT_MS;
    for (;;) {
        char *s = pay_scalar("SELECT status FROM payments WHERE id = '%s'", payment_id);
        bool done = s && strcmp(s, want) == 0;
        if (!done && h_now_ms() > until)
            fail_msg("payment %s is %s, want %s", payment_id, s ? s : "(none)", want);
        free(s);
        if (done)
            return;
        h_sleep_ms(50);
    }
}

/* Waits until sql (a count) reaches want; fails the test after PAY_WAIT_MS. */
static inline void wait_count(long long want, const char *sql)
{
    long long until = h_now_ms() + PAY_WAIT_MS, n = -1;
    while ((n = fx_count("%s", sql)) != want && h_now_ms() < until)
        h_sleep_ms(50);
    if (n != want)
        fail_msg("%s: %lld, want %lld", sql, n, want);
}

/* The order's status (in a static buffer: valid until the next call). */
static inline const char *order_status(const char *order_id)
{
    static char buf[32];
    char *s = pay_scalar("SELECT status FROM orders WHERE id = '%s'", order_id);
    snprintf(buf, sizeof buf, "%s", s ? s : "");
    free(s);
    return buf;
}

/* The seller's pending balance in the ledger (0 before its account exists). */
static inline long long seller_pending(const char *seller_id)
{
    return fx_count("SELECT coalesce((SELECT balance_minor FROM ledger_accounts WHERE id = "
                    "'seller:%s:pending'), 0)",
                    seller_id);
}

#endif
