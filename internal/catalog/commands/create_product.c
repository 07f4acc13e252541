/* POST /v1/products (seller): a new product owned by the caller. 201 with the product, its
 * ETag and Location. status defaults to "active" (a listing goes live unless the seller asks
 * for a "draft"); "active" with stock 0 is stored as "sold_out". product.published is emitted
 * in the same transaction when the product is not a draft. */
#include <stdio.h>
#include <string.h>

#include "internal/catalog/internal.h"

struct create_ctx {
    struct http_req *r;
    const struct catalog_product_input *in;
    const char *seller_id;
};

/* Inserts the product and replies 201 (held until COMMIT). */
static enum db_status create_txn(struct db_conn *c, void *arg)
{
    struct create_ctx *x = arg;
    char id[IDS_UUID_LEN], location[64];
    PGresult *row = NULL;
    bool published = false;
    ids_uuid7(id);
    enum db_status st = catalog_repo_insert(c, id, x->seller_id, x->in, &row, &published);
    if (st == DB_OK && published)
        st = catalog_emit_published(c, row, 0);
    if (st == DB_OK) {
        snprintf(location, sizeof location, "/v1/products/%s", id);
        http_set_location(x->r, location);
        catalog_reply_product(x->r, 201, row, 0);
    }
    PQclear(row);
    return st;
}

void catalog_create_product(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    struct catalog_product_input in;
    struct jsonh_errors e;
    struct create_ctx x = {.r = r, .in = &in, .seller_id = who->user_id};
    jsonh_errors_init(&e);
    catalog_parse_create(http_req_json(r), &in, &e);
    catalog_check_category(http_req_db(r), in.category, &e);
    if (!http_errors_or_reply(r, &e))
        return;
    enum db_status st = http_txn(r, create_txn, &x);
    if (st == DB_CHECK && strcmp(db_last_constraint(), "products_category_fkey") == 0)
        catalog_reply_unknown_category(r);
    else if (st != DB_OK)
        http_reply_db(r, st);
}
