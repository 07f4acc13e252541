/* The seller's and the platform's view of the ledger: balances, the seller's transactions and
 * the revenue report, each one statement (the figures are computed by the database from the
 * accounts and legs the postings wrote). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal/payment/internal.h"

/* clang-format off: the statements read as SQL, one clause a line. */

/* RFC 3339 UTC, second precision (the colons quoted, as in the order module). */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\":\"MI\":\"SS\"Z\"')"

/* The seller's four accounts, $1 the seller: (id, k). */
#define SELLER_ACCOUNTS                                                \
    "acc(id, k) AS (SELECT 'seller:' || $1::uuid || ':' || k, k FROM " \
    "unnest(ARRAY['pending', 'available', 'in_transit', 'paid_out']) k)"

static const struct db_stmt stmts[] = {
    /* Columns: enum balance_col. Credit balances (negative sums) shown as owed amounts. */
    {"payment_balance",
     "WITH " SELLER_ACCOUNTS " "
     "SELECT coalesce(min(a.currency), 'INR'), "
     "coalesce(-sum(a.balance_minor) FILTER (WHERE acc.k = 'pending'), 0)::bigint, "
     "coalesce(-sum(a.balance_minor) FILTER (WHERE acc.k = 'available'), 0)::bigint, "
     "coalesce(-sum(a.balance_minor) FILTER (WHERE acc.k = 'in_transit'), 0)::bigint, "
     "coalesce(-sum(a.balance_minor) FILTER (WHERE acc.k = 'paid_out'), 0)::bigint "
     "FROM acc LEFT JOIN ledger_accounts a ON a.id = acc.id"},
    /* Every transfer touching the seller's accounts except payout_paid (a payout's
     * confirmation: the money had left available already), newest first by seq; $2 the
     * keyset position (exclusive), $3 the row count. amount_minor: the change of available,
     * or of pending when available did not move (sale, commission, refund), as owed to the
     * seller; available_after_minor: the running sum of available up to the transfer.
     * Columns: enum tx_col. */
    {"payment_transactions",
     "WITH " SELLER_ACCOUNTS ", "
     "t AS (SELECT t.id, t.kind, t.order_id, t.created_at, t.seq, "
     "coalesce(sum(l.amount_minor) FILTER (WHERE acc.k = 'available'), 0) AS avail, "
     "coalesce(sum(l.amount_minor) FILTER (WHERE acc.k = 'pending'), 0) AS pend "
     "FROM ledger_legs l JOIN acc ON acc.id = l.account_id "
     "JOIN ledger_transfers t ON t.id = l.transfer_id GROUP BY t.id), "
     "r AS (SELECT t.*, (-sum(t.avail) OVER (ORDER BY t.seq))::bigint AS after FROM t) "
     "SELECT json_build_object('id', r.id, "
     "'type', CASE r.kind WHEN 'capture' THEN 'sale' ELSE r.kind END, "
     "'order_id', r.order_id, "
     "'payout_id', CASE WHEN r.kind LIKE 'payout%' THEN split_part(r.id, ':', 2) END, "
     "'amount_minor', -(CASE WHEN r.avail <> 0 THEN r.avail ELSE r.pend END), "
     "'available_after_minor', r.after, 'created_at', " TS(
         "r.created_at") ")::text, r.seq "
                         "FROM r WHERE r.kind <> 'payout_paid' AND r.seq < $2::bigint "
                         "ORDER BY r.seq DESC LIMIT $3::int"},
    /* $1..$2: the UTC days. orders_completed and gmv from the releases (commission and
     * release of one order: its total left the seller's pending), commission from revenue,
     * refunds from refunds payable (a refund decided that day), payouts from what reached the
     * sellers' paid out that day. Column 0: the report. */
    {"payment_revenue",
     "WITH l AS (SELECT t.kind, t.order_id, (t.created_at AT TIME ZONE 'UTC')::date AS d, "
     "l.account_id, l.amount_minor FROM ledger_transfers t "
     "JOIN ledger_legs l ON l.transfer_id = t.id "
     "WHERE t.created_at >= $1::date::timestamp AT TIME ZONE 'UTC' "
     "AND t.created_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC' "
     "AND t.kind IN ('commission', 'release', 'refund', 'payout_paid')), "
     "d AS (SELECT d, "
     "count(DISTINCT order_id) FILTER (WHERE kind IN ('commission', 'release')) AS n, "
     "coalesce(sum(amount_minor) FILTER (WHERE kind IN ('commission', 'release') "
     "AND account_id LIKE 'seller:%:pending'), 0)::bigint AS gmv, "
     "coalesce(-sum(amount_minor) FILTER (WHERE kind = 'commission' "
     "AND account_id = 'platform:revenue'), 0)::bigint AS commission, "
     "coalesce(-sum(amount_minor) FILTER (WHERE kind = 'refund' "
     "AND account_id = 'platform:refunds_payable'), 0)::bigint AS refunds, "
     "coalesce(-sum(amount_minor) FILTER (WHERE kind = 'payout_paid' "
     "AND account_id LIKE 'seller:%:paid\\_out'), 0)::bigint AS payouts "
     "FROM l GROUP BY d) "
     "SELECT json_build_object('days', coalesce(json_agg(json_build_object("
     "'date', to_char(d, 'YYYY-MM-DD'), 'orders_completed', n, 'gmv_minor', gmv, "
     "'commission_minor', commission, 'refunds_minor', refunds, 'payouts_minor', payouts) "
     "ORDER BY d), '[]'::json))::text FROM d"},
};

