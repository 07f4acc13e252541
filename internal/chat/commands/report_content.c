/* POST /v1/reports {kind: "message"|"product"|"user", id, reason} (verified user): records a
 * report for admins with a snapshot of the content as it is now (the message's body, the
 * product's title, the user's display name). 201 with the report. 404 when there is no such
 * target — a message counts only for the participants of its conversation, who alone can
 * see it. reason: 1..1000 characters after trimming. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/catalog/catalog.h"
#include "internal/chat/internal.h"
#include "internal/user/user.h"
#include "pkg/util/xalloc.h"

static const char *const kinds[] = {"message", "product", "user", NULL};

struct body {
    const char *kind, *id, *reason;
};

static const struct jsonh_field spec[] = {
    {.name = "kind",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .one_of = kinds,
     .offset = offsetof(struct body, kind)},
    {.name = "id",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .check = chat_check_uuid,
     .offset = offsetof(struct body, id)},
    {.name = "reason",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .check = chat_check_reason,
     .offset = offsetof(struct body, reason)},
    {.name = NULL},
};

struct report_ctx {
    struct http_req *r;
    const struct body *b;
    const char *reporter, *reason;
};

/* The reported content now, as a new string; DB_NOT_FOUND when the caller cannot see it. */
static enum db_status snapshot(struct db_conn *c, const struct report_ctx *x, char **out)
{
    const char *kind = x->b->kind, *id = x->b->id;
    if (strcmp(kind, "message") == 0)
        return chat_repo_message_body(c, id, x->reporter, out);
    if (strcmp(kind, "product") == 0) {
        struct catalog_brief p = {.found = false};
        snprintf(p.product_id, sizeof p.product_id, "%s", id);
        if (catalog_product_briefs(c, &p, 1) != 0)
            return DB_UNAVAILABLE;
        *out = p.found ? xstrdup(p.title) : NULL;
        return p.found ? DB_OK : DB_NOT_FOUND;
    }
    struct user_name u = {.found = false};
    snprintf(u.user_id, sizeof u.user_id, "%s", id);
    if (user_display_names(c, &u, 1) != 0)
        return DB_UNAVAILABLE;
    *out = u.found ? xstrdup(u.display_name) : NULL;
    return u.found ? DB_OK : DB_NOT_FOUND;
}

static enum db_status report_txn(struct db_conn *c, void *arg)
{
    struct report_ctx *x = arg;
    char *snap = NULL;
    PGresult *res = NULL;
    enum db_status st = snapshot(c, x, &snap);
    if (st == DB_OK)
        st = chat_repo_report_insert(c, x->b->kind, x->b->id, x->reporter, x->reason, snap, &res);
    if (st == DB_OK) {
        bool more = false;
        struct page_key next;
        json_t *items = chat_json_reports(res, 0, &more, &next);
        http_reply_json(x->r, 201, json_incref(json_array_get(items, 0)));
        json_decref(items);
    }
    PQclear(res);
    free(snap);
    return st;
}

void chat_report_content(struct http_req *r)
{
    struct body b = {0};
    if (!http_parse_or_reply(r, spec, &b))
        return;
    char *reason = chat_trim(b.reason);
    struct report_ctx x = {r, &b, http_req_principal(r)->user_id, reason};
    enum db_status st = http_txn(r, report_txn, &x);
    if (st == DB_NOT_FOUND) {
        char detail[32];
        snprintf(detail, sizeof detail, "no such %s", b.kind);
        http_reply_problem(r, 404, "not_found", detail);
    } else if (st != DB_OK) {
        http_reply_db(r, st);
    }
    free(reason);
}
