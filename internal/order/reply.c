/* The order module's replies: orders and pages written from the JSON text the statements
 * build, the refusals of the state machine, and the one runner of transition commands. */
#include <stdlib.h>
#include <string.h>

#include "internal/order/internal.h"
#include "pkg/util/strbuf.h"

#define JSON_TYPE "application/json; charset=utf-8"

enum db_status order_reply_order(struct http_req *r, struct db_conn *c, int status, const char *id,
                                 const char *viewer)
{
    char *json = NULL;
    enum db_status st = order_repo_json(c, id, viewer, &json);
    if (st == DB_OK)
        http_reply_bytes(r, status, JSON_TYPE, json, strlen(json));
    free(json);
    return st;
}

void order_reply_page(struct http_req *r, const struct order_page *pg, const char *listing,
                      const char *owner)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "{\"items\":[");
    for (size_t i = 0; i < pg->n; i++) {
        if (i)
            strbuf_append(&sb, ",", 1);
        strbuf_puts(&sb, pg->items[i]);
    }
    strbuf_puts(&sb, "],\"next_cursor\":");
    page_write_cursor(&sb, listing, owner, pg->more ? &pg->next : NULL);
    strbuf_append(&sb, "}", 1);
    http_reply_bytes(r, 200, JSON_TYPE, sb.buf, sb.len);
    strbuf_cleanup(&sb);
}

void order_reply_refused(struct http_req *r, enum order_outcome o)
{
    switch (o) {
    case ORDER_NO_SUCH:
        http_reply_problem(r, 404, "not_found", "no such order");
        break;
    case ORDER_FORBIDDEN:
        http_reply_problem(r, 403, "forbidden", "this side of the order cannot do that");
        break;
    case ORDER_INVALID:
        http_reply_problem(r, 409, "invalid_state", "the order's status does not allow that");
        break;
    case ORDER_NO_PAYMENTS:
        http_set_header(r, "Retry-After", "60");
        http_reply_problem(r, 503, "service_unavailable",
                           "refunds are not available: the paid order stays as it is");
        break;
    case ORDER_DONE:
        break;
    }
}

struct transition_ctx {
    struct http_req *r;
    const char *id;
    const struct order_change *ch;
    struct order_applied out;
};

/* Applies the change and replies 200 with the order (held until COMMIT); a refusal returns
 * DB_CHECK with out.outcome saying why (nothing was written). */
static enum db_status transition_txn(struct db_conn *c, void *arg)
{
    struct transition_ctx *x = arg;
    enum db_status st = order_apply(c, x->id, x->ch, &x->out);
    if (st != DB_OK)
        return st;
    if (x->out.outcome != ORDER_DONE)
        return DB_CHECK;
    return order_reply_order(x->r, c, 200, x->id, x->ch->user_id);
}

void order_run_transition(struct http_req *r, struct order_change *ch)
{
    struct transition_ctx x = {.r = r, .ch = ch};
    x.id = http_uuid_param_or_reply(r, "id", "order");
    if (!x.id)
        return;
    ch->user_id = http_req_principal(r)->user_id;
    enum db_status st = http_txn(r, transition_txn, &x);
    if (st == DB_OK)
        return;
    if (x.out.outcome != ORDER_DONE)
        order_reply_refused(r, x.out.outcome);
    else
        http_reply_db(r, st);
}
