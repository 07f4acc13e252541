/* harness — throwaway databases on the private cluster (see harness.h). */
#include "tests/integration/harness_internal.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

static PGconn *pg_connect(const char *url)
{
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *vals[] = {url, "5", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        print_error("harness: cannot connect to %s: %s", url, PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

const char *hi_admin_url(void)
{
    const char *u = getenv("HAAT_PG_ADMIN_URL");
    return u && *u ? u : "postgresql://haat@127.0.0.1:55432/postgres";
}

int h_db_exec(const char *url, const char *sql)
{
    PGconn *pg = pg_connect(url);
    if (!pg)
        return -1;
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc != 0)
        print_error("harness: %s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
    return rc;
}

char *h_db_scalar(const char *url, const char *sql)
{
    PGconn *pg = pg_connect(url);
    if (!pg)
        return NULL;
    char *value = NULL;
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        print_error("harness: %s: %s", sql, PQerrorMessage(pg));
    else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        value = hi_xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(pg);
    return value;
}

/* Drops haat_t_<pid>_* databases whose test program is gone (it crashed before clean-up). */
static void drop_stale_databases(PGconn *pg)
{
    PGresult *res = PQexec(pg, "SELECT datname FROM pg_database WHERE datname LIKE 'haat\\_t\\_%'");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0);
        long pid = strtol(name + 7, NULL, 10);
        if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            h_db_drop(name);
    }
    PQclear(res);
}

/* url of database name on the admin cluster: the admin URL with its path replaced. */
static int db_url_for(const char *name, char url[256])
{
    const char *admin = hi_admin_url();
    const char *scheme = strstr(admin, "://");
    const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
    if (!path)
        return -1;
    const char *query = strchr(path, '?');
    int n = snprintf(url, 256, "%.*s/%s%s", (int)(path - admin), admin, name, query ? query : "");
    return n > 0 && n < 256 ? 0 : -1;
}

int h_db_create(char name[64], char url[256])
{
    static atomic_int counter;
    static atomic_bool stale_done;
    hi_init();
    PGconn *pg = pg_connect(hi_admin_url());
    if (!pg)
        return -1;
    if (!atomic_exchange(&stale_done, true))
        drop_stale_databases(pg);
    snprintf(name, 64, "haat_t_%ld_%d", (long)getpid(), atomic_fetch_add(&counter, 1));
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    PGresult *res = PQexec(pg, sql);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0)
        print_error("harness: %s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
    if (rc == 0) {
        hi_track_db(name, true);
        rc = db_url_for(name, url);
    }
    return rc;
}

int h_db_drop(const char *name)
{
    if (!name || !*name)
        return 0;
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    int rc = h_db_exec(hi_admin_url(), sql);
    if (rc == 0)
        hi_track_db(name, false);
    return rc;
}

/* A heap string from fmt (never truncated, unlike a fixed buffer). */
static char *vformat(const char *fmt, va_list ap)
{
    char *q = NULL;
    if (vasprintf(&q, fmt, ap) < 0)
        abort();
    return q;
}

int h_db_vexec(const char *url, const char *fmt, va_list ap)
{
    char *q = vformat(fmt, ap);
    int rc = h_db_exec(url, q);
    free(q);
    return rc;
}

char *h_db_vscalar(const char *url, const char *fmt, va_list ap)
{
    char *q = vformat(fmt, ap);
    char *v = h_db_scalar(url, q);
    free(q);
    return v;
}

long long h_db_vint(const char *url, const char *fmt, va_list ap)
{
    char *v = h_db_vscalar(url, fmt, ap);
    long long n = v ? strtoll(v, NULL, 10) : -1;
    free(v);
    return n;
}
