/* The payment module without a database: the sandbox's webhook signature (sign, verify, the
 * 300 s window), its event parser, the create body's checks (card data refused, return_url
 * under the public URL), the retry backoff and the checkout page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "internal/payment/internal.h"
#include "tests/test_main.h"

#define SECRET "sandbox-unit-secret"
#define BODY   "{\"id\":\"evt_1\",\"type\":\"payment.succeeded\"}"

static void test_sign_and_verify(void **state)
{
    (void)state;
    char sig[PAYMENT_SIGNATURE_LEN];
    payment_sandbox_sign(SECRET, 1700000000, BODY, strlen(BODY), sig);
    assert_int_equal(strncmp(sig, "t=1700000000,v1=", 16), 0);
    assert_int_equal(strlen(sig), 16 + 64);
    assert_true(payment_sandbox_verify(SECRET, sig, BODY, strlen(BODY), 1700000000));
    assert_true(payment_sandbox_verify(SECRET, sig, BODY, strlen(BODY), 1700000300));
    /* older than 300 s, another secret, another body, a missing or mangled header */
    assert_false(payment_sandbox_verify(SECRET, sig, BODY, strlen(BODY), 1700000301));
    assert_false(payment_sandbox_verify("other", sig, BODY, strlen(BODY), 1700000000));
    assert_false(payment_sandbox_verify(SECRET, sig, BODY, strlen(BODY) - 1, 1700000000));
    assert_false(payment_sandbox_verify(SECRET, NULL, BODY, strlen(BODY), 1700000000));
    assert_false(payment_sandbox_verify(SECRET, "t=1700000000", BODY, strlen(BODY), 1700000000));
    char bad[PAYMENT_SIGNATURE_LEN];
    memcpy(bad, sig, sizeof bad);
    bad[20] = bad[20] == 'a' ? 'b' : 'a';
    assert_false(payment_sandbox_verify(SECRET, bad, BODY, strlen(BODY), 1700000000));
    /* elements in another order are fine */
    char swapped[PAYMENT_SIGNATURE_LEN + 4];
    snprintf(swapped, sizeof swapped, "%s,t=1700000000", sig + strlen("t=1700000000,"));
    assert_true(payment_sandbox_verify(SECRET, swapped, BODY, strlen(BODY), 1700000000));
}

/* The signature is the documented HMAC-SHA256 over "<t>.<body>", so any client can make it. */
static void test_signature_is_hmac_of_t_dot_body(void **state)
{
    (void)state;
    char sig[PAYMENT_SIGNATURE_LEN], msg[128], hex[65];
    unsigned char mac[32];
    payment_sandbox_sign(SECRET, 42, BODY, strlen(BODY), sig);
    int n = snprintf(msg, sizeof msg, "42.%s", BODY);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, (unsigned long long)n);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    assert_string_equal(sig + strlen("t=42,v1="), hex);
}

static void test_parse_event(void **state)
{
    (void)state;
    const char *ok = "{\"id\":\"evt_9\",\"type\":\"payment.failed\",\"created\":5,\"data\":{"
                     "\"payment_id\":\"0192f0c4-0000-7000-8000-000000000001\",\"provider_ref\":"
                     "\"sbx_pay_1\",\"amount_minor\":129900,\"currency\":\"INR\"}}";
    struct payment_event ev;
    assert_true(payment_sandbox_parse(ok, strlen(ok), &ev));
    assert_string_equal(ev.id, "evt_9");
    assert_int_equal(ev.kind, PAYMENT_EVENT_FAILED);
    assert_string_equal(ev.payment_id, "0192f0c4-0000-7000-8000-000000000001");
    assert_int_equal(ev.amount_minor, 129900);
    assert_string_equal(ev.currency, "INR");
    const char *bad[] = {
        "[]",
        "{\"id\":\"e\",\"type\":\"payment.failed\",\"created\":5}",
        "{\"id\":\"e\",\"type\":\"payment.failed\",\"created\":5,\"data\":{\"payment_id\":\"x\","
        "\"provider_ref\":\"r\",\"amount_minor\":\"1\",\"currency\":\"INR\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(payment_sandbox_parse(bad[i], strlen(bad[i]), &ev));
}

static int count_errors(const char *json_text, const char *public_url, const char *field)
{
    json_t *body = json_loads(json_text, 0, NULL);
    struct payment_create_input in;
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    payment_parse_create(body, public_url, &in, &e);
    int n = 0;
    size_t i;
    json_t *item;
    json_array_foreach(e.list, i, item)
    {
        const char *f = json_string_value(json_object_get(item, "field"));
        n += !field || (f && strcmp(f, field) == 0);
    }
    jsonh_errors_cleanup(&e);
    json_decref(body);
    return n;
}

static void test_create_body(void **state)
{
    (void)state;
    const char *pub = "https://shop.example";
    assert_int_equal(count_errors("{\"method\":\"upi\"}", pub, NULL), 0);
    assert_int_equal(count_errors("{\"method\":\"card\",\"return_url\":\"https://shop.example/"
                                  "done?x=1\"}",
                                  pub, NULL),
                     0);
    assert_int_equal(count_errors("{\"method\":\"cash\"}", pub, "method"), 1);
    assert_int_equal(count_errors("{}", pub, "method"), 1);
    assert_int_equal(count_errors("{\"method\":\"upi\",\"return_url\":\"https://evil.example/\"}",
                                  pub, "return_url"),
                     1);
    /* a longer host that merely starts with the public URL is not under it */
    assert_int_equal(
        count_errors("{\"method\":\"upi\",\"return_url\":\"https://shop.example.evil/\"}", pub,
                     "return_url"),
        1);
    assert_int_equal(count_errors("{\"method\":\"card\",\"card_number\":\"4111111111111111\","
                                  "\"cvv\":\"123\"}",
                                  pub, NULL),
                     2);
    assert_int_equal(count_errors("{\"method\":\"card\",\"pan\":\"4111\"}", pub, "pan"), 1);
}

static void test_retry_delay(void **state)
{
    (void)state;
    assert_int_equal(payment_retry_delay(1), 1);
    assert_int_equal(payment_retry_delay(2), 2);
    assert_int_equal(payment_retry_delay(4), 8);
    assert_int_equal(payment_retry_delay(40), PAYMENT_RETRY_CAP_S);
}

static void test_checkout_page(void **state)
{
    (void)state;
    struct payment_row p = {.id = "0192f0c4-0000-7000-8000-000000000001",
                            .order_id = "0192f0c4-0000-7000-8000-000000000002",
                            .method = "upi",
                            .amount_minor = 129950,
                            .currency = "INR",
                            .provider_ref = "sbx_pay_abc",
                            .return_url = "https://x/\"><script>alert(1)</script>"};
    char *html = payment_sandbox_page(&p);
    assert_non_null(strstr(html, "upi://pay?"));
    assert_non_null(strstr(html, "am=1299.50"));
    assert_non_null(strstr(html, "&#8377;1299.50"));
    assert_non_null(strstr(html, "/complete"));
    assert_null(strstr(html, "<script>alert"));
    assert_null(strstr(html, "http://"));      /* no external asset */
    assert_null(strstr(html, "https://x/\"")); /* the return URL is escaped */
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_and_verify),
        cmocka_unit_test(test_signature_is_hmac_of_t_dot_body),
        cmocka_unit_test(test_parse_event),
        cmocka_unit_test(test_create_body),
        cmocka_unit_test(test_retry_delay),
        cmocka_unit_test(test_checkout_page),
    };
    if (sodium_init() < 0)
        return 1;
    return HAAT_RUN_GROUP("payment", tests, NULL, NULL);
}
