/* Query parameters shared by the admin listings. */
#include <string.h>

#include "internal/admin/internal.h"

bool admin_filter_or_reply(struct http_req *r, const char *name, const char **out)
{
    const char *v = http_req_query(r, name);
    if (v && (v[0] == '\0' || strlen(v) > 100)) {
        http_reply_field(r, 422, name, "must be 1 to 100 characters");
        return false;
    }
    *out = v;
    return true;
}
