/* GET /v1/me/notification-preferences: {"email":{category:bool,...},"sms":{...}} over every
 * category; categories the caller never set show their default ("security" is always true). */
#include "internal/notification/internal.h"

void notify_get_preferences(struct http_req *r)
{
    json_t *prefs = NULL;
    enum db_status st = notify_repo_prefs_get(http_req_principal(r)->user_id, false, &prefs);
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    http_reply_json(r, 200, prefs);
}
