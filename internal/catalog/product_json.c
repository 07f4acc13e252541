/* Product rows (CATALOG_PRODUCT_COLS) as API objects. */
#include <stdio.h>
#include <stdlib.h>

#include "internal/catalog/internal.h"

long long catalog_col_ll(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static json_t *text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

/* images is jsonb text written by us: an array of strings; anything else reads as []. */
static json_t *images_json(const PGresult *res, int row)
{
    const char *text = PQgetvalue(res, row, CATALOG_COL_IMAGES);
    json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return json_array();
    }
    return a;
}

json_t *catalog_product_json(const PGresult *res, int row)
{
    json_t *p = json_object();
    json_object_set_new(p, "id", text_or_null(res, row, CATALOG_COL_ID));
    json_object_set_new(p, "seller_id", text_or_null(res, row, CATALOG_COL_SELLER_ID));
    json_object_set_new(p, "title", text_or_null(res, row, CATALOG_COL_TITLE));
    json_object_set_new(p, "description", text_or_null(res, row, CATALOG_COL_DESCRIPTION));
    json_object_set_new(p, "category", text_or_null(res, row, CATALOG_COL_CATEGORY));
    json_object_set_new(p, "condition", text_or_null(res, row, CATALOG_COL_CONDITION));
    json_object_set_new(p, "price_minor",
                        json_integer(catalog_col_ll(res, row, CATALOG_COL_PRICE_MINOR)));
    json_object_set_new(p, "currency", text_or_null(res, row, CATALOG_COL_CURRENCY));
    json_object_set_new(p, "stock", json_integer(catalog_col_ll(res, row, CATALOG_COL_STOCK)));
    json_object_set_new(p, "status", text_or_null(res, row, CATALOG_COL_STATUS));
    json_object_set_new(p, "city", text_or_null(res, row, CATALOG_COL_CITY));
    json_object_set_new(p, "images", images_json(res, row));
    json_object_set_new(p, "version",
                        json_integer(catalog_col_ll(res, row, CATALOG_COL_VERSION)));
    json_object_set_new(p, "created_at", text_or_null(res, row, CATALOG_COL_CREATED_AT));
    json_object_set_new(p, "updated_at", text_or_null(res, row, CATALOG_COL_UPDATED_AT));
    return p;
}

void catalog_set_etag(struct http_req *r, const PGresult *res, int row)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", catalog_col_ll(res, row, CATALOG_COL_VERSION));
    http_set_header(r, "ETag", etag);
}
