/* GET /v1/sandbox/payments/{id}/checkout (anyone, sandbox only): the sandbox's hosted checkout
 * page, plain HTML with inline CSS and JS (no other asset, works offline). */
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"

void payment_get_sandbox_checkout(struct http_req *r)
{
    const char *id = http_uuid_param_or_reply(r, "id", "payment");
    if (!id)
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    struct payment_row p;
    enum db_status st = payment_repo_get(c, id, false, &p);
    if (st == DB_OK && strcmp(p.provider, "sandbox") != 0)
        st = DB_NOT_FOUND;
    if (st == DB_NOT_FOUND) {
        http_reply_problem(r, 404, "not_found", "no such payment");
    } else if (st != DB_OK) {
        http_reply_db(r, st);
    } else {
        char *html = payment_sandbox_page(&p);
        http_set_header(r, "Cache-Control", "no-store");
        http_reply_bytes(r, 200, "text/html; charset=utf-8", html, strlen(html));
        free(html);
    }
}