/* clang-format on */

enum balance_col { BAL_CURRENCY, BAL_PENDING, BAL_AVAILABLE, BAL_IN_TRANSIT, BAL_PAID_OUT };
enum tx_col { TX_JSON, TX_SEQ };

void payment_repo_money_register(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

enum db_status payment_repo_balance(struct db_conn *c, const char *seller_id,
                                    struct payment_balance *out)
{
    PGresult *res = NULL;
    const char *p[] = {seller_id};
    memset(out, 0, sizeof *out);
    enum db_status st = db_exec(c, "payment_balance", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 1) {
        db_col_copy(res, 0, BAL_CURRENCY, out->currency, sizeof out->currency);
        out->pending_minor = db_col_ll(res, 0, BAL_PENDING);
        out->available_minor = db_col_ll(res, 0, BAL_AVAILABLE);
        out->in_transit_minor = db_col_ll(res, 0, BAL_IN_TRANSIT);
        out->paid_out_minor = db_col_ll(res, 0, BAL_PAID_OUT);
    } else if (st == DB_OK) {
        st = DB_ERROR;
    }
    PQclear(res);
    return st;
}

enum db_status payment_repo_transactions(struct db_conn *c, const char *seller_id,
                                         const struct page_req *pg, struct strbuf *out, bool *more,
                                         struct page_key *next)
{
    char key[24], lim[16];
    PGresult *res = NULL;
    *more = false;
    snprintf(key, sizeof key, "%" PRId64, pg->has_cursor ? pg->after.key : INT64_MAX);
    snprintf(lim, sizeof lim, "%d", pg->limit + 1);
    const char *p[] = {seller_id, key, lim};
    enum db_status st = db_exec(c, "payment_transactions", DB_PARAMS(p), &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res), n = rows > pg->limit ? pg->limit : rows;
    for (int i = 0; i < n; i++) {
        if (i)
            strbuf_append(out, ",", 1);
        strbuf_puts(out, db_col_str(res, i, TX_JSON));
    }
    *more = rows > pg->limit;
    if (*more) {
        memset(next, 0, sizeof *next);
        next->key = db_col_ll(res, n - 1, TX_SEQ);
    }
    PQclear(res);
    return DB_OK;
}

enum db_status payment_revenue_days(struct db_conn *c, const char *from, const char *to,
                                    struct strbuf *out)
{
    PGresult *res = NULL;
    const char *p[] = {from, to};
    enum db_status st = db_exec(c, "payment_revenue", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 1)
        strbuf_puts(out, db_col_str(res, 0, 0));
    else if (st == DB_OK)
        st = DB_ERROR;
    PQclear(res);
    return st;
}
