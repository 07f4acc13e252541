/* Integration tests of GET /v1/products (search) against the real binary: each filter alone
 * and combined, inclusive price bounds, case-insensitive city, active products only, every
 * sort order paged with limit 3 (compared with the whole ordered list, with products inserted
 * between pages: nothing skipped, nothing repeated), relevance (title above description),
 * limit and cursor errors. Every test searches for its own random word, so tests and earlier
 * data never meet. */
#include "tests/integration/catalog_fixtures.h"
#include "tests/test_main.h"

#define NPROD 12

struct item {
    const char *title; /* after the test's word; NULL: the word is in the description only */
    const char *category, *condition, *city;
    long long price;
    const char *status;
};

/* The data set of the filter and sort tests. */
static const struct item items[NPROD] = {
    {"phone alpha", "mobiles", "new", "Pune", 10000, "active"},
    {"phone beta", "mobiles", "used", "Mumbai", 20000, "active"},
    {"laptop gamma", "electronics", "used", "pune", 30000, "active"},
    {"laptop delta", "electronics", "refurbished", "Delhi", 20000, "active"},
    {"chair", "furniture", "used", "Pune", 5000, "active"},
    {"sofa", "furniture", "new", "Delhi", 90000, "active"},
    {NULL, "books", "used", "PUNE", 700, "active"},
    {"novel", "books", "new", "Chennai", 20000, "active"},
    {"draft thing", "books", "new", "Pune", 20000, "draft"},
    {"bicycle", "sports", "used", "Mumbai", 45000, "active"},
    {"helmet", "sports", "new", "Pune", 20000, "active"},
    {"sold out", "sports", "new", "Pune", 20000, "sold_out"},
};

struct dataset {
    struct actor seller;
    char word[16];
    char id[NPROD][37];
};

static struct dataset ds;

static void create_dataset(struct dataset *d)
{
    fx_actor(&d->seller, true);
    fx_word(d->word, 10);
    for (int i = 0; i < NPROD; i++) {
        const struct item *it = &items[i];
        char title[80], extra[400];
        if (it->title)
            snprintf(title, sizeof title, "%s %s", d->word, it->title);
        else
            snprintf(title, sizeof title, "An old paperback");
        snprintf(extra, sizeof extra,
                 "{\"category\":\"%s\",\"condition\":\"%s\",\"city\":\"%s\",\"price_minor\":%lld,"
                 "\"stock\":%d,\"status\":\"%s\",\"description\":\"%s%s\"}",
                 it->category, it->condition, it->city, it->price,
                 strcmp(it->status, "sold_out") == 0 ? 0 : 2,
                 strcmp(it->status, "draft") == 0 ? "draft" : "active",
                 it->title ? "plain words" : "mentions ", it->title ? "" : d->word);
        json_t *p = fx_create(&d->seller, title, extra);
        assert_string_equal(fx_str(p, "status"), it->status);
        snprintf(d->id[i], sizeof d->id[i], "%s", fx_str(p, "id"));
        json_decref(p);
    }
}

static int setup_all(void **state)
{
    if (fx_start(state) != 0)
        return -1;
    create_dataset(&ds);
    return 0;
}

static int teardown_all(void **state)
{
    fx_actor_free(&ds.seller);
    return fx_stop(state);
}

/* GET path; asserts 200; the items (new reference). *next gets next_cursor (or ""). */
static json_t *get_page(const char *path, char *next, size_t n)
{
    struct h_resp r = {0};
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    json_t *list = json_incref(json_object_get(r.json, "items"));
    const char *c = fx_str(r.json, "next_cursor");
    if (next)
        snprintf(next, n, "%s", c ? c : "");
    h_resp_cleanup(&r);
    return list;
}

/* The indexes (into ds.id) of the items of a search, in order, as "i,j,k". */
static void search_idx(const char *query, char *out, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "/v1/products?limit=100&q=%s%s", ds.word, query);
    json_t *list = get_page(path, NULL, 0);
    size_t i, used = 0;
    json_t *it;
    out[0] = '\0';
    json_array_foreach(list, i, it)
    {
        int k = -1;
        for (int j = 0; j < NPROD; j++)
            if (strcmp(ds.id[j], fx_str(it, "id")) == 0)
                k = j;
        used += (size_t)snprintf(out + used, n - used, "%s%d", i ? "," : "", k);
    }
    json_decref(list);
}

