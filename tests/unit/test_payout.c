/* Payouts without a database: the life cycle table (forward only), the razorpayx mode rule
 * (UPI for a VPA, IMPS up to ₹5 lakh, NEFT above), the sandbox's outcomes, the reason a
 * RazorpayX payout gives, the razorpayx webhook signature, and the sealing of bank account
 * numbers (round trip, tamper, another key, no key). */
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
#include "internal/user/internal.h"
#include "tests/test_main.h"

static void test_state_machine(void **state)
{
    (void)state;
    const struct payout_transition *t = payout_decide(PAYOUT_PROCESSING, PAYOUT_EV_PROCESSED);
    assert_non_null(t);
    assert_int_equal(t->to, PAYOUT_PAID);
    assert_string_equal(t->posting, "payout_paid");
    assert_string_equal(t->emits, "payout.paid");
    t = payout_decide(PAYOUT_PROCESSING, PAYOUT_EV_FAILED);
    assert_int_equal(t->to, PAYOUT_FAILED);
    assert_string_equal(t->posting, "payout_failed");
    t = payout_decide(PAYOUT_PROCESSING, PAYOUT_EV_REVERSED); /* never heard it was processed */
    assert_int_equal(t->to, PAYOUT_FAILED);
    t = payout_decide(PAYOUT_PAID, PAYOUT_EV_REVERSED);
    assert_int_equal(t->to, PAYOUT_REVERSED);
    assert_string_equal(t->posting, "payout_reversal");
    /* forward only */
    assert_null(payout_decide(PAYOUT_PAID, PAYOUT_EV_PROCESSED));
    assert_null(payout_decide(PAYOUT_PAID, PAYOUT_EV_FAILED));
    assert_null(payout_decide(PAYOUT_FAILED, PAYOUT_EV_PROCESSED));
    assert_null(payout_decide(PAYOUT_FAILED, PAYOUT_EV_REVERSED));
    assert_null(payout_decide(PAYOUT_REVERSED, PAYOUT_EV_PROCESSED));
    assert_null(payout_decide(PAYOUT_REVERSED, PAYOUT_EV_REVERSED));
    enum payout_status s;
    assert_true(payout_status_parse("reversed", &s));
    assert_int_equal(s, PAYOUT_REVERSED);
    assert_false(payout_status_parse("pending", &s));
    assert_string_equal(payout_status_name(PAYOUT_PROCESSING), "processing");
}

static void test_mode(void **state)
{
    (void)state;
    assert_string_equal(payout_mode("upi", 100), "UPI");
    assert_string_equal(payout_mode("upi", INT64_C(90000000)), "UPI");
    assert_string_equal(payout_mode("bank", 100), "IMPS");
    assert_string_equal(payout_mode("bank", INT64_C(50000000)), "IMPS"); /* ₹5,00,000.00 */
    assert_string_equal(payout_mode("bank", INT64_C(50000001)), "NEFT");
}

static void test_sandbox_outcomes(void **state)
{
    (void)state;
    struct payout_state s;
    struct payout_send_out out = {0};
    struct payout_send_in in = {.payout_id = "0190f2b4-0000-7000-8000-000000000001",
                                .amount_minor = 1013};
    assert_int_equal(payout_sandbox_provider.send(&in, &out), PAYOUT_SEND_DONE);
    assert_string_equal(out.ref, "sandbox_payout_0190f2b4-0000-7000-8000-000000000001");
    assert_int_equal(payout_sandbox_provider.fetch_state(out.ref, 1013, &s), 0);
    assert_string_equal(s.status, "failed");
    assert_non_null(strstr(s.reason, "13 paise"));
    assert_int_equal(payout_sandbox_provider.fetch_state(out.ref, 1000, &s), 0);
    assert_string_equal(s.status, "processed");
    assert_int_equal(payout_sandbox_provider.fetch_state(out.ref, 11300, &s), 0);
    assert_string_equal(s.status, "processed"); /* ₹113.00: its paise are 00 */
}

static void test_reason_of(void **state)
{
    (void)state;
    char reason[PAYOUT_REASON_LEN];
    json_t *p = json_pack("{s:{s:s},s:s}", "status_details", "description", "bank down",
                          "failure_reason", "other");
    payout_reason_of(p, reason, sizeof reason);
    assert_string_equal(reason, "bank down");
    json_decref(p);
    p = json_pack("{s:n,s:s}", "status_details", "failure_reason", "IFSC invalid");
    payout_reason_of(p, reason, sizeof reason);
    assert_string_equal(reason, "IFSC invalid");
    json_decref(p);
    p = json_object();
    payout_reason_of(p, reason, sizeof reason);
    assert_string_equal(reason, "");
    json_decref(p);
}

static void test_signature(void **state)
{
    (void)state;
    const char *body = "{\"event\":\"payout.processed\"}";
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[2 * sizeof mac + 1];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)"whsec", 5);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    assert_true(rzp_signature_ok("whsec", hex, body, strlen(body)));
    assert_false(rzp_signature_ok("other", hex, body, strlen(body)));
    assert_false(rzp_signature_ok("whsec", hex, body, strlen(body) - 1));
    assert_false(rzp_signature_ok("", hex, body, strlen(body)));
    assert_false(rzp_signature_ok("whsec", NULL, body, strlen(body)));
    assert_false(rzp_signature_ok("whsec", "abc", body, strlen(body)));
}

#define KEY1 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY2 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static void test_seal(void **state)
{
    (void)state;
    user_seal_set_key(KEY1);
    char *a = user_seal("123456789012"), *b = user_seal("123456789012");
    assert_non_null(a);
    assert_int_equal(strncmp(a, "\\x", 2), 0);
    assert_null(strstr(a, "123456789012"));
    assert_string_not_equal(a, b); /* a fresh nonce each time */
    char *open = user_unseal(a);
    assert_string_equal(open, "123456789012");
    free(open);
    a[10] = a[10] == '0' ? '1' : '0'; /* tampered */
    assert_null(user_unseal(a));
    assert_null(user_unseal("\\x00"));
    assert_null(user_unseal("plain"));
    user_seal_set_key(KEY2); /* another key does not open it */
    assert_null(user_unseal(b));
    user_seal_set_key("not hex");
    assert_null(user_seal("123456789012"));
    assert_null(user_unseal(b));
    free(a);
    free(b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_machine),    cmocka_unit_test(test_mode),
        cmocka_unit_test(test_sandbox_outcomes), cmocka_unit_test(test_reason_of),
        cmocka_unit_test(test_signature),        cmocka_unit_test(test_seal),
    };
    return HAAT_RUN_GROUP("payout", tests, NULL, NULL);
}
