/* POST /v1/admin/products/{id}/restore {reason} (admin): a taken-down product gets back the
 * status it had (active or sold out following its stock, or draft); audited as
 * product.restore. */
#include "internal/admin/internal.h"

void admin_restore_product(struct http_req *r)
{
    admin_moderate_product(r, false);
}
