/* POST /v1/products (seller): a new product owned by the caller. 201 with the product, its
 * ETag and Location. status defaults to "active" (a listing goes live unless the seller asks
 * for a "draft"); "active" with stock 0 is stored as "sold_out". product.published is emitted
 * in the same transaction when the product is not a draft. */
#include <stdio.h>
#include <string.h>

#include "internal/catalog/internal.h"

struct create_ctx {
    const struct catalog_product_input *in;
    const char *seller_id;
    char id[IDS_UUID_LEN];
    PGresult *row; /* the product row (owned) */
};

static enum db_status create_txn(struct db_conn *c, void *arg)
{
    struct create_ctx *x = arg;
    PQclear(x->row); /* a rerun after DB_RETRY starts afresh */
    x->row = NULL;
    ids_uuid7(x->id);
    enum db_status st = catalog_repo_insert(c, x->id, x->seller_id, x->in, &x->row);
    if (st != DB_OK)
        return st;
    if (strcmp(PQgetvalue(x->row, 0, CATALOG_COL_STATUS), "draft") != 0)
        st = catalog_emit_published(c, x->row, 0);
    return st;
}

void catalog_create_product(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    struct catalog_product_input in;
    struct jsonh_errors e;
    struct create_ctx x = {.in = &in, .seller_id = who->user_id};
    jsonh_errors_init(&e);
    catalog_parse_create(http_req_json(r), &in, &e);
    if (jsonh_errors_any(&e)) {
        catalog_reply_invalid(r, &e);
        goto out;
    }
    enum db_status st = db_txn(DB_PRIMARY, create_txn, &x);
    if (st == DB_CHECK && strcmp(db_last_constraint(), "products_category_fkey") == 0) {
        jsonh_errors_add(&e, "category", "is not a known category (see GET /v1/categories)");
        catalog_reply_invalid(r, &e);
        goto out;
    }
    if (st != DB_OK) {
        catalog_reply_db(r, st);
        goto out;
    }
    char location[64];
    snprintf(location, sizeof location, "/v1/products/%s", x.id);
    http_set_header(r, "Location", location);
    catalog_reply_product(r, 201, x.row, 0);
out:
    PQclear(x.row);
    jsonh_errors_cleanup(&e);
}
