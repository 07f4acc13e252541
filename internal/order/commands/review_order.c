/* POST /v1/orders/{id}/review (its buyer): {rating 1..5, comment?} -> 201 the review {id,
 * order_id, seller_id, rating, comment, created_at}. Only for a delivered or completed order
 * (409 invalid_state otherwise), once (409 already_reviewed); the seller gets 403, anyone
 * else 404. The review counts in the seller's rating at once. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/order/internal.h"

struct review_body {
    int64_t rating;
    const char *comment;
};

static const struct jsonh_field fields[] = {
    {.name = "rating",
     .type = JSONH_INT,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = 5,
     .offset = offsetof(struct review_body, rating)},
    {.name = "comment",
     .type = JSONH_STRING,
     .flags = JSONH_NULLABLE,
     .min = 0,
     .max = ORDER_COMMENT_MAX,
     .check = jsonh_check_multiline_text,
     .offset = offsetof(struct review_body, comment)},
    {0},
};

enum refusal { NONE, NO_SUCH, NOT_BUYER, NOT_DELIVERED, ALREADY };

struct review_ctx {
    struct http_req *r;
    const char *id, *user_id;
    const struct review_body *body;
    enum refusal why;
};

static enum refusal check(const struct order_row *o, const char *user_id)
{
    if (strcmp(o->buyer_id, user_id) != 0)
        return strcmp(o->seller_id, user_id) == 0 ? NOT_BUYER : NO_SUCH;
    if (o->status != ORDER_DELIVERED && o->status != ORDER_COMPLETED)
        return NOT_DELIVERED;
    return NONE;
}

/* Stores the review and replies 201 (held until COMMIT); DB_CHECK with x->why on a refusal. */
static enum db_status review_txn(struct db_conn *c, void *arg)
{
    struct review_ctx *x = arg;
    struct order_row o;
    char id[IDS_UUID_LEN], *json = NULL;
    x->why = NONE;
    enum db_status st = order_repo_lock(c, x->id, &o);
    if (st == DB_NOT_FOUND)
        x->why = NO_SUCH;
    else if (st == DB_OK)
        x->why = check(&o, x->user_id);
    if (x->why != NONE)
        return DB_CHECK;
    if (st != DB_OK)
        return st;
    ids_uuid7(id);
    st = order_repo_review_insert(c, id, &o, (int)x->body->rating, x->body->comment, &json);
    if (st == DB_CONFLICT) {
        x->why = ALREADY;
        return DB_CHECK;
    }
    if (st == DB_OK)
        http_reply_bytes(x->r, 201, "application/json; charset=utf-8", json, strlen(json));
    free(json);
    return st;
}

void order_review_order(struct http_req *r)
{
    struct review_body body = {0};
    struct review_ctx x = {.r = r, .body = &body, .user_id = http_req_principal(r)->user_id};
    x.id = http_uuid_param_or_reply(r, "id", "order");
    if (!x.id || !http_parse_or_reply(r, fields, &body))
        return;
    enum db_status st = http_txn(r, review_txn, &x);
    if (st == DB_OK)
        return;
    switch (x.why) {
    case NO_SUCH:
        http_reply_problem(r, 404, "not_found", "no such order");
        break;
    case NOT_BUYER:
        http_reply_problem(r, 403, "forbidden", "only the buyer reviews an order");
        break;
    case NOT_DELIVERED:
        http_reply_problem(r, 409, "invalid_state", "only a delivered order can be reviewed");
        break;
    case ALREADY:
        http_reply_problem(r, 409, "already_reviewed", "this order has a review already");
        break;
    case NONE:
        http_reply_db(r, st);
    }
}
