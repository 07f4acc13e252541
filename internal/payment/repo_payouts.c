/* The payouts' statements (table payouts, migration 0016) and the lock on a seller's available
 * balance that makes concurrent payouts take turns. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"
#include "pkg/util/xalloc.h"

#define TS(col)  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\":\"MI\":\"SS\"Z\"')"
#define LEASE    "now() + interval '" DB_STR(PAYMENT_LEASE_S) " seconds'"
#define MAX_UUID "ffffffff-ffff-ffff-ffff-ffffffffffff"

/* A payout as the client sees it: never more of the destination than its last 4 characters. */
#define PAYOUT_JSON                                                                          \
    "json_build_object('id', p.id, 'amount_minor', p.amount_minor, 'currency', p.currency, " \
    "'status', p.status, 'destination', json_build_object('method', p.destination_method, "  \
    "'last4', p.destination_last4), 'failure_reason', p.failure_reason, "                    \
    "'created_at', " TS("p.created_at") ", 'paid_at', " TS("p.paid_at") ")::text"

#define STAMP(status, col) col " = CASE WHEN $2::text = '" status "' THEN now() ELSE " col " END, "

static const struct db_stmt stmts[] = {
    {"payout_lock_available",
     "SELECT -balance_minor FROM ledger_accounts WHERE id = $1 FOR UPDATE"},
    {"payout_insert",
     "WITH ins AS (INSERT INTO payouts (id, seller_id, amount_minor, currency, "
     "destination_method, destination_last4, provider) VALUES ($1::uuid, $2::uuid, $3::bigint, "
     "$4, $5, $6, $7) RETURNING id) SELECT pg_notify('" PAYMENT_CHANNEL "', 'payout') FROM ins"},
    /* Columns: enum payout_col. */
    {"payout_get", "SELECT id, seller_id, amount_minor, currency, status, destination_method, "
                   "destination_last4, provider FROM payouts WHERE id = $1::uuid"},
    {"payout_get_locked",
     "SELECT id, seller_id, amount_minor, currency, status, destination_method, "
     "destination_last4, provider FROM payouts WHERE id = $1::uuid FOR UPDATE"},
    {"payout_json", "SELECT " PAYOUT_JSON " FROM payouts p WHERE p.id = $1::uuid "
                    "AND ($2::uuid IS NULL OR p.seller_id = $2::uuid)"},
    {"payout_set_status",
     "UPDATE payouts SET status = $2::text, updated_at = now(), " STAMP("paid", "paid_at")
         STAMP("failed", "failed_at")
             STAMP("reversed", "reversed_at") "failure_reason = COALESCE($3::text, failure_reason) "
                                              "WHERE id = $1::uuid"},
    /* $1 the seller, $2/$3 the keyset position, $4 the row count. Columns: enum page_col. */
    {"payout_list",
     "SELECT " PAYOUT_JSON ", (extract(epoch FROM p.created_at) * 1000000)::bigint, p.id "
     "FROM payouts p WHERE p.seller_id = $1::uuid AND (p.created_at, p.id) < "
     "(timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid) "
     "ORDER BY p.created_at DESC, p.id DESC LIMIT $4::int"},
    /* Columns: enum send_col. */
    {"payout_send_claim",
     "UPDATE payouts SET attempts = attempts + 1, next_attempt_at = " LEASE " "
     "WHERE id = (SELECT id FROM payouts WHERE status = 'processing' AND provider_ref IS NULL "
     "AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
     "RETURNING id, seller_id, amount_minor, currency, attempts"},
    {"payout_sent", "UPDATE payouts SET provider_ref = $2, last_error = NULL, updated_at = now() "
                    "WHERE id = $1::uuid AND provider_ref IS NULL"},
    {"payout_send_retry",
     "UPDATE payouts SET last_error = $3, next_attempt_at = now() + make_interval(secs => "
     "$2::int) WHERE id = $1::uuid"},
    /* Columns: enum check_col. */
    {"payout_check_claim",
     "UPDATE payouts SET updated_at = now() WHERE id = (SELECT id FROM payouts "
     "WHERE status = 'processing' AND provider_ref IS NOT NULL AND provider = $1 "
     "AND updated_at <= now() - $2::bigint * interval '1 second' ORDER BY updated_at LIMIT 1 "
     "FOR UPDATE SKIP LOCKED) RETURNING id, provider_ref, amount_minor"},
    {"payout_fund_account",
     "SELECT fund_account_id FROM payout_fund_accounts WHERE seller_id = $1::uuid "
     "AND provider = $2 AND fingerprint = $3"},
    {"payout_fund_account_keep",
     "INSERT INTO payout_fund_accounts (seller_id, provider, fingerprint, contact_id, "
     "fund_account_id) VALUES ($1::uuid, $2, $3, $4, $5) ON CONFLICT DO NOTHING"},
    {"payout_by_ref", "SELECT id FROM payouts WHERE provider = $1 AND provider_ref = $2"},
};

