/* The order module's statements on orders and order_items.
 *
 * The API object of an order is built by the statement itself (json_build_object over the row
 * and its lines), so a read is one round trip and the handlers pass the text on. Every status
 * change is one guarded UPDATE (the row is locked and still in the status the state machine
 * decided from). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/order/internal.h"
#include "internal/order/sql.h"
#include "pkg/util/xalloc.h"

/* clang-format off: the statements read as SQL, one clause a line. */

/* The order object; show_money: SQL boolean, true for the seller's view. */
#define ORDER_JSON(show_money)                                                                                                                                                                                                                  \
    "(json_build_object("                                                                                                                                                                                                                       \
    "'id', o.id, 'buyer_id', o.buyer_id, 'seller_id', o.seller_id, 'status', o.status, "                                                                                                                                                        \
    "'items', (SELECT json_agg(json_build_object("                                                                                                                                                                                              \
    "'product_id', i.product_id, 'title', i.title, "                                                                                                                                                                                            \
    "'unit_price_minor', i.unit_price_minor, 'quantity', i.quantity, "                                                                                                                                                                          \
    "'line_total_minor', i.line_total_minor) ORDER BY i.position) "                                                                                                                                                                             \
    "FROM order_items i WHERE i.order_id = o.id), "                                                                                                                                                                                             \
    "'subtotal_minor', o.subtotal_minor, 'total_minor', o.total_minor, "                                                                                                                                                                        \
    "'currency', o.currency, 'shipping_address', o.shipping_address, "                                                                                                                                                                          \
    "'expires_at', " ORDER_SQL_TS(                                                                                                                                                                                                              \
        "o.expires_at") ", "                                                                                                                                                                                                                    \
                        "'paid_at', " ORDER_SQL_TS(                                                                                                                                                                                             \
                            "o.paid_at") ", "                                                                                                                                                                                                   \
                                         "'shipped_at', " ORDER_SQL_TS(                                                                                                                                                                         \
                                             "o.shipped_at") ", "                                                                                                                                                                               \
                                                             "'delivered_at', " ORDER_SQL_TS(                                                                                                                                                   \
                                                                 "o.delivered_at") ", "                                                                                                                                                         \
                                                                                   "'completed_"                                                                                                                                                \
                                                                                   "at',"                                                                                                                                                       \
                                                                                   " " ORDER_SQL_TS(                                                                                                                                            \
                                                                                       "o."                                                                                                                                                     \
                                                                                       "completed"                                                                                                                                              \
                                                                                       "_at") ", "                                                                                                                                              \
                                                                                              "'c"                                                                                                                                              \
                                                                                              "an"                                                                                                                                              \
                                                                                              "ce"                                                                                                                                              \
                                                                                              "ll"                                                                                                                                              \
                                                                                              "ed"                                                                                                                                              \
                                                                                              "_a"                                                                                                                                              \
                                                                                              "t'"                                                                                                                                              \
                                                                                              ","                                                                                                                                               \
                                                                                              " " ORDER_SQL_TS(                                                                                                                                 \
                                                                                                  "o.cancelled_at") ", "                                                                                                                        \
                                                                                                                    "'disputed_at', " ORDER_SQL_TS(                                                                                             \
                                                                                                                        "o.disputed_at") ", "                                                                                                   \
                                                                                                                                         "'refunded_at', " ORDER_SQL_TS(                                                                        \
                                                                                                                                             "o.refunded_at") ", "                                                                              \
                                                                                                                                                              "'cancel_reason', o.cancel_reason, 'dispute_reason', o.dispute_reason, "          \
                                                                                                                                                              "'tracking', CASE WHEN o.carrier IS NULL THEN NULL "                              \
                                                                                                                                                              "ELSE json_build_object('carrier', o.carrier, 'number', o.tracking_number) END, " \
                                                                                                                                                              "'created_at', " ORDER_SQL_TS(                                                    \
                                                                                                                                                                  "o.created_at") ")::jsonb "                                                   \
                                                                                                                                                                                  "|| CASE WHEN " show_money                                    \
                                                                                                                                                                                  " THEN jsonb_build_object("                                   \
                                                                                                                                                                                  "'commission_minor', o.commission_minor, "                    \
                                                                                                                                                                                  "'seller_amount_minor', o.seller_amount_minor) ELSE '{}'::jsonb END)::text"

