/* DELETE /v1/products/{id} (owner): archives the product — no longer listed nor buyable, still
 * readable by id (orders show it). 204, also when it was archived already (DELETE is
 * idempotent); 404 for another seller's product or none. One statement. */
#include <string.h>

#include "internal/catalog/internal.h"

void catalog_archive_product(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    const char *id = catalog_path_id_or_reply(r);
    PGresult *res = NULL;
    if (!id)
        return;
    enum db_status st = catalog_repo_archive(id, who->user_id, &res);
    if (st != DB_OK)
        catalog_reply_db(r, st);
    else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
        http_reply_problem(r, 404, "not_found", "no such product");
    else
        http_reply_status(r, 204);
    PQclear(res);
}