enum payout_col {
    COL_ID,
    COL_SELLER_ID,
    COL_AMOUNT,
    COL_CURRENCY,
    COL_STATUS,
    COL_METHOD,
    COL_LAST4,
    COL_PROVIDER
};
enum page_col { PAGE_JSON, PAGE_KEY, PAGE_ID };
enum send_col { SEND_ID, SEND_SELLER_ID, SEND_AMOUNT, SEND_CURRENCY, SEND_ATTEMPTS };
enum check_col { CHECK_ID, CHECK_REF, CHECK_AMOUNT };

void payout_repo_register(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

enum db_status payout_repo_lock_available(struct db_conn *c, const char *seller_id,
                                          int64_t *available)
{
    char acc[PAYMENT_ACC_ID_LEN];
    PGresult *res = NULL;
    payment_seller_account(acc, seller_id, "available");
    const char *p[] = {acc};
    enum db_status st = db_exec(c, "payout_lock_available", DB_PARAMS(p), &res);
    *available = st == DB_OK && PQntuples(res) > 0 ? db_col_ll(res, 0, 0) : 0;
    PQclear(res);
    return st;
}

enum db_status payout_repo_insert(struct db_conn *c, const struct payout_row *po)
{
    char amount[24];
    snprintf(amount, sizeof amount, "%" PRId64, po->amount_minor);
    const char *p[] = {po->id,     po->seller_id, amount,      po->currency,
                       po->method, po->last4,     po->provider};
    return db_exec(c, "payout_insert", DB_PARAMS(p), NULL);
}

enum db_status payout_repo_get(struct db_conn *c, const char *id, bool lock, struct payout_row *out)
{
    PGresult *res = NULL;
    const char *p[] = {id};
    enum db_status st = db_exec(c, lock ? "payout_get_locked" : "payout_get", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK) {
        memset(out, 0, sizeof *out);
        db_col_copy(res, 0, COL_ID, out->id, sizeof out->id);
        db_col_copy(res, 0, COL_SELLER_ID, out->seller_id, sizeof out->seller_id);
        out->amount_minor = db_col_ll(res, 0, COL_AMOUNT);
        db_col_copy(res, 0, COL_CURRENCY, out->currency, sizeof out->currency);
        db_col_copy(res, 0, COL_STATUS, out->status, sizeof out->status);
        db_col_copy(res, 0, COL_METHOD, out->method, sizeof out->method);
        db_col_copy(res, 0, COL_LAST4, out->last4, sizeof out->last4);
        db_col_copy(res, 0, COL_PROVIDER, out->provider, sizeof out->provider);
    }
    PQclear(res);
    return st;
}

enum db_status payout_repo_json(struct db_conn *c, const char *id, const char *seller_id,
                                char **json)
{
    PGresult *res = NULL;
    const char *p[] = {id, seller_id};
    *json = NULL;
    enum db_status st = db_exec(c, "payout_json", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK)
        *json = db_col_strdup(res, 0, 0);
    PQclear(res);
    return st;
}

enum db_status payout_repo_set_status(struct db_conn *c, const char *id, const char *status,
                                      const char *reason)
{
    const char *p[] = {id, status, reason};
    return db_exec(c, "payout_set_status", DB_PARAMS(p), NULL);
}

void payout_page_cleanup(struct payout_page *pg)
{
    for (size_t i = 0; i < pg->n; i++)
        free(pg->items[i]);
    free(pg->items);
    memset(pg, 0, sizeof *pg);
}

enum db_status payout_repo_page(struct db_conn *c, const char *seller_id, const struct page_req *pg,
                                struct payout_page *out)
{
    char key[24], lim[16];
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    snprintf(key, sizeof key, "%" PRId64, pg->has_cursor ? pg->after.key : (INT64_C(1) << 53) - 1);
    snprintf(lim, sizeof lim, "%d", pg->limit + 1);
    const char *p[] = {seller_id, key, pg->has_cursor ? pg->after.id : MAX_UUID, lim};
    enum db_status st = db_exec(c, "payout_list", DB_PARAMS(p), &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res);
    out->n = (size_t)(rows > pg->limit ? pg->limit : rows);
    out->more = rows > pg->limit;
    out->items = xcalloc(out->n + 1, sizeof *out->items);
    for (size_t i = 0; i < out->n; i++)
        out->items[i] = db_col_strdup(res, (int)i, PAGE_JSON);
    if (out->more) {
        out->next.key = db_col_ll(res, (int)out->n - 1, PAGE_KEY);
        db_col_copy(res, (int)out->n - 1, PAGE_ID, out->next.id, sizeof out->next.id);
    }
    PQclear(res);
    return DB_OK;
}

enum db_status payout_repo_send_claim(struct db_conn *c, struct payout_send_claim *out)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "payout_send_claim", 0, NULL, &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK) {
        db_col_copy(res, 0, SEND_ID, out->id, sizeof out->id);
        db_col_copy(res, 0, SEND_SELLER_ID, out->seller_id, sizeof out->seller_id);
        out->amount_minor = db_col_ll(res, 0, SEND_AMOUNT);
        db_col_copy(res, 0, SEND_CURRENCY, out->currency, sizeof out->currency);
        out->attempts = (int)db_col_ll(res, 0, SEND_ATTEMPTS);
    }
    PQclear(res);
    return st;
}

