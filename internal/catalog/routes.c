/* The catalog's routes (docs/openapi.yaml, tag "catalog"). */
#include "internal/catalog/internal.h"

static const struct http_route commands[] = {
    {"POST", "/v1/products", catalog_create_product, HTTP_AUTH_SELLER, HTTP_JSON_BODY,
     HTTP_KIB(64)},
    {"PATCH", "/v1/products/{id}", catalog_update_product, HTTP_AUTH_SELLER, HTTP_JSON_BODY,
     HTTP_KIB(64)},
    {"DELETE", "/v1/products/{id}", catalog_archive_product, HTTP_AUTH_SELLER, 0,
     HTTP_BODY_DEFAULT},
    {"PUT", "/v1/products/{id}/stock", catalog_set_stock, HTTP_AUTH_SELLER, HTTP_JSON_BODY,
     HTTP_BODY_DEFAULT},
    {"POST", "/v1/products/{id}/stock/adjustments", catalog_adjust_stock, HTTP_AUTH_SELLER,
     HTTP_JSON_BODY, HTTP_BODY_DEFAULT},
};

static const struct http_route queries[] = {
    {"GET", "/v1/categories", catalog_list_categories, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/products", catalog_search_products, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/products/{id}", catalog_get_product, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/v1/products/{id}/stock/movements", catalog_list_movements, HTTP_AUTH_SELLER, 0,
     HTTP_BODY_DEFAULT},
    {"GET", "/v1/seller/products", catalog_list_seller_products, HTTP_AUTH_SELLER, 0,
     HTTP_BODY_DEFAULT},
};

void catalog_routes(struct router *r)
{
    router_add(r, HTTP_COMMANDS, commands, sizeof commands / sizeof commands[0]);
    router_add(r, HTTP_QUERIES, queries, sizeof queries / sizeof queries[0]);
}
