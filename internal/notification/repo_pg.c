/* The notification module's SQL: outbox claims (fan-out), notification rows (delivery),
 * the feed and the preferences. Tables: notifications, notification_preferences (ours);
 * outbox_events (shared: we lease, process and dead-letter its rows). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/notification/internal.h"
#include "internal/notification/notification.h"
#include "pkg/json/jsonh.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

/* Rows notify_purge deletes a call; db_exec_batches stops after a call that deletes fewer. */
#define PURGE_BATCH 1000

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define CLAIM_EVENTS(filter)                                                             \
    "WITH c AS (SELECT id FROM outbox_events WHERE processed_at IS NULL AND " filter     \
    " AND (locked_until IS NULL OR locked_until <= now()) ORDER BY id LIMIT $1::int "    \
    "FOR UPDATE SKIP LOCKED) "                                                           \
    "UPDATE outbox_events e SET locked_until = now() + make_interval(secs => $2::int), " \
    "attempts = e.attempts + 1 FROM c WHERE e.id = c.id "                                \
    "RETURNING e.id, e.event_id, e.type, e.payload::text, e.created_at::text, e.attempts"

/* The feed of user $1, newest first; columns as enum feed_col. */
/* clang-format off */
#define FEED_SELECT                                                                      \
    "SELECT id, event_type, channel, subject, body, status, " RFC3339("created_at") ", " \
    RFC3339("sent_at") ", (extract(epoch FROM created_at) * 1000000)::bigint "           \
    "FROM notifications WHERE user_id = $1::uuid "
/* clang-format on */

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
     "n.body, n.body_sealed, " RFC3339(
         "n.created_at") ", n.attempts, "
                         "(SELECT o.trace_id FROM outbox_events o WHERE o.event_id = n.event_id)"},
    {"notify_mark_sent",
     "UPDATE notifications SET status = 'sent', sent_at = now(), locked_until = NULL, "
     "body_sealed = NULL, last_error = NULL WHERE id = $1::uuid AND status = 'queued' "
     "RETURNING (extract(epoch FROM clock_timestamp() - event_created_at) * 1000000)::bigint"},
    {"notify_mark_retry",
     "UPDATE notifications SET next_attempt_at = now() + make_interval(secs => $2::float8), "
     "locked_until = NULL, last_error = $3 "
     "WHERE id = $1::uuid AND status = 'queued' AND attempts = $4::int"},
    {"notify_mark_failed",
     "UPDATE notifications SET status = 'failed', locked_until = NULL, body_sealed = NULL, "
     "last_error = $2 WHERE id = $1::uuid AND status = 'queued' AND attempts = $3::int"},
    {"notify_feed_first", FEED_SELECT "ORDER BY created_at DESC, id DESC LIMIT $2::int"},
    {"notify_feed_after",
     FEED_SELECT "AND (created_at, id) < "
                 "(timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::uuid) "
                 "ORDER BY created_at DESC, id DESC LIMIT $2::int"},
    /* clang-format off */
    {"notify_purge",
     "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications "
     "WHERE status <> 'queued' "
     "AND created_at < now() - interval '" DB_STR(NOTIFY_RETENTION_DAYS) " days' "
     "ORDER BY created_at LIMIT " DB_STR(PURGE_BATCH) ")"},
    /* clang-format on */
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

/* Columns of notify_claim_events / notify_claim_events_priority. */
enum { EV_ROW_ID, EV_EVENT_ID, EV_TYPE, EV_PAYLOAD, EV_CREATED_AT, EV_ATTEMPTS };

void notify_event_cleanup(struct notify_event *e)
{
    free(e->row_id);
    free(e->event_id);
    free(e->type);
    free(e->created_at);
    json_decref(e->payload);
    memset(e, 0, sizeof *e);
}

static void event_from_row(const PGresult *res, int i, struct notify_event *e)
{
    const char *payload = db_col_str(res, i, EV_PAYLOAD);
    e->row_id = db_col_strdup(res, i, EV_ROW_ID);
    e->event_id = db_col_strdup(res, i, EV_EVENT_ID);
    e->type = db_col_strdup(res, i, EV_TYPE);
    e->payload = payload ? json_loads(payload, JSON_REJECT_DUPLICATES, NULL) : NULL;
    e->created_at = db_col_strdup(res, i, EV_CREATED_AT);
    e->attempts = (int)db_col_ll(res, i, EV_ATTEMPTS);
}

enum db_status notify_repo_claim_events(struct db_conn *c, bool priority, int max,
                                        struct notify_event **out, size_t *n)
{
    char smax[16], lease[16];
    snprintf(smax, sizeof smax, "%d", max);
    snprintf(lease, sizeof lease, "%d", NOTIFY_EVENT_LEASE_S);
    const char *params[] = {smax, lease};
    PGresult *res = NULL;
    *out = NULL;
    *n = 0;
    enum db_status st =
        db_exec(c, priority ? "notify_claim_events_priority" : "notify_claim_events",
                DB_PARAMS(params), &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res);
    struct notify_event *ev = rows ? xcalloc((size_t)rows, sizeof *ev) : NULL;
    for (int i = 0; i < rows; i++)
        event_from_row(res, i, &ev[i]);
    PQclear(res);
    *out = ev;
    *n = (size_t)rows;
    return DB_OK;
}

