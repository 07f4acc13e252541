/* PUT /v1/products/{id}/stock (owner): {quantity 0..1,000,000, reason 1..200 chars}. One
 * statement locks the row, sets the stock, records the movement (delta = new - old,
 * order_id null) and moves active <-> sold_out; setting the current quantity changes nothing.
 * If-Match (optional) is checked against the product's version. 200 {product_id, stock}
 * with the new ETag; 404 / 409 invalid_state (archived) / 412. */
#include <stddef.h>
#include <stdint.h>

#include "internal/catalog/internal.h"

struct stock_body {
    int64_t quantity;
    const char *reason;
};

static const struct jsonh_field fields[] = {
    {.name = "quantity",
     .type = JSONH_INT,
     .flags = JSONH_REQUIRED,
     .min = 0,
     .max = CATALOG_STOCK_MAX,
     .offset = offsetof(struct stock_body, quantity)},
    {.name = "reason",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED | JSONH_NOT_BLANK,
     .min = 1,
     .max = CATALOG_REASON_MAX,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct stock_body, reason)},
    {0},
};

struct set_ctx {
    struct http_req *r;
    const char *id, *seller_id, *versions;
    const struct stock_body *body;
    enum catalog_miss miss; /* why, when the transaction returns DB_NOT_FOUND */
};

/* Sets the stock and replies 200 (held until COMMIT); DB_NOT_FOUND with x->miss set when
 * the guard matched no row. */
static enum db_status set_txn(struct db_conn *c, void *arg)
{
    struct set_ctx *x = arg;
    struct catalog_stock_row row;
    enum db_status st = catalog_repo_set_stock(c, x->id, x->seller_id, (int)x->body->quantity,
                                               x->body->reason, x->versions, &row);
    if (st == DB_NOT_FOUND) {
        struct catalog_probe probe;
        st = catalog_repo_probe(c, x->id, &probe);
        x->miss = catalog_classify_miss(&probe, x->seller_id);
        return st == DB_OK ? DB_NOT_FOUND : st;
    }
    if (st == DB_OK)
        st = catalog_emit_if_sold_out(c, &row);
    if (st == DB_OK)
        catalog_reply_stock(x->r, &row);
    return st;
}

void catalog_set_stock(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    struct stock_body body = {0};
    char versions[128];
    struct set_ctx x = {.r = r,
                        .id = http_uuid_param_or_reply(r, "id", "product"),
                        .seller_id = who->user_id,
                        .body = &body};
    if (!x.id || !http_parse_or_reply(r, fields, &body))
        return;
    x.versions = catalog_if_match(r, versions, sizeof versions);
    enum db_status st = http_txn(r, set_txn, &x);
    if (st == DB_NOT_FOUND)
        catalog_reply_miss(r, x.miss);
    else if (st != DB_OK)
        http_reply_db(r, st);
}
