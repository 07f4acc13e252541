/* GET /v1/products (anyone): search over ACTIVE products.
 *   q          full-text (websearch syntax: words AND-ed, "phrases", or, -not), <= 200 chars
 *   category, condition, city (case-insensitive equality), seller_id: exact filters
 *   min_price, max_price: paise, inclusive, 0..1,000,000,000
 *   sort       relevance | newest | price_asc | price_desc; default relevance with q, else
 *              newest (relevance without q is newest)
 *   limit, cursor: keyset pages; a cursor belongs to one sort order.
 * Filters combine with AND. Bad values: 422 validation_failed, one error per parameter. */
#include <string.h>

#include "internal/catalog/internal.h"

static const char *const sorts[] = {"relevance", "newest", "price_asc", "price_desc"};
static const char *const conditions[] = {"new", "used", "refurbished"};

static bool one_of(const char *s, const char *const *set, size_t n, size_t *at)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, set[i]) == 0) {
            *at = i;
            return true;
        }
    return false;
}

/* A text filter of 1..max characters of UTF-8, or NULL when absent. */
static const char *text_param(struct http_req *r, const char *name, size_t max, const char *message,
                              struct jsonh_errors *e)
{
    const char *v = http_req_query(r, name);
    size_t chars = 0;
    if (v && (!catalog_utf8_chars(v, &chars) || chars == 0 || chars > max)) {
        jsonh_errors_add(e, name, message);
        return NULL;
    }
    return v;
}

static void price_param(struct http_req *r, const char *name, int64_t *out, struct jsonh_errors *e)
{
    const char *v = http_req_query(r, name);
    if (v && !catalog_parse_int(v, 0, CATALOG_PRICE_MAX, out))
        jsonh_errors_add(e, name, "must be an integer from 0 to 1000000000 (paise)");
}

/* q without surrounding spaces; blank means absent. */
static const char *q_param(struct http_req *r, struct jsonh_errors *e)
{
    const char *q = http_req_query(r, "q");
    if (!q)
        return NULL;
    q += strspn(q, " \t\r\n");
    if (!*q)
        return NULL;
    size_t chars = 0;
    if (!catalog_utf8_chars(q, &chars) || chars > CATALOG_Q_MAX) {
        jsonh_errors_add(e, "q", "must be at most 200 characters of UTF-8 text");
        return NULL;
    }
    return q;
}

static void parse(struct http_req *r, struct catalog_search *s, struct jsonh_errors *e)
{
    size_t at = 0;
    memset(s, 0, sizeof *s);
    s->max_price = CATALOG_PRICE_MAX;
    s->q = q_param(r, e);
    s->category = text_param(r, "category", 40, "must be a category slug (1 to 40 characters)", e);
    s->city = text_param(r, "city", 80, "must be 1 to 80 characters", e);
    s->condition = http_req_query(r, "condition");
    if (s->condition && !one_of(s->condition, conditions, 3, &at))
        jsonh_errors_add(e, "condition", "must be one of: new, used, refurbished");
    s->seller_id = http_req_query(r, "seller_id");
    if (s->seller_id && !ids_is_uuid(s->seller_id))
        jsonh_errors_add(e, "seller_id", "must be a seller id (UUID)");
    price_param(r, "min_price", &s->min_price, e);
    price_param(r, "max_price", &s->max_price, e);
    if (s->min_price > s->max_price)
        jsonh_errors_add(e, "min_price", "must not exceed max_price");
    const char *sort = http_req_query(r, "sort");
    s->sort = s->q ? CATALOG_SORT_RELEVANCE : CATALOG_SORT_NEWEST;
    if (sort && !one_of(sort, sorts, 4, &at))
        jsonh_errors_add(e, "sort", "must be one of: relevance, newest, price_asc, price_desc");
    else if (sort)
        s->sort = (enum catalog_sort)at;
    if (s->sort == CATALOG_SORT_RELEVANCE && !s->q)
        s->sort = CATALOG_SORT_NEWEST;
    page_params(r, catalog_sort_listing(s->sort), NULL, &s->page, e);
}

void catalog_search_products(struct http_req *r)
{
    struct catalog_search s;
    struct catalog_page pg = {0};
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    parse(r, &s, &e);
    if (!http_errors_or_reply(r, &e))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    enum db_status st = catalog_repo_search(c, &s, &pg);
    if (st != DB_OK)
        http_reply_db(r, st);
    else
        catalog_reply_products(r, &pg, catalog_sort_listing(s.sort), NULL);
    PQclear(pg.res);
}
