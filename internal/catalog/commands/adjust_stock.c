/* POST /v1/products/{id}/stock/adjustments (owner): {delta != 0, |delta| <= 1,000,000,
 * reason 1..200 chars}. One guarded statement: stock + delta must stay within
 * 0..1,000,000 (the guard is re-checked on the newest row under concurrency, so parallel
 * adjustments can never take stock below 0), the movement is inserted by the same statement
 * and active <-> sold_out follows. A refused adjustment records nothing:
 * 409 insufficient_stock (below 0), 422 (above the maximum), 404, 409 invalid_state. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
     .offset = offsetof(struct adjust_body, reason)},
    {0},
};

struct adjust_ctx {
    const char *id, *seller_id;
    const struct adjust_body *body;
    PGresult *row, *probe; /* owned */
};

static enum db_status adjust_txn(struct db_conn *c, void *arg)
{
    struct adjust_ctx *x = arg;
    PQclear(x->row);
    PQclear(x->probe);
    x->row = x->probe = NULL;
    enum db_status st =
        catalog_repo_adjust(c, x->id, x->seller_id, (int)x->body->delta, x->body->reason, &x->row);
    if (st != DB_OK)
        return st;
    if (PQntuples(x->row) == 0)
        return catalog_repo_probe(c, x->id, &x->probe);
    return catalog_emit_if_sold_out(c, x->row);
}

/* The adjustment was refused: say why. */
static void reply_refused(struct http_req *r, const PGresult *probe, const char *seller_id,
                          int64_t delta)
{
    enum catalog_miss m = catalog_classify_miss(probe, seller_id);
    if (m != CATALOG_MISS_GUARD) {
        catalog_reply_miss(r, m);
        return;
    }
    long long stock = catalog_col_ll(probe, 0, 3);
    if (stock + delta < 0) {
        char detail[96];
        snprintf(detail, sizeof detail, "only %lld in stock", stock);
        http_reply_problem(r, 409, "insufficient_stock", detail);
        return;
    }
    json_t *errs =
        json_pack("[{s:s,s:s}]", "field", "delta", "message", "would take stock above 1000000");
    http_reply_problem_errors(r, 422, "validation_failed", "some fields are invalid", errs);
}

void catalog_adjust_stock(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    const char *id = catalog_path_id_or_reply(r);
    struct adjust_body body = {.delta = INT64_MIN}; /* stays so unless delta is valid */
    struct jsonh_errors e;
    struct adjust_ctx x = {.id = id, .seller_id = who->user_id, .body = &body};
    jsonh_errors_init(&e);
    if (!id)
        goto out;
    jsonh_parse(http_req_json(r), fields, &body, &e, NULL);
    if (body.delta == 0)
        jsonh_errors_add(&e, "delta", "must not be 0");
    if (jsonh_errors_any(&e)) {
        catalog_reply_invalid(r, &e);
        goto out;
    }
    enum db_status st = db_txn(DB_PRIMARY, adjust_txn, &x);
    if (st != DB_OK)
        catalog_reply_db(r, st);
    else if (x.probe)
        reply_refused(r, x.probe, who->user_id, body.delta);
    else
        catalog_reply_stock(r, x.row);
out:
    PQclear(x.row);
    PQclear(x.probe);
    jsonh_errors_cleanup(&e);
}
