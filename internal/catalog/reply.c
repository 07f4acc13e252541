/* The catalog's own replies: If-Match versions, why a guarded write missed, the stock answer. */
#include <stdio.h>
#include <string.h>

#include "internal/catalog/internal.h"
#include "pkg/util/strbuf.h"

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

enum catalog_miss catalog_classify_miss(const struct catalog_probe *p, const char *seller_id)
{
    if (!p->found || strcmp(p->seller_id, seller_id) != 0)
        return CATALOG_MISS_NOT_FOUND;
    if (p->status == CATALOG_ARCHIVED)
        return CATALOG_MISS_ARCHIVED;
    if (p->status == CATALOG_TAKEN_DOWN || p->status == CATALOG_SUSPENDED)
        return CATALOG_MISS_TAKEN_DOWN;
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
    case CATALOG_MISS_TAKEN_DOWN:
        http_reply_problem(
            r, 409, "invalid_state",
            "the product was taken down or hidden by an admin; only an admin restores it");
        break;
    case CATALOG_MISS_GUARD:
        http_reply_problem(r, 412, "precondition_failed",
                           "the product has changed since the version in If-Match");
        break;
    }
}

void catalog_reply_stock(struct http_req *r, const struct catalog_stock_row *row)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", row->version);
    http_set_header(r, "ETag", etag);
    http_reply_json(r, 200,
                    json_pack("{s:s,s:I}", "product_id", row->id, "stock", (json_int_t)row->stock));
}

void catalog_reply_unknown_category(struct http_req *r)
{
    http_reply_field(r, 422, "category", CATALOG_UNKNOWN_CATEGORY);
}
