/* The notification module's SQL: outbox claims (fan-out), notification rows (delivery),
 * the feed and the preferences. Tables: notifications, notification_preferences (ours);
 * outbox_events (shared: we lease, process and dead-letter its rows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/notification/internal.h"
#include "internal/notification/notification.h"
#include "pkg/log/log.h"
#include "pkg/outbox/outbox.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define CLAIM_EVENTS(filter)                                                             \
    "WITH c AS (SELECT id FROM outbox_events WHERE processed_at IS NULL AND " filter     \
    " AND (locked_until IS NULL OR locked_until <= now()) ORDER BY id LIMIT $1::int "    \
    "FOR UPDATE SKIP LOCKED) "                                                           \
    "UPDATE outbox_events e SET locked_until = now() + make_interval(secs => $2::int), " \
    "attempts = e.attempts + 1 FROM c WHERE e.id = c.id "                                \
    "RETURNING e.id, e.event_id, e.type, e.payload::text, e.created_at::text, e.attempts"

static const struct db_stmt stmts[] = {
    {"notify_claim_events_priority", CLAIM_EVENTS("type = '" NOTIFY_PRIORITY_EVENT "'")},
    {"notify_claim_events", CLAIM_EVENTS("type <> '" NOTIFY_PRIORITY_EVENT "'")},
    {"notify_event_retry",
     "UPDATE outbox_events SET locked_until = now() + make_interval(secs => $2::int), "
     "last_error = $3 WHERE id = $1::bigint AND processed_at IS NULL"},
    {"notify_event_done",
     "UPDATE outbox_events SET processed_at = now(), locked_until = NULL, last_error = $2 "
     "WHERE id = $1::bigint AND processed_at IS NULL"},
    {"notify_throttle_lock", "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"},
    {"notify_insert",
     "INSERT INTO notifications (id, event_id, event_type, user_id, channel, destination, "
     "recipient_name, category, priority, subject, body, body_sealed, throttle_key, "
     "event_created_at) "
     "SELECT $1::uuid, $2::uuid, $3, $4::uuid, $5, $6, $7, $8, $9::boolean, $10, $11, $12, "
     "$13::text, $14::timestamptz "
     "WHERE (NOT $15::boolean OR coalesce((SELECT p.enabled FROM notification_preferences p "
     "WHERE p.user_id = $4::uuid AND p.channel = $5 AND p.category = $8), $16::boolean)) "
     "AND ($13::text IS NULL OR NOT EXISTS (SELECT 1 FROM notifications t "
     "WHERE t.user_id = $4::uuid AND t.channel = $5 AND t.throttle_key = $13::text "
     "AND t.created_at > now() - make_interval(secs => $17::int))) "
     "ON CONFLICT ON CONSTRAINT notifications_once DO NOTHING RETURNING id"},
    {"notify_wake", "SELECT pg_notify('" NOTIFY_WAKE_CHANNEL "', $1)"},
    {"notify_claim",
     "WITH c AS (SELECT id FROM notifications WHERE status = 'queued' AND priority = $1::boolean "
     "AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
     "UPDATE notifications n SET attempts = n.attempts + 1, "
     "locked_until = now() + make_interval(secs => $2::int), "
     "next_attempt_at = now() + make_interval(secs => $2::int) FROM c WHERE n.id = c.id "
     "RETURNING n.id, n.event_type, n.channel, n.destination, n.recipient_name, n.subject, "
     "n.body, n.body_sealed, " RFC3339("n.created_at") ", n.attempts"},
    {"notify_mark_sent",
     "UPDATE notifications SET status = 'sent', sent_at = now(), locked_until = NULL, "
     "body_sealed = NULL, last_error = NULL WHERE id = $1::uuid AND status = 'queued' "
     "RETURNING extract(epoch FROM clock_timestamp() - event_created_at)::float8"},
    {"notify_mark_retry",
     "UPDATE notifications SET next_attempt_at = now() + make_interval(secs => $2::float8), "
     "locked_until = NULL, last_error = $3 "
     "WHERE id = $1::uuid AND status = 'queued' AND attempts = $4::int"},
    {"notify_mark_failed",
     "UPDATE notifications SET status = 'failed', locked_until = NULL, body_sealed = NULL, "
     "last_error = $2 WHERE id = $1::uuid AND status = 'queued' AND attempts = $3::int"},
    {"notify_feed_first",
     "SELECT id, event_type, channel, subject, body, status, " RFC3339("created_at") ", " RFC3339(
         "sent_at") ", (extract(epoch FROM created_at) * 1000000)::bigint "
                    "FROM notifications WHERE user_id = $1::uuid "
                    "ORDER BY created_at DESC, id DESC LIMIT $2::int"},
    {"notify_feed_after",
     "SELECT id, event_type, channel, subject, body, status, " RFC3339("created_at") ", " RFC3339(
         "sent_at") ", (extract(epoch FROM created_at) * 1000000)::bigint "
                    "FROM notifications WHERE user_id = $1::uuid AND (created_at, id) < "
                    "(timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::uuid) "
                    "ORDER BY created_at DESC, id DESC LIMIT $2::int"},
    {"notify_purge", "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications "
                     "WHERE status <> 'queued' AND created_at < now() - interval '" DB_STR(
                         NOTIFY_RETENTION_DAYS) " days' "
                                                "ORDER BY created_at LIMIT 1000)"},
    {"notify_prefs_get",
     "SELECT channel, category, enabled FROM notification_preferences WHERE user_id = $1::uuid"},
    {"notify_prefs_put",
     "INSERT INTO notification_preferences (user_id, channel, category, enabled) "
     "SELECT $1::uuid, c, k, e FROM unnest($2::text[], $3::text[], $4::boolean[]) AS t(c, k, e) "
     "ON CONFLICT (user_id, channel, category) DO UPDATE "
     "SET enabled = EXCLUDED.enabled, updated_at = now()"},
};

void notify_repo_init(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

static char *dup_value(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

void notify_event_cleanup(struct notify_event *e)
{
    free(e->row_id);
    free(e->event_id);
    free(e->type);
    free(e->created_at);
    json_decref(e->payload);
    memset(e, 0, sizeof *e);
}

enum db_status notify_repo_claim_events(bool priority, int max, struct notify_event **out,
                                        size_t *n)
{
    char smax[16], lease[16];
    snprintf(smax, sizeof smax, "%d", max);
    snprintf(lease, sizeof lease, "%d", NOTIFY_EVENT_LEASE_S);
    const char *params[] = {smax, lease};
    PGresult *res = NULL;
    *out = NULL;
    *n = 0;
    enum db_status st =
        db_query(DB_PRIMARY, priority ? "notify_claim_events_priority" : "notify_claim_events", 2,
                 params, &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res);
    struct notify_event *ev = rows ? xcalloc((size_t)rows, sizeof *ev) : NULL;
    for (int i = 0; i < rows; i++) {
        ev[i].row_id = dup_value(res, i, 0);
        ev[i].event_id = dup_value(res, i, 1);
        ev[i].type = dup_value(res, i, 2);
        ev[i].payload = json_loads(PQgetvalue(res, i, 3), JSON_REJECT_DUPLICATES, NULL);
        ev[i].created_at = dup_value(res, i, 4);
        ev[i].attempts = atoi(PQgetvalue(res, i, 5));
    }
    PQclear(res);
    *out = ev;
    *n = (size_t)rows;
    return DB_OK;
}

enum db_status notify_repo_event_retry(const struct notify_event *e, int delay_s, const char *why)
{
    char delay[16];
    snprintf(delay, sizeof delay, "%d", delay_s);
    const char *params[] = {e->row_id, delay, why};
    return db_query(DB_PRIMARY, "notify_event_retry", 3, params, NULL);
}

void notify_row_cleanup(struct notify_row *r)
{
    free(r->destination);
    free(r->recipient_name);
    free(r->subject);
    free(r->body);
    if (r->body_sealed)
        memset(r->body_sealed, 0, strlen(r->body_sealed));
    free(r->body_sealed);
    memset(r, 0, sizeof *r);
}

/* Inserts one row; *added is set when it was new (and allowed). */
static enum db_status insert_row(struct db_conn *c, const struct notify_event *e,
                                 const struct notify_row *r, bool *added)
{
    char throttle_s[16];
    snprintf(throttle_s, sizeof throttle_s, "%d", r->throttle_s);
    enum db_status st;
    if (r->throttle_key && r->user_id) {
        char *lock = xasprintf("notify:%s:%d:%s", r->user_id, (int)r->channel, r->throttle_key);
        const char *lp[] = {lock};
        st = db_exec(c, "notify_throttle_lock", 1, lp, NULL);
        free(lock);
        if (st != DB_OK)
            return st;
    }
    const char *params[] = {
        r->id,
        e->event_id,
        e->type,
        r->user_id,
        notify_channel_name(r->channel),
        r->destination,
        r->recipient_name,
        r->category,
        r->priority ? "true" : "false",
        r->subject,
        r->body,
        r->body_sealed,
        r->throttle_key,
        e->created_at,
        r->switchable ? "true" : "false",
        r->default_enabled ? "true" : "false",
        throttle_s,
    };
    PGresult *res = NULL;
    st = db_exec(c, "notify_insert", 17, params, &res);
    if (st == DB_OK)
        *added = PQntuples(res) == 1;
    PQclear(res);
    return st;
}

