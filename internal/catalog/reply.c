/* Reply helpers shared by the catalog's handlers. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal/catalog/internal.h"
#include "pkg/util/strbuf.h"

void catalog_reply_db(struct http_req *r, enum db_status st)
{
    if (st == DB_UNAVAILABLE || st == DB_RETRY) {
        http_set_header(r, "Retry-After", "1");
        http_reply_problem(r, 503, "service_unavailable",
                           "the database is unavailable; retry shortly");
        return;
    }
    http_reply_problem(r, 500, "internal", "the server could not answer this request");
}

const char *catalog_path_id_or_reply(struct http_req *r)
{
    const char *id = http_req_param(r, "id");
    if (id && ids_is_uuid(id))
        return id;
    http_reply_problem(r, 404, "not_found", "no such product");
    return NULL;
}

void catalog_reply_invalid(struct http_req *r, const struct jsonh_errors *e)
{
    http_reply_problem_errors(r, 422, "validation_failed", "some fields are invalid",
                              json_incref(e->list));
}

/* One entity tag at s (after spaces): appends its version to sb when it is a strong
 * "<digits>" tag that fits an int. Returns where the tag ends, or NULL when malformed. */
static const char *etag_version(const char *s, struct strbuf *sb, int *count)
{
    bool weak = strncmp(s, "W/", 2) == 0;
    if (weak)
        s += 2;
    if (*s != '"')
        return NULL;
    const char *end = strchr(s + 1, '"');
    if (!end)
        return NULL;
    size_t n = (size_t)(end - s - 1);
    bool digits = n >= 1 && n <= 9 && strspn(s + 1, "0123456789") == n && s[1] != '0';
    if (!weak && digits && *count < CATALOG_IF_MATCH_MAX) {
        strbuf_printf(sb, "%s%.*s", *count ? "," : "", (int)n, s + 1);
        (*count)++;
    }
    return end + 1;
}

const char *catalog_if_match(struct http_req *r, char *buf, size_t size)
{
    const char *h = http_req_header(r, "If-Match");
    if (!h)
        return NULL;
    while (*h == ' ' || *h == '\t')
        h++;
    if (h[0] == '*' && h[1 + strspn(h + 1, " \t")] == '\0')
        return NULL;
    struct strbuf sb;
    strbuf_init(&sb);
    int count = 0;
    bool ok = true;
    while (ok && *h) {
        h = etag_version(h, &sb, &count);
        ok = h != NULL;
        if (ok) {
            h += strspn(h, " \t");
            if (*h == ',')
                h += 1 + strspn(h + 1, " \t");
            else
                ok = *h == '\0';
        }
    }
    snprintf(buf, size, "{%s}", ok && sb.buf ? sb.buf : "");
    strbuf_cleanup(&sb);
    return buf;
}

void catalog_page_params(struct http_req *r, char kind, int *limit, struct catalog_cursor *after,
                         bool *has_cursor, struct jsonh_errors *e)
{
    if (!catalog_parse_limit(http_req_query(r, "limit"), limit))
        jsonh_errors_add(e, "limit", "must be an integer from 1 to 100");
    const char *cursor = http_req_query(r, "cursor");
    *has_cursor = cursor != NULL;
    if (cursor && !catalog_cursor_decode(cursor, kind, after))
        jsonh_errors_add(e, "cursor",
                         "is not a cursor of this listing (use next_cursor as returned)");
}

void catalog_reply_page(struct http_req *r, json_t *items, const struct catalog_cursor *next)
{
    char text[CATALOG_CURSOR_SIZE];
    json_t *body = json_object();
    json_object_set_new(body, "items", items);
    if (next) {
        catalog_cursor_encode(next, text);
        json_object_set_new(body, "next_cursor", json_string(text));
    } else {
        json_object_set_new(body, "next_cursor", json_null());
    }
    http_reply_json(r, 200, body);
}

enum catalog_miss catalog_classify_miss(const PGresult *probe, const char *seller_id)
{
    if (!probe || PQntuples(probe) == 0 || strcmp(PQgetvalue(probe, 0, 0), seller_id) != 0)
        return CATALOG_MISS_NOT_FOUND;
    if (strcmp(PQgetvalue(probe, 0, 1), "archived") == 0)
        return CATALOG_MISS_ARCHIVED;
    return CATALOG_MISS_GUARD;
}

void catalog_reply_miss(struct http_req *r, enum catalog_miss m)
{
    switch (m) {
    case CATALOG_MISS_NOT_FOUND:
        http_reply_problem(r, 404, "not_found", "no such product");
        break;
    case CATALOG_MISS_ARCHIVED:
        http_reply_problem(r, 409, "invalid_state", "the product is archived (deleted)");
        break;
    case CATALOG_MISS_GUARD:
        http_reply_problem(r, 412, "precondition_failed",
                           "the product has changed since the version in If-Match");
        break;
    }
}

void catalog_reply_stock(struct http_req *r, const PGresult *res)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", catalog_col_ll(res, 0, CATALOG_STOCK_VERSION));
    http_set_header(r, "ETag", etag);
    http_reply_json(r, 200,
                    json_pack("{s:s,s:I}", "product_id", PQgetvalue(res, 0, CATALOG_STOCK_ID),
                              "stock", (json_int_t)catalog_col_ll(res, 0, CATALOG_STOCK_STOCK)));
}
