/* The payment object as clients see it. */
#include <string.h>

#include "internal/payment/internal.h"

json_t *payment_json(const struct payment_row *p)
{
    json_t *next = json_null();
    if (strcmp(p->status, "requires_action") == 0)
        next = json_pack("{s:s,s:s}", "type", "redirect", "url", p->checkout_url);
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:o,s:s}", "id", p->id, "order_id",
                     p->order_id, "status", p->status, "method", p->method, "amount_minor",
                     (json_int_t)p->amount_minor, "currency", p->currency, "provider", p->provider,
                     "provider_ref", p->provider_ref, "next_action", next, "created_at",
                     p->created_at);
}
