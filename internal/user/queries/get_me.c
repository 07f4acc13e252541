/* GET /v1/me -> 200 user: always the caller (the token's subject), read from the replica. */
#include "internal/user/internal.h"

void user_get_me(struct http_req *r)
{
    struct user_rec u;
    if (!user_load_caller_or_reply(r, db_conn(DB_READ), &u))
        return;
    http_reply_json(r, 200, user_rec_json(&u));
    user_rec_cleanup(&u);
}
