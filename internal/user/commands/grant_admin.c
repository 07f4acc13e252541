/* haat admin grant EMAIL (an operator command, not an HTTP route)
 *
 * Gives the admin role to the account with that email, in one transaction that also writes
 * the audit row (actor "cli", action "admin.grant", target the user, before/after its roles).
 * Granting to an admin again succeeds and is recorded too (before and after then agree):
 * the log says what operators did, not only what changed. An unknown email changes nothing
 * and writes no row. */
#include <stdio.h>

#include "internal/user/internal.h"
#include "pkg/audit/audit.h"
#include "pkg/log/log.h"

struct grant_ctx {
    const char *email;
    bool was_admin;
};

/* {"roles": [...]} for u, new reference. */
static json_t *roles_state(const struct user_rec *u)
{
    return json_pack("{s:o}", "roles", user_rec_roles_json(u));
}

static enum db_status grant_txn(struct db_conn *c, void *arg)
{
    struct grant_ctx *x = arg;
    struct user_rec u;
    json_t *before = NULL, *after = NULL;
    enum db_status st = user_repo_grant_admin(c, x->email, &u);
    if (st != DB_OK)
        goto out;
    x->was_admin = u.is_admin;
    before = roles_state(&u);
    u.is_admin = true;
    after = roles_state(&u);
    const struct audit_entry e = {
        .actor_id = AUDIT_ACTOR_CLI,
        .action = "admin.grant",
        .target_kind = "user",
        .target_id = u.id,
        .before = before,
        .after = after,
    };
    st = audit_record(c, &e);
out:
    json_decref(before);
    json_decref(after);
    user_rec_cleanup(&u);
    return st;
}

int user_grant_admin(const struct cfg *c, const char *email)
{
    char norm[USER_EMAIL_LEN];
    if (!email || !user_email_normalize(email, norm)) {
        fprintf(stderr, "haat: admin grant: not a valid email address\n");
        return 2;
    }
    if (db_init(c->database_url, c->database_read_url) != 0)
        return 1;
    user_init(c);
    audit_init();
    struct grant_ctx x = {.email = norm};
    enum db_status st = db_txn(DB_PRIMARY, grant_txn, &x);
    db_thread_cleanup();
    if (st == DB_NOT_FOUND) {
        fprintf(stderr, "haat: admin grant: no account with email %s\n", norm);
        return 1;
    }
    if (st != DB_OK) {
        fprintf(stderr, "haat: admin grant: database error (%s)\n", db_last_sqlstate());
        return 1;
    }
    log_info("user_admin_granted", "admin role granted to %s", norm);
    printf("haat: %s %s an admin\n", norm, x.was_admin ? "was already" : "is now");
    return 0;
}
