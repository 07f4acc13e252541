/* POST /v1/admin/users/{id}/suspend {reason} (admin): the user's tokens stop within 2 s on
 * every instance (the user module's suspension list); audited as user.suspend. */
#include "internal/admin/internal.h"

void admin_suspend_user(struct http_req *r)
{
    admin_set_suspension(r, true);
}
