/* haat admin revoke EMAIL / haat admin suspend EMAIL --reason TEXT (operator commands, not
 * HTTP routes): the effect and its audit row (actor "cli") in one transaction. An unknown
 * email changes nothing and writes no row. */
#include <stdio.h>
#include <string.h>

#include "internal/admin/internal.h"
#include "internal/catalog/catalog.h"
#include "internal/user/user.h"
#include "pkg/audit/audit.h"
#include "pkg/log/log.h"

struct cli_ctx {
    const char *email, *reason;
    char id[IDS_UUID_LEN];
    bool was;
};

static enum db_status record(struct db_conn *c, const char *action, const struct cli_ctx *x,
                             const json_t *before, const json_t *after)
{
    const struct audit_entry e = {
        .actor_id = AUDIT_ACTOR_CLI,
        .action = action,
        .target_kind = "user",
        .target_id = x->id,
        .reason = x->reason,
        .before = before,
        .after = after,
    };
    return audit_record(c, &e);
}

static enum db_status revoke_txn(struct db_conn *c, void *arg)
{
    struct cli_ctx *x = arg;
    enum db_status st = user_admin_revoke(c, x->email, x->id, &x->was);
    if (st != DB_OK)
        return st;
    json_t *before = json_pack("{s:b}", "admin", x->was);
    json_t *after = json_pack("{s:b}", "admin", false);
    st = record(c, "admin.revoke", x, before, after);
    json_decref(before);
    json_decref(after);
    return st;
}

static enum db_status suspend_txn(struct db_conn *c, void *arg)
{
    struct cli_ctx *x = arg;
    bool unused = false;
    enum db_status st = user_admin_find_email(c, x->email, x->id, &unused);
    if (st == DB_OK)
        st = user_admin_set_suspended(c, x->id, true, &x->was, NULL);
    long long hidden = 0;
    if (st == DB_OK)
        st = catalog_admin_hide_seller(c, x->id, true, &hidden);
    if (st != DB_OK)
        return st;
    json_t *before = json_pack("{s:b}", "suspended", x->was);
    json_t *after =
        json_pack("{s:b,s:I}", "suspended", true, "listings_hidden", (json_int_t)hidden);
    st = record(c, "user.suspend", x, before, after);
    json_decref(before);
    json_decref(after);
    return st;
}

/* Opens the database, runs fn in one transaction, prints the outcome; the exit code. */
static int run(const struct cfg *c, const char *what, db_txn_fn fn, struct cli_ctx *x)
{
    if (db_init(c->database_url, c->database_read_url) != 0)
        return 1;
    user_init(c);
    catalog_init(c);
    admin_init(c);
    enum db_status st = db_txn(DB_PRIMARY, fn, x);
    db_thread_cleanup();
    if (st == DB_CHECK) {
        fprintf(stderr, "haat: admin %s: not a valid email address\n", what);
        return 2;
    }
    if (st == DB_NOT_FOUND) {
        fprintf(stderr, "haat: admin %s: no account with email %s\n", what, x->email);
        return 1;
    }
    if (st != DB_OK) {
        fprintf(stderr, "haat: admin %s: database error (%s)\n", what, db_last_sqlstate());
        return 1;
    }
    log_info("admin_cli", "admin %s of user %s", what, x->id);
    return 0;
}

int admin_cli_revoke(const struct cfg *c, const char *email)
{
    struct cli_ctx x = {.email = email};
    int rc = run(c, "revoke", revoke_txn, &x);
    if (rc == 0)
        printf("haat: %s %s an admin\n", email, x.was ? "is no longer" : "was not");
    return rc;
}

int admin_cli_suspend(const struct cfg *c, const char *email, const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    if (n == 0 || n > ADMIN_REASON_MAX) {
        fprintf(stderr, "haat: admin suspend: --reason must be 1 to 1000 characters\n");
        return 2;
    }
    struct cli_ctx x = {.email = email, .reason = reason};
    int rc = run(c, "suspend", suspend_txn, &x);
    if (rc == 0)
        printf("haat: %s %s suspended\n", email, x.was ? "was already" : "is now");
    return rc;
}