/* A page of a party's orders: $1 the party, $2 status (NULL: any), $3/$4 the keyset position,
 * $5 the row count. */
#define ORDER_LIST(party, show_money)                                     \
    "SELECT " ORDER_JSON(show_money) ", " ORDER_SQL_EPOCH_US(             \
        "o.created_at") ", o.id "                                         \
                        "FROM orders o WHERE o." party " = $1::uuid "     \
                        "AND ($2::text IS NULL OR o.status = $2::text) "  \
                        "AND (o.created_at, o.id) < (" ORDER_SQL_FROM_US( \
                            "$3") ", $4::uuid) "                          \
                                  "ORDER BY o.created_at DESC, o.id DESC LIMIT $5::int"

/* The timestamp col becomes now() when the new status ($2) is status. */
#define STAMP(status, col) col " = CASE WHEN $2::text = '" status "' THEN now() ELSE " col " END, "

static const struct db_stmt stmts[] = {
    /* Columns: enum lock_col. */
    {"order_lock", "SELECT id, buyer_id, seller_id, status, total_minor, commission_minor, "
                   "seller_amount_minor, currency, "
                   "COALESCE(delivered_at + $2::bigint * interval '1 second' > now(), false) "
                   "FROM orders WHERE id = $1::uuid FOR UPDATE"},
    /* Columns: enum item_col. */
    {"order_items", "SELECT product_id, quantity FROM order_items WHERE order_id = $1::uuid "
                    "ORDER BY product_id"},
    {"order_update",
     "UPDATE orders SET status = $2::text, " STAMP("paid", "paid_at") STAMP("shipped", "shipped_at")
         STAMP("delivered", "delivered_at") STAMP("completed", "completed_at")
             STAMP("cancelled", "cancelled_at") STAMP("disputed", "disputed_at")
                 STAMP("refunded",
                       "refunded_at") "payment_id = COALESCE($3::uuid, payment_id), carrier = "
                                      "COALESCE($4::text, carrier), "
                                      "tracking_number = COALESCE($5::text, tracking_number), "
                                      "cancel_reason = CASE WHEN $2::text = 'cancelled' THEN "
                                      "$6::text ELSE cancel_reason END, "
                                      "cancelled_by = CASE WHEN $2::text = 'cancelled' THEN "
                                      "$7::text ELSE cancelled_by END, "
                                      "dispute_reason = CASE WHEN $2::text = 'disputed' THEN "
                                      "$6::text ELSE dispute_reason END "
                                      "WHERE id = $1::uuid AND status = $8::text"},
    /* The order and its lines ($9: [{position, product_id, title, unit_price_minor,
     * quantity}]) in one statement. */
    {"order_insert",
     "WITH o AS (INSERT INTO orders (id, buyer_id, seller_id, status, subtotal_minor, "
     "total_minor, commission_bps, commission_minor, seller_amount_minor, shipping_address, "
     "expires_at) VALUES ($1::uuid, $2::uuid, $3::uuid, 'pending_payment', $4::bigint, "
     "$4::bigint, $5::int, $6::bigint, $4::bigint - $6::bigint, $7::jsonb, "
     "now() + $8::bigint * interval '1 second') RETURNING id) "
     "INSERT INTO order_items (order_id, position, product_id, title, unit_price_minor, "
     "quantity, line_total_minor) SELECT o.id, x.position, x.product_id, x.title, "
     "x.unit_price_minor, x.quantity, x.unit_price_minor * x.quantity FROM o, "
     "json_to_recordset($9::json) AS x(position int, product_id uuid, title text, "
     "unit_price_minor bigint, quantity int)"},
    {"order_json",
     "SELECT " ORDER_JSON(
         "o.seller_id = $2::uuid") " FROM orders o WHERE o.id = $1::uuid "
                                   "AND (o.buyer_id = $2::uuid OR o.seller_id = $2::uuid)"},
    /* Columns: enum page_col. */
    {"order_list_buyer", ORDER_LIST("buyer_id", "false")},
    {"order_list_seller", ORDER_LIST("seller_id", "true")},
    {"order_claim_expired",
     "SELECT id FROM orders WHERE status = 'pending_payment' AND expires_at <= now() "
     "ORDER BY expires_at LIMIT $1::int FOR UPDATE SKIP LOCKED"},
    {"order_claim_shipped", "SELECT id FROM orders WHERE status = 'shipped' "
                            "AND shipped_at <= now() - $1::bigint * interval '1 second' "
                            "ORDER BY shipped_at LIMIT $2::int FOR UPDATE SKIP LOCKED"},
    /* Delivered more than the hold period ($1 s) ago; a disputed order is not delivered. */
    {"order_claim_due", "SELECT id FROM orders WHERE status = 'delivered' "
                        "AND delivered_at <= now() - $1::bigint * interval '1 second' "
                        "ORDER BY delivered_at LIMIT $2::int FOR UPDATE SKIP LOCKED"},
    {"order_admin_json", "SELECT " ORDER_JSON("true") " FROM orders o WHERE o.id = $1::uuid"},
    /* Open disputes, oldest first: $1/$2 the keyset position (exclusive), $3 the row count.
     * Columns: enum page_col. */
    {"order_disputes", "SELECT " ORDER_JSON("true") ", " ORDER_SQL_EPOCH_US(
                           "o.disputed_at") ", o.id FROM orders o WHERE o.status = 'disputed' "
                                            "AND (o.disputed_at, o.id) > (" ORDER_SQL_FROM_US(
                                                "$1") ", $2::uuid) "
                                                      "ORDER BY o.disputed_at, o.id LIMIT $3::int"},
};

