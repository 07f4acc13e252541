/* The body shared by take down and restore: {reason} required, the catalog's effect and the
 * audit row in one http_txn, 200 with the Product (status and takedown_reason). 404 for no
 * such product (or a malformed id); 409 invalid_state when the product is already taken down
 * or archived (take down), or not taken down (restore). */
#include <stdlib.h>
#include <string.h>

#include "internal/admin/internal.h"
#include "internal/catalog/catalog.h"
#include "pkg/audit/audit.h"

struct moderate_ctx {
    struct http_req *r;
    const char *id, *reason;
    bool take_down;
};

static enum db_status moderate_txn(struct db_conn *c, void *arg)
{
    struct moderate_ctx *x = arg;
    char *product = NULL;
    json_t *before = NULL, *after = NULL;
    enum db_status st =
        catalog_admin_moderate(c, x->id, x->take_down, x->reason, &product, &before, &after);
    if (st == DB_OK) {
        const struct audit_entry e = {
            .actor_id = http_req_principal(x->r)->user_id,
            .action = x->take_down ? "product.takedown" : "product.restore",
            .target_kind = "product",
            .target_id = x->id,
            .reason = x->reason,
            .before = before,
            .after = after,
        };
        st = audit_record(c, &e);
    }
    if (st == DB_OK)
        http_reply_bytes(x->r, 200, "application/json", product, strlen(product));
    json_decref(before);
    json_decref(after);
    free(product);
    return st;
}

void admin_moderate_product(struct http_req *r, bool take_down)
{
    const char *id = http_uuid_param_or_reply(r, "id", "product");
    if (!id)
        return;
    struct moderate_ctx x = {.r = r, .id = id, .take_down = take_down};
    if (!admin_reason_or_reply(r, &x.reason))
        return;
    enum db_status st = http_txn(r, moderate_txn, &x);
    if (st == DB_NOT_FOUND)
        http_reply_problem(r, 404, "not_found", "no such product");
    else if (st == DB_CONFLICT)
        http_reply_problem(r, 409, "invalid_state",
                           take_down ? "the product is already taken down or archived"
                                     : "the product is not taken down");
    else if (st != DB_OK)
        http_reply_db(r, st);
}
