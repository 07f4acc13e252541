/* GET /v1/products/{id} (anyone): the product with its ETag. Drafts are visible to their
 * owner only (404 for anyone else), taken-down ones (and those of a suspended seller) to their
 * owner (with takedown_reason) and admins; sold-out and archived products stay readable by id.
 * The ETag is the version; pkg/http answers 304 when If-None-Match names it. One primary-key
 * read on the read connection — or none: an anonymous request without X-Haat-Consistency is
 * answered from the product read cache (cache.c) when it holds the product, and a miss fills
 * it with what it read (public products only: never a draft, a taken-down product or one of a
 * suspended seller). */
#include <stdio.h>
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

/* The product's answer: ETag, 200 and the JSON (from the cache or just rendered). */
static void reply_json(struct http_req *r, long long version, const struct strbuf *sb)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", version);
    http_set_header(r, "ETag", etag);
    http_reply_bytes(r, 200, "application/json; charset=utf-8", sb->buf, sb->len);
}

/* Anonymous and not asking for a consistent read: the cache may answer. */
static bool cacheable(struct http_req *r)
{
    return !http_req_principal(r) && !http_req_header(r, "X-Haat-Consistency");
}

void catalog_get_product(struct http_req *r)
{
    const char *id = http_uuid_param_or_reply(r, "id", "product");
    if (!id)
        return;
    bool use_cache = cacheable(r);
    struct strbuf sb;
    strbuf_init(&sb);
    long long version = 0;
    uint64_t ticket = 0;
    if (use_cache && catalog_cache_get(id, &sb, &version, &ticket)) {
        reply_json(r, version, &sb);
        strbuf_cleanup(&sb);
        return;
    }
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c) {
        strbuf_cleanup(&sb);
        return;
    }
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
        catalog_product_write(&sb, res, 0);
        if (use_cache && head.status != CATALOG_DRAFT)
            catalog_cache_put(id, head.version, sb.buf, sb.len, ticket);
        reply_json(r, head.version, &sb);
    }
    strbuf_cleanup(&sb);
    PQclear(res);
}
