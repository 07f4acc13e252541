/* SQL of the operators' user actions (table users): suspend, unsuspend, revoke the admin
 * role, and the id behind an email for the command line. */
#include <string.h>

#include "internal/user/internal.h"

enum admin_flag_col { FLAG_ID, FLAG_WAS };

static const struct db_stmt stmts[] = {
    /* $2 true: suspend (an already suspended user keeps the time of the first suspension, so
     * the auth hook's list still holds it); false: unsuspend. Answers the state before. */
    {"user_admin_set_suspended",
     "WITH old AS (SELECT id, suspended_at IS NOT NULL AS was FROM users "
     "WHERE id = $1::uuid FOR UPDATE) "
     "UPDATE users u SET suspended_at = CASE WHEN $2::bool THEN COALESCE(u.suspended_at, now()) "
     "ELSE NULL END, updated_at = now() FROM old WHERE u.id = old.id "
     "RETURNING u.id::text, old.was"},
    {"user_admin_revoke",
     "WITH old AS (SELECT id, is_admin FROM users WHERE email = $1 FOR UPDATE) "
     "UPDATE users u SET is_admin = false, updated_at = now() FROM old WHERE u.id = old.id "
     "RETURNING u.id::text, old.is_admin"},
    {"user_is_suspended", "SELECT suspended_at IS NOT NULL FROM users WHERE id = $1::uuid"},
    {"user_admin_id_by_email",
     "SELECT id::text, suspended_at IS NOT NULL FROM users WHERE email = $1"},
};

void user_repo_register_admin(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

static enum db_status flag_row(struct db_conn *c, const char *stmt, int n, const char *const *p,
                               char id[IDS_UUID_LEN], bool *was)
{
    PGresult *res = NULL;
    enum db_status st = user_repo_row(c, stmt, n, p, &res);
    if (st == DB_OK) {
        if (id)
            db_col_copy(res, 0, FLAG_ID, id, IDS_UUID_LEN);
        *was = db_col_bool(res, 0, FLAG_WAS);
    }
    PQclear(res);
    return st;
}

enum db_status user_repo_set_suspended(struct db_conn *c, const char *user_id, bool on, bool *was)
{
    const char *p[] = {user_id, on ? "true" : "false"};
    return flag_row(c, "user_admin_set_suspended", DB_PARAMS(p), NULL, was);
}

enum db_status user_repo_revoke_admin(struct db_conn *c, const char *email, char id[IDS_UUID_LEN],
                                      bool *was_admin)
{
    const char *p[] = {email};
    return flag_row(c, "user_admin_revoke", DB_PARAMS(p), id, was_admin);
}

enum db_status user_repo_id_by_email(struct db_conn *c, const char *email, char id[IDS_UUID_LEN],
                                     bool *suspended)
{
    const char *p[] = {email};
    return flag_row(c, "user_admin_id_by_email", DB_PARAMS(p), id, suspended);
}

enum db_status user_repo_is_suspended(struct db_conn *c, const char *user_id, bool *suspended)
{
    const char *p[] = {user_id};
    PGresult *res = NULL;
    enum db_status st = user_repo_row(c, "user_is_suspended", DB_PARAMS(p), &res);
    if (st == DB_OK)
        *suspended = db_col_bool(res, 0, 0);
    PQclear(res);
    return st;
}
