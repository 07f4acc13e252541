/* GET /v1/products/{id} (anyone): the product with its ETag. Drafts are visible to their
 * owner only (404 for anyone else); sold-out and archived products stay readable by id.
 * If-None-Match with the current ETag answers 304. One primary-key read on the read
 * connection. */
#include <string.h>

#include "internal/catalog/internal.h"

static bool visible(const PGresult *res, const struct http_principal *who)
{
    if (strcmp(PQgetvalue(res, 0, CATALOG_COL_STATUS), "draft") != 0)
        return true;
    return who && strcmp(who->user_id, PQgetvalue(res, 0, CATALOG_COL_SELLER_ID)) == 0;
}

/* Whether If-None-Match names the current version ("<version>", W/ prefix allowed: weak
 * comparison) or is "*". */
static bool not_modified(struct http_req *r, const PGresult *res)
{
    const char *h = http_req_header(r, "If-None-Match");
    if (!h)
        return false;
    const char *v = PQgetvalue(res, 0, CATALOG_COL_VERSION);
    size_t vn = strlen(v);
    for (const char *p = h; *p;) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p == '"' && strncmp(p + 1, v, vn) == 0 && p[1 + vn] == '"')
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

void catalog_get_product(struct http_req *r)
{
    const char *id = catalog_path_id_or_reply(r);
    PGresult *res = NULL;
    if (!id)
        return;
    enum db_status st = catalog_repo_get(id, &res);
    if (st != DB_OK)
        catalog_reply_db(r, st);
    else if (PQntuples(res) == 0 || !visible(res, http_req_principal(r)))
        http_reply_problem(r, 404, "not_found", "no such product");
    else {
        if (!not_modified(r, res)) {
            catalog_reply_product(r, 200, res, 0);
        } else {
            catalog_set_etag(r, res, 0);
            http_reply_status(r, 304);
        }
    }
    PQclear(res);
}
