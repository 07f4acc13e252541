/* dump_sql NAME — prints the SQL of the catalog's or the order module's prepared statement
 * NAME, so that the bench (infra/dev/bench.sh) runs exactly the SQL the endpoints run under
 * pgbench. Built by the bench against the release objects. Exit 1 when there is no such
 * statement. */
#include <stdio.h>
#include <string.h>

#include "internal/catalog/internal.h"
#include "internal/order/internal.h"

static const char *find(const struct db_stmt *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return t[i].sql;
    return NULL;
}

int main(int argc, char **argv)
{
    size_t n = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: dump_sql STATEMENT\n");
        return 2;
    }
    const struct db_stmt *t = catalog_repo_statements(&n);
    const char *sql = find(t, n, argv[1]);
    if (!sql) {
        t = catalog_repo_search_statements(&n);
        sql = find(t, n, argv[1]);
    }
    if (!sql) {
        t = order_repo_statements(&n);
        sql = find(t, n, argv[1]);
    }
    if (!sql) {
        fprintf(stderr, "dump_sql: no statement %s\n", argv[1]);
        return 1;
    }
    puts(sql);
    return 0;
}