/* Sorted ascending so that expectations do not depend on the order of equal keys. */
static void sorted(const char *in, char *out, size_t n)
{
    int v[NPROD + 8], c = 0;
    for (const char *p = in; *p && c < NPROD + 8;) {
        char *end = NULL;
        v[c++] = (int)strtol(p, &end, 10);
        p = *end == ',' ? end + 1 : end;
    }
    for (int i = 1; i < c; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < c; i++)
        used += (size_t)snprintf(out + used, n - used, "%s%d", i ? "," : "", v[i]);
}

static void expect_set(const char *query, const char *want)
{
    char got[256], set[256];
    search_idx(query, got, sizeof got);
    sorted(got, set, sizeof set);
    if (strcmp(set, want) != 0)
        fail_msg("search%s: got [%s], want [%s]", query, set, want);
}

static void test_filters_alone_and_combined(void **state)
{
    /* Only active: not 8 (draft) nor 11 (sold out); 6 matches by its description. */
    expect_set("", "0,1,2,3,4,5,6,7,9,10");
    expect_set("&category=mobiles", "0,1");
    expect_set("&category=books", "6,7");
    expect_set("&category=nothing-like-it", "");
    expect_set("&condition=new", "0,5,7,10");
    expect_set("&condition=refurbished", "3");
    expect_set("&min_price=20000", "1,2,3,5,7,9,10");
    expect_set("&max_price=20000", "0,1,3,4,6,7,10");
    expect_set("&min_price=20000&max_price=20000", "1,3,7,10");
    expect_set("&min_price=20001&max_price=44999", "2");
    expect_set("&city=pUnE", "0,2,4,6,10");
    expect_set("&city=Delhi", "3,5");
    char seller[128];
    snprintf(seller, sizeof seller, "&seller_id=%s", ds.seller.id);
    expect_set(seller, "0,1,2,3,4,5,6,7,9,10");
    char other[37];
    fx_uuid4(other);
    snprintf(seller, sizeof seller, "&seller_id=%s", other);
    expect_set(seller, "");
    expect_set("&city=pune&condition=used", "2,4,6");
    expect_set("&category=electronics&condition=used&max_price=30000&city=PUNE", "2");
    expect_set("&category=sports&min_price=20000&max_price=20000", "10");
    /* Words AND-ed; an unknown word matches nothing. */
    expect_set("+laptop", "2,3");
    expect_set("+laptop+-delta", "2");
    expect_set("+qqqqqqqqqqqzz", "");
}

static void test_seller_filter_without_q(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/products?seller_id=%s&limit=100&sort=price_asc", ds.seller.id);
    json_t *list = get_page(path, NULL, 0);
    assert_int_equal(json_array_size(list), 10);
    long long last = -1;
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
    {
        assert_string_equal(fx_str(it, "status"), "active");
        assert_true(fx_int(it, "price_minor") >= last);
        last = fx_int(it, "price_minor");
    }
    json_decref(list);
}

/* Compares consecutive items under the sort: true when a may come before b. */
static bool in_order(const char *sort, const json_t *a, const json_t *b)
{
    if (strcmp(sort, "price_asc") == 0) {
        long long pa = fx_int(a, "price_minor"), pb = fx_int(b, "price_minor");
        return pa < pb || (pa == pb && strcmp(fx_str(a, "id"), fx_str(b, "id")) < 0);
    }
    if (strcmp(sort, "price_desc") == 0) {
        long long pa = fx_int(a, "price_minor"), pb = fx_int(b, "price_minor");
        return pa > pb || (pa == pb && strcmp(fx_str(a, "id"), fx_str(b, "id")) > 0);
    }
    if (strcmp(sort, "newest") == 0)
        return strcmp(fx_str(a, "created_at"), fx_str(b, "created_at")) >= 0;
    return true; /* relevance: checked by comparison with the full list */
}

static bool contains(const json_t *ids, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) if (strcmp(json_string_value(v), id) == 0) return true;
    return false;
}

/* Pages through a sort under filter (a query string: each kind of filter drives a different
 * statement) with limit 3; after the first page, inserts two new products that match every
 * filter used here (cheapest, dearest, newest). The pages must hold every original product
 * exactly once, in the order of the full list, and no product twice. */
