/* The payment module's statements on payments, payment_refunds, webhook_events and
 * sandbox_webhooks. Jobs lease a row by pushing its next_attempt_at ahead (FOR UPDATE SKIP
 * LOCKED, so any number of workers share the queue); the statements that queue work also
 * NOTIFY PAYMENT_CHANNEL, delivered at COMMIT. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"

#define PAYMENT_COLS                                                                     \
    "id, order_id, buyer_id, seller_id, status, method, amount_minor, currency, "        \
    "commission_minor, provider, provider_ref, checkout_url, coalesce(return_url, ''), " \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define LEASE "now() + interval '" DB_STR(PAYMENT_LEASE_S) " seconds'"

static const struct db_stmt stmts[] = {
    {"payment_insert",
     "INSERT INTO payments (id, order_id, buyer_id, seller_id, method, amount_minor, currency, "
     "commission_minor, provider, provider_ref, checkout_url, return_url) VALUES ($1::uuid, "
     "$2::uuid, $3::uuid, $4::uuid, $5, $6::bigint, $7, $8::bigint, $9, $10, $11, $12)"},
    {"payment_set_checkout",
     "UPDATE payments SET provider_ref = $2, checkout_url = $3, updated_at = now() "
     "WHERE id = $1::uuid"},
    {"payment_get", "SELECT " PAYMENT_COLS " FROM payments WHERE id = $1::uuid"},
    {"payment_get_by_ref",
     "SELECT " PAYMENT_COLS " FROM payments WHERE provider = $1 AND provider_ref = $2 FOR UPDATE"},
    {"payment_get_locked", "SELECT " PAYMENT_COLS " FROM payments WHERE id = $1::uuid FOR UPDATE"},
    {"payment_succeeded_of_order",
     "SELECT " PAYMENT_COLS " FROM payments WHERE order_id = $1::uuid AND status = 'succeeded' "
     "FOR UPDATE"},
    {"payment_set_status",
     "UPDATE payments SET status = $2, updated_at = now(), "
     "succeeded_at = CASE WHEN $2 = 'succeeded' THEN now() ELSE succeeded_at END "
     "WHERE id = $1::uuid"},
    {"payment_event_insert",
     "INSERT INTO webhook_events (provider, event_id, type, payment_id, body, outcome) "
     "VALUES ($1, $2, $3, $4::uuid, $5::bytea, $6) ON CONFLICT DO NOTHING"},
    {"payment_event_outcome",
     "UPDATE webhook_events SET outcome = $3 WHERE provider = $1 AND event_id = $2"},
    {"payment_refunds_failed",
     "SELECT id, payment_id, order_id, amount_minor, currency, attempts, last_error, reason, "
     "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
     "FROM payment_refunds WHERE status = 'failed' ORDER BY created_at DESC, id DESC LIMIT 1000"},
    {"payment_refund_insert",
     "WITH ins AS (INSERT INTO payment_refunds (id, payment_id, order_id, amount_minor, "
     "currency, reason) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::bigint, $5, $6) RETURNING id) "
     "SELECT pg_notify('" PAYMENT_CHANNEL "', 'refund') FROM ins"},
    {"payment_refund_claim",
     "UPDATE payment_refunds r SET attempts = r.attempts + 1, next_attempt_at = " LEASE " "
     "FROM payments p WHERE p.id = r.payment_id AND r.id = (SELECT id FROM payment_refunds "
     "WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at "
     "LIMIT 1 FOR UPDATE SKIP LOCKED) "
     "RETURNING r.id, r.payment_id, r.order_id, p.provider_ref, r.amount_minor, r.currency, "
     "r.attempts"},
    {"payment_refund_processed",
     "UPDATE payment_refunds SET status = 'processed', provider_ref = $2, processed_at = now(), "
     "last_error = NULL WHERE id = $1::uuid AND status = 'pending'"},
    {"payment_refund_retry", "UPDATE payment_refunds SET last_error = $4, "
                             "status = CASE WHEN $3::bool THEN 'failed' ELSE status END, "
                             "next_attempt_at = now() + make_interval(secs => $2::int) "
                             "WHERE id = $1::uuid AND status = 'pending'"},
    {"payment_reconcile_claim",
     "UPDATE payments SET updated_at = now() WHERE id = (SELECT id FROM payments WHERE "
     "provider = $1 AND status IN ('requires_action', 'processing') AND provider_ref NOT LIKE "
     "'pending:%' AND updated_at <= now() - $2::bigint * interval '1 second' ORDER BY updated_at "
     "LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, provider_ref, amount_minor, currency"},
    {"payment_sandbox_enqueue",
     "WITH ins AS (INSERT INTO sandbox_webhooks (id, event_id, payment_id, body) "
     "VALUES ($1::uuid, $2, $3::uuid, $4) RETURNING id) "
     "SELECT pg_notify('" PAYMENT_CHANNEL "', 'sandbox') FROM ins"},
    {"payment_sandbox_claim",
     "UPDATE sandbox_webhooks SET attempts = attempts + 1, next_attempt_at = " LEASE " "
     "WHERE id = (SELECT id FROM sandbox_webhooks WHERE status = 'pending' "
     "AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
     "RETURNING id, body, attempts"},
    {"payment_sandbox_done",
     "UPDATE sandbox_webhooks SET status = 'delivered', delivered_at = now(), last_error = NULL "
     "WHERE id = $1::uuid"},
    {"payment_sandbox_retry",
     "UPDATE sandbox_webhooks SET last_error = $4, "
     "status = CASE WHEN $3::bool THEN 'failed' ELSE status END, "
     "next_attempt_at = now() + make_interval(secs => $2::int) WHERE id = $1::uuid"},
    {"payment_sandbox_latest",
     "SELECT w.body::json->>'type' FROM sandbox_webhooks w JOIN payments p ON p.id = w.payment_id "
     "WHERE p.provider = 'sandbox' AND p.provider_ref = $1 ORDER BY w.created_at DESC LIMIT 1"},
};

/* Result columns of PAYMENT_COLS. */
enum payment_col {
    COL_ID,
    COL_ORDER_ID,
    COL_BUYER_ID,
    COL_SELLER_ID,
    COL_STATUS,
    COL_METHOD,
    COL_AMOUNT,
    COL_CURRENCY,
    COL_COMMISSION,
    COL_PROVIDER,
    COL_PROVIDER_REF,
    COL_CHECKOUT_URL,
    COL_RETURN_URL,
    COL_CREATED_AT,
};
/* Result columns of payment_refunds_failed. */
enum failed_refund_col {
    FR_ID,
    FR_PAYMENT_ID,
    FR_ORDER_ID,
    FR_AMOUNT,
    FR_CURRENCY,
    FR_ATTEMPTS,
    FR_LAST_ERROR,
    FR_REASON,
    FR_CREATED_AT,
};

