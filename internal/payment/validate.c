/* Checks of the payment module's input (unit-tested without a database). */
#include <string.h>

#include "internal/payment/internal.h"

/* Members that would carry card data: the server never accepts it (the provider's hosted
 * checkout collects it), so a body holding any of them is refused, not ignored. */
static const char *const card_fields[] = {
    "card",        "card_number",     "number",    "pan",      "cvv",          "cvc",
    "cvv2",        "expiry",          "exp_month", "exp_year", "expiry_month", "expiry_year",
    "card_holder", "cardholder_name", NULL,
};

static const char *const methods[] = {"card", "netbanking", "upi", NULL};

struct create_body {
    const char *method;
    const char *return_url;
};

static const struct jsonh_field create_fields[] = {
    {.name = "method",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .one_of = methods,
     .offset = offsetof(struct create_body, method)},
    {.name = "return_url",
     .type = JSONH_STRING,
     .flags = JSONH_NULLABLE,
     .min = 1,
     .max = 1000,
     .offset = offsetof(struct create_body, return_url)},
    {.name = NULL},
};

/* True when url starts with base and the next character ends the origin ("", "/", "?", "#"). */
static bool under(const char *url, const char *base)
{
    size_t n = strlen(base);
    return n > 0 && strncmp(url, base, n) == 0 && strchr("/?#", url[n]) != NULL;
}

void payment_parse_create(const json_t *body, const char *public_url,
                          struct payment_create_input *in, struct jsonh_errors *e)
{
    struct create_body b = {0};
    memset(in, 0, sizeof *in);
    for (size_t i = 0; card_fields[i]; i++)
        if (json_object_get(body, card_fields[i]))
            jsonh_errors_add(e, card_fields[i],
                             "card data is never accepted: the provider's checkout collects it");
    jsonh_parse(body, create_fields, &b, e, NULL);
    if (b.return_url && !under(b.return_url, public_url ? public_url : ""))
        jsonh_errors_add(e, "return_url", "must start with the service's public URL");
    in->method = b.method;
    in->return_url = b.return_url;
}

/* Days since 1970-01-01 of a valid YYYY-MM-DD date; false when s is not one. */
static bool civil_days(const char *s, int64_t *days)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return false;
    /* days_from_civil (H. Hinnant) */
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t era = yy / 400, yoe = yy - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    return true;
}

void payment_check_revenue_range(const char *from, const char *to, struct jsonh_errors *e)
{
    int64_t a = 0, b = 0;
    bool fa = civil_days(from, &a), fb = civil_days(to, &b);
    if (!from)
        jsonh_errors_add(e, "from", "required: a date YYYY-MM-DD");
    else if (!fa)
        jsonh_errors_add(e, "from", "must be a date YYYY-MM-DD");
    if (!to)
        jsonh_errors_add(e, "to", "required: a date YYYY-MM-DD");
    else if (!fb)
        jsonh_errors_add(e, "to", "must be a date YYYY-MM-DD");
    if (fa && fb && b < a)
        jsonh_errors_add(e, "to", "must not be before from");
    else if (fa && fb && b - a + 1 > PAYMENT_REVENUE_MAX_DAYS)
        jsonh_errors_add(e, "to", "at most 366 days from from");
}
