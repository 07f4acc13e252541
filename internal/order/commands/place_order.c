/* POST /v1/orders (verified user; Idempotency-Key required): {items:[{product_id,
 * quantity}], shipping_address:{...}} -> 201 the order, pending_payment, Location
 * /v1/orders/{id}; emits order.placed.
 *
 * One transaction: stock is taken line by line in product-id order (catalog_stock_take, each
 * a guarded UPDATE that also writes the movement with the order id), so two baskets holding
 * the same products in opposite orders lock them in the same order and never deadlock (the
 * transaction runner would rerun one if PostgreSQL still reported a deadlock). Titles and
 * unit prices are copied from the products as taken; the commission rate in force is fixed
 * on the order. Any refusal rolls the whole order back, stock included:
 *   422 validation_failed on items[i].product_id  the product does not exist
 *   409 invalid_state (errors[] names the item)   not for sale (draft, archived, taken down)
 *   409 out_of_stock (errors[] names the item)    not enough stock
 *   422 cannot_buy_own_product / mixed_sellers    the buyer's own product / a second seller */
#include <stdio.h>
#include <string.h>

#include "internal/order/internal.h"

enum refusal { NONE, UNKNOWN, NOT_FOR_SALE, OUT_OF_STOCK, OWN_PRODUCT, MIXED_SELLERS };

struct place_ctx {
    struct http_req *r;
    const char *buyer_id;
    const struct order_place_input *in;
    enum refusal why;
    int index; /* the refused line's position in items[] */
};

/* Why the take of line l was refused (DB_CHECK), or the database's status. */
static enum db_status refused(struct db_conn *c, struct place_ctx *x,
                              const struct order_place_line *l, enum db_status st)
{
    bool exists = false;
    x->index = l->index;
    if (st == DB_CHECK) {
        x->why = OUT_OF_STOCK;
        return DB_CHECK;
    }
    st = catalog_product_exists(c, l->product_id, &exists);
    if (st != DB_OK)
        return st;
    x->why = exists ? NOT_FOR_SALE : UNKNOWN;
    return DB_CHECK;
}

/* Takes every line's stock into lines[]; sets o's seller and subtotal. */
static enum db_status take_all(struct db_conn *c, struct place_ctx *x, struct order_new *o,
                               struct catalog_line *lines, int *qty)
{
    for (size_t i = 0; i < x->in->n; i++) {
        const struct order_place_line *l = &x->in->lines[i];
        enum db_status st = catalog_stock_take(c, l->product_id, l->quantity, o->id, &lines[i]);
        if (st == DB_CHECK || st == DB_NOT_FOUND)
            return refused(c, x, l, st);
        if (st != DB_OK)
            return st;
        x->index = l->index;
        if (strcmp(lines[i].seller_id, x->buyer_id) == 0)
            x->why = OWN_PRODUCT;
        else if (i > 0 && strcmp(lines[i].seller_id, lines[0].seller_id) != 0)
            x->why = MIXED_SELLERS;
        if (x->why != NONE)
            return DB_CHECK;
        qty[i] = l->quantity;
        o->subtotal_minor += lines[i].unit_price_minor * l->quantity;
        o->seller_id = lines[0].seller_id;
    }
    return o->seller_id ? DB_OK : DB_ERROR; /* at least one line (the body's rule) */
}

/* Places the order and replies 201 (held until COMMIT); DB_CHECK with x->why on a refusal. */
static enum db_status place_txn(struct db_conn *c, void *arg)
{
    struct place_ctx *x = arg;
    struct catalog_line lines[ORDER_ITEMS_MAX];
    int qty[ORDER_ITEMS_MAX];
    char location[64];
    struct order_new o = {.buyer_id = x->buyer_id,
                          .commission_bps = order_settings()->commission_bps,
                          .shipping_address = x->in->address,
                          .lines = lines,
                          .quantities = qty,
                          .n = x->in->n};
    x->why = NONE;
    ids_uuid7(o.id);
    enum db_status st = take_all(c, x, &o, lines, qty);
    if (st != DB_OK)
        return st;
    o.commission_minor = order_commission(o.subtotal_minor, o.commission_bps);
    st = order_repo_insert(c, &o);
    if (st == DB_OK)
        st = order_emit_placed(c, &o);
    if (st != DB_OK)
        return st;
    snprintf(location, sizeof location, "/v1/orders/%s", o.id);
    http_set_location(x->r, location);
    return order_reply_order(x->r, c, 201, o.id, x->buyer_id);
}

/* A refusal naming items[index].product_id. */
static void reply_item(struct http_req *r, int status, const char *code, const char *detail,
                       int index, const char *message)
{
    char path[40];
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    snprintf(path, sizeof path, "items[%d].product_id", index);
    jsonh_errors_add(&e, path, message);
    http_reply_problem_errors(r, status, code, detail, json_incref(e.list));
    jsonh_errors_cleanup(&e);
}

static void reply_refused(struct http_req *r, const struct place_ctx *x)
{
    switch (x->why) {
    case UNKNOWN:
        reply_item(r, 422, "validation_failed", "the request has invalid fields", x->index,
                   "no such product");
        break;
    case NOT_FOR_SALE:
        reply_item(r, 409, "invalid_state", "a product is not for sale", x->index,
                   "is not for sale");
        break;
    case OUT_OF_STOCK:
        reply_item(r, 409, "out_of_stock", "not enough stock", x->index, "is out of stock");
        break;
    case OWN_PRODUCT:
        reply_item(r, 422, "cannot_buy_own_product", "you cannot buy your own product", x->index,
                   "is your own product");
        break;
    case MIXED_SELLERS:
        reply_item(r, 422, "mixed_sellers", "an order holds products of one seller", x->index,
                   "is sold by another seller than the order's other items");
        break;
    case NONE:
        break;
    }
}

void order_place_order(struct http_req *r)
{
    struct order_place_input in;
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    order_parse_place(http_req_json(r), &in, &e);
    if (!http_errors_or_reply(r, &e))
        goto out;
    struct place_ctx x = {.r = r, .buyer_id = http_req_principal(r)->user_id, .in = &in};
    enum db_status st = http_txn(r, place_txn, &x);
    if (st == DB_OK)
        goto out;
    if (x.why != NONE)
        reply_refused(r, &x);
    else
        http_reply_db(r, st);
out:
    order_place_input_cleanup(&in);
}