/* Result columns of payment_refund_claim. */
enum refund_claim_col {
    RC_ID,
    RC_PAYMENT_ID,
    RC_ORDER_ID,
    RC_PROVIDER_REF,
    RC_AMOUNT,
    RC_CURRENCY,
    RC_ATTEMPTS,
};
/* Result columns of payment_sandbox_claim. */
enum sandbox_claim_col { SC_ID, SC_BODY, SC_ATTEMPTS };
/* Result columns of payment_sandbox_latest. */
enum sandbox_latest_col { SL_TYPE };

void payment_repo_register(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

static void read_payment(const PGresult *res, struct payment_row *p)
{
    db_col_copy(res, 0, COL_ID, p->id, sizeof p->id);
    db_col_copy(res, 0, COL_ORDER_ID, p->order_id, sizeof p->order_id);
    db_col_copy(res, 0, COL_BUYER_ID, p->buyer_id, sizeof p->buyer_id);
    db_col_copy(res, 0, COL_SELLER_ID, p->seller_id, sizeof p->seller_id);
    db_col_copy(res, 0, COL_STATUS, p->status, sizeof p->status);
    db_col_copy(res, 0, COL_METHOD, p->method, sizeof p->method);
    p->amount_minor = db_col_ll(res, 0, COL_AMOUNT);
    db_col_copy(res, 0, COL_CURRENCY, p->currency, sizeof p->currency);
    p->commission_minor = db_col_ll(res, 0, COL_COMMISSION);
    db_col_copy(res, 0, COL_PROVIDER, p->provider, sizeof p->provider);
    db_col_copy(res, 0, COL_PROVIDER_REF, p->provider_ref, sizeof p->provider_ref);
    db_col_copy(res, 0, COL_CHECKOUT_URL, p->checkout_url, sizeof p->checkout_url);
    db_col_copy(res, 0, COL_RETURN_URL, p->return_url, sizeof p->return_url);
    db_col_copy(res, 0, COL_CREATED_AT, p->created_at, sizeof p->created_at);
}

/* One payment row of stmt into out; DB_NOT_FOUND when none. */
static enum db_status one_payment(struct db_conn *c, const char *stmt, const char *arg,
                                  struct payment_row *out)
{
    PGresult *res = NULL;
    const char *p[] = {arg};
    enum db_status st = db_exec(c, stmt, DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK)
        read_payment(res, out);
    PQclear(res);
    return st;
}

enum db_status payment_repo_insert(struct db_conn *c, const struct payment_row *p)
{
    char amount[24], commission[24];
    snprintf(amount, sizeof amount, "%" PRId64, p->amount_minor);
    snprintf(commission, sizeof commission, "%" PRId64, p->commission_minor);
    const char *v[] = {p->id,           p->order_id,     p->buyer_id,
                       p->seller_id,    p->method,       amount,
                       p->currency,     commission,      p->provider,
                       p->provider_ref, p->checkout_url, p->return_url[0] ? p->return_url : NULL};
    return db_exec(c, "payment_insert", DB_PARAMS(v), NULL);
}

enum db_status payment_repo_set_checkout(struct db_conn *c, const char *id,
                                         const char *provider_ref, const char *url)
{
    const char *v[] = {id, provider_ref, url};
    return db_exec(c, "payment_set_checkout", DB_PARAMS(v), NULL);
}

enum db_status payment_repo_get_by_ref(struct db_conn *c, const char *provider,
                                       const char *provider_ref, struct payment_row *out)
{
    PGresult *res = NULL;
    const char *v[] = {provider, provider_ref};
    enum db_status st = db_exec(c, "payment_get_by_ref", DB_PARAMS(v), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK)
        read_payment(res, out);
    PQclear(res);
    return st;
}

enum db_status payment_repo_get(struct db_conn *c, const char *id, bool lock,
                                struct payment_row *out)
{
    return one_payment(c, lock ? "payment_get_locked" : "payment_get", id, out);
}

enum db_status payment_repo_succeeded_of_order(struct db_conn *c, const char *order_id,
                                               struct payment_row *out)
{
    return one_payment(c, "payment_succeeded_of_order", order_id, out);
}

enum db_status payment_repo_set_status(struct db_conn *c, const char *id, const char *status)
{
    const char *p[] = {id, status};
    return db_exec(c, "payment_set_status", DB_PARAMS(p), NULL);
}

enum db_status payment_repo_event_insert(struct db_conn *c, const char *provider,
                                         const struct payment_event *ev, const char *body,
                                         size_t len, const char *outcome, bool *fresh)
{
    PGresult *res = NULL;
    const char *p[] = {provider,         ev->id,
                       ev->type,         ev->payment_id[0] ? ev->payment_id : NULL,
                       body ? body : "", outcome};
    int lengths[] = {0, 0, 0, 0, (int)len, 0}, formats[] = {0, 0, 0, 0, 1, 0};
    enum db_status st =
        db_exec_params(c, "payment_event_insert", DB_PARAMS(p), lengths, formats, &res);
    *fresh = st == DB_OK && strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return st;
}

enum db_status payment_repo_event_outcome(struct db_conn *c, const char *provider,
                                          const char *event_id, const char *outcome)
{
    const char *p[] = {provider, event_id, outcome};
    return db_exec(c, "payment_event_outcome", DB_PARAMS(p), NULL);
}

enum db_status payment_repo_refund_insert(struct db_conn *c, const char *refund_id,
                                          const struct payment_row *pay, const char *reason)
{
    char amount[24];
    snprintf(amount, sizeof amount, "%" PRId64, pay->amount_minor);
    const char *p[] = {refund_id, pay->id, pay->order_id, amount, pay->currency, reason};
    return db_exec(c, "payment_refund_insert", DB_PARAMS(p), NULL);
}

enum db_status payment_repo_refund_claim(struct db_conn *c, struct payment_refund_claim *out)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "payment_refund_claim", 0, NULL, &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK) {
        db_col_copy(res, 0, RC_ID, out->id, sizeof out->id);
        db_col_copy(res, 0, RC_PAYMENT_ID, out->payment_id, sizeof out->payment_id);
        db_col_copy(res, 0, RC_ORDER_ID, out->order_id, sizeof out->order_id);
        db_col_copy(res, 0, RC_PROVIDER_REF, out->provider_ref, sizeof out->provider_ref);
        out->amount_minor = db_col_ll(res, 0, RC_AMOUNT);
        db_col_copy(res, 0, RC_CURRENCY, out->currency, sizeof out->currency);
        out->attempts = (int)db_col_ll(res, 0, RC_ATTEMPTS);
    }
    PQclear(res);
    return st;
}

