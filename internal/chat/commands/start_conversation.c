/* POST /v1/conversations {product_id, message} (verified user): opens the caller's
 * conversation about a product with its seller and appends the message — 201 with the new
 * conversation, or 200 with the existing one (one conversation per product and buyer).
 * A conversation is about a product, not tied to a purchase. 404 for no such product (or a
 * draft), 422 cannot_message_self for the product's own seller, 403 blocked when the seller
 * blocked the caller, 429 over the send rate. */
#include <stdlib.h>
#include <string.h>

#include "internal/catalog/catalog.h"
#include "internal/chat/internal.h"

struct body {
    const char *product_id, *message;
};

static const struct jsonh_field spec[] = {
    {.name = "product_id",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .check = chat_check_uuid,
     .offset = offsetof(struct body, product_id)},
    {.name = "message",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .check = chat_check_body,
     .offset = offsetof(struct body, message)},
    {.name = NULL},
};

enum refusal { NONE, NO_PRODUCT, OWN_PRODUCT };

struct start_ctx {
    struct http_req *r;
    const char *product_id, *buyer_id;
    struct chat_send send;
    enum refusal why;
};

/* The product's seller, or a refusal (DB_CHECK with x->why). */
static enum db_status product_seller(struct db_conn *c, struct start_ctx *x,
                                     struct catalog_brief *p)
{
    snprintf(p->product_id, sizeof p->product_id, "%s", x->product_id);
    if (catalog_product_briefs(c, p, 1) != 0)
        return DB_UNAVAILABLE;
    x->why = !p->found || p->status == CATALOG_DRAFT  ? NO_PRODUCT
             : strcmp(p->seller_id, x->buyer_id) == 0 ? OWN_PRODUCT
                                                      : NONE;
    return x->why == NONE ? DB_OK : DB_CHECK;
}

static enum db_status start_txn(struct db_conn *c, void *arg)
{
    struct start_ctx *x = arg;
    struct catalog_brief p = {.found = false};
    struct chat_conv cv = {.last_seq = 0};
    bool created = false;
    char id[IDS_UUID_LEN];
    chat_msg_cleanup(&x->send.msg); /* a rerun starts afresh */
    enum db_status st = product_seller(c, x, &p);
    if (st == DB_OK)
        st = chat_repo_conv_open(c, x->product_id, x->buyer_id, p.seller_id, &created, id);
    if (st == DB_OK)
        st = chat_repo_conv_get(c, id, x->buyer_id, true, &cv);
    if (st == DB_OK)
        st = chat_send_in_txn(c, &cv, &x->send);
    if (st == DB_OK)
        st = chat_reply_conversation(x->r, c, created ? 201 : 200, x->buyer_id, id, &x->send.msg);
    return st;
}

static void refuse(struct http_req *r, const struct start_ctx *x, enum db_status st)
{
    if (st == DB_CHECK && x->why == NO_PRODUCT)
        http_reply_problem(r, 404, "not_found", "no such product");
    else if (st == DB_CHECK && x->why == OWN_PRODUCT)
        http_reply_problem(r, 422, "cannot_message_self", "this is your own product");
    else if (!(st == DB_CHECK && chat_send_refused_reply(r, &x->send)))
        http_reply_db(r, st);
}

void chat_start_conversation(struct http_req *r)
{
    struct body b = {0};
    if (!http_parse_or_reply(r, spec, &b))
        return;
    char *text = chat_trim(b.message);
    struct start_ctx x = {.r = r, .product_id = b.product_id};
    x.buyer_id = http_req_principal(r)->user_id;
    x.send.sender = x.buyer_id;
    x.send.body = text;
    enum db_status st = http_txn(r, start_txn, &x);
    if (st != DB_OK)
        refuse(r, &x, st);
    chat_msg_cleanup(&x.send.msg);
    free(text);
}
