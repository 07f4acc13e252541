/* PATCH /v1/products/{id} (owner): changes any editable field in one guarded UPDATE:
 * id + seller + not archived + (If-Match given: version matches). Every accepted PATCH that
 * names an editable field is an edit and bumps version; one that names none changes nothing
 * and answers 200 with the current product (and its ETag), under the same guard. status "draft"
 * unpublishes; "active" publishes (sold_out when stock is 0); draft -> active/sold_out emits
 * product.published in the same transaction. Another seller's product, or no product: 404, nothing
 * changes. Archived: 409 invalid_state. Stale If-Match: 412 precondition_failed. */
#include <string.h>

#include "internal/catalog/internal.h"

struct update_ctx {
    struct http_req *r;
    const char *id, *seller_id, *versions;
    const struct catalog_product_input *in;
    enum catalog_miss miss; /* why, when the transaction returns DB_NOT_FOUND */
};

/* Updates the product and replies 200 (held until COMMIT); DB_NOT_FOUND with x->miss set
 * when the guard matched no row. */
static enum db_status update_txn(struct db_conn *c, void *arg)
{
    struct update_ctx *x = arg;
    PGresult *row = NULL;
    bool published = false;
    enum db_status st =
        catalog_repo_update(c, x->id, x->seller_id, x->versions, x->in, &row, &published);
    if (st == DB_NOT_FOUND) {
        struct catalog_probe probe;
        st = catalog_repo_probe(c, x->id, &probe);
        x->miss = catalog_classify_miss(&probe, x->seller_id);
        return st == DB_OK ? DB_NOT_FOUND : st;
    }
    if (st == DB_OK && published)
        st = catalog_emit_published(c, row, 0);
    if (st == DB_OK)
        catalog_reply_product(x->r, 200, row, 0);
    PQclear(row);
    return st;
}

void catalog_update_product(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    const char *id = http_uuid_param_or_reply(r, "id", "product");
    struct catalog_product_input in;
    struct jsonh_errors e;
    char versions[128];
    struct update_ctx x = {.r = r, .id = id, .seller_id = who->user_id, .in = &in};
    if (!id)
        return;
    jsonh_errors_init(&e);
    catalog_parse_patch(http_req_json(r), &in, &e);
    catalog_check_category(http_req_db(r), in.category, &e);
    if (!http_errors_or_reply(r, &e))
        return;
    x.versions = catalog_if_match(r, versions, sizeof versions);
    enum db_status st = http_txn(r, update_txn, &x);
    if (st == DB_CHECK && strcmp(db_last_constraint(), "products_category_fkey") == 0)
        catalog_reply_unknown_category(r);
    else if (st == DB_NOT_FOUND)
        catalog_reply_miss(r, x.miss);
    else if (st != DB_OK)
        http_reply_db(r, st);
}
