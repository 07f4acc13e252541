/* Statement helpers shared by the repository files (repo_users.c, repo_auth.c); no SQL here. */
#include <string.h>

#include "internal/user/internal.h"

enum db_status user_repo_row(struct db_conn *c, const char *stmt, int n, const char *const *params,
                             PGresult **res)
{
    enum db_status st = db_exec(c, stmt, n, params, res);
    if (st == DB_OK && PQntuples(*res) == 0) {
        PQclear(*res);
        *res = NULL;
        st = DB_NOT_FOUND;
    }
    return st;
}

enum db_status user_repo_change(struct db_conn *c, const char *stmt, int n,
                                const char *const *params)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(c, stmt, n, params, &res);
    if (st == DB_OK && strcmp(PQcmdTuples(res), "0") == 0)
        st = DB_NOT_FOUND;
    PQclear(res);
    return st;
}
