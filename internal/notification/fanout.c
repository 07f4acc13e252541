/* Stage 1, fan-out: lease a batch of unprocessed outbox events (SKIP LOCKED), turn each into
 * notification rows (one per recipient and channel, rendered), and in one transaction per
 * event insert them (ON CONFLICT DO NOTHING on (event, recipient, channel)) and mark the event
 * processed. Recipients' addresses are read (user_contact) between the lease and that
 * transaction, so no foreign code runs inside it. A worker that dies after the lease leaves
 * the event to the next one once the lease runs out; redoing it inserts nothing twice.
 *
 * Failures: a payload that breaks the event's contract (a missing field, a code that does not
 * open) is dead-lettered at once (processed_at set, last_error kept, logged); anything else
 * (an unknown user, the database) is retried with backoff, then dead-lettered after
 * NOTIFY_EVENT_MAX_ATTEMPTS. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/notification/internal.h"
#include "internal/user/user.h"
#include "pkg/crypto/sec.h"
#include "pkg/ids/ids.h"
#include "pkg/jobs/jobs.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

/* Checks the payload against the route's declared fields. 0, or -1 with err. */
static int check_payload(const json_t *p, const struct notify_route *r, char *err, size_t errlen)
{
    for (const struct nf_field *f = r->fields; f->name; f++) {
        if (f->flags & NF_DERIVED)
            continue;
        const json_t *v = json_object_get(p, f->name);
        if (!v || json_is_null(v)) {
            if (f->flags & NF_OPTIONAL)
                continue;
            snprintf(err, errlen, "payload field %s is missing", f->name);
            return -1;
        }
        bool ok = f->type == NF_STR    ? json_is_string(v)
                  : f->type == NF_UUID ? json_is_string(v) && ids_is_uuid(json_string_value(v))
                  : f->type == NF_BOOL ? json_is_boolean(v)
                                       : json_is_integer(v);
        if (!ok) {
            snprintf(err, errlen, "payload field %s has the wrong type", f->name);
            return -1;
        }
    }
    return 0;
}

static const char *purpose_text(const char *purpose)
{
    if (strcmp(purpose, "verify") == 0)
        return "verify your account";
    if (strcmp(purpose, "login") == 0)
        return "log in";
    if (strcmp(purpose, "reset_password") == 0)
        return "reset your password";
    return "continue";
}

/* Adds the OTP's derived fields to vars; *code gets the opened code (caller wipes and frees).
 * 0, or -1 with err (permanent: the seal does not open). */
static int otp_vars(json_t *vars, char **code, char *err, size_t errlen)
{
    const char *sealed = json_string_value(json_object_get(vars, "code_sealed"));
    *code = sealed ? sec_open(sealed) : NULL;
    if (!*code) {
        snprintf(err, errlen, "code_sealed does not open");
        return -1;
    }
    json_int_t secs = json_integer_value(json_object_get(vars, "expires_in"));
    json_object_set_new(vars, "expires_minutes", json_integer(secs > 0 ? (secs + 59) / 60 : 0));
    json_object_set_new(
        vars, "purpose_text",
        json_string(purpose_text(json_string_value(json_object_get(vars, "purpose")))));
    json_object_del(vars, "code_sealed"); /* never rendered */
    return 0;
}

struct rows {
    struct notify_row *v;
    size_t n;
};

static struct notify_row *new_row(struct rows *rs, const struct notify_route *r,
                                  enum notify_channel ch)
{
    const struct notify_category *cat = notify_category_find(r->category);
    rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof *rs->v);
    struct notify_row *row = &rs->v[rs->n++];
    memset(row, 0, sizeof *row);
    ids_uuid7(row->id);
    row->channel = ch;
    row->category = r->category;
    row->priority = r->priority;
    row->switchable = cat ? cat->switchable : true;
    row->default_enabled = cat ? cat->default_enabled : true;
    row->throttle_s = r->throttle_s;
    return row;
}

/* Renders subject (email) and body of template t with vars into row. When the route holds a
 * secret, the feed body gets the mask and the real body is sealed. 0 or -1 with err. */
static int render_into(struct notify_row *row, const struct notify_route *r,
                       const struct notify_tpl *t, json_t *vars, const char *code, char *err,
                       size_t errlen)
{
    if (!t) {
        snprintf(err, errlen, "no template for %s by %s", r->event,
                 notify_channel_name(row->channel));
        return -1;
    }
    if (row->channel == NOTIFY_EMAIL) {
        row->subject = notify_tpl_render(&t->subject, vars, TPL_ONE_LINE, r->fields, err, errlen);
        if (!row->subject)
            return -1;
    }
    if (!r->secret) {
        row->body = notify_tpl_render(&t->body, vars, 0, r->fields, err, errlen);
        return row->body ? 0 : -1;
    }
    json_object_set_new(vars, "code", json_string(NOTIFY_MASK));
    row->body = notify_tpl_render(&t->body, vars, 0, r->fields, err, errlen);
    json_object_set_new(vars, "code", json_string(code));
    char *real = row->body ? notify_tpl_render(&t->body, vars, 0, r->fields, err, errlen) : NULL;
    json_object_del(vars, "code");
    if (!real)
        return -1;
    row->body_sealed = sec_seal(real);
    sodium_memzero(real, strlen(real));
    free(real);
    if (!row->body_sealed) {
        snprintf(err, errlen, "sec_seal failed");
        return -1;
    }
    return 0;
}

