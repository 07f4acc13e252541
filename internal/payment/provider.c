/* Provider selection: HAAT_PAYMENT_PROVIDER names one of providers[]. */
#include <string.h>

#include "internal/payment/internal.h"

static const struct payment_provider *const providers[] = {&payment_sandbox_provider,
                                                           &payment_razorpay_provider};

const struct payment_provider *payment_provider_named(const char *name)
{
    for (size_t i = 0; name && i < sizeof providers / sizeof providers[0]; i++)
        if (strcmp(providers[i]->name, name) == 0)
            return providers[i];
    return NULL;
}

const struct payment_provider *payment_provider(void)
{
    return payment_settings()->sandbox ? &payment_sandbox_provider : &payment_razorpay_provider;
}
