/* Unit tests of the OTP logic (internal/user/otp.c, no database): generation, its
 * distribution, the format check, keyed hashing bound to the otp id, constant-time matching,
 * destination keys. The database side (expiry, single use, 5 tries, throttling) is covered by
 * tests/integration/test_user_signup_otp.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal/user/internal.h"
#include "tests/test_main.h"

#define SECRET  "otp-unit-test-secret-0123456789abcdef0123"
#define OTP_ID  "01a1fe38-054d-7a0e-8da7-5b7e68faf872"
#define OTP_ID2 "01a1fe38-054d-7a0e-8da7-5b7e68faf873"

static int setup(void **state)
{
    return sec_init(SECRET);
}

static int teardown(void **state)
{
    sec_cleanup();
    return 0;
}

static void test_generate_six_digits(void **state)
{
    for (int i = 0; i < 2000; i++) {
        char code[USER_OTP_DIGITS + 1];
        memset(code, 'x', sizeof code);
        user_otp_generate(code);
        assert_int_equal(strlen(code), 6);
        assert_true(user_otp_wellformed(code));
    }
}

/* Values spread over 000000..999999: each of 10 equal buckets of the value and each digit in
 * each position near 1/10 (chi-square, 9 degrees of freedom, 0.999 quantile 27.88), leading
 * zeros included, and few repeats. */
static void test_generate_distribution(void **state)
{
    enum { N = 50000 };
    long buckets[10] = {0}, pos[6][10] = {{0}};
    long sum_check = 0;
    char code[USER_OTP_DIGITS + 1];
    unsigned char *seen = calloc(1000000, 1);
    long repeats = 0;
    for (int i = 0; i < N; i++) {
        user_otp_generate(code);
        long v = strtol(code, NULL, 10);
        buckets[v / 100000]++;
        for (int j = 0; j < 6; j++)
            pos[j][code[j] - '0']++;
        repeats += seen[v]++ > 0;
        sum_check += v;
    }
    free(seen);
    double e = N / 10.0, chi = 0;
    for (int b = 0; b < 10; b++)
        chi += (buckets[b] - e) * (buckets[b] - e) / e;
    assert_true(chi < 27.88);
    for (int j = 0; j < 6; j++) {
        double c = 0;
        for (int d = 0; d < 10; d++)
            c += (pos[j][d] - e) * (pos[j][d] - e) / e;
        if (c >= 27.88)
            fail_msg("digit position %d is skewed (chi2 %.1f)", j, c);
    }
    /* Expected repeats among 50000 draws from 10^6: about 1230; far more means bad entropy. */
    assert_true(repeats < 2000);
    double mean = (double)sum_check / N;
    assert_true(mean > 490000 && mean < 510000);
}

static void test_wellformed(void **state)
{
    assert_true(user_otp_wellformed("123456"));
    assert_true(user_otp_wellformed("000000"));
    static const char *const bad[] = {"12345",  "1234567", "12345a", " 12345", "123456 ", "",
                                      "-12345", "+12345",  "1.2345", "١٢٣٤٥٦", "12 456",  "0x1234"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (user_otp_wellformed(bad[i]))
            fail_msg("accepted code \"%s\"", bad[i]);
    assert_false(user_otp_wellformed(NULL));
}

static void test_hash_bound_to_id_and_key(void **state)
{
    char a[SEC_HEX_LEN], b[SEC_HEX_LEN], c[SEC_HEX_LEN], d[SEC_HEX_LEN];
    user_otp_hash(OTP_ID, "123456", a);
    user_otp_hash(OTP_ID, "123456", b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 64);
    user_otp_hash(OTP_ID2, "123456", c); /* same code, other otp: other hash */
    assert_string_not_equal(a, c);
    user_otp_hash(OTP_ID, "123457", c);
    assert_string_not_equal(a, c);
    /* Never the plain SHA-256 of the code, and keyed by the server secret. */
    sec_hash_token("123456", d);
    assert_string_not_equal(a, d);
    assert_int_equal(sec_init("a-different-secret-for-this-check-0123456789"), 0);
    user_otp_hash(OTP_ID, "123456", d);
    assert_int_equal(sec_init(SECRET), 0);
    assert_string_not_equal(a, d);
}

static void test_matches(void **state)
{
    char stored[SEC_HEX_LEN];
    user_otp_hash(OTP_ID, "424242", stored);
    assert_true(user_otp_matches(OTP_ID, "424242", stored));
    assert_false(user_otp_matches(OTP_ID, "424243", stored));
    assert_false(user_otp_matches(OTP_ID2, "424242", stored)); /* another code's row */
    assert_false(user_otp_matches(OTP_ID, "42424", stored));
    assert_false(user_otp_matches(OTP_ID, "4242420", stored));
    assert_false(user_otp_matches(OTP_ID, "", stored));
    assert_false(user_otp_matches(OTP_ID, "424242", ""));
    char upper[SEC_HEX_LEN];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(stored[i] >= 'a' && stored[i] <= 'f' ? stored[i] - 32 : stored[i]);
    if (strcmp(upper, stored) != 0)
        assert_false(user_otp_matches(OTP_ID, "424242", upper)); /* exact comparison */
}

/* Every code of the space matches only itself: a brute force needs the right code, and the
 * 5-try limit (integration test) leaves 5 in 10^6. */
static void test_only_one_code_matches(void **state)
{
    char stored[SEC_HEX_LEN], code[16];
    user_otp_hash(OTP_ID, "031337", stored);
    int hits = 0;
    for (int v = 31000; v < 32000; v++) {
        snprintf(code, sizeof code, "%06d", v);
        hits += user_otp_matches(OTP_ID, code, stored);
    }
    assert_int_equal(hits, 1);
}

static void test_dest_key(void **state)
{
    char a[SEC_HEX_LEN], b[SEC_HEX_LEN], c[SEC_HEX_LEN];
    user_dest_key("sms", "+919876543210", a);
    user_dest_key("sms", "+919876543210", b);
    assert_string_equal(a, b);
    user_dest_key("email", "+919876543210", c);
    assert_string_not_equal(a, c);
    user_dest_key("sms", "+919876543211", c);
    assert_string_not_equal(a, c);
    assert_null(strstr(a, "9876543210")); /* no personal data in the key */
}

static void test_login_subject(void **state)
{
    char a[SEC_HEX_LEN], b[SEC_HEX_LEN];
    user_login_subject("u", OTP_ID, a);
    user_login_subject("l", OTP_ID, b);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_six_digits),
        cmocka_unit_test(test_generate_distribution),
        cmocka_unit_test(test_wellformed),
        cmocka_unit_test(test_hash_bound_to_id_and_key),
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_only_one_code_matches),
        cmocka_unit_test(test_dest_key),
        cmocka_unit_test(test_login_subject),
    };
    return HAAT_RUN_GROUP("otp", tests, setup, teardown);
}
