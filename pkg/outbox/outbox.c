#include "pkg/outbox/outbox.h"

#include <stdio.h>
#include <stdlib.h>

#include "pkg/ids/ids.h"
#include "pkg/log/log.h"

static const struct db_stmt stmts[] = {
    {"outbox_emit",
     "WITH e AS (INSERT INTO outbox_events (event_id, type, aggregate_id, payload, trace_id) "
     "VALUES ($1::uuid, $2, $3, $4::jsonb, $5) RETURNING type) "
     "SELECT pg_notify('" OUTBOX_CHANNEL "', type) FROM e"},
    {"outbox_pending", "SELECT count(*) FROM outbox_events WHERE processed_at IS NULL"},
    {"outbox_purge", "DELETE FROM outbox_events WHERE id IN (SELECT id FROM outbox_events "
                     "WHERE processed_at < now() - interval '" DB_STR(
                         OUTBOX_RETENTION_DAYS) " days' "
                                                "ORDER BY processed_at LIMIT 1000)"},
};

void outbox_init(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

enum db_status outbox_emit(struct db_conn *c, const char *type, const char *aggregate_id,
                           const json_t *payload)
{
    enum db_status st = DB_ERROR;
    char event_id[IDS_UUID_LEN];
    char *body = NULL;
    const char *params[5];
    if (!type || PQtransactionStatus(db_pg(c)) != PQTRANS_INTRANS) {
        log_error("outbox_misuse", "outbox_emit(%s) without a type or outside a transaction",
                  type ? type : "?");
        goto out;
    }
    body = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    if (payload && !body) {
        log_error("outbox_payload", "event %s: payload is not a JSON object", type);
        goto out;
    }
    ids_uuid7(event_id);
    params[0] = event_id;
    params[1] = type;
    params[2] = aggregate_id;
    params[3] = body ? body : "{}";
    params[4] = log_trace_id(); /* the trace the event belongs to, NULL when none */
    st = db_exec(c, "outbox_emit", DB_PARAMS(params), NULL);
out:
    free(body);
    return st;
}

enum db_status outbox_pending(long long *n)
{
    PGresult *res = NULL;
    enum db_status st = db_query(DB_READ, "outbox_pending", 0, NULL, &res);
    if (st == DB_OK)
        *n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return st;
}

long long outbox_purge_processed(void)
{
    return db_exec_batches("outbox_purge", 0, NULL, 1000);
}