static void page_through_with(const char *filter, const char *sort)
{
    char base[256], path[1024], cursor[256];
    snprintf(base, sizeof base, "/v1/products?%s&sort=%s", filter, sort);
    snprintf(path, sizeof path, "%s&limit=100", base);
    json_t *full = get_page(path, NULL, 0);
    assert_true(json_array_size(full) >= 2);
    for (size_t i = 1; i < json_array_size(full); i++)
        assert_true(in_order(sort, json_array_get(full, i - 1), json_array_get(full, i)));

    json_t *seen = json_array(), *added = json_array();
    snprintf(path, sizeof path, "%s&limit=3", base);
    for (int page = 0; page < 20; page++) {
        json_t *list = get_page(path, cursor, sizeof cursor);
        assert_true(json_array_size(list) <= 3);
        size_t i;
        json_t *it;
        json_array_foreach(list, i, it)
        {
            assert_false(contains(seen, fx_str(it, "id"))); /* never repeated */
            json_array_append_new(seen, json_string(fx_str(it, "id")));
        }
        json_decref(list);
        if (page == 0) {
            char title[64];
            static const long long prices[] = {1, 999999999};
            for (int k = 0; k < 2; k++) {
                snprintf(title, sizeof title, "%s late arrival %d", ds.word, k);
                char extra[64];
                snprintf(extra, sizeof extra, "{\"price_minor\":%lld}", prices[k]);
                json_t *p = fx_create(&ds.seller, title, extra);
                json_array_append_new(added, json_string(fx_str(p, "id")));
                json_decref(p);
            }
        }
        if (!*cursor)
            break;
        snprintf(path, sizeof path, "%s&limit=3&cursor=%s", base, cursor);
    }
    /* The originals, in the full list's order, once each; the late ones at most once. */
    json_t *originals = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(seen, i, v) if (!contains(added, json_string_value(v)))
        json_array_append(originals, v);
    json_t *want = json_array();
    json_array_foreach(full, i, v) json_array_append_new(want, json_string(fx_str(v, "id")));
    if (!json_equal(originals, want)) {
        char *a = json_dumps(originals, 0), *b = json_dumps(want, 0);
        fail_msg("%s sort %s: paged %s, full %s", filter, sort, a, b);
    }
    /* Archive the late arrivals again so the next sort sees the original ten. */
    json_array_foreach(added, i, v)
    {
        struct h_resp r = {0};
        char del[80];
        snprintf(del, sizeof del, "/v1/products/%s", json_string_value(v));
        fx_call(&ds.seller, "DELETE", del, NULL, NULL, &r);
        h_assert_status(&r, 204);
        h_resp_cleanup(&r);
    }
    json_decref(originals);
    json_decref(want);
    json_decref(seen);
    json_decref(added);
    json_decref(full);
}

/* The same sort through every access path: text query, seller, category, no filter. */
static void page_through(const char *sort)
{
    char filter[128];
    snprintf(filter, sizeof filter, "q=%s", ds.word);
    page_through_with(filter, sort);
    snprintf(filter, sizeof filter, "seller_id=%s", ds.seller.id);
    page_through_with(filter, sort);
    page_through_with("category=electronics", sort);
    page_through_with("condition=used", sort);
}

static void test_sort_newest_paging(void **state)
{
    page_through("newest");
}

static void test_sort_price_asc_paging(void **state)
{
    page_through("price_asc");
}

static void test_sort_price_desc_paging(void **state)
{
    page_through("price_desc");
}

static void test_sort_relevance_paging(void **state)
{
    char filter[64];
    snprintf(filter, sizeof filter, "q=%s", ds.word);
    page_through_with(filter, "relevance");
}

/* Title matches rank above description-only ones, even when the description repeats the
 * word; the default sort with q is relevance; without q it is newest. */
static void test_relevance(void **state)
{
    struct actor s;
    char word[16], t[80], extra[300], path[256];
    fx_actor(&s, true);
    fx_word(word, 10);
    snprintf(extra, sizeof extra, "{\"description\":\"%s %s %s %s, %s!\"}", word, word, word, word,
             word);
    json_t *desc = fx_create(&s, "A plain description match", extra);
    snprintf(t, sizeof t, "The %s itself", word);
    json_t *title = fx_create(&s, t, "{\"description\":\"nothing here\"}");
    snprintf(t, sizeof t, "Another %s", word);
    json_t *both = fx_create(&s, t, extra);
    snprintf(path, sizeof path, "/v1/products?q=%s", word);
    json_t *list = get_page(path, NULL, 0);
    assert_int_equal(json_array_size(list), 3);
    const char *third = fx_str(json_array_get(list, 2), "id");
    assert_string_equal(third, fx_str(desc, "id"));
    const char *first = fx_str(json_array_get(list, 0), "id");
    assert_true(strcmp(first, fx_str(both, "id")) == 0 || strcmp(first, fx_str(title, "id")) == 0);
    json_decref(list);
    snprintf(path, sizeof path, "/v1/products?seller_id=%s", s.id);
    list = get_page(path, NULL, 0); /* newest first */
    assert_string_equal(fx_str(json_array_get(list, 0), "id"), fx_str(both, "id"));
    assert_string_equal(fx_str(json_array_get(list, 2), "id"), fx_str(desc, "id"));
    json_decref(list);
    json_decref(desc);
    json_decref(title);
    json_decref(both);
    fx_actor_free(&s);
}