enum db_status notify_repo_event_retry(struct db_conn *c, const struct notify_event *e, int delay_s,
                                       const char *why)
{
    char delay[16];
    snprintf(delay, sizeof delay, "%d", delay_s);
    const char *params[] = {e->row_id, delay, why};
    return db_exec(c, "notify_event_retry", DB_PARAMS(params), NULL);
}

enum db_status notify_repo_event_done(struct db_conn *c, const struct notify_event *e,
                                      const char *last_error)
{
    const char *params[] = {e->row_id, last_error};
    return db_exec(c, "notify_event_done", DB_PARAMS(params), NULL);
}

enum db_status notify_repo_wake(struct db_conn *c)
{
    const char *params[] = {"normal"};
    return db_exec(c, "notify_wake", DB_PARAMS(params), NULL);
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

/* Serialises the throttle check of one (user, channel, throttle key) until commit. */
static enum db_status throttle_lock(struct db_conn *c, const struct notify_row *r)
{
    char *lock = xasprintf("notify:%s:%d:%s", r->user_id, (int)r->channel, r->throttle_key);
    const char *params[] = {lock};
    enum db_status st = db_exec(c, "notify_throttle_lock", DB_PARAMS(params), NULL);
    free(lock);
    return st;
}

enum db_status notify_repo_insert(struct db_conn *c, const struct notify_event *e,
                                  const struct notify_row *r, bool *added)
{
    char throttle_s[16];
    snprintf(throttle_s, sizeof throttle_s, "%d", r->throttle_s);
    *added = false;
    enum db_status st = r->throttle_key && r->user_id ? throttle_lock(c, r) : DB_OK;
    if (st != DB_OK)
        return st;
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
    st = db_exec(c, "notify_insert", DB_PARAMS(params), &res);
    if (st == DB_OK)
        *added = PQntuples(res) == 1;
    PQclear(res);
    return st;
}

/* Columns of notify_claim. */
enum {
    CL_ID,
    CL_EVENT,
    CL_CHANNEL,
    CL_DESTINATION,
    CL_RECIPIENT_NAME,
    CL_SUBJECT,
    CL_BODY,
    CL_BODY_SEALED,
    CL_CREATED_AT,
    CL_ATTEMPTS,
    CL_TRACE_ID
};

void notify_claimed_cleanup(struct notify_claimed *c)
{
    char **all[] = {&c->id,      &c->event, &c->channel,     &c->destination, &c->recipient_name,
                    &c->subject, &c->body,  &c->body_sealed, &c->created_at};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
}

static void claimed_from_row(const PGresult *res, struct notify_claimed *out)
{
    out->id = db_col_strdup(res, 0, CL_ID);
    out->event = db_col_strdup(res, 0, CL_EVENT);
    out->channel = db_col_strdup(res, 0, CL_CHANNEL);
    out->destination = db_col_strdup(res, 0, CL_DESTINATION);
    out->recipient_name = db_col_strdup(res, 0, CL_RECIPIENT_NAME);
    out->subject = db_col_strdup(res, 0, CL_SUBJECT);
    out->body = db_col_strdup(res, 0, CL_BODY);
    out->body_sealed = db_col_strdup(res, 0, CL_BODY_SEALED);
    out->created_at = db_col_strdup(res, 0, CL_CREATED_AT);
    out->attempts = (int)db_col_ll(res, 0, CL_ATTEMPTS);
    db_col_copy(res, 0, CL_TRACE_ID, out->trace_id, sizeof out->trace_id);
}

enum db_status notify_repo_claim(struct db_conn *c, bool priority, struct notify_claimed *out)
{
    char lease[16];
    snprintf(lease, sizeof lease, "%d", NOTIFY_LEASE_S);
    const char *params[] = {priority ? "true" : "false", lease};
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    enum db_status st = db_exec(c, "notify_claim", DB_PARAMS(params), &res);
    if (st != DB_OK)
        return st;
    if (PQntuples(res) == 1)
        claimed_from_row(res, out);
    else
        st = DB_NOT_FOUND;
    PQclear(res);
    return st;
}

enum db_status notify_repo_mark_sent(struct db_conn *c, const char *id, double *latency_s)
{
    const char *params[] = {id};
    PGresult *res = NULL;
    *latency_s = -1;
    enum db_status st = db_exec(c, "notify_mark_sent", DB_PARAMS(params), &res);
    if (st != DB_OK)
        return st;
    if (PQntuples(res) != 1)
        st = DB_NOT_FOUND;
    else if (!db_col_is_null(res, 0, 0)) /* one column: the latency in microseconds */
        *latency_s = (double)db_col_ll(res, 0, 0) / 1e6;
    PQclear(res);
    return st;
}

enum db_status notify_repo_mark_retry(struct db_conn *c, const char *id, int attempts,
                                      double delay_s, const char *why)
{
    char delay[32], att[16];
    snprintf(delay, sizeof delay, "%.3f", delay_s);
    snprintf(att, sizeof att, "%d", attempts);
    const char *params[] = {id, delay, why, att};
    return db_exec(c, "notify_mark_retry", DB_PARAMS(params), NULL);
}

enum db_status notify_repo_mark_failed(struct db_conn *c, const char *id, int attempts,
                                       const char *why)
{
    char att[16];
    snprintf(att, sizeof att, "%d", attempts);
    const char *params[] = {id, why, att};
    return db_exec(c, "notify_mark_failed", DB_PARAMS(params), NULL);
}

/* Columns of notify_feed_first / notify_feed_after (FEED_SELECT). */
enum feed_col {
    FEED_ID,
    FEED_EVENT,
    FEED_CHANNEL,
    FEED_SUBJECT,
    FEED_BODY,
    FEED_STATUS,
    FEED_CREATED_AT,
    FEED_SENT_AT,
    FEED_CREATED_US
};

static json_t *feed_item(const PGresult *res, int i)
{
    static const struct {
        const char *name;
        int col;
    } members[] = {
        {"id", FEED_ID},
        {"event", FEED_EVENT},
        {"channel", FEED_CHANNEL},
        {"subject", FEED_SUBJECT},
        {"body", FEED_BODY},
        {"status", FEED_STATUS},
        {"created_at", FEED_CREATED_AT},
        {"sent_at", FEED_SENT_AT},
    };
    json_t *it = json_object();
    for (size_t m = 0; m < sizeof members / sizeof members[0]; m++)
        json_object_set_new(it, members[m].name,
                            jsonh_string_or_null(db_col_str(res, i, members[m].col)));
    return it;
}

enum db_status notify_repo_feed(struct db_conn *c, const char *user_id, int limit,
                                const struct page_key *after, json_t **items, bool *more,
                                struct page_key *last)
{
    char lim[16], at_us[24] = "";
    snprintf(lim, sizeof lim, "%d", limit + 1); /* one more tells whether a next page exists */
    if (after)
        snprintf(at_us, sizeof at_us, "%" PRId64, after->key);
    const char *first[] = {user_id, lim};
    const char *next[] = {user_id, lim, at_us, after ? after->id : NULL};
    PGresult *res = NULL;
    *items = NULL;
    *more = false;
    enum db_status st = after ? db_exec(c, "notify_feed_after", DB_PARAMS(next), &res)
                              : db_exec(c, "notify_feed_first", DB_PARAMS(first), &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res);
    *more = rows > limit;
    if (*more)
        rows = limit;
    *items = json_array();
    for (int i = 0; i < rows; i++)
        json_array_append_new(*items, feed_item(res, i));
    if (*more) {
        last->key = db_col_ll(res, rows - 1, FEED_CREATED_US);
        db_col_copy(res, rows - 1, FEED_ID, last->id, sizeof last->id);
    }
    PQclear(res);
    return DB_OK;
}

/* Columns of notify_prefs_get. */
enum { PREF_CHANNEL, PREF_CATEGORY, PREF_ENABLED };

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
        const char *channel = db_col_str(res, i, PREF_CHANNEL);
        const char *category = db_col_str(res, i, PREF_CATEGORY);
        json_t *m = channel ? json_object_get(out, channel) : NULL;
        const struct notify_category *cat = category ? notify_category_find(category) : NULL;
        if (m && cat && cat->switchable)
            json_object_set_new(m, cat->name, json_boolean(db_col_bool(res, i, PREF_ENABLED)));
    }
    return out;
}

enum db_status notify_repo_prefs_get(struct db_conn *c, const char *user_id, json_t **prefs)
{
    const char *params[] = {user_id};
    PGresult *res = NULL;
    *prefs = NULL;
    enum db_status st = db_exec(c, "notify_prefs_get", DB_PARAMS(params), &res);
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

enum db_status notify_repo_prefs_put(struct db_conn *c, const char *user_id,
                                     const char *const *channels, const char *const *categories,
                                     const bool *enabled, size_t n)
{
    if (n == 0)
        return DB_OK;
    const char **flags = xcalloc(n, sizeof *flags);
    for (size_t i = 0; i < n; i++)
        flags[i] = enabled[i] ? "t" : "f";
    char *ch = array_literal(channels, n), *cat = array_literal(categories, n),
         *en = array_literal(flags, n);
    const char *params[] = {user_id, ch, cat, en};
    enum db_status st = db_exec(c, "notify_prefs_put", DB_PARAMS(params), NULL);
    free(ch);
    free(cat);
    free(en);
    free(flags);
    return st;
}

long long notify_purge_expired(void)
{
    return db_exec_batches("notify_purge", 0, NULL, PURGE_BATCH);
}