struct fanout_txn {
    const struct notify_event *e;
    struct notify_row *rows;
    size_t n;
    const char *last_error;
    int inserted, inserted_priority;
};

static enum db_status fanout_txn(struct db_conn *c, void *arg)
{
    struct fanout_txn *t = arg;
    t->inserted = t->inserted_priority = 0; /* the transaction may run again */
    for (size_t i = 0; i < t->n; i++) {
        bool added = false;
        enum db_status st = insert_row(c, t->e, &t->rows[i], &added);
        if (st != DB_OK)
            return st;
        t->inserted += added;
        t->inserted_priority += added && t->rows[i].priority;
    }
    const char *params[] = {t->e->row_id, t->last_error};
    enum db_status st = db_exec(c, "notify_event_done", 2, params, NULL);
    if (st == DB_OK && t->inserted > t->inserted_priority) {
        const char *wp[] = {"normal"};
        st = db_exec(c, "notify_wake", 1, wp, NULL);
    }
    return st;
}

enum db_status notify_repo_fanout_commit(const struct notify_event *e, struct notify_row *rows,
                                         size_t n, const char *last_error, int *inserted,
                                         int *inserted_priority)
{
    struct fanout_txn t = {.e = e, .rows = rows, .n = n, .last_error = last_error};
    enum db_status st = db_txn(DB_PRIMARY, fanout_txn, &t);
    if (inserted)
        *inserted = st == DB_OK ? t.inserted : 0;
    if (inserted_priority)
        *inserted_priority = st == DB_OK ? t.inserted_priority : 0;
    return st;
}

