/* Result helpers shared by the repository files (repo_users.c, repo_auth.c); no SQL here. */
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/util/xalloc.h"

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

bool user_col_bool(const PGresult *res, int col)
{
    return strcmp(PQgetvalue(res, 0, col), "t") == 0;
}

char *user_col_dup(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : xstrdup(PQgetvalue(res, 0, col));
}

void user_col_copy(const PGresult *res, int col, char *out, size_t n)
{
    const char *v = PQgetvalue(res, 0, col);
    size_t len = strnlen(v, n - 1);
    memcpy(out, v, len);
    out[len] = '\0';
}
