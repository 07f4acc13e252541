/* Migrations: dir/NNNN_name.sql applied in name order, each in its own transaction together
 * with its row in schema_migrations, under a session advisory lock so that instances
 * starting together migrate one after the other. A file must not contain transaction
 * control or statements that refuse to run in a transaction (CREATE INDEX CONCURRENTLY). */
#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/clock/clock.h"
#include "pkg/db/db_internal.h"
#include "pkg/log/log.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

/* 'haat' 'migr' as one 64-bit key: fixed, so every instance contends for the same lock. */
#define LOCK_SQL   "SELECT pg_advisory_lock(7521400005365163890)"
#define UNLOCK_SQL "SELECT pg_advisory_unlock(7521400005365163890)"
#define CREATE_SQL                                                             \
    "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, " \
    "applied_at timestamptz NOT NULL DEFAULT now())"
#define RECORD_STMT "db_migrate_record"
#define RECORD_SQL  "INSERT INTO schema_migrations (version) VALUES ($1)"

/* "NNNN_name.sql": four digits, '_', a name of [A-Za-z0-9_-], ".sql". */
static bool is_migration_name(const char *s)
{
    size_t len = strlen(s);
    if (len < 10 || strcmp(s + len - 4, ".sql") != 0 || s[4] != '_')
        return false;
    for (size_t i = 0; i < 4; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    for (size_t i = 5; i < len - 4; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int db_mig_list_load(const char *dir, struct db_mig_list *out)
{
    size_t cap = 0;
    out->names = NULL;
    out->n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        log_error("db_migrations_dir", "cannot read %s", dir);
        return -1;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_migration_name(e->d_name)) {
            size_t l = strlen(e->d_name);
            if (l > 4 && strcmp(e->d_name + l - 4, ".sql") == 0)
                log_warn("db_migration_skipped", "%s is not named NNNN_name.sql", e->d_name);
            continue;
        }
        if (out->n == cap) {
            cap = cap ? 2 * cap : 16;
            out->names = xrealloc(out->names, cap * sizeof *out->names);
        }
        out->names[out->n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (out->n)
        qsort(out->names, out->n, sizeof *out->names, cmp_name);
    return 0;
}

void db_mig_list_cleanup(struct db_mig_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = 0;
}

/* Takes res (PQclear). True when it is a success; otherwise logs what failed and why. */
static bool pg_ok(PGconn *pg, PGresult *res, const char *what)
{
    ExecStatusType es = PQresultStatus(res);
    bool ok = es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK || es == PGRES_EMPTY_QUERY;
    if (!ok) {
        const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(pg);
        log_error("db_migrate_failed", "%s: %.*s", what, (int)strcspn(m, "\n"), m);
    }
    PQclear(res);
    return ok;
}

/* The file's contents as a new heap string, or NULL (logged). */
static char *read_file(const char *path)
{
    struct strbuf sb;
    char buf[8192];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f) {
        log_error("db_migrate_failed", "cannot open %s", path);
        return NULL;
    }
    strbuf_init(&sb);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_append(&sb, buf, n);
    bool err = ferror(f);
    fclose(f);
    char *s = strbuf_detach(&sb, NULL);
    if (err) {
        log_error("db_migrate_failed", "cannot read %s", path);
        free(s);
        return NULL;
    }
    return s;
}

/* Applies one file in its own transaction. 0, or -1 (logged, rolled back). */
static int apply_one(PGconn *pg, const char *dir, const char *name)
{
    int rc = -1;
    char *path = xasprintf("%s/%s", dir, name);
    char *version = xstrndup(name, strlen(name) - 4);
    const char *params[1] = {version};
    uint64_t t0 = clock_mono_ns();
    char *sql = read_file(path);
    if (!sql || !pg_ok(pg, PQexec(pg, "BEGIN"), name))
        goto out;
    if (!pg_ok(pg, PQexec(pg, sql), name) ||
        !pg_ok(pg, PQexecPrepared(pg, RECORD_STMT, 1, params, NULL, NULL, 0), name) ||
        !pg_ok(pg, PQexec(pg, "COMMIT"), name)) {
        PQclear(PQexec(pg, "ROLLBACK"));
        goto out;
    }
    log_info("db_migration_applied", "%s (%llu ms)", version,
             (unsigned long long)((clock_mono_ns() - t0) / 1000000));
    rc = 0;
out:
    free(sql);
    free(version);
    free(path);
    return rc;
}

static bool is_applied(const PGresult *applied, const char *name)
{
    size_t vlen = strlen(name) - 4; /* without ".sql" */
    for (int i = 0; i < PQntuples(applied); i++) {
        const char *v = PQgetvalue(applied, i, 0);
        if (strlen(v) == vlen && strncmp(v, name, vlen) == 0)
            return true;
    }
    return false;
}

/* Under the lock: applies every file not yet recorded. Count applied, or -1. */
static int apply_pending(PGconn *pg, const char *dir, const struct db_mig_list *files)
{
    int applied_now = 0;
    if (!pg_ok(pg, PQexec(pg, CREATE_SQL), "schema_migrations") ||
        !pg_ok(pg, PQprepare(pg, RECORD_STMT, RECORD_SQL, 0, NULL), "schema_migrations"))
        return -1;
    PGresult *applied = PQexec(pg, "SELECT version FROM schema_migrations");
    if (PQresultStatus(applied) != PGRES_TUPLES_OK) {
        pg_ok(pg, applied, "schema_migrations");
        return -1;
    }
    for (size_t i = 0; i < files->n && applied_now >= 0; i++) {
        if (is_applied(applied, files->names[i]))
            continue;
        applied_now = apply_one(pg, dir, files->names[i]) == 0 ? applied_now + 1 : -1;
    }
    PQclear(applied);
    return applied_now;
}

int db_migrate(const char *url, const char *dir)
{
    int rc = -1;
    struct db_mig_list files;
    if (db_mig_list_load(dir, &files) != 0)
        return -1;
    PGconn *pg = db_connect_url(url, DB_PRIMARY);
    if (PQstatus(pg) != CONNECTION_OK) {
        const char *m = PQerrorMessage(pg);
        log_error("db_migrate_failed", "connect: %.*s", (int)strcspn(m, "\n"), m);
        goto out;
    }
    db_route_notices(pg);
    if (!pg_ok(pg, PQexec(pg, LOCK_SQL), "advisory lock"))
        goto out;
    rc = apply_pending(pg, dir, &files);
    pg_ok(pg, PQexec(pg, UNLOCK_SQL), "advisory unlock"); /* and PQfinish releases it */
    if (rc == 0)
        log_info("db_migrations_current", "%zu migrations, none pending", files.n);
out:
    PQfinish(pg);
    db_mig_list_cleanup(&files);
    return rc;
}

/* --- readiness ------------------------------------------------------------------------ */

static pthread_mutex_t ready_mu = PTHREAD_MUTEX_INITIALIZER;
static struct db_mig_list ready_files; /* loaded on the first successful listing */
static bool ready_loaded;

/* The cached list (loaded once; immutable afterwards), or NULL when dir is unreadable. */
static const struct db_mig_list *ready_list(const char *dir)
{
    pthread_mutex_lock(&ready_mu);
    if (!ready_loaded && db_mig_list_load(dir, &ready_files) == 0)
        ready_loaded = true;
    const struct db_mig_list *l = ready_loaded ? &ready_files : NULL;
    pthread_mutex_unlock(&ready_mu);
    return l;
}

void db_ready_forget(void)
{
    pthread_mutex_lock(&ready_mu);
    db_mig_list_cleanup(&ready_files);
    ready_loaded = false;
    pthread_mutex_unlock(&ready_mu);
}

/* The first migration of files not in schema_migrations, "" when none, NULL on error. */
static const char *first_pending(struct db_conn *c, const struct db_mig_list *files)
{
    PGresult *res = NULL;
    if (db_exec(c, "db_ready_table", 0, NULL, &res) != DB_OK)
        return NULL;
    bool exists = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!exists)
        return files->n ? files->names[0] : "";
    if (db_exec(c, "db_ready_versions", 0, NULL, &res) != DB_OK)
        return NULL;
    const char *pending = "";
    for (size_t i = 0; i < files->n && !*pending; i++)
        if (!is_applied(res, files->names[i]))
            pending = files->names[i];
    PQclear(res);
    return pending;
}

const char *db_ready_pending(struct db_conn *c, const char *dir, bool *unreadable)
{
    const struct db_mig_list *files = ready_list(dir);
    *unreadable = !files;
    return files && c ? first_pending(c, files) : NULL;
}
