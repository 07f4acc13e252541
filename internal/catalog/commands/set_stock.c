/* PUT /v1/products/{id}/stock (owner): {quantity 0..1,000,000, reason 1..200 chars}. One
 * statement locks the row, sets the stock, records the movement (delta = new - old,
 * order_id null) and moves active <-> sold_out; setting the current quantity changes nothing.
 * If-Match (optional) is checked against the product's version. 200 {product_id, stock}
 * with the new ETag; 404 / 409 invalid_state (archived) / 412. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
     .offset = offsetof(struct stock_body, reason)},
    {0},
};

struct set_ctx {
    const char *id, *seller_id, *versions;
    const struct stock_body *body;
    PGresult *row, *probe; /* owned */
};

static enum db_status set_txn(struct db_conn *c, void *arg)
{
    struct set_ctx *x = arg;
    PQclear(x->row);
    PQclear(x->probe);
    x->row = x->probe = NULL;
    enum db_status st = catalog_repo_set_stock(c, x->id, x->seller_id, (int)x->body->quantity,
                                               x->body->reason, x->versions, &x->row);
    if (st != DB_OK)
        return st;
    if (PQntuples(x->row) == 0)
        return catalog_repo_probe(c, x->id, &x->probe);
    return catalog_emit_if_sold_out(c, x->row);
}

void catalog_set_stock(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    const char *id = catalog_path_id_or_reply(r);
    struct stock_body body = {0};
    struct jsonh_errors e;
    char versions[128];
    struct set_ctx x = {.id = id, .seller_id = who->user_id, .body = &body};
    jsonh_errors_init(&e);
    if (!id)
        goto out;
    jsonh_parse(http_req_json(r), fields, &body, &e, NULL);
    if (jsonh_errors_any(&e)) {
        catalog_reply_invalid(r, &e);
        goto out;
    }
    x.versions = catalog_if_match(r, versions, sizeof versions);
    enum db_status st = db_txn(DB_PRIMARY, set_txn, &x);
    if (st != DB_OK)
        catalog_reply_db(r, st);
    else if (x.probe)
        catalog_reply_miss(r, catalog_classify_miss(x.probe, who->user_id));
    else
        catalog_reply_stock(r, x.row);
out:
    PQclear(x.row);
    PQclear(x.probe);
    jsonh_errors_cleanup(&e);
}
