/* DELETE /v1/products/{id} (owner): archives the product — no longer listed nor buyable, still
 * readable by id (orders show it). 204, also when it was archived already (DELETE is
 * idempotent); 404 for another seller's product or none. One statement. */
#include "internal/catalog/internal.h"

struct archive_ctx {
    struct http_req *r;
    const char *id, *seller_id;
};

/* Archives and replies 204 (held until COMMIT); DB_NOT_FOUND when not the seller's. */
static enum db_status archive_txn(struct db_conn *c, void *arg)
{
    struct archive_ctx *x = arg;
    enum db_status st = catalog_repo_archive(c, x->id, x->seller_id);
    if (st == DB_OK)
        http_reply_status(x->r, 204);
    return st;
}

void catalog_archive_product(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    struct archive_ctx x = {
        .r = r, .id = http_uuid_param_or_reply(r, "id", "product"), .seller_id = who->user_id};
    if (!x.id)
        return;
    enum db_status st = http_txn(r, archive_txn, &x);
    if (st == DB_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such product");
    else if (st != DB_OK)
        http_reply_db(r, st);
}
