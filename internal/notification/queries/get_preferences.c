/* GET /v1/me/notification-preferences: {"email":{category:bool,...},"sms":{...}} over every
 * category; categories the caller never set show their default ("security" is always true). */
#include "internal/notification/internal.h"

void notify_get_preferences(struct http_req *r)
{
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    json_t *prefs = NULL;
    enum db_status st = notify_repo_prefs_get(c, http_req_principal(r)->user_id, &prefs);
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    http_reply_json(r, 200, prefs);
}
