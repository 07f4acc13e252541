/* The audit log (pkg/audit, table audit_log): `haat admin grant` writes its row in the same
 * transaction as the grant, with the right actor, action, target and before/after roles; an
 * unknown email writes none; and the database refuses UPDATE, DELETE and TRUNCATE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "tests/integration/harness.h"
#include "tests/test_main.h"

/* This binary's server (for its migrated database); no workers are needed. */
static struct h_server srv;

static int start(void **state)
{
    const char *env[] = {"HAAT_WORKERS=off", NULL};
    h_server_start(&srv, env);
    return 0;
}

static int stop(void **state)
{
    h_server_stop(&srv);
    h_server_cleanup(&srv);
    return 0;
}

/* printf-formatted SQL on the server's database (test-made values only). */
static char *scalar(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *scalar(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = h_db_vscalar(srv.db_url, fmt, ap);
    va_end(ap);
    return v;
}

static void assert_scalar(const char *want, const char *sql)
{
    char *v = h_db_scalar(srv.db_url, sql);
    if (!v || strcmp(v, want) != 0)
        fail_msg("%s\n  got  %s\n  want %s", sql, v ? v : "(null)", want);
    free(v);
}

static long long audit_rows(void)
{
    char *v = h_db_scalar(srv.db_url, "SELECT count(*) FROM audit_log");
    assert_non_null(v);
    long long n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

/* A user inserted straight into users (no signup flow needed here); its id goes into id. */
static void new_user(const char *email, const char *phone, char id[40])
{
    char *v = scalar("INSERT INTO users (id, name, email, phone, password_hash) VALUES "
                     "(gen_random_uuid(), 'Audit Test', '%s', '%s', '$argon2id$test') "
                     "RETURNING id",
                     email, phone);
    assert_non_null(v);
    snprintf(id, 40, "%s", v);
    free(v);
}

/* Runs `haat admin grant email` against the test database; returns its exit code. */
static int grant(const char *email)
{
    char dburl[300];
    snprintf(dburl, sizeof dburl, "DATABASE_URL=%s", srv.db_url);
    const char *env[] = {dburl, NULL};
    const char *args[] = {"--config", H_TEST_CONFIG, "admin", "grant", email, NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, env, &code, &out), 0);
    print_message("admin grant %s -> %d: %s", email, code, out ? out : "");
    free(out);
    return code;
}

static void test_grant_writes_audit_row(void **state)
{
    char id[40], sql[512], want[256];
    new_user("audit.grant@example.com", "+919800000701", id);
    assert_int_equal(grant("Audit.Grant@Example.com"), 0);
    snprintf(sql, sizeof sql,
             "SELECT concat_ws('|', actor_id, action, target_kind, target_id,"
             " coalesce(reason, '-'), before, after) FROM audit_log WHERE target_id = '%s'",
             id);
    snprintf(want, sizeof want,
             "cli|admin.grant|user|%s|-|{\"roles\": [\"buyer\"]}|"
             "{\"roles\": [\"buyer\", \"admin\"]}",
             id);
    assert_scalar(want, sql);
    /* A server-made UUIDv7 id, created now. */
    snprintf(sql, sizeof sql,
             "SELECT substr(id::text, 15, 1) || (created_at > now() - interval '1 minute')"
             " FROM audit_log WHERE target_id = '%s'",
             id);
    assert_scalar("7true", sql);
    snprintf(sql, sizeof sql, "SELECT is_admin FROM users WHERE id = '%s'", id);
    assert_scalar("t", sql);

    /* Granting again is recorded as well: before and after then agree. */
    assert_int_equal(grant("audit.grant@example.com"), 0);
    snprintf(sql, sizeof sql,
             "SELECT count(*) || '|' || count(*) FILTER (WHERE before = after"
             " AND after = '{\"roles\": [\"buyer\", \"admin\"]}') FROM audit_log"
             " WHERE target_kind = 'user' AND target_id = '%s' AND action = 'admin.grant'",
             id);
    assert_scalar("2|1", sql);
}

static void test_unknown_email_writes_no_row(void **state)
{
    long long before = audit_rows();
    assert_int_equal(grant("nobody.audit@example.com"), 1);
    assert_int_equal(grant("not-an-email"), 2);
    assert_int_equal(audit_rows(), before);
}

/* The grant and its audit row commit together: when the row cannot be written, the grant is
 * rolled back too. */
static void test_failed_audit_row_rolls_back_grant(void **state)
{
    char id[40], sql[256];
    new_user("audit.rollback@example.com", "+919800000702", id);
    assert_int_equal(h_db_exec(srv.db_url, "ALTER TABLE audit_log ADD CONSTRAINT test_no_grant"
                                           " CHECK (action <> 'admin.grant') NOT VALID"),
                     0);
    int code = grant("audit.rollback@example.com");
    assert_int_equal(h_db_exec(srv.db_url, "ALTER TABLE audit_log DROP CONSTRAINT test_no_grant"),
                     0);
    assert_int_equal(code, 1);
    snprintf(sql, sizeof sql, "SELECT is_admin FROM users WHERE id = '%s'", id);
    assert_scalar("f", sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE target_id = '%s'", id);
    assert_scalar("0", sql);
}

/* Runs sql expecting the database to refuse it; returns "SQLSTATE: message" (caller frees),
 * or NULL when it succeeded. */
static char *refusal(const char *sql)
{
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *vals[] = {srv.db_url, "5", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *res = PQexec(pg, sql);
    char *why = NULL;
    if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        size_t n = strlen(state ? state : "") + strlen(msg ? msg : "") + 3;
        why = malloc(n);
        assert_non_null(why);
        snprintf(why, n, "%s: %s", state ? state : "", msg ? msg : "");
    }
    PQclear(res);
    PQfinish(pg);
    return why;
}

static void assert_refused(const char *sql, const char *want)
{
    char *why = refusal(sql);
    if (!why || strcmp(why, want) != 0)
        fail_msg("%s\n  got  %s\n  want %s", sql, why ? why : "(accepted)", want);
    free(why);
}

static void test_append_only(void **state)
{
    assert_int_equal(h_db_exec(srv.db_url,
                               "INSERT INTO audit_log (id, actor_id, action, target_kind,"
                               " target_id, reason) VALUES ('01a1fe3e-0000-7000-8000-0000000000f1',"
                               " 'cli', 'user.suspend', 'user', 'u-1', 'test row')"),
                     0);
    long long n = audit_rows();
    assert_true(n >= 1);
    assert_refused("UPDATE audit_log SET reason = 'rewritten'",
                   "42501: audit_log is append-only: UPDATE is not allowed");
    assert_refused("DELETE FROM audit_log WHERE target_id = 'u-1'",
                   "42501: audit_log is append-only: DELETE is not allowed");
    assert_refused("TRUNCATE audit_log",
                   "42501: audit_log is append-only: TRUNCATE is not allowed");
    /* Refused even when nothing matches, and with replication-role triggers off. */
    assert_refused("DELETE FROM audit_log WHERE false",
                   "42501: audit_log is append-only: DELETE is not allowed");
    assert_refused("SET session_replication_role = replica; DELETE FROM audit_log",
                   "42501: audit_log is append-only: DELETE is not allowed");
    assert_int_equal(audit_rows(), n);
    assert_scalar("test row",
                  "SELECT reason FROM audit_log WHERE id = '01a1fe3e-0000-7000-8000-0000000000f1'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grant_writes_audit_row),
        cmocka_unit_test(test_unknown_email_writes_no_row),
        cmocka_unit_test(test_failed_audit_row_rolls_back_grant),
        cmocka_unit_test(test_append_only),
    };
    return HAAT_RUN_GROUP("audit", tests, start, stop);
}
