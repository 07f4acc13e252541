/* Typed reads of result cells, so repositories never parse text by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/db/db.h"
#include "pkg/util/xalloc.h"

bool db_col_is_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) != 0;
}

bool db_col_bool(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

long long db_col_ll(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *db_col_str(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

char *db_col_strdup(const PGresult *res, int row, int col)
{
    const char *s = db_col_str(res, row, col);
    return s ? xstrdup(s) : NULL;
}

bool db_col_copy(const PGresult *res, int row, int col, char *buf, size_t size)
{
    const char *s = db_col_str(res, row, col);
    int n = snprintf(buf, size, "%s", s ? s : "");
    return n >= 0 && (size_t)n < size;
}
