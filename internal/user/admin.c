/* The user module's side of the operators' actions (internal/admin calls these inside its own
 * transaction, which also holds the audit row). */
#include "internal/user/internal.h"

enum db_status user_admin_set_suspended(struct db_conn *c, const char *user_id, bool on,
                                        bool *was_suspended, json_t **user)
{
    enum db_status st = user_repo_set_suspended(c, user_id, on, was_suspended);
    if (st != DB_OK || !user)
        return st;
    struct user_rec u = {0};
    st = user_repo_get(c, USER_BY_ID, user_id, false, &u);
    if (st == DB_OK) {
        *user = user_rec_json(&u);
        json_object_set_new(*user, "status", json_string(u.suspended ? "suspended" : "active"));
    }
    user_rec_cleanup(&u);
    return st;
}

enum db_status user_admin_revoke(struct db_conn *c, const char *email, char id[IDS_UUID_LEN],
                                 bool *was_admin)
{
    char norm[USER_EMAIL_LEN];
    if (!email || !user_email_normalize(email, norm))
        return DB_CHECK;
    return user_repo_revoke_admin(c, norm, id, was_admin);
}

enum db_status user_admin_find_email(struct db_conn *c, const char *email, char id[IDS_UUID_LEN],
                                     bool *suspended)
{
    char norm[USER_EMAIL_LEN];
    if (!email || !user_email_normalize(email, norm))
        return DB_CHECK;
    return user_repo_id_by_email(c, norm, id, suspended);
}

enum db_status user_admin_search(struct db_conn *c, const char *q, const char *status, int limit,
                                 const struct page_key *after, json_t **items, bool *more,
                                 struct page_key *next)
{
    return user_repo_search(c, q, status, limit, after, items, more, next);
}

enum db_status user_is_suspended(struct db_conn *c, const char *user_id, bool *suspended)
{
    *suspended = false;
    return user_repo_is_suspended(c, user_id, suspended);
}
