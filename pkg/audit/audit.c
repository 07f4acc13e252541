#include "pkg/audit/audit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pkg/ids/ids.h"
#include "pkg/log/log.h"

static const struct db_stmt stmts[] = {
    {"audit_record",
     "INSERT INTO audit_log (id, actor_id, action, target_kind, target_id, reason, before, after) "
     "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)"},
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void register_statements(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

void audit_init(void)
{
    pthread_once(&init_once, register_statements);
}

/* The required fields are there and c is inside a transaction. */
static bool usable(struct db_conn *c, const struct audit_entry *e)
{
    if (e && e->actor_id && e->action && e->target_kind && e->target_id &&
        PQtransactionStatus(db_pg(c)) == PQTRANS_INTRANS)
        return true;
    log_error("audit_misuse", "audit_record(%s) without a required field or outside a transaction",
              e && e->action ? e->action : "?");
    return false;
}

/* v as compact JSON text (new heap string), NULL for NULL; *ok is false when v cannot be
 * encoded. */
static char *dump(const json_t *v, bool *ok)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    *ok = !v || s;
    return s;
}

enum db_status audit_record(struct db_conn *c, const struct audit_entry *e)
{
    enum db_status st = DB_ERROR;
    char id[IDS_UUID_LEN];
    bool before_ok = false, after_ok = false;
    char *before = NULL, *after = NULL;
    const char *params[8];
    if (!usable(c, e))
        goto out;
    before = dump(e->before, &before_ok);
    after = dump(e->after, &after_ok);
    if (!before_ok || !after_ok) {
        log_error("audit_json", "audit %s: before or after cannot be encoded as JSON", e->action);
        goto out;
    }
    ids_uuid7(id);
    params[0] = id;
    params[1] = e->actor_id;
    params[2] = e->action;
    params[3] = e->target_kind;
    params[4] = e->target_id;
    params[5] = e->reason;
    params[6] = before;
    params[7] = after;
    st = db_exec(c, "audit_record", 8, params, NULL);
out:
    free(before);
    free(after);
    return st;
}