enum db_status payout_repo_sent(struct db_conn *c, const char *id, const char *provider_ref)
{
    const char *p[] = {id, provider_ref};
    return db_exec(c, "payout_sent", DB_PARAMS(p), NULL);
}

enum db_status payout_repo_send_retry(struct db_conn *c, const char *id, int delay_s,
                                      const char *error)
{
    char d[16];
    snprintf(d, sizeof d, "%d", delay_s);
    const char *p[] = {id, d, error};
    return db_exec(c, "payout_send_retry", DB_PARAMS(p), NULL);
}

enum db_status payout_repo_check_claim(struct db_conn *c, const char *provider, int64_t after_s,
                                       struct payout_check_claim *out)
{
    char after[24];
    PGresult *res = NULL;
    snprintf(after, sizeof after, "%" PRId64, after_s);
    const char *p[] = {provider, after};
    enum db_status st = db_exec(c, "payout_check_claim", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK) {
        db_col_copy(res, 0, CHECK_ID, out->id, sizeof out->id);
        db_col_copy(res, 0, CHECK_REF, out->provider_ref, sizeof out->provider_ref);
        out->amount_minor = db_col_ll(res, 0, CHECK_AMOUNT);
    }
    PQclear(res);
    return st;
}

/* The first column of stmt's only row into out (n bytes); DB_NOT_FOUND when no row. */
static enum db_status one_text(struct db_conn *c, const char *stmt, int np, const char *const *p,
                               char *out, size_t n)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(c, stmt, np, p, &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    if (st == DB_OK)
        db_col_copy(res, 0, 0, out, n);
    PQclear(res);
    return st;
}

enum db_status payout_repo_fund_account(struct db_conn *c, const char *seller_id,
                                        const char *provider, const char *fingerprint,
                                        char out[PAYMENT_REF_LEN])
{
    const char *p[] = {seller_id, provider, fingerprint};
    out[0] = '\0';
    enum db_status st = one_text(c, "payout_fund_account", DB_PARAMS(p), out, PAYMENT_REF_LEN);
    return st == DB_NOT_FOUND ? DB_OK : st;
}

enum db_status payout_repo_fund_account_keep(struct db_conn *c, const char *seller_id,
                                             const char *provider, const char *fingerprint,
                                             const char *contact_id, const char *fund_account_id)
{
    const char *p[] = {seller_id, provider, fingerprint, contact_id, fund_account_id};
    return db_exec(c, "payout_fund_account_keep", DB_PARAMS(p), NULL);
}

enum db_status payout_repo_by_ref(struct db_conn *c, const char *provider, const char *provider_ref,
                                  char id[IDS_UUID_LEN])
{
    const char *p[] = {provider, provider_ref};
    return one_text(c, "payout_by_ref", DB_PARAMS(p), id, IDS_UUID_LEN);
}
