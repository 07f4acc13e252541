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
