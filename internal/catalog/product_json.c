/* The JSON writer of the catalog's rows: the one reader, besides the repository, of the
 * results the repository hands over opaquely.
 *
 * Product rows (CATALOG_PRODUCT_COLS) as API objects are written straight into JSON text: the
 * columns are known, PostgreSQL's text is valid UTF-8, numbers come as decimal text and the
 * images column is jsonb text already, so no intermediate json_t tree is built (a search
 * page is 20 products: this is the hot path of the catalog's reads). */
#include <stdio.h>
#include <string.h>

#include "internal/catalog/internal.h"

#define JSON_TYPE "application/json; charset=utf-8"

void catalog_product_read_head(const PGresult *res, int row, struct catalog_product_head *out)
{
    out->status = catalog_status_parse(db_col_str(res, row, CATALOG_COL_STATUS));
    db_col_copy(res, row, CATALOG_COL_SELLER_ID, out->seller_id, sizeof out->seller_id);
    out->version = db_col_ll(res, row, CATALOG_COL_VERSION);
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
    const char *v = db_col_str(res, row, col);
    strbuf_puts(sb, name);
    if (!v)
        strbuf_puts(sb, raw && col == CATALOG_COL_IMAGES ? "[]" : "null");
    else if (raw)
        strbuf_puts(sb, v);
    else
        catalog_json_string(sb, v);
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
    if (!db_col_is_null(res, row, CATALOG_COL_TAKEDOWN_REASON))
        member(sb, ",\"takedown_reason\":", res, row, CATALOG_COL_TAKEDOWN_REASON, false);
    strbuf_append(sb, "}", 1);
}

void catalog_set_etag(struct http_req *r, const PGresult *res, int row)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", db_col_ll(res, row, CATALOG_COL_VERSION));
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

void catalog_reply_products(struct http_req *r, const struct catalog_page *pg, const char *listing,
                            const char *owner)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "{\"items\":[");
    for (int i = 0; i < pg->n; i++) {
        if (i)
            strbuf_append(&sb, ",", 1);
        catalog_product_write(&sb, pg->res, i);
    }
    strbuf_puts(&sb, "],\"next_cursor\":");
    page_write_cursor(&sb, listing, owner, pg->more ? &pg->next : NULL);
    strbuf_append(&sb, "}", 1);
    http_reply_bytes(r, 200, JSON_TYPE, sb.buf, sb.len);
    strbuf_cleanup(&sb);
}

/* product_id, seller_id, title, price_minor, currency. */
json_t *catalog_published_payload(const PGresult *res, int row)
{
    return json_pack("{s:s,s:s,s:s,s:I,s:s}", "product_id", db_col_str(res, row, CATALOG_COL_ID),
                     "seller_id", db_col_str(res, row, CATALOG_COL_SELLER_ID), "title",
                     db_col_str(res, row, CATALOG_COL_TITLE), "price_minor",
                     (json_int_t)db_col_ll(res, row, CATALOG_COL_PRICE_MINOR), "currency",
                     db_col_str(res, row, CATALOG_COL_CURRENCY));
}

static json_t *movement_json(const PGresult *res, int i)
{
    const char *order_id = db_col_str(res, i, CATALOG_MOVEMENT_ORDER_ID);
    return json_pack("{s:I,s:s,s:I,s:o,s:s}", "delta",
                     (json_int_t)db_col_ll(res, i, CATALOG_MOVEMENT_DELTA), "reason",
                     db_col_str(res, i, CATALOG_MOVEMENT_REASON), "stock_after",
                     (json_int_t)db_col_ll(res, i, CATALOG_MOVEMENT_STOCK_AFTER), "order_id",
                     order_id ? json_string(order_id) : json_null(), "created_at",
                     db_col_str(res, i, CATALOG_MOVEMENT_CREATED_AT));
}

json_t *catalog_movement_items(const struct catalog_page *pg)
{
    json_t *items = json_array();
    for (int i = 0; i < pg->n; i++)
        json_array_append_new(items, movement_json(pg->res, i));
    return items;
}