/* clang-format on */

/* Result columns of order_lock. */
enum lock_col {
    LOCK_ID,
    LOCK_BUYER_ID,
    LOCK_SELLER_ID,
    LOCK_STATUS,
    LOCK_TOTAL,
    LOCK_COMMISSION,
    LOCK_SELLER_AMOUNT,
    LOCK_CURRENCY,
    LOCK_IN_HOLD
};
/* Result columns of order_items. */
enum item_col { ITEM_PRODUCT_ID, ITEM_QUANTITY };
/* Result columns of the listings (orders here, reviews in repo_reviews.c). */
enum page_col { PAGE_JSON, PAGE_KEY, PAGE_ID };

const struct db_stmt *order_repo_statements(size_t *n)
{
    *n = sizeof stmts / sizeof stmts[0];
    return stmts;
}

void order_repo_register(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

enum db_status order_repo_lock(struct db_conn *c, const char *id, struct order_row *out)
{
    char hold[24];
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    snprintf(hold, sizeof hold, "%" PRId64, order_settings()->hold_period_s);
    const char *p[] = {id, hold};
    enum db_status st = db_exec(c, "order_lock", DB_PARAMS(p), &res);
    if (st != DB_OK)
        return st;
    if (PQntuples(res) == 0) {
        st = DB_NOT_FOUND;
        goto out;
    }
    db_col_copy(res, 0, LOCK_ID, out->id, sizeof out->id);
    db_col_copy(res, 0, LOCK_BUYER_ID, out->buyer_id, sizeof out->buyer_id);
    db_col_copy(res, 0, LOCK_SELLER_ID, out->seller_id, sizeof out->seller_id);
    if (!order_status_parse(db_col_str(res, 0, LOCK_STATUS), &out->status))
        st = DB_ERROR;
    out->total_minor = db_col_ll(res, 0, LOCK_TOTAL);
    out->commission_minor = db_col_ll(res, 0, LOCK_COMMISSION);
    out->seller_amount_minor = db_col_ll(res, 0, LOCK_SELLER_AMOUNT);
    db_col_copy(res, 0, LOCK_CURRENCY, out->currency, sizeof out->currency);
    out->in_hold = db_col_bool(res, 0, LOCK_IN_HOLD);
out:
    PQclear(res);
    return st;
}

enum db_status order_repo_items(struct db_conn *c, const char *id, struct order_item **out,
                                size_t *n)
{
    PGresult *res = NULL;
    const char *p[] = {id};
    *out = NULL;
    *n = 0;
    enum db_status st = db_exec(c, "order_items", DB_PARAMS(p), &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res);
    *out = xcalloc((size_t)rows + 1, sizeof **out);
    for (int i = 0; i < rows; i++) {
        db_col_copy(res, i, ITEM_PRODUCT_ID, (*out)[i].product_id, sizeof(*out)[i].product_id);
        (*out)[i].quantity = (int)db_col_ll(res, i, ITEM_QUANTITY);
    }
    *n = (size_t)rows;
    PQclear(res);
    return DB_OK;
}

enum db_status order_repo_update(struct db_conn *c, const struct order_update *u)
{
    const char *p[] = {u->id,           order_status_name(u->to),  u->payment_id,
                       u->carrier,      u->tracking_number,        u->reason,
                       u->cancelled_by, order_status_name(u->from)};
    PGresult *res = NULL;
    enum db_status st = db_exec(c, "order_update", DB_PARAMS(p), &res);
    if (st == DB_OK && strcmp(PQcmdTuples(res), "1") != 0)
        st = DB_ERROR; /* the row is locked in status from: a caller bug */
    PQclear(res);
    return st;
}

/* The lines as [{position, product_id, title, unit_price_minor, quantity}] (new string). */
static char *lines_json(const struct order_new *o)
{
    json_t *a = json_array();
    for (size_t i = 0; i < o->n; i++)
        json_array_append_new(
            a, json_pack("{s:i,s:s,s:s,s:I,s:i}", "position", (int)i, "product_id",
                         o->lines[i].product_id, "title", o->lines[i].title, "unit_price_minor",
                         (json_int_t)o->lines[i].unit_price_minor, "quantity", o->quantities[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

enum db_status order_repo_insert(struct db_conn *c, const struct order_new *o)
{
    char subtotal[24], bps[16], commission[24], timeout[24];
    snprintf(subtotal, sizeof subtotal, "%" PRId64, o->subtotal_minor);
    snprintf(bps, sizeof bps, "%d", o->commission_bps);
    snprintf(commission, sizeof commission, "%" PRId64, o->commission_minor);
    snprintf(timeout, sizeof timeout, "%" PRId64, order_settings()->payment_timeout_s);
    char *lines = lines_json(o);
    const char *p[] = {o->id,      o->buyer_id,         o->seller_id, subtotal, bps,
                       commission, o->shipping_address, timeout,      lines};
    enum db_status st = db_exec(c, "order_insert", DB_PARAMS(p), NULL);
    free(lines);
    return st;
}

enum db_status order_repo_json(struct db_conn *c, const char *id, const char *viewer, char **json)
{
    PGresult *res = NULL;
    const char *p[] = {id, viewer};
    *json = NULL;
    enum db_status st = db_exec(c, "order_json", DB_PARAMS(p), &res);
    if (st != DB_OK)
        return st;
    if (PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    else
        *json = db_col_strdup(res, 0, 0);
    PQclear(res);
    return st;
}

void order_page_cleanup(struct order_page *pg)
{
    for (size_t i = 0; i < pg->n; i++)
        free(pg->items[i]);
    free(pg->items);
    memset(pg, 0, sizeof *pg);
}

enum db_status order_repo_page(struct db_conn *c, const char *stmt, const char *a, const char *b,
                               const struct page_req *pg, struct order_page *out)
{
    char key[24], lim[16];
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    snprintf(key, sizeof key, "%" PRId64, pg->has_cursor ? pg->after.key : (INT64_C(1) << 53) - 1);
    snprintf(lim, sizeof lim, "%d", pg->limit + 1);
    const char *p[] = {a, b, key, pg->has_cursor ? pg->after.id : ORDER_SQL_MAX_UUID, lim};
    enum db_status st = db_exec(c, stmt, DB_PARAMS(p), &res);
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

enum db_status order_repo_list(struct db_conn *c, const char *user_id, bool seller,
                               const char *status, const struct page_req *pg,
                               struct order_page *out)
{
    return order_repo_page(c, seller ? "order_list_seller" : "order_list_buyer", user_id, status,
                           pg, out);
}

/* Runs a claim statement (one id column) and copies the ids. */
static enum db_status claim(struct db_conn *c, const char *stmt, const char *const *p, int np,
                            char (*ids)[IDS_UUID_LEN], int batch, int *n)
{
    PGresult *res = NULL;
    *n = 0;
    enum db_status st = db_exec(c, stmt, np, p, &res);
    if (st != DB_OK)
        return st;
    for (int i = 0; i < PQntuples(res) && i < batch; i++)
        db_col_copy(res, i, 0, ids[(*n)++], IDS_UUID_LEN);
    PQclear(res);
    return DB_OK;
}

enum db_status order_repo_claim_expired(struct db_conn *c, int batch, char (*ids)[IDS_UUID_LEN],
                                        int *n)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", batch);
    const char *p[] = {lim};
    return claim(c, "order_claim_expired", p, DB_NPARAMS(p), ids, batch, n);
}

enum db_status order_repo_claim_shipped(struct db_conn *c, int64_t after_s, int batch,
                                        char (*ids)[IDS_UUID_LEN], int *n)
{
    char lim[16], after[24];
    snprintf(lim, sizeof lim, "%d", batch);
    snprintf(after, sizeof after, "%" PRId64, after_s);
    const char *p[] = {after, lim};
    return claim(c, "order_claim_shipped", p, DB_NPARAMS(p), ids, batch, n);
}

enum db_status order_repo_claim_due(struct db_conn *c, int64_t hold_s, int batch,
                                    char (*ids)[IDS_UUID_LEN], int *n)
{
    char lim[16], hold[24];
    snprintf(lim, sizeof lim, "%d", batch);
    snprintf(hold, sizeof hold, "%" PRId64, hold_s);
    const char *p[] = {hold, lim};
    return claim(c, "order_claim_due", p, DB_NPARAMS(p), ids, batch, n);
}

enum db_status order_admin_json(struct db_conn *c, const char *order_id, char **json)
{
    PGresult *res = NULL;
    const char *p[] = {order_id};
    *json = NULL;
    if (!order_id || !ids_is_uuid(order_id))
        return DB_NOT_FOUND;
    enum db_status st = db_exec(c, "order_admin_json", DB_PARAMS(p), &res);
    if (st == DB_OK && PQntuples(res) == 0)
        st = DB_NOT_FOUND;
    else if (st == DB_OK)
        *json = db_col_strdup(res, 0, 0);
    PQclear(res);
    return st;
}

enum db_status order_repo_disputes(struct db_conn *c, const struct page_req *pg,
                                   struct order_page *out)
{
    char key[24], lim[16];
    PGresult *res = NULL;
    memset(out, 0, sizeof *out);
    snprintf(key, sizeof key, "%" PRId64, pg->has_cursor ? pg->after.key : INT64_C(-1));
    snprintf(lim, sizeof lim, "%d", pg->limit + 1);
    const char *p[] = {key, pg->has_cursor ? pg->after.id : ORDER_SQL_MIN_UUID, lim};
    enum db_status st = db_exec(c, "order_disputes", DB_PARAMS(p), &res);
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
