/* Unit tests of internal/user validation and normalisation: phone (E.164, Indian forms),
 * email, UPI VPA, IFSC, bank account numbers, OTP destinations, display names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/user/internal.h"
#include "tests/test_main.h"

struct norm_case {
    const char *in;
    const char *want; /* NULL: must be refused */
};

static void check_phone(const struct norm_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char out[USER_PHONE_LEN] = "";
        bool ok = user_phone_normalize(c[i].in, out);
        if (c[i].want && (!ok || strcmp(out, c[i].want) != 0))
            fail_msg("phone \"%s\": want %s, got %s", c[i].in, c[i].want, ok ? out : "refused");
        if (!c[i].want && ok)
            fail_msg("phone \"%s\": accepted as %s", c[i].in, out);
    }
}

static void test_phone_indian_forms(void **state)
{
    static const struct norm_case cases[] = {
        {"9876543210", "+919876543210"},
        {"09876543210", "+919876543210"},
        {"919876543210", "+919876543210"},
        {"+919876543210", "+919876543210"},
        {"+91 98765 43210", "+919876543210"},
        {"+91-98765-43210", "+919876543210"},
        {"98765 43210", "+919876543210"},
        {"(+91) 9876543210", NULL},
        {"6000000000", "+916000000000"},
        {"7123456789", "+917123456789"},
        {"5876543210", NULL}, /* Indian mobiles start with 6-9 */
        {"1234567890", NULL},
        {"987654321", NULL},
        {"98765432101", NULL},
        {"+9109876543210", NULL},
        {"+915876543210", NULL},
        {"+91987654321", NULL},
        {"0091 9876543210", NULL}, /* international prefix: use + */
        {"919876543210 ", NULL},
        {" 9876543210", NULL},
        {"9876543210\n", NULL},
        {"98765--43210", "+919876543210"},
        {"-9876543210", NULL},
        {"9876543210-", NULL},
    };
    check_phone(cases, sizeof cases / sizeof cases[0]);
}

static void test_phone_other_countries(void **state)
{
    static const struct norm_case cases[] = {
        {"+14155550100", "+14155550100"},
        {"+1 (415) 555-0100", "+14155550100"},
        {"+447911123456", "+447911123456"},
        {"+4930123456", "+4930123456"},
        {"14155550100", NULL}, /* no +: not Indian, refused */
        {"447911123456", NULL},
        {"+0123456789", NULL},                    /* country codes never start with 0 */
        {"+123456", NULL},                        /* too short */
        {"+1234567", "+1234567"},                 /* 7 digits: the shortest accepted */
        {"+123456789012345", "+123456789012345"}, /* 15: E.164 maximum */
        {"+1234567890123456", NULL},
        {"++14155550100", NULL},
        {"+1415555O100", NULL}, /* letter O */
        {"+", NULL},
        {"", NULL},
        {"+1 415 555 0100 ext 2", NULL},
        {"+１４１５５５５０１００", NULL}, /* full-width digits */
        {"+14155550100000000000000000000000000000", NULL},
    };
    check_phone(cases, sizeof cases / sizeof cases[0]);
    char out[USER_PHONE_LEN];
    assert_false(user_phone_normalize(NULL, out));
}

static void check_email(const struct norm_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char out[USER_EMAIL_LEN] = "";
        bool ok = user_email_normalize(c[i].in, out);
        if (c[i].want && (!ok || strcmp(out, c[i].want) != 0))
            fail_msg("email \"%s\": want %s, got %s", c[i].in, c[i].want, ok ? out : "refused");
        if (!c[i].want && ok)
            fail_msg("email \"%s\": accepted as %s", c[i].in, out);
    }
}

static void test_email(void **state)
{
    static const struct norm_case cases[] = {
        {"asha@example.com", "asha@example.com"},
        {"Asha.Rao@Example.COM", "asha.rao@example.com"},
        {"a.b+tag@sub.example.co.in", "a.b+tag@sub.example.co.in"},
        {"o'neil_x-y@ex-ample.in", "o'neil_x-y@ex-ample.in"},
        {"a@b.co", "a@b.co"},
        {"x@xn--p1ai.com", "x@xn--p1ai.com"},
        {"a@b", NULL},
        {"a@b.", NULL},
        {"@b.com", NULL},
        {"a@.com", NULL},
        {"a..b@x.com", NULL},
        {".a@x.com", NULL},
        {"a.@x.com", NULL},
        {"a@x..com", NULL},
        {"a@-x.com", NULL},
        {"a@x-.com", NULL},
        {"a b@x.com", NULL},
        {"a@x.com ", NULL},
        {"a@b@x.com", NULL},
        {"a@1.2", NULL},
        {"\"a\"@x.com", NULL},
        {"ä@x.com", NULL},
        {"a@exämple.com", NULL},
        {"a@x_y.com", NULL},
        {"a@x.com\n", NULL},
        {"", NULL},
        {"plainaddress", NULL},
    };
    check_email(cases, sizeof cases / sizeof cases[0]);
}

static void test_email_lengths(void **state)
{
    char addr[400], out[USER_EMAIL_LEN];
    /* local part of 64 ok, 65 refused */
    memset(addr, 'a', 64);
    strcpy(addr + 64, "@x.com");
    assert_true(user_email_normalize(addr, out));
    memset(addr, 'a', 65);
    strcpy(addr + 65, "@x.com");
    assert_false(user_email_normalize(addr, out));
    /* total 254 ok, 255 refused (labels of 63) */
    strcpy(addr, "a@");
    size_t n = 2;
    while (n + 64 <= 254) {
        memset(addr + n, 'b', 63);
        addr[n + 63] = '.';
        n += 64;
    }
    size_t rest = 254 - n;
    memset(addr + n, 'c', rest);
    addr[n + rest] = '\0';
    assert_int_equal(strlen(addr), 254);
    assert_true(user_email_normalize(addr, out));
    strcat(addr, "c");
    assert_false(user_email_normalize(addr, out));
    /* a label of 64 is refused */
    memset(addr, 0, sizeof addr);
    strcpy(addr, "a@");
    memset(addr + 2, 'd', 64);
    strcpy(addr + 66, ".com");
    assert_false(user_email_normalize(addr, out));
    assert_false(user_email_normalize(NULL, out));
}

