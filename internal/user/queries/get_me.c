/* GET /v1/me -> 200 user: always the caller (the token's subject), read on the query's
 * connection (the replica). */
#include "internal/user/internal.h"

void user_get_me(struct http_req *r)
{
    struct user_rec u;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c || !user_load_caller_or_reply(r, c, &u))
        return;
    http_reply_json(r, 200, user_rec_json(&u));
    user_rec_cleanup(&u);
}