static void expect_422(const char *query, const char *field)
{
    struct h_resp r = {0};
    char path[700], got[256];
    snprintf(path, sizeof path, "/v1/products?%s", query);
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_error_fields(&r, got, sizeof got);
    if (strcmp(got, field) != 0)
        fail_msg("%s: errors [%s], want [%s]", query, got, field);
    h_resp_cleanup(&r);
}

static void test_limits_and_bad_parameters(void **state)
{
    char path[512], cursor[256];
    /* limit: default 20, above 100 -> 100. */
    snprintf(path, sizeof path, "/v1/products?q=%s&limit=101", ds.word);
    json_t *list = get_page(path, cursor, sizeof cursor);
    assert_int_equal(json_array_size(list), 10);
    assert_string_equal(cursor, "");
    json_decref(list);
    snprintf(path, sizeof path, "/v1/products?q=%s&limit=99999999999999999999999", ds.word);
    json_decref(get_page(path, NULL, 0));
    list = get_page("/v1/products", NULL, 0);
    assert_true(json_array_size(list) <= 20);
    json_decref(list);
    expect_422("limit=0", "limit");
    expect_422("limit=-1", "limit");
    expect_422("limit=abc", "limit");
    expect_422("limit=1.5", "limit");
    expect_422("limit=", "limit");
    expect_422("cursor=abc", "cursor");
    expect_422("cursor=", "cursor");
    expect_422("condition=broken", "condition");
    expect_422("min_price=-1", "min_price");
    expect_422("max_price=abc", "max_price");
    expect_422("max_price=1000000001", "max_price");
    expect_422("min_price=500&max_price=100", "min_price");
    expect_422("sort=cheapest", "sort");
    expect_422("seller_id=42", "seller_id");
    expect_422("city=", "city");
    expect_422("category=", "category");
    expect_422("q=%ff%fe", "q");
    expect_422("limit=0&sort=x&condition=y", "condition,sort,limit");

    /* A real cursor: works with its own sort, refused by another, refused when edited. */
    snprintf(path, sizeof path, "/v1/products?q=%s&sort=price_asc&limit=2", ds.word);
    json_decref(get_page(path, cursor, sizeof cursor));
    assert_true(strlen(cursor) > 10);
    snprintf(path, sizeof path, "/v1/products?q=%s&sort=price_asc&limit=2&cursor=%s", ds.word,
             cursor);
    json_decref(get_page(path, NULL, 0));
    char q[400];
    snprintf(q, sizeof q, "q=%s&sort=price_desc&cursor=%s", ds.word, cursor);
    expect_422(q, "cursor");
    snprintf(q, sizeof q, "q=%s&sort=newest&cursor=%s", ds.word, cursor);
    expect_422(q, "cursor");
    size_t n = strlen(cursor);
    for (size_t i = 0; i + 1 < n; i += 7) {
        char edited[256];
        snprintf(edited, sizeof edited, "%s", cursor);
        edited[i] = edited[i] == 'A' ? 'B' : 'A';
        snprintf(q, sizeof q, "q=%s&sort=price_asc&cursor=%s", ds.word, edited);
        expect_422(q, "cursor");
    }
    snprintf(q, sizeof q, "q=%s&sort=price_asc&cursor=%.*s", ds.word, (int)n - 1, cursor);
    expect_422(q, "cursor");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters_alone_and_combined),
        cmocka_unit_test(test_seller_filter_without_q),
        cmocka_unit_test(test_sort_newest_paging),
        cmocka_unit_test(test_sort_price_asc_paging),
        cmocka_unit_test(test_sort_price_desc_paging),
        cmocka_unit_test(test_sort_relevance_paging),
        cmocka_unit_test(test_relevance),
        cmocka_unit_test(test_limits_and_bad_parameters),
    };
    return HAAT_RUN_GROUP("catalog_search", tests, setup_all, teardown_all);
}
