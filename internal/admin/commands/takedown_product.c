/* POST /v1/admin/products/{id}/takedown {reason} (admin): the product leaves search and
 * cannot be bought or re-activated by its seller, who sees status taken_down with the reason
 * and is told by email and SMS (product.taken_down); audited as product.takedown. */
#include "internal/admin/internal.h"

void admin_takedown_product(struct http_req *r)
{
    admin_moderate_product(r, true);
}
