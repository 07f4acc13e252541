/* libFuzzer target: request bodies through jsonh_load_body (depth, UTF-8, NUL checks) and a
 * nested field spec (strings with bounds and allowed values, integers with bounds, an object,
 * an array of objects), as a handler would. Errors are expected; crashes, leaks and undefined
 * behaviour are not. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pkg/json/jsonh.h"

struct address {
    const char *city;
    const char *postal_code;
};

struct item {
    const char *product_id;
    int64_t quantity;
};

struct body {
    const char *title;
    const char *condition;
    int64_t price_minor;
    bool gift;
    struct address addr;
    const json_t *items;
    const json_t *extra;
};

static const char *const conditions[] = {"new", "used", "refurbished", NULL};

static const struct jsonh_field address_fields[] = {
    {.name = "city",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED | JSONH_NOT_BLANK,
     .min = 1,
     .max = 80,
     .offset = offsetof(struct address, city)},
    {.name = "postal_code",
     .type = JSONH_STRING,
     .flags = JSONH_NULLABLE,
     .min = 3,
     .max = 12,
     .offset = offsetof(struct address, postal_code)},
    {0},
};

static const struct jsonh_field item_fields[] = {
    {.name = "product_id",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 36,
     .max = 36,
     .offset = offsetof(struct item, product_id)},
    {.name = "quantity",
     .type = JSONH_INT,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = 1000,
     .offset = offsetof(struct item, quantity)},
    {0},
};

static const struct jsonh_field item_field = {.type = JSONH_OBJECT, .fields = item_fields};

static const struct jsonh_field fields[] = {
    {.name = "title",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED | JSONH_NOT_BLANK,
     .min = 1,
     .max = 140,
     .offset = offsetof(struct body, title)},
    {.name = "condition",
     .type = JSONH_STRING,
     .one_of = conditions,
     .offset = offsetof(struct body, condition)},
    {.name = "price_minor",
     .type = JSONH_INT,
     .min = 0,
     .max = 1000000000,
     .offset = offsetof(struct body, price_minor)},
    {.name = "gift", .type = JSONH_BOOL, .offset = offsetof(struct body, gift)},
    {.name = "address",
     .type = JSONH_OBJECT,
     .fields = address_fields,
     .offset = offsetof(struct body, addr)},
    {.name = "items",
     .type = JSONH_ARRAY,
     .min = 1,
     .max = 50,
     .item = &item_field,
     .offset = offsetof(struct body, items)},
    {.name = "images",
     .type = JSONH_ARRAY,
     .max = 8,
     .item = &(const struct jsonh_field){.type = JSONH_STRING, .check = jsonh_check_https_url},
     .offset = offsetof(struct body, extra)},
    {0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[JSONH_ERR_LEN];
    json_t *doc = jsonh_load_body((const char *)data, size, err);
    if (!doc)
        return 0;
    struct body b = {0};
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    jsonh_parse(doc, fields, &b, &e, NULL);
    jsonh_errors_cleanup(&e);
    json_decref(doc);
    return 0;
}