void notify_claimed_cleanup(struct notify_claimed *c)
{
    char **all[] = {&c->id,      &c->event, &c->channel,     &c->destination, &c->recipient_name,
                    &c->subject, &c->body,  &c->body_sealed, &c->created_at};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
}

enum db_status notify_repo_claim(bool priority, struct notify_claimed *out)
{
    char lease[16];
    snprintf(lease, sizeof lease, "%d", NOTIFY_LEASE_S);
    const char *params[] = {priority ? "true" : "false", lease};
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    enum db_status st = db_query(DB_PRIMARY, "notify_claim", 2, params, &res);
    if (st != DB_OK)
        return st;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    out->id = dup_value(res, 0, 0);
    out->event = dup_value(res, 0, 1);
    out->channel = dup_value(res, 0, 2);
    out->destination = dup_value(res, 0, 3);
    out->recipient_name = dup_value(res, 0, 4);
    out->subject = dup_value(res, 0, 5);
    out->body = dup_value(res, 0, 6);
    out->body_sealed = dup_value(res, 0, 7);
    out->created_at = dup_value(res, 0, 8);
    out->attempts = atoi(PQgetvalue(res, 0, 9));
    PQclear(res);
    return DB_OK;
}

enum db_status notify_repo_mark_sent(const char *id, double *latency_s)
{
    const char *params[] = {id};
    PGresult *res = NULL;
    *latency_s = -1;
    enum db_status st = db_query(DB_PRIMARY, "notify_mark_sent", 1, params, &res);
    if (st != DB_OK)
        return st;
    if (PQntuples(res) == 1)
        *latency_s = strtod(PQgetvalue(res, 0, 0), NULL);
    else
        st = DB_NOT_FOUND;
    PQclear(res);
    return st;
}

enum db_status notify_repo_mark_retry(const char *id, int attempts, double delay_s, const char *why)
{
    char delay[32], att[16];
    snprintf(delay, sizeof delay, "%.3f", delay_s);
    snprintf(att, sizeof att, "%d", attempts);
    const char *params[] = {id, delay, why, att};
    return db_query(DB_PRIMARY, "notify_mark_retry", 4, params, NULL);
}

enum db_status notify_repo_mark_failed(const char *id, int attempts, const char *why)
{
    char att[16];
    snprintf(att, sizeof att, "%d", attempts);
    const char *params[] = {id, why, att};
    return db_query(DB_PRIMARY, "notify_mark_failed", 3, params, NULL);
}