/* The OTP: only the channel asked for, to the destination given. */
static int destination_rows(struct rows *rs, const json_t *p, const struct notify_route *r,
                            json_t *vars, const char *code, char *err, size_t errlen)
{
    int ch = notify_channel_parse(json_string_value(json_object_get(p, "channel")));
    const char *dest = json_string_value(json_object_get(p, "destination"));
    if (ch < 0 || !dest || !*dest) {
        snprintf(err, errlen, "channel must be email or sms, with a destination");
        return -1;
    }
    struct notify_row *row = new_row(rs, r, (enum notify_channel)ch);
    row->user_id = json_string_value(json_object_get(p, "user_id"));
    row->destination = xstrdup(dest);
    return render_into(row, r, notify_template(r, 0, (enum notify_channel)ch), vars, code, err,
                       errlen);
}

/* A user recipient: every channel the user has verified an address for (an address nobody
 * proved is theirs gets nothing but its verification code, which goes to_destination). 0, -1
 * with err (*permanent says whether it is worth retrying). */
static int user_rows(struct db_conn *c, struct rows *rs, const json_t *p,
                     const struct notify_route *r, size_t i, json_t *vars, bool *permanent,
                     char *err, size_t errlen)
{
    const char *uid = json_string_value(json_object_get(p, r->recipients[i].user_field));
    struct user_contact_info ci;
    if (user_contact(c, uid, &ci) != 0) {
        snprintf(err, errlen, "no contact for user %s (%s)", uid, r->recipients[i].user_field);
        *permanent = false;
        return -1;
    }
    const char *addr[NOTIFY_NCHANNELS] = {NULL, NULL};
    addr[NOTIFY_EMAIL] = ci.email_verified ? ci.email : NULL;
    addr[NOTIFY_SMS] = ci.phone_verified ? ci.phone : NULL;
    const char *name = ci.name;
    json_object_set_new(vars, "recipient_name", json_string(name ? name : ""));
    int rc = 0;
    for (int ch = 0; ch < NOTIFY_NCHANNELS && rc == 0; ch++) {
        if (!addr[ch] || !*addr[ch])
            continue;
        struct notify_row *row = new_row(rs, r, (enum notify_channel)ch);
        row->user_id = uid;
        row->destination = xstrdup(addr[ch]);
        row->recipient_name = name ? xstrdup(name) : NULL;
        row->throttle_key =
            r->throttle_field ? json_string_value(json_object_get(p, r->throttle_field)) : NULL;
        rc = render_into(row, r, notify_template(r, i, (enum notify_channel)ch), vars, NULL, err,
                         errlen);
    }
    user_contact_cleanup(&ci);
    return rc;
}

int notify_event_rows(struct db_conn *c, const struct notify_event *e, const struct notify_route *r,
                      struct notify_row **out, size_t *n, bool *permanent, char *err, size_t errlen)
{
    struct rows rs = {NULL, 0};
    char *code = NULL;
    int rc = -1;
    json_t *vars = NULL;
    *permanent = true;
    if (!json_is_object(e->payload)) {
        snprintf(err, errlen, "payload is not a JSON object");
        goto out;
    }
    if (check_payload(e->payload, r, err, errlen) != 0)
        goto out;
    vars = json_deep_copy(e->payload);
    json_object_set_new(vars, "app_url", json_string(notify_app_url()));
    if (r->to_destination) {
        rc = otp_vars(vars, &code, err, errlen);
        if (rc == 0)
            rc = destination_rows(&rs, e->payload, r, vars, code, err, errlen);
        goto out;
    }
    rc = 0;
    for (size_t i = 0; i < r->nrecipients && rc == 0; i++)
        rc = user_rows(c, &rs, e->payload, r, i, vars, permanent, err, errlen);
out:
    if (code) {
        sodium_memzero(code, strlen(code));
        free(code);
    }
    json_decref(vars);
    if (rc != 0) {
        for (size_t i = 0; i < rs.n; i++)
            notify_row_cleanup(&rs.v[i]);
        free(rs.v);
        rs.v = NULL;
        rs.n = 0;
    }
    *out = rs.v;
    *n = rs.n;
    return rc;
}

struct commit_txn {
    const struct notify_event *e;
    struct notify_row *rows;
    size_t n;
    const char *last_error;
    int inserted, inserted_priority;
};

