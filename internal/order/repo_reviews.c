/* The order module's statements on reviews: one per order, written by its buyer. */
#include <stdio.h>
#include <string.h>

#include "internal/order/internal.h"
#include "internal/order/sql.h"

#define REVIEW_JSON                                                                    \
    "json_build_object('id', r.id, 'order_id', r.order_id, 'seller_id', r.seller_id, " \
    "'rating', r.rating, 'comment', r.comment, 'created_at', " ORDER_SQL_TS(           \
        "r.created_at") ")::text"

static const struct db_stmt stmts[] = {
    {"order_review_insert",
     "WITH r AS (INSERT INTO reviews (id, order_id, seller_id, buyer_id, rating, comment) "
     "VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::int, $6::text) RETURNING *) "
     "SELECT " REVIEW_JSON " FROM r"},
    /* Columns: (object JSON, key, id), as every listing of the module. */
    {"order_reviews",
     "SELECT " REVIEW_JSON ", " ORDER_SQL_EPOCH_US(
         "r.created_at") ", r.id FROM reviews r "
                         "WHERE r.seller_id = $1::uuid AND $2::text IS NULL "
                         "AND (r.created_at, r.id) < (" ORDER_SQL_FROM_US(
                             "$3") ", $4::uuid) "
                                   "ORDER BY r.created_at DESC, r.id DESC LIMIT $5::int"},
    /* Columns: enum rating_col. */
    /* The average in hundredths, rounded half up (4.67 for 14 stars over 3 reviews). */
    {"order_rating",
     "SELECT round(avg(rating) * 100)::bigint, count(*) FROM reviews WHERE seller_id = $1::uuid"},
};

/* Result columns of order_rating. */
enum rating_col { RATING_AVG, RATING_COUNT };

void order_repo_register_reviews(void)
{
    db_register(stmts, sizeof stmts / sizeof stmts[0]);
}

enum db_status order_repo_review_insert(struct db_conn *c, const char *id,
                                        const struct order_row *o, int rating, const char *comment,
                                        char **json)
{
    char stars[8];
    PGresult *res = NULL;
    snprintf(stars, sizeof stars, "%d", rating);
    const char *p[] = {id, o->id, o->seller_id, o->buyer_id, stars, comment};
    *json = NULL;
    enum db_status st = db_exec(c, "order_review_insert", DB_PARAMS(p), &res);
    if (st == DB_OK)
        *json = db_col_strdup(res, 0, 0);
    PQclear(res);
    return st;
}

enum db_status order_repo_reviews(struct db_conn *c, const char *seller_id,
                                  const struct page_req *pg, struct order_page *out)
{
    return order_repo_page(c, "order_reviews", seller_id, NULL, pg, out);
}

enum db_status order_repo_rating(struct db_conn *c, const char *seller_id, double *avg,
                                 long long *count)
{
    PGresult *res = NULL;
    const char *p[] = {seller_id};
    *avg = 0;
    *count = 0;
    enum db_status st = db_exec(c, "order_rating", DB_PARAMS(p), &res);
    if (st != DB_OK)
        return st;
    *count = db_col_ll(res, 0, RATING_COUNT);
    *avg = (double)db_col_ll(res, 0, RATING_AVG) / 100.0;
    PQclear(res);
    return DB_OK;
}
