/* Product bodies and query parameters: the catalog's field rules (docs/openapi.yaml).
 *
 * Fields the client may not set (id, seller_id, version, created_at, updated_at) are ignored
 * as unknown members. status may only be "draft" or "active" ("sold_out" follows stock and
 * "archived" is DELETE). stock is set on create; afterwards it changes only through the stock
 * endpoints, which record a movement, so a PATCH carrying it is refused. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal/catalog/internal.h"
#include "pkg/util/xalloc.h"

#define IN(f) offsetof(struct catalog_product_input, f)

static const char *const conditions[] = {"new", "used", "refurbished", NULL};
static const char *const currencies[] = {"INR", NULL};
static const char *const statuses[] = {"draft", "active", NULL};

static const struct jsonh_field image_item = {
    .name = "", .type = JSONH_STRING, .min = 0, .max = 2048, .check = jsonh_check_https_url};

/* Indices into the tables below (for the present-fields bitmask). */
enum {
    F_TITLE,
    F_DESCRIPTION,
    F_CATEGORY,
    F_CONDITION,
    F_PRICE,
    F_CURRENCY,
    F_CITY,
    F_IMAGES,
    F_STATUS,
    F_STOCK
};

#define PRODUCT_FIELDS(req)                                                                       \
    {.name = "title",                                                                             \
     .type = JSONH_STRING,                                                                        \
     .flags = (req) | JSONH_NOT_BLANK,                                                            \
     .min = 3,                                                                                    \
     .max = CATALOG_TITLE_MAX_CHARS,                                                              \
     .check = jsonh_check_plain_text,                                                             \
     .offset = IN(title)},                                                                        \
        {.name = "description",                                                                   \
         .type = JSONH_STRING,                                                                    \
         .flags = JSONH_NULLABLE,                                                                 \
         .min = 0,                                                                                \
         .max = 5000,                                                                             \
         .check = jsonh_check_multiline_text,                                                     \
         .offset = IN(description)},                                                              \
        {.name = "category",                                                                      \
         .type = JSONH_STRING,                                                                    \
         .flags = (req) | JSONH_NOT_BLANK,                                                        \
         .min = 1,                                                                                \
         .max = 40,                                                                               \
         .check = jsonh_check_plain_text,                                                         \
         .offset = IN(category)},                                                                 \
        {.name = "condition",                                                                     \
         .type = JSONH_STRING,                                                                    \
         .flags = (req),                                                                          \
         .one_of = conditions,                                                                    \
         .offset = IN(condition)},                                                                \
        {.name = "price_minor",                                                                   \
         .type = JSONH_INT,                                                                       \
         .flags = (req),                                                                          \
         .min = 1,                                                                                \
         .max = CATALOG_PRICE_MAX,                                                                \
         .offset = IN(price_minor)},                                                              \
        {.name = "currency", .type = JSONH_STRING, .one_of = currencies, .offset = IN(currency)}, \
        {.name = "city",                                                                          \
         .type = JSONH_STRING,                                                                    \
         .flags = (req) | JSONH_NOT_BLANK,                                                        \
         .min = 2,                                                                                \
         .max = 80,                                                                               \
         .check = jsonh_check_plain_text,                                                         \
         .offset = IN(city)},                                                                     \
        {.name = "images",                                                                        \
         .type = JSONH_ARRAY,                                                                     \
         .min = 0,                                                                                \
         .max = 10,                                                                               \
         .offset = IN(images),                                                                    \
         .item = &image_item},                                                                    \
    {                                                                                             \
        .name = "status", .type = JSONH_STRING, .one_of = statuses, .offset = IN(status)          \
    }

static const struct jsonh_field create_fields[] = {
    PRODUCT_FIELDS(JSONH_REQUIRED),
    {.name = "stock", .type = JSONH_INT, .min = 0, .max = CATALOG_STOCK_MAX, .offset = IN(stock)},
    {0},
};

static const struct jsonh_field patch_fields[] = {
    PRODUCT_FIELDS(0),
    {0},
};

void catalog_check_category(struct db_conn *c, const char *slug, struct jsonh_errors *e)
{
    if (slug && catalog_category_exists(c, slug) == 0)
        jsonh_errors_add(e, "category", CATALOG_UNKNOWN_CATEGORY);
}

void catalog_parse_create(const json_t *body, struct catalog_product_input *in,
                          struct jsonh_errors *e)
{
    memset(in, 0, sizeof *in);
    in->stock = CATALOG_STOCK_DEFAULT;
    uint64_t present = jsonh_parse(body, create_fields, in, e, NULL);
    in->has_price = present & (UINT64_C(1) << F_PRICE);
    in->description_set = present & (UINT64_C(1) << F_DESCRIPTION);
    if (!in->currency)
        in->currency = "INR";
    if (!in->status)
        in->status = "active";
}

void catalog_parse_patch(const json_t *body, struct catalog_product_input *in,
                         struct jsonh_errors *e)
{
    memset(in, 0, sizeof *in);
    uint64_t present = jsonh_parse(body, patch_fields, in, e, NULL);
    in->has_price = present & (UINT64_C(1) << F_PRICE);
    in->description_set = present & (UINT64_C(1) << F_DESCRIPTION);
    if (json_object_get(body, "stock"))
        jsonh_errors_add(e, "stock",
                         "cannot be changed here: use PUT /v1/products/{id}/stock or "
                         "POST /v1/products/{id}/stock/adjustments");
}

bool catalog_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return false;
    bool neg = s[0] == '-';
    const char *d = s + neg;
    size_t n = strlen(d);
    if (n == 0 || n > 19 || (neg && min >= 0))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(d[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    int64_t x = neg ? -(int64_t)v : (int64_t)v;
    if (x < min || x > max)
        return false;
    *out = x;
    return true;
}

bool catalog_utf8_chars(const char *s, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        size_t len = *p < 0x80             ? 1
                     : (*p & 0xE0) == 0xC0 ? 2
                     : (*p & 0xF0) == 0xE0 ? 3
                     : (*p & 0xF8) == 0xF0 ? 4
                                           : 0;
        if (len == 0 || (len == 2 && *p < 0xC2) || (len == 4 && *p > 0xF4))
            return false;
        uint32_t cp = len == 1 ? *p : *p & (0x7F >> len);
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        p += len;
        n++;
    }
    *chars = n;
    return true;
}

char *catalog_images_text(const json_t *images)
{
    char *s = images ? json_dumps(images, JSON_COMPACT) : NULL;
    return s ? s : xstrdup("[]");
}