enum { RK_ID, RK_PROVIDER_REF, RK_AMOUNT, RK_CURRENCY };

enum db_status payment_repo_reconcile_claim(struct db_conn *c, const char *provider,
                                            int64_t after_s, struct payment_reconcile_claim *out)
{
    PGresult *res = NULL;
    char after[24];
    snprintf(after, sizeof after, "%" PRId64, after_s);
    const char *p[] = {provider, after};
    enum db_status st = db_exec(c, "payment_reconcile_claim", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK) {
        db_col_copy(res, 0, RK_ID, out->id, sizeof out->id);
        db_col_copy(res, 0, RK_PROVIDER_REF, out->provider_ref, sizeof out->provider_ref);
        out->amount_minor = db_col_ll(res, 0, RK_AMOUNT);
        db_col_copy(res, 0, RK_CURRENCY, out->currency, sizeof out->currency);
    }
    PQclear(res);
    return st;
}

enum db_status payment_repo_refund_processed(struct db_conn *c, const char *id, const char *ref,
                                             bool *changed)
{
    PGresult *res = NULL;
    const char *p[] = {id, ref};
    enum db_status st = db_exec(c, "payment_refund_processed", DB_PARAMS(p), &res);
    *changed = st == DB_OK && strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return st;
}

/* The retry statements share their parameters: id, delay, final, error. */
static enum db_status retry(struct db_conn *c, const char *stmt, const char *id, int delay_s,
                            bool final, const char *error)
{
    char delay[16];
    snprintf(delay, sizeof delay, "%d", delay_s);
    const char *p[] = {id, delay, final ? "t" : "f", error};
    return db_exec(c, stmt, DB_PARAMS(p), NULL);
}

