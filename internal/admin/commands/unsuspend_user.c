/* POST /v1/admin/users/{id}/unsuspend {reason} (admin): the user may log in and use the API
 * again; audited as user.unsuspend. */
#include "internal/admin/internal.h"

void admin_unsuspend_user(struct http_req *r)
{
    admin_set_suspension(r, false);
}
