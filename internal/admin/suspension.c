/* The body shared by suspend and unsuspend: {reason} required, the user module's effect and
 * the audit row in one http_txn, 200 with the User object (status "active" | "suspended").
 * Suspending hides the user's listed products (catalog_admin_hide_seller) and unsuspending
 * turns back exactly those; the audit row's after says how many. Suspending an already suspended
 * user (or unsuspending an active one) succeeds and is recorded too, before and after then agree.
 * An unknown or malformed id answers 404. */
#include <stddef.h>

#include "internal/admin/internal.h"
#include "internal/catalog/catalog.h"
#include "internal/user/user.h"
#include "pkg/audit/audit.h"

struct reason_body {
    const char *reason;
};

static const struct jsonh_field spec[] = {
    {.name = "reason",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = ADMIN_REASON_MAX,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct reason_body, reason)},
    {.name = NULL},
};

bool admin_reason_or_reply(struct http_req *r, const char **reason)
{
    struct reason_body b = {0};
    if (!http_parse_or_reply(r, spec, &b))
        return false;
    *reason = b.reason;
    return true;
}

struct suspend_ctx {
    struct http_req *r;
    const char *id, *reason;
    bool on;
};

static enum db_status suspend_txn(struct db_conn *c, void *arg)
{
    struct suspend_ctx *x = arg;
    bool was = false;
    json_t *user = NULL;
    enum db_status st = user_admin_set_suspended(c, x->id, x->on, &was, &user);
    long long listings = 0;
    if (st == DB_OK)
        st = catalog_admin_hide_seller(c, x->id, x->on, &listings);
    if (st != DB_OK) {
        json_decref(user);
        return st;
    }
    json_t *before = json_pack("{s:b}", "suspended", was);
    json_t *after =
        json_pack("{s:b,s:I}", "suspended", x->on, x->on ? "listings_hidden" : "listings_restored",
                  (json_int_t)listings);
    const struct audit_entry e = {
        .actor_id = http_req_principal(x->r)->user_id,
        .action = x->on ? "user.suspend" : "user.unsuspend",
        .target_kind = "user",
        .target_id = x->id,
        .reason = x->reason,
        .before = before,
        .after = after,
    };
    st = audit_record(c, &e);
    json_decref(before);
    json_decref(after);
    if (st == DB_OK)
        http_reply_json(x->r, 200, user);
    else
        json_decref(user);
    return st;
}

void admin_set_suspension(struct http_req *r, bool on)
{
    const char *id = http_uuid_param_or_reply(r, "id", "user");
    if (!id)
        return;
    struct suspend_ctx x = {.r = r, .id = id, .on = on};
    if (!admin_reason_or_reply(r, &x.reason))
        return;
    enum db_status st = http_txn(r, suspend_txn, &x);
    if (st == DB_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such user");
    else if (st != DB_OK)
        http_reply_db(r, st);
}