enum db_status payment_repo_refund_retry(struct db_conn *c, const char *id, int delay_s, bool final,
                                         const char *error)
{
    return retry(c, "payment_refund_retry", id, delay_s, final, error);
}

enum db_status payment_repo_sandbox_enqueue(struct db_conn *c, const char *id, const char *event_id,
                                            const char *payment_id, const char *body)
{
    const char *p[] = {id, event_id, payment_id, body};
    return db_exec(c, "payment_sandbox_enqueue", DB_PARAMS(p), NULL);
}

enum db_status payment_repo_sandbox_claim(struct db_conn *c, struct payment_sandbox_claim *out)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "payment_sandbox_claim", 0, NULL, &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK) {
        db_col_copy(res, 0, SC_ID, out->id, sizeof out->id);
        out->body = db_col_strdup(res, 0, SC_BODY);
        out->attempts = (int)db_col_ll(res, 0, SC_ATTEMPTS);
    }
    PQclear(res);
    return st;
}

enum db_status payment_repo_sandbox_done(struct db_conn *c, const char *id)
{
    const char *p[] = {id};
    return db_exec(c, "payment_sandbox_done", DB_PARAMS(p), NULL);
}

enum db_status payment_repo_sandbox_retry(struct db_conn *c, const char *id, int delay_s,
                                          bool final, const char *error)
{
    return retry(c, "payment_sandbox_retry", id, delay_s, final, error);
}

enum db_status payment_repo_sandbox_latest(struct db_conn *c, const char *provider_ref, char *type,
                                           size_t n)
{
    PGresult *res = NULL;
    const char *p[] = {provider_ref};
    type[0] = '\0';
    enum db_status st = db_exec(c, "payment_sandbox_latest", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) > 0)
        db_col_copy(res, 0, SL_TYPE, type, n);
    PQclear(res);
    return st;
}

enum db_status payment_repo_failed_refunds(struct db_conn *c, json_t **out)
{
    PGresult *res = NULL;
    *out = NULL;
    enum db_status st = db_exec(c, "payment_refunds_failed", 0, NULL, &res);
    if (st != DB_OK)
        return st;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list,
                              json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:o,s:s,s:s}", "id",
                                        db_col_str(res, i, FR_ID), "payment_id",
                                        db_col_str(res, i, FR_PAYMENT_ID), "order_id",
                                        db_col_str(res, i, FR_ORDER_ID), "amount_minor",
                                        (json_int_t)db_col_ll(res, i, FR_AMOUNT), "currency",
                                        db_col_str(res, i, FR_CURRENCY), "attempts",
                                        (json_int_t)db_col_ll(res, i, FR_ATTEMPTS), "last_error",
                                        jsonh_string_or_null(db_col_str(res, i, FR_LAST_ERROR)),
                                        "reason", db_col_str(res, i, FR_REASON), "created_at",
                                        db_col_str(res, i, FR_CREATED_AT)));
    PQclear(res);
    *out = list;
    return DB_OK;
}
