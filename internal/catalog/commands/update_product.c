/* PATCH /v1/products/{id} (owner): changes any editable field in one guarded UPDATE:
 * id + seller + not archived + (If-Match given: version matches). Every accepted PATCH is an
 * edit and bumps version. status "draft" unpublishes; "active" publishes (sold_out when stock
 * is 0); draft -> active/sold_out emits product.published in the same transaction.
 * Another seller's product, or no product: 404, nothing changes. Archived: 409 invalid_state.
 * Stale If-Match: 412 precondition_failed. */
#include <string.h>

#include "internal/catalog/internal.h"

struct update_ctx {
    const char *id, *seller_id, *versions;
    const struct catalog_product_input *in;
    PGresult *row;   /* the updated product + old status, or no row (owned) */
    PGresult *probe; /* when no row matched (owned) */
};

static enum db_status update_txn(struct db_conn *c, void *arg)
{
    struct update_ctx *x = arg;
    PQclear(x->row);
    PQclear(x->probe);
    x->row = x->probe = NULL;
    enum db_status st = catalog_repo_update(c, x->id, x->seller_id, x->versions, x->in, &x->row);
    if (st != DB_OK)
        return st;
    if (PQntuples(x->row) == 0)
        return catalog_repo_probe(c, x->id, &x->probe);
    const char *before = PQgetvalue(x->row, 0, CATALOG_COL_COUNT);
    const char *now = PQgetvalue(x->row, 0, CATALOG_COL_STATUS);
    if (strcmp(before, "draft") == 0 && strcmp(now, "draft") != 0)
        st = catalog_emit_published(c, x->row, 0);
    return st;
}

void catalog_update_product(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    const char *id = catalog_path_id_or_reply(r);
    struct catalog_product_input in;
    struct jsonh_errors e;
    char versions[128];
    struct update_ctx x = {.id = id, .seller_id = who->user_id, .in = &in};
    jsonh_errors_init(&e);
    if (!id)
        goto out;
    catalog_parse_patch(http_req_json(r), &in, &e);
    if (jsonh_errors_any(&e)) {
        catalog_reply_invalid(r, &e);
        goto out;
    }
    x.versions = catalog_if_match(r, versions, sizeof versions);
    enum db_status st = db_txn(DB_PRIMARY, update_txn, &x);
    if (st == DB_CHECK && strcmp(db_last_constraint(), "products_category_fkey") == 0) {
        jsonh_errors_add(&e, "category", "is not a known category (see GET /v1/categories)");
        catalog_reply_invalid(r, &e);
    } else if (st != DB_OK) {
        catalog_reply_db(r, st);
    } else if (x.probe) {
        catalog_reply_miss(r, catalog_classify_miss(x.probe, who->user_id));
    } else {
        catalog_reply_product(r, 200, x.row, 0);
    }
out:
    PQclear(x.row);
    PQclear(x.probe);
    jsonh_errors_cleanup(&e);
}