static void test_upi(void **state)
{
    static const struct norm_case cases[] = {
        {"asha@okicici", "asha@okicici"},
        {"Asha.R-1_2@OKAXIS", "asha.r-1_2@okaxis"},
        {"9876543210@ybl", "9876543210@ybl"},
        {"ab@ok", "ab@ok"},
        {"a@okicici", NULL}, /* name of 1 character */
        {"asha@o", NULL},    /* handle of 1 letter */
        {"asha@ok1", NULL},
        {"asha@ok.icici", NULL},
        {"asha", NULL},
        {"@okicici", NULL},
        {"asha@", NULL},
        {"as ha@okicici", NULL},
        {"asha@okicici@x", NULL},
        {"as+ha@okicici", NULL},
        {"äsha@okicici", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[USER_UPI_LEN] = "";
        bool ok = user_upi_normalize(cases[i].in, out);
        if (cases[i].want && (!ok || strcmp(out, cases[i].want) != 0))
            fail_msg("upi \"%s\": want %s, got %s", cases[i].in, cases[i].want,
                     ok ? out : "refused");
        if (!cases[i].want && ok)
            fail_msg("upi \"%s\": accepted", cases[i].in);
    }
    char vpa[400], out[USER_UPI_LEN];
    memset(vpa, 'n', 256);
    strcpy(vpa + 256, "@bank");
    assert_true(user_upi_normalize(vpa, out)); /* name of 256 */
    memset(vpa, 'n', 257);
    strcpy(vpa + 257, "@bank");
    assert_false(user_upi_normalize(vpa, out));
    strcpy(vpa, "name@");
    memset(vpa + 5, 'h', 64);
    vpa[69] = '\0';
    assert_true(user_upi_normalize(vpa, out)); /* handle of 64 */
    strcat(vpa, "h");
    assert_false(user_upi_normalize(vpa, out));
    assert_false(user_upi_normalize(NULL, out));
}

static void test_ifsc(void **state)
{
    static const struct norm_case cases[] = {
        {"HDFC0001234", "HDFC0001234"},
        {"hdfc0001234", "HDFC0001234"},
        {"SBIN0A1B2C3", "SBIN0A1B2C3"},
        {"HDFC1001234", NULL}, /* 5th must be 0 */
        {"HDF00001234", NULL},
        {"HDFC000123", NULL},
        {"HDFC00012345", NULL},
        {"HDFC0ABC12!", NULL},
        {"1DFC0001234", NULL},
        {"HDFC 001234", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[USER_IFSC_LEN] = "";
        bool ok = user_ifsc_normalize(cases[i].in, out);
        if (cases[i].want && (!ok || strcmp(out, cases[i].want) != 0))
            fail_msg("ifsc \"%s\": want %s", cases[i].in, cases[i].want);
        if (!cases[i].want && ok)
            fail_msg("ifsc \"%s\": accepted", cases[i].in);
    }
}

static void test_account_number(void **state)
{
    assert_true(user_account_number_valid("123456789"));
    assert_true(user_account_number_valid("123456789012345678"));
    assert_false(user_account_number_valid("12345678"));
    assert_false(user_account_number_valid("1234567890123456789"));
    assert_false(user_account_number_valid("12345678a"));
    assert_false(user_account_number_valid("1234 56789"));
    assert_false(user_account_number_valid("-123456789"));
    assert_false(user_account_number_valid(""));
    assert_false(user_account_number_valid(NULL));
}

static void test_destination(void **state)
{
    char out[USER_DEST_LEN];
    assert_true(user_destination_normalize("sms", "09876543210", out));
    assert_string_equal(out, "+919876543210");
    assert_true(user_destination_normalize("email", "A@X.com", out));
    assert_string_equal(out, "a@x.com");
    assert_false(user_destination_normalize("sms", "a@x.com", out));
    assert_false(user_destination_normalize("email", "9876543210", out));
    assert_false(user_destination_normalize("push", "a@x.com", out));
    assert_false(user_destination_normalize(NULL, "a@x.com", out));
}

static void test_check_name(void **state)
{
    json_t *ok = json_string("Asha Rao — हाट");
    json_t *tab = json_string("Asha\tRao");
    json_t *nl = json_string("Asha\nRao");
    json_t *del = json_string("Asha\x7fRao");
    assert_null(jsonh_check_plain_text(ok));
    assert_non_null(jsonh_check_plain_text(tab));
    assert_non_null(jsonh_check_plain_text(nl));
    assert_non_null(jsonh_check_plain_text(del));
    json_decref(ok);
    json_decref(tab);
    json_decref(nl);
    json_decref(del);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phone_indian_forms),
        cmocka_unit_test(test_phone_other_countries),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_email_lengths),
        cmocka_unit_test(test_upi),
        cmocka_unit_test(test_ifsc),
        cmocka_unit_test(test_account_number),
        cmocka_unit_test(test_destination),
        cmocka_unit_test(test_check_name),
    };
    return HAAT_RUN_GROUP("user_validation", tests, NULL, NULL);
}
