/* Validation and normalisation of identity fields: pure functions, no I/O. */
#include <ctype.h>
#include <string.h>

#include "internal/user/internal.h"

#define PHONE_INPUT_MAX 32 /* characters, separators included */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
    return is_digit(c) || is_alpha(c);
}

/* The digits of in (separators dropped) into d; *plus when it starts with '+'. */
static bool phone_digits(const char *in, char d[PHONE_INPUT_MAX + 1], bool *plus)
{
    size_t n = 0, len = strnlen(in, PHONE_INPUT_MAX + 1);
    if (len > PHONE_INPUT_MAX)
        return false;
    *plus = in[0] == '+';
    for (size_t i = *plus ? 1 : 0; i < len; i++) {
        char c = in[i];
        if (is_digit(c))
            d[n++] = c;
        else if (!(strchr(" -.()", c) && n > 0 && i + 1 < len))
            return false; /* separators only between digits */
    }
    d[n] = '\0';
    return n > 0;
}

/* An Indian mobile subscriber number: 10 digits, the first 6-9. */
static bool indian_mobile(const char *d)
{
    return strlen(d) == 10 && d[0] >= '6' && d[0] <= '9';
}

bool user_phone_normalize(const char *in, char out[USER_PHONE_LEN])
{
    char d[PHONE_INPUT_MAX + 1];
    bool plus = false;
    if (!in || !phone_digits(in, d, &plus))
        return false;
    size_t n = strlen(d);
    const char *national = NULL;
    if (plus) {
        if (n < 7 || n > 15 || d[0] == '0')
            return false;
        if (strncmp(d, "91", 2) != 0) {
            out[0] = '+';
            memcpy(out + 1, d, n + 1);
            return true;
        }
        national = d + 2;
    } else if (n == 10) {
        national = d;
    } else if (n == 11 && d[0] == '0') {
        national = d + 1;
    } else if (n == 12 && strncmp(d, "91", 2) == 0) {
        national = d + 2;
    } else {
        return false; /* other countries must come with + */
    }
    if (!indian_mobile(national))
        return false;
    memcpy(out, "+91", 3);
    memcpy(out + 3, national, 11); /* 10 digits + NUL */
    return true;
}

/* RFC 5322 atext plus '.', without quoting. */
static bool local_ok(const char *s, size_t n)
{
    if (n < 1 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && s[i + 1] == '.')
            return false;
        if (!is_alnum(s[i]) && !strchr("!#$%&'*+/=?^_`{|}~.-", s[i]))
            return false;
    }
    return true;
}

/* LDH labels, at least two, the last not all digits. */
static bool domain_ok(const char *s, size_t n)
{
    if (n < 3 || n > 253)
        return false;
    size_t labels = 0, start = 0;
    bool all_digits = true;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!is_alnum(s[i]) && s[i] != '-')
                return false;
            continue;
        }
        size_t len = i - start;
        if (len < 1 || len > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        all_digits = true;
        for (size_t j = start; j < i; j++)
            all_digits = all_digits && is_digit(s[j]);
        labels++;
        start = i + 1;
    }
    return labels >= 2 && !all_digits;
}

bool user_email_normalize(const char *in, char out[USER_EMAIL_LEN])
{
    size_t n = in ? strnlen(in, USER_EMAIL_LEN) : 0;
    if (n == 0 || n > USER_EMAIL_LEN - 1)
        return false;
    const char *at = strrchr(in, '@');
    if (!at || strchr(in, '@') != at)
        return false;
    size_t local = (size_t)(at - in);
    if (!local_ok(in, local) || !domain_ok(at + 1, n - local - 1))
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    return true;
}

bool user_upi_normalize(const char *in, char out[USER_UPI_LEN])
{
    size_t n = in ? strnlen(in, USER_UPI_LEN) : 0;
    const char *at = n > 0 && n < USER_UPI_LEN ? memchr(in, '@', n) : NULL;
    if (!at)
        return false;
    size_t local = (size_t)(at - in), handle = n - local - 1;
    if (local < 2 || local > 256 || handle < 2 || handle > 64)
        return false;
    for (size_t i = 0; i < local; i++)
        if (!is_alnum(in[i]) && !strchr(".-_", in[i]))
            return false;
    for (size_t i = local + 1; i < n; i++)
        if (!is_alpha(in[i]))
            return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    return true;
}

bool user_ifsc_normalize(const char *in, char out[USER_IFSC_LEN])
{
    if (!in || strnlen(in, USER_IFSC_LEN) != USER_IFSC_LEN - 1)
        return false;
    for (size_t i = 0; i < USER_IFSC_LEN; i++)
        out[i] = (char)toupper((unsigned char)in[i]);
    for (size_t i = 0; i < 4; i++)
        if (!is_alpha(out[i]))
            return false;
    if (out[4] != '0')
        return false;
    for (size_t i = 5; i < USER_IFSC_LEN - 1; i++)
        if (!is_alnum(out[i]))
            return false;
    return true;
}

bool user_account_number_valid(const char *s)
{
    size_t n = s ? strnlen(s, 19) : 0;
    if (n < 9 || n > 18)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

bool user_destination_normalize(const char *channel, const char *in, char out[USER_DEST_LEN])
{
    if (channel && strcmp(channel, "sms") == 0)
        return user_phone_normalize(in, out);
    if (channel && strcmp(channel, "email") == 0)
        return user_email_normalize(in, out);
    return false;
}

bool user_channel_verified(const struct user_rec *u, const char *channel)
{
    return strcmp(channel, "sms") == 0 ? u->phone_verified : u->email_verified;
}
