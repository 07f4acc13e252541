/* GET /v1/categories (anyone): {"items":[{slug, name}]} in display order, from the cache (a
 * fresh cache answers even while the database is unreachable). */
#include "internal/catalog/internal.h"

void catalog_list_categories(struct http_req *r)
{
    enum db_status st = DB_OK;
    json_t *body = catalog_categories_json(http_req_db(r), &st);
    if (!body) {
        http_reply_db(r, st);
        return;
    }
    http_set_header(r, "Cache-Control", "public, max-age=300");
    http_reply_json(r, 200, body);
}
