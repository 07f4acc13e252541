/* GET /v1/products/{id} (anyone): the product with its ETag. Drafts are visible to their
 * owner only (404 for anyone else), taken-down ones (and those of a suspended seller) to their
 * owner (with takedown_reason) and admins; sold-out and archived products stay readable by id. The
 * ETag is the version; pkg/http answers 304 when If-None-Match names it. One primary-key read on
 * the read connection. */
#include <string.h>

#include "internal/catalog/internal.h"

static bool visible(const struct catalog_product_head *h, const struct http_principal *who)
{
    bool moderated = h->status == CATALOG_TAKEN_DOWN || h->status == CATALOG_SUSPENDED;
    if (moderated && who && (who->roles & HTTP_ROLE_ADMIN))
        return true;
    if (h->status != CATALOG_DRAFT && !moderated)
        return true;
    return who && strcmp(who->user_id, h->seller_id) == 0;
}

void catalog_get_product(struct http_req *r)
{
    const char *id = http_uuid_param_or_reply(r, "id", "product");
    if (!id)
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    struct catalog_product_head head = {0};
    PGresult *res = NULL;
    enum db_status st = catalog_repo_get(c, id, &res);
    if (st == DB_OK)
        catalog_product_read_head(res, 0, &head);
    if (st == DB_NOT_FOUND || (st == DB_OK && !visible(&head, http_req_principal(r)))) {
        http_reply_problem(r, 404, "not_found", "no such product");
    } else if (st != DB_OK) {
        http_reply_db(r, st);
    } else {
        catalog_reply_product(r, 200, res, 0);
    }
    PQclear(res);
}
