/* POST /v1/admin/orders/{id}/resolve-dispute (admin): {decision: "refund"|"release", note} ->
 * 200 the order (refunded, or completed with its money released). The decision is applied and
 * audited by the order module (order_resolve_dispute) in this command's transaction. An order
 * without an open dispute (a completed one included: no refund after release) is 409
 * invalid_state; an unknown one 404. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal/admin/internal.h"
#include "internal/order/order.h"
#include "pkg/json/jsonh.h"

static const char *const decisions[] = {"refund", "release", NULL};

struct resolve_body {
    const char *decision;
    const char *note;
};

static const struct jsonh_field fields[] = {
    {.name = "decision",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .one_of = decisions,
     .offset = offsetof(struct resolve_body, decision)},
    {.name = "note",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED | JSONH_NOT_BLANK,
     .min = 1,
     .max = ADMIN_NOTE_MAX,
     .check = jsonh_check_plain_text,
     .offset = offsetof(struct resolve_body, note)},
    {0},
};

struct resolve_ctx {
    struct http_req *r;
    const char *id;
    const struct resolve_body *body;
    enum order_resolve_outcome out;
};

/* Decides and replies 200 with the order (held until COMMIT); a refusal returns DB_CHECK
 * with x->out saying why (nothing written). */
static enum db_status resolve_txn(struct db_conn *c, void *arg)
{
    struct resolve_ctx *x = arg;
    enum order_resolve_decision d =
        strcmp(x->body->decision, "refund") == 0 ? ORDER_DECIDE_REFUND : ORDER_DECIDE_RELEASE;
    enum db_status st = order_resolve_dispute(c, x->id, d, x->body->note,
                                              http_req_principal(x->r)->user_id, &x->out);
    if (st != DB_OK)
        return st;
    if (x->out != ORDER_RESOLVED)
        return DB_CHECK;
    char *json = NULL;
    st = order_admin_json(c, x->id, &json);
    if (st == DB_OK)
        http_reply_bytes(x->r, 200, "application/json; charset=utf-8", json, strlen(json));
    free(json);
    return st;
}

void admin_resolve_dispute(struct http_req *r)
{
    struct resolve_body body = {0};
    struct resolve_ctx x = {.r = r, .body = &body, .out = ORDER_RESOLVED};
    x.id = http_uuid_param_or_reply(r, "id", "order");
    if (!x.id || !http_parse_or_reply(r, fields, &body))
        return;
    enum db_status st = http_txn(r, resolve_txn, &x);
    if (st == DB_OK)
        return;
    switch (x.out) {
    case ORDER_RESOLVE_NOT_FOUND:
        http_reply_problem(r, 404, "not_found", "no such order");
        break;
    case ORDER_RESOLVE_NOT_DISPUTED:
        http_reply_problem(r, 409, "invalid_state", "the order has no open dispute");
        break;
    case ORDER_RESOLVE_NO_PAYMENTS:
        http_set_header(r, "Retry-After", "60");
        http_reply_problem(r, 503, "service_unavailable", "payments are not available");
        break;
    case ORDER_RESOLVED:
        http_reply_db(r, st);
    }
}
