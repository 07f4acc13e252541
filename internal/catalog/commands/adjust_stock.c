/* POST /v1/products/{id}/stock/adjustments (owner): {delta != 0, |delta| <= 1,000,000,
 * reason 1..200 chars}. One guarded statement: stock + delta must stay within
 * 0..1,000,000 (the guard is re-checked on the newest row under concurrency, so parallel
 * adjustments can never take stock below 0), the movement is inserted by the same statement
 * and active <-> sold_out follows. A refused adjustment records nothing:
 * 409 insufficient_stock (below 0), 422 (above the maximum), 404, 409 invalid_state. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "internal/catalog/internal.h"

struct adjust_body {
    int64_t delta;
    const char *reason;
};

static const struct jsonh_field fields[] = {
    {.name = "delta",
     .type = JSONH_INT,
     .flags = JSONH_REQUIRED,
     .min = -CATALOG_STOCK_MAX,
     .max = CATALOG_STOCK_MAX,
     .offset = offsetof(struct adjust_body, delta)},
    {.name = "reason",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED | JSONH_NOT_BLANK,
     .min = 1,
     .max = CATALOG_REASON_MAX,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct adjust_body, reason)},
    {0},
};

struct adjust_ctx {
    struct http_req *r;
    const char *id, *seller_id;
    const struct adjust_body *body;
    enum catalog_miss miss; /* why, when the transaction returns DB_NOT_FOUND */
    long long stock;        /* with CATALOG_MISS_GUARD: the stock that refused delta */
};

/* Adjusts the stock and replies 200 (held until COMMIT); DB_NOT_FOUND with x->miss (and
 * x->stock) set when the adjustment was refused. */
static enum db_status adjust_txn(struct db_conn *c, void *arg)
{
    struct adjust_ctx *x = arg;
    struct catalog_stock_row row;
    enum db_status st =
        catalog_repo_adjust(c, x->id, x->seller_id, (int)x->body->delta, x->body->reason, &row);
    if (st == DB_NOT_FOUND) {
        struct catalog_probe probe;
        st = catalog_repo_probe(c, x->id, &probe);
        x->miss = catalog_classify_miss(&probe, x->seller_id);
        x->stock = probe.stock;
        return st == DB_OK ? DB_NOT_FOUND : st;
    }
    if (st == DB_OK)
        st = catalog_emit_if_sold_out(c, &row);
    if (st == DB_OK)
        catalog_reply_stock(x->r, &row);
    return st;
}

/* The adjustment was refused: say why. */
static void reply_refused(struct http_req *r, const struct adjust_ctx *x)
{
    if (x->miss != CATALOG_MISS_GUARD) {
        catalog_reply_miss(r, x->miss);
        return;
    }
    if (x->stock + x->body->delta < 0) {
        char detail[96];
        snprintf(detail, sizeof detail, "only %lld in stock", x->stock);
        http_reply_problem(r, 409, "insufficient_stock", detail);
        return;
    }
    http_reply_field(r, 422, "delta", "would take stock above 1000000");
}

void catalog_adjust_stock(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    struct adjust_body body = {.delta = INT64_MIN}; /* stays so unless delta is valid */
    struct jsonh_errors e;
    struct adjust_ctx x = {.r = r,
                           .id = http_uuid_param_or_reply(r, "id", "product"),
                           .seller_id = who->user_id,
                           .body = &body};
    if (!x.id)
        return;
    jsonh_errors_init(&e);
    jsonh_parse(http_req_json(r), fields, &body, &e, NULL);
    if (body.delta == 0)
        jsonh_errors_add(&e, "delta", "must not be 0");
    if (!http_errors_or_reply(r, &e))
        return;
    enum db_status st = http_txn(r, adjust_txn, &x);
    if (st == DB_NOT_FOUND)
        reply_refused(r, &x);
    else if (st != DB_OK)
        http_reply_db(r, st);
}
