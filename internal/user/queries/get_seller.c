/* GET /v1/sellers/{id} -> 200 {id, display_name, joined_at, rating_avg, rating_count,
 * active_listings}: the public face of a seller (never payout details). A malformed id, a
 * user who is not a seller and a suspended seller all answer 404. The figures owned by other
 * modules come from the stats provider the app wires (user.h), read on the same connection;
 * without one, or when it fails, they are a fresh seller's: rating_avg null, rating_count 0,
 * active_listings 0. */
#include <ctype.h>
#include <stdlib.h>

#include "internal/user/internal.h"
#include "pkg/log/log.h"

static void add_stats(json_t *o, struct db_conn *c, const char *id)
{
    const struct user_seller_stats_provider *p = user_stats_provider();
    long long listings = 0, count = 0;
    double avg = 0;
    if (p && p->active_listings && p->active_listings(c, id, &listings) != 0) {
        log_warn("user_seller_stats", "active listings unavailable for a seller profile");
        listings = 0;
    }
    if (p && p->rating && p->rating(c, id, &avg, &count) != 0) {
        log_warn("user_seller_stats", "rating unavailable for a seller profile");
        count = 0;
    }
    json_object_set_new(o, "rating_avg", count > 0 ? json_real(avg) : json_null());
    json_object_set_new(o, "rating_count", json_integer(count > 0 ? count : 0));
    json_object_set_new(o, "active_listings", json_integer(listings > 0 ? listings : 0));
}

void user_get_seller(struct http_req *r)
{
    const char *param = http_uuid_param_or_reply(r, "id", "seller");
    struct db_conn *c = param ? http_req_db_or_reply(r) : NULL;
    if (!c)
        return;
    char id[IDS_UUID_LEN];
    for (size_t i = 0; i < IDS_UUID_LEN; i++)
        id[i] = (char)tolower((unsigned char)param[i]); /* the canonical form (and its NUL) */
    char *name = NULL;
    char joined[CLOCK_RFC3339_LEN];
    enum db_status st = user_repo_seller_public(c, id, &name, joined);
    if (st == DB_NOT_FOUND) {
        http_reply_problem(r, 404, "not_found", "no such seller");
        return;
    }
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    json_t *o = json_pack("{s:s,s:s,s:s}", "id", id, "display_name", name, "joined_at", joined);
    free(name);
    add_stats(o, c, id);
    http_reply_json(r, 200, o);
}
