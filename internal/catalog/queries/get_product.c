/* GET /v1/products/{id} (anyone): the product with its ETag. Drafts are visible to their
 * owner only (404 for anyone else); sold-out and archived products stay readable by id.
 * If-None-Match with the current ETag answers 304. One primary-key read on the read
 * connection. */
#include <stdio.h>
#include <string.h>

#include "internal/catalog/internal.h"

static bool visible(const struct catalog_product_head *h, const struct http_principal *who)
{
    if (h->status != CATALOG_DRAFT)
        return true;
    return who && strcmp(who->user_id, h->seller_id) == 0;
}

/* Whether If-None-Match names the current version ("<version>", W/ prefix allowed: weak
 * comparison) or is "*". */
static bool not_modified(struct http_req *r, long long version)
{
    const char *h = http_req_header(r, "If-None-Match");
    char v[24];
    if (!h)
        return false;
    int vn = snprintf(v, sizeof v, "%lld", version);
    for (const char *p = h; *p;) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p == '"' && strncmp(p + 1, v, (size_t)vn) == 0 && p[1 + vn] == '"')
            return true;
        p += strcspn(p, ",");
    }
    return false;
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
    } else if (not_modified(r, head.version)) {
        catalog_set_etag(r, res, 0);
        http_reply_status(r, 304);
    } else {
        catalog_reply_product(r, 200, res, 0);
    }
    PQclear(res);
}