static json_t *feed_item(const PGresult *res, int i)
{
    json_t *it = json_object();
    json_object_set_new(it, "id", json_string(PQgetvalue(res, i, 0)));
    json_object_set_new(it, "event", json_string(PQgetvalue(res, i, 1)));
    json_object_set_new(it, "channel", json_string(PQgetvalue(res, i, 2)));
    json_object_set_new(it, "subject",
                        PQgetisnull(res, i, 3) ? json_null() : json_string(PQgetvalue(res, i, 3)));
    json_object_set_new(it, "body", json_string(PQgetvalue(res, i, 4)));
    json_object_set_new(it, "status", json_string(PQgetvalue(res, i, 5)));
    json_object_set_new(it, "created_at", json_string(PQgetvalue(res, i, 6)));
    json_object_set_new(it, "sent_at",
                        PQgetisnull(res, i, 7) ? json_null() : json_string(PQgetvalue(res, i, 7)));
    return it;
}

enum db_status notify_repo_feed(const char *user_id, int limit, const struct notify_cursor *after,
                                json_t **items, bool *more, struct notify_cursor *last)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit + 1); /* one more tells whether a next page exists */
    const char *params[] = {user_id, lim, after ? after->at_us : NULL, after ? after->id : NULL};
    PGresult *res = NULL;
    *items = NULL;
    *more = false;
    enum db_status st = db_query(DB_READ, after ? "notify_feed_after" : "notify_feed_first",
                                 after ? 4 : 2, params, &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res);
    *more = rows > limit;
    if (*more)
        rows = limit;
    *items = json_array();
    for (int i = 0; i < rows; i++)
        json_array_append_new(*items, feed_item(res, i));
    if (rows > 0) {
        snprintf(last->at_us, sizeof last->at_us, "%s", PQgetvalue(res, rows - 1, 8));
        snprintf(last->id, sizeof last->id, "%s", PQgetvalue(res, rows - 1, 0));
    }
    PQclear(res);
    return DB_OK;
}

/* {"email":{cat:default...},"sms":{...}} with the stored rows of res applied. */
static json_t *prefs_json(const PGresult *res)
{
    json_t *out = json_object();
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++) {
        json_t *m = json_object();
        for (size_t k = 0; k < notify_ncategories; k++)
            json_object_set_new(m, notify_categories[k].name,
                                json_boolean(notify_categories[k].default_enabled));
        json_object_set_new(out, notify_channel_name((enum notify_channel)ch), m);
    }
    for (int i = 0; res && i < PQntuples(res); i++) {
        json_t *m = json_object_get(out, PQgetvalue(res, i, 0));
        const struct notify_category *cat = notify_category_find(PQgetvalue(res, i, 1));
        if (m && cat && cat->switchable)
            json_object_set_new(m, cat->name, json_boolean(PQgetvalue(res, i, 2)[0] == 't'));
    }
    return out;
}

enum db_status notify_repo_prefs_get(const char *user_id, bool fresh, json_t **prefs)
{
    const char *params[] = {user_id};
    PGresult *res = NULL;
    *prefs = NULL;
    enum db_status st = db_query(fresh ? DB_PRIMARY : DB_READ, "notify_prefs_get", 1, params, &res);
    if (st == DB_OK)
        *prefs = prefs_json(res);
    PQclear(res);
    return st;
}

/* "{a,b,c}": the values are our own channel/category names and booleans, never user text. */
static char *array_literal(const char *const *v, size_t n)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "{");
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&sb, "%s%s", i ? "," : "", v[i]);
    strbuf_puts(&sb, "}");
    return strbuf_detach(&sb, NULL);
}

enum db_status notify_repo_prefs_put(const char *user_id, const char *const *channels,
                                     const char *const *categories, const bool *enabled, size_t n)
{
    if (n == 0)
        return DB_OK;
    const char **flags = xcalloc(n, sizeof *flags);
    for (size_t i = 0; i < n; i++)
        flags[i] = enabled[i] ? "t" : "f";
    char *ch = array_literal(channels, n), *cat = array_literal(categories, n),
         *en = array_literal(flags, n);
    const char *params[] = {user_id, ch, cat, en};
    enum db_status st = db_query(DB_PRIMARY, "notify_prefs_put", 4, params, NULL);
    free(ch);
    free(cat);
    free(en);
    free(flags);
    return st;
}

long long notify_purge_expired(void)
{
    return db_exec_batches("notify_purge", 0, NULL, 1000);
}
