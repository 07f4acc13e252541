/* Pure checks of the order module's input: the POST /v1/orders body (items and shipping
 * address). Unit-tested without a database. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/order/internal.h"

struct item_body {
    const char *product_id;
    int64_t quantity;
};

struct address_body {
    const char *name, *line1, *line2, *city, *state, *postal_code, *country, *phone;
};

struct place_body {
    const json_t *items;
    struct address_body address;
};

static const char *check_uuid(const json_t *v)
{
    return ids_is_uuid(json_string_value(v)) ? NULL : "must be a product id (UUID)";
}

/* 3..10 letters, digits, spaces or hyphens, starting with a letter or digit. */
static const char *check_postal(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!isalnum((unsigned char)s[0]))
        return "must be a postal code";
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != ' ' && *p != '-')
            return "must be a postal code";
    return NULL;
}

static const char *check_country(const json_t *v)
{
    const char *s = json_string_value(v);
    return isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) && !s[2]
               ? NULL
               : "must be an ISO 3166 alpha-2 code (IN)";
}

/* E.164: '+' and 8..15 digits. */
static const char *check_phone(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (s[0] != '+' || n < 9 || n > 16 || strspn(s + 1, "0123456789") != n - 1)
        return "must be an E.164 number (+919876543210)";
    return NULL;
}

static const struct jsonh_field item_fields[] = {
    {.name = "product_id",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .check = check_uuid,
     .offset = offsetof(struct item_body, product_id)},
    {.name = "quantity",
     .type = JSONH_INT,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = ORDER_QUANTITY_MAX,
     .offset = offsetof(struct item_body, quantity)},
    {0},
};

static const struct jsonh_field item = {.type = JSONH_OBJECT, .fields = item_fields};

#define TEXT(field, lo, hi, fl)                                                         \
    {                                                                                   \
        .name = #field, .type = JSONH_STRING, .flags = (fl), .min = (lo), .max = (hi),  \
        .check = jsonh_check_plain_text, .offset = offsetof(struct address_body, field) \
    }
#define REQ (JSONH_REQUIRED | JSONH_NOT_BLANK)

static const struct jsonh_field address_fields[] = {
    TEXT(name, 1, 100, REQ),
    TEXT(line1, 1, 200, REQ),
    TEXT(line2, 0, 200, JSONH_NULLABLE),
    TEXT(city, 1, 80, REQ),
    TEXT(state, 1, 80, REQ),
    {.name = "postal_code",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .min = 3,
     .max = 10,
     .check = check_postal,
     .offset = offsetof(struct address_body, postal_code)},
    {.name = "country",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .check = check_country,
     .offset = offsetof(struct address_body, country)},
    {.name = "phone",
     .type = JSONH_STRING,
     .flags = JSONH_REQUIRED,
     .check = check_phone,
     .offset = offsetof(struct address_body, phone)},
    {0},
};

static const struct jsonh_field place_fields[] = {
    {.name = "items",
     .type = JSONH_ARRAY,
     .flags = JSONH_REQUIRED,
     .min = 1,
     .max = ORDER_ITEMS_MAX,
     .item = &item,
     .offset = offsetof(struct place_body, items)},
    {.name = "shipping_address",
     .type = JSONH_OBJECT,
     .flags = JSONH_REQUIRED,
     .fields = address_fields,
     .offset = offsetof(struct place_body, address)},
    {0},
};

static int by_product(const void *a, const void *b)
{
    const struct order_place_line *x = a, *y = b;
    int d = strcmp(x->product_id, y->product_id);
    return d ? d : x->index - y->index;
}

/* The lines, lower-cased and sorted; a repeated product is an error on its later index. */
static void read_lines(const json_t *items, struct order_place_input *in, struct jsonh_errors *e)
{
    size_t i;
    const json_t *v;
    json_array_foreach(items, i, v)
    {
        struct order_place_line *l = &in->lines[in->n++];
        const char *id = json_string_value(json_object_get(v, "product_id"));
        for (size_t k = 0; k + 1 < sizeof l->product_id && id[k]; k++)
            l->product_id[k] = (char)tolower((unsigned char)id[k]);
        l->quantity = (int)json_integer_value(json_object_get(v, "quantity"));
        l->index = (int)i;
    }
    qsort(in->lines, in->n, sizeof in->lines[0], by_product);
    for (size_t k = 1; k < in->n; k++)
        if (strcmp(in->lines[k].product_id, in->lines[k - 1].product_id) == 0) {
            char path[40];
            snprintf(path, sizeof path, "items[%d].product_id", in->lines[k].index);
            jsonh_errors_add(e, path, "names a product already in items (one line per product)");
        }
}

static char *address_json(const struct address_body *a)
{
    json_t *o =
        json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:s}", "name", a->name, "line1", a->line1, "line2",
                  jsonh_string_or_null(a->line2), "city", a->city, "state", a->state, "postal_code",
                  a->postal_code, "country", a->country, "phone", a->phone);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

void order_parse_place(const json_t *body, struct order_place_input *in, struct jsonh_errors *e)
{
    struct place_body b = {0};
    memset(in, 0, sizeof *in);
    jsonh_parse(body, place_fields, &b, e, NULL);
    if (jsonh_errors_any(e))
        return;
    read_lines(b.items, in, e);
    if (!jsonh_errors_any(e))
        in->address = address_json(&b.address);
}

void order_place_input_cleanup(struct order_place_input *in)
{
    free(in->address);
    in->address = NULL;
}