static enum db_status commit_txn(struct db_conn *c, void *arg)
{
    struct commit_txn *t = arg;
    t->inserted = t->inserted_priority = 0; /* the transaction may run again */
    for (size_t i = 0; i < t->n; i++) {
        bool added = false;
        enum db_status st = notify_repo_insert(c, t->e, &t->rows[i], &added);
        if (st != DB_OK)
            return st;
        t->inserted += added;
        t->inserted_priority += added && t->rows[i].priority;
    }
    enum db_status st = notify_repo_event_done(c, t->e, t->last_error);
    if (st == DB_OK && t->inserted > t->inserted_priority)
        st = notify_repo_wake(c);
    return st;
}

/* One transaction: inserts the rows the preferences, the throttle and the unique key allow,
 * marks the event processed (with last_error when not NULL: a dead letter) and wakes the
 * normal lane when a row of it was inserted (the fast lane sends its own rows right after).
 * *inserted and *inserted_priority (either may be NULL) get how many rows were inserted, and
 * how many of them in the fast lane. */
static enum db_status commit_event(const struct notify_event *e, struct notify_row *rows, size_t n,
                                   const char *last_error, int *inserted, int *inserted_priority)
{
    struct commit_txn t = {.e = e, .rows = rows, .n = n, .last_error = last_error};
    enum db_status st = db_txn(DB_PRIMARY, commit_txn, &t);
    if (inserted)
        *inserted = st == DB_OK ? t.inserted : 0;
    if (inserted_priority)
        *inserted_priority = st == DB_OK ? t.inserted_priority : 0;
    return st;
}

static void dead_letter(const struct notify_event *e, const char *why)
{
    log_error("notify_event_dead", "event %s (%s) dropped after %d attempt(s): %s", e->event_id,
              e->type, e->attempts, why);
    if (commit_event(e, NULL, 0, why, NULL, NULL) != DB_OK)
        log_warn("notify_event_dead", "event %s: could not record the failure", e->event_id);
}

static void retry_later(struct db_conn *c, const struct notify_event *e, const char *why)
{
    int delay_s = (int)((notify_backoff_ms(e->attempts, randombytes_random()) + 999) / 1000);
    log_warn("notify_event_retry", "event %s (%s), attempt %d: %s; again in %d s", e->event_id,
             e->type, e->attempts, why, delay_s);
    notify_repo_event_retry(c, e, delay_s, why);
}

/* After the rows could not be stored: the lease runs out when the database is gone (the next
 * batch retries it); otherwise retried with backoff, or dead-lettered on the last attempt.
 * Returns -1 when the database is gone, else 0. */
static int commit_failed(struct db_conn *c, const struct notify_event *e, enum db_status st)
{
    if (st == DB_UNAVAILABLE)
        return -1;
    char err[NOTIFY_ERR_LEN];
    snprintf(err, sizeof err, "storing the notifications failed (%s)", db_last_sqlstate());
    if (e->attempts >= NOTIFY_EVENT_MAX_ATTEMPTS)
        dead_letter(e, err);
    else
        retry_later(c, e, err);
    return 0;
}

/* Processes one leased event; c is the batch's connection (user lookups, retries). Returns 0,
 * or -1 when the database failed. */
static int process_event(struct db_conn *c, const struct notify_event *e)
{
    const struct notify_route *r = notify_route_find(e->type);
    char err[NOTIFY_ERR_LEN] = "";
    struct notify_row *rows = NULL;
    size_t n = 0;
    bool permanent = true;
    if (e->attempts > NOTIFY_EVENT_MAX_ATTEMPTS) { /* its processing never finished */
        dead_letter(e, "gave up: earlier attempts ended without an outcome (worker crashes?)");
        return 0;
    }
    if (!r) { /* not an event that notifies anyone */
        log_debug("notify_event_ignored", "event %s of type %s", e->event_id, e->type);
        return commit_event(e, NULL, 0, NULL, NULL, NULL) == DB_OK ? 0 : -1;
    }
    if (notify_event_rows(c, e, r, &rows, &n, &permanent, err, sizeof err) != 0) {
        if (permanent || e->attempts >= NOTIFY_EVENT_MAX_ATTEMPTS)
            dead_letter(e, err);
        else
            retry_later(c, e, err);
        return 0;
    }
    int inserted = 0, inserted_priority = 0;
    enum db_status st = commit_event(e, rows, n, NULL, &inserted, &inserted_priority);
    for (size_t i = 0; i < n; i++)
        notify_row_cleanup(&rows[i]);
    free(rows);
    if (st != DB_OK)
        return commit_failed(c, e, st);
    if (inserted > inserted_priority)
        jobs_wake(NOTIFY_JOB_DELIVER);
    return 0;
}

int notify_fanout_batch(bool priority, int max)
{
    struct db_conn *c = db_conn(DB_PRIMARY); /* the lease, the user lookups and the retries */
    struct notify_event *ev = NULL;
    size_t n = 0;
    if (notify_repo_claim_events(c, priority, max, &ev, &n) != DB_OK)
        return -1;
    int rc = (int)n;
    for (size_t i = 0; i < n; i++) {
        if (process_event(c, &ev[i]) != 0)
            rc = -1;
        notify_event_cleanup(&ev[i]);
    }
    free(ev);
    return rc;
}
