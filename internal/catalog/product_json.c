/* Product rows (CATALOG_PRODUCT_COLS) as API objects, written straight into JSON text: the
 * columns are known, PostgreSQL's text is valid UTF-8, numbers come as decimal text and the
 * images column is jsonb text already, so no intermediate json_t tree is built (a search
 * page is 20 products: this is the hot path of the catalog's reads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/catalog/internal.h"

#define JSON_TYPE "application/json; charset=utf-8"

long long catalog_col_ll(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* s as a JSON string: quotes, backslashes and control characters escaped. */
void catalog_json_string(struct strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;
    strbuf_append(sb, "\"", 1);
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        strbuf_append(sb, run, (size_t)(p - run));
        run = p + 1;
        switch (c) {
        case '"':
            strbuf_append(sb, "\\\"", 2);
            break;
        case '\\':
            strbuf_append(sb, "\\\\", 2);
            break;
        case '\n':
            strbuf_append(sb, "\\n", 2);
            break;
        case '\r':
            strbuf_append(sb, "\\r", 2);
            break;
        case '\t':
            strbuf_append(sb, "\\t", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            strbuf_append(sb, u, sizeof u);
        }
        }
    }
    strbuf_append(sb, run, strlen(run));
    strbuf_append(sb, "\"", 1);
}

/* ,"name":<value> — a string (or null), or raw text (numbers, jsonb). */
static void member(struct strbuf *sb, const char *name, const PGresult *res, int row, int col,
                   bool raw)
{
    strbuf_puts(sb, name);
    if (PQgetisnull(res, row, col))
        strbuf_puts(sb, raw && col == CATALOG_COL_IMAGES ? "[]" : "null");
    else if (raw)
        strbuf_puts(sb, PQgetvalue(res, row, col));
    else
        catalog_json_string(sb, PQgetvalue(res, row, col));
}

void catalog_product_write(struct strbuf *sb, const PGresult *res, int row)
{
    member(sb, "{\"id\":", res, row, CATALOG_COL_ID, false);
    member(sb, ",\"seller_id\":", res, row, CATALOG_COL_SELLER_ID, false);
    member(sb, ",\"title\":", res, row, CATALOG_COL_TITLE, false);
    member(sb, ",\"description\":", res, row, CATALOG_COL_DESCRIPTION, false);
    member(sb, ",\"category\":", res, row, CATALOG_COL_CATEGORY, false);
    member(sb, ",\"condition\":", res, row, CATALOG_COL_CONDITION, false);
    member(sb, ",\"price_minor\":", res, row, CATALOG_COL_PRICE_MINOR, true);
    member(sb, ",\"currency\":", res, row, CATALOG_COL_CURRENCY, false);
    member(sb, ",\"stock\":", res, row, CATALOG_COL_STOCK, true);
    member(sb, ",\"status\":", res, row, CATALOG_COL_STATUS, false);
    member(sb, ",\"city\":", res, row, CATALOG_COL_CITY, false);
    member(sb, ",\"images\":", res, row, CATALOG_COL_IMAGES, true);
    member(sb, ",\"version\":", res, row, CATALOG_COL_VERSION, true);
    member(sb, ",\"created_at\":", res, row, CATALOG_COL_CREATED_AT, false);
    member(sb, ",\"updated_at\":", res, row, CATALOG_COL_UPDATED_AT, false);
    strbuf_append(sb, "}", 1);
}

void catalog_set_etag(struct http_req *r, const PGresult *res, int row)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", catalog_col_ll(res, row, CATALOG_COL_VERSION));
    http_set_header(r, "ETag", etag);
}

void catalog_reply_product(struct http_req *r, int status, const PGresult *res, int row)
{
    struct strbuf sb;
    strbuf_init(&sb);
    catalog_set_etag(r, res, row);
    catalog_product_write(&sb, res, row);
    http_reply_bytes(r, status, JSON_TYPE, sb.buf, sb.len);
    strbuf_cleanup(&sb);
}

void catalog_reply_products(struct http_req *r, const PGresult *res, int n,
                            const struct catalog_cursor *next)
{
    struct strbuf sb;
    char cursor[CATALOG_CURSOR_SIZE];
    strbuf_init(&sb);
    strbuf_puts(&sb, "{\"items\":[");
    for (int i = 0; i < n; i++) {
        if (i)
            strbuf_append(&sb, ",", 1);
        catalog_product_write(&sb, res, i);
    }
    strbuf_puts(&sb, "],\"next_cursor\":");
    if (next) {
        catalog_cursor_encode(next, cursor);
        catalog_json_string(&sb, cursor);
    } else {
        strbuf_puts(&sb, "null");
    }
    strbuf_append(&sb, "}", 1);
    http_reply_bytes(r, 200, JSON_TYPE, sb.buf, sb.len);
    strbuf_cleanup(&sb);
}
