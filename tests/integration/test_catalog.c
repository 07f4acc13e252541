/* Integration tests of the catalog against the real binary: categories, product CRUD by the
 * owner, every validation error with its field path, other sellers and buyers blocked (and
 * nothing changed), drafts, archive, ETag / If-Match, the seller's own list and the
 * product.published event. Stock is in test_catalog_stock.c, search in
 * test_catalog_search.c. */
#include "tests/integration/catalog_fixtures.h"
#include "tests/test_main.h"

static void test_categories(void **state)
{
    struct h_resp r = {0};
    fx_call(NULL, "GET", "/v1/categories", NULL, NULL, &r);
    h_assert_status(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    static const char *const slugs[] = {"electronics", "mobiles", "fashion",  "home",
                                        "books",       "sports",  "vehicles", "furniture",
                                        "kids",        "beauty",  "toys",     "other"};
    assert_int_equal(json_array_size(items), 12);
    for (size_t i = 0; i < 12; i++) {
        json_t *c = json_array_get(items, i);
        assert_string_equal(fx_str(c, "slug"), slugs[i]);
        assert_true(strlen(fx_str(c, "name")) > 0);
    }
    h_resp_cleanup(&r);
}

static void test_create_get_defaults(void **state)
{
    struct actor s, other;
    struct h_resp r = {0};
    fx_actor(&s, true);
    fx_actor(&other, true);
    char *body = fx_body("Sony WH-1000XM4 headphones",
                         "{\"id\":\"00000000-0000-0000-0000-000000000001\","
                         "\"seller_id\":\"00000000-0000-0000-0000-000000000002\","
                         "\"version\":99,\"created_at\":\"2001-01-01T00:00:00Z\"}");
    fx_call(&s, "POST", "/v1/products", body, NULL, &r);
    free(body);
    h_assert_status(&r, 201);
    json_t *p = r.json;
    const char *id = fx_str(p, "id");
    assert_non_null(id);
    assert_string_not_equal(id, "00000000-0000-0000-0000-000000000001");
    assert_string_equal(fx_str(p, "seller_id"), s.id);
    assert_int_equal(fx_int(p, "version"), 1);
    assert_string_equal(h_resp_header(&r, "ETag"), "\"1\"");
    char loc[80], abs_loc[160]; /* absolute: HAAT_PUBLIC_URL defaults to http://HAAT_HTTP_ADDR */
    snprintf(loc, sizeof loc, "/v1/products/%s", id);
    snprintf(abs_loc, sizeof abs_loc, "%s%s", cat_srv.base_url, loc);
    assert_string_equal(h_resp_header(&r, "Location"), abs_loc);
    assert_string_equal(fx_str(p, "status"), "active");
    assert_string_equal(fx_str(p, "currency"), "INR");
    assert_int_equal(fx_int(p, "stock"), 1);
    assert_int_equal(fx_int(p, "price_minor"), 150000);
    assert_true(json_is_null(json_object_get(p, "description")));
    assert_int_equal(json_array_size(json_object_get(p, "images")), 0);
    assert_string_not_equal(fx_str(p, "created_at"), "2001-01-01T00:00:00Z");
    assert_int_equal(strlen(fx_str(p, "created_at")), 20); /* 2026-11-21T10:00:00Z */
    static const char *const fields[] = {"id",       "seller_id",  "title",       "description",
                                         "category", "condition",  "price_minor", "currency",
                                         "stock",    "status",     "city",        "images",
                                         "version",  "created_at", "updated_at"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        assert_non_null(json_object_get(p, fields[i]));

    /* Anyone reads it, with the same representation and ETag. */
    json_t *created = json_incref(p);
    struct h_resp g = {0};
    fx_call(NULL, "GET", loc, NULL, NULL, &g);
    h_assert_status(&g, 200);
    assert_true(json_equal(g.json, created));
    assert_string_equal(h_resp_header(&g, "ETag"), "\"1\"");
    assert_string_equal(h_resp_header(&g, "Cache-Control"), "no-cache");
    fx_call(&other, "GET", loc, NULL, "If-None-Match: \"1\"", &g);
    h_assert_status(&g, 304);
    assert_string_equal(h_resp_header(&g, "ETag"), "\"1\"");
    assert_int_equal(g.len, 0);
    const char *cl = h_resp_header(&g, "Content-Length"); /* the 200's length, never 0 */
    assert_true(!cl || atoi(cl) > 0);
    json_decref(created);
    h_resp_cleanup(&g);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    fx_actor_free(&other);
}

static void test_create_validation(void **state)
{
    struct actor s;
    fx_actor(&s, true);
    char long_title[200], long_desc[5100], long_city[100], long_url[2200], body[8000];
    memset(long_title, 'x', 141);
    long_title[141] = '\0';
    memset(long_desc, 'd', 5001);
    long_desc[5001] = '\0';
    memset(long_city, 'c', 81);
    long_city[81] = '\0';
    snprintf(long_url, sizeof long_url, "https://img.example.com/%02040d", 0);

    expect_fields(&s, "POST", "/v1/products", "{}", "title,category,condition,price_minor,city");
    struct {
        const char *extra;
        const char *want;
    } cases[] = {
        {"{\"title\":\"ab\"}", "title"},
        {"{\"title\":\"   \"}", "title"},
        {"{\"title\":5}", "title"},
        {"{\"description\":7}", "description"},
        {"{\"category\":\"spaceships\"}", "category"},
        {"{\"condition\":\"broken\"}", "condition"},
        {"{\"price_minor\":0}", "price_minor"},
        {"{\"price_minor\":-5}", "price_minor"},
        {"{\"price_minor\":1000000001}", "price_minor"},
        {"{\"price_minor\":1.5}", "price_minor"},
        {"{\"price_minor\":\"300\"}", "price_minor"},
        {"{\"price_minor\":true}", "price_minor"},
        {"{\"price_minor\":null}", "price_minor"},
        {"{\"currency\":\"USD\"}", "currency"},
        {"{\"stock\":-1}", "stock"},
        {"{\"stock\":1000001}", "stock"},
        {"{\"city\":\"P\"}", "city"},
        {"{\"images\":\"https://a.example/x.jpg\"}", "images"},
        {"{\"images\":[\"https://a.example/1\",\"https://a.example/2\",\"http://a.example/3\"]}",
         "images[2]"},
        {"{\"images\":[\"https://a.example/1\",\"ftp://x\",\"https://a.example/2\",5]}",
         "images[1],images[3]"},
        {"{\"images\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}",
         "images"},
        {"{\"status\":\"sold_out\"}", "status"},
        {"{\"status\":\"archived\"}", "status"},
        {"{\"status\":\"published\"}", "status"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *b = fx_body("A valid title", cases[i].extra);
        expect_fields(&s, "POST", "/v1/products", b, cases[i].want);
        free(b);
    }
    expect_fields(&s, "POST", "/v1/products",
                  "{\"title\":\"A valid title\",\"category\":\"books\",\"condition\":\"new\","
                  "\"price_minor\":99999999999999999999999,\"city\":\"Pune\"}",
                  "price_minor");
    snprintf(body, sizeof body, "{\"title\":\"%s\"}", long_title);
    char *b = fx_body("x", body);
    expect_fields(&s, "POST", "/v1/products", b, "title");
    free(b);
    snprintf(body, sizeof body, "{\"description\":\"%s\",\"city\":\"%s\",\"images\":[\"%s\"]}",
             long_desc, long_city, long_url);
    b = fx_body("A valid title", body);
    expect_fields(&s, "POST", "/v1/products", b, "description,city,images[0]");
    free(b);
    /* Everything wrong at once: one error per field. */
    expect_fields(&s, "POST", "/v1/products",
                  "{\"title\":\"ab\",\"description\":1,\"category\":\"nope\","
                  "\"condition\":\"x\",\"price_minor\":0,\"currency\":\"EUR\",\"stock\":-2,"
                  "\"city\":\"\",\"images\":[\"http://x\"],\"status\":\"sold_out\"}",
                  "title,description,condition,price_minor,currency,city,images[0],status,"
                  "stock,category");
    /* Boundaries that pass. */
    snprintf(body, sizeof body,
             "{\"title\":\"abc\",\"price_minor\":1000000000,\"stock\":1000000,\"city\":\"Go\","
             "\"images\":[\"https://1.ex/a\",\"https://2.ex/a\",\"https://3.ex/a\","
             "\"https://4.ex/a\",\"https://5.ex/a\",\"https://6.ex/a\",\"https://7.ex/a\","
             "\"https://8.ex/a\",\"https://9.ex/a\",\"https://10.ex/a\"]}");
    json_t *p = fx_create(&s, "x", body);
    assert_int_equal(json_array_size(json_object_get(p, "images")), 10);
    json_decref(p);
    fx_actor_free(&s);
}

static void test_auth_kinds(void **state)
{
    struct actor buyer;
    struct h_resp r = {0};
    fx_actor(&buyer, false);
    char *body = fx_body("A buyer's attempt", NULL);
    fx_call(&buyer, "POST", "/v1/products", body, NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    fx_call(NULL, "POST", "/v1/products", body, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    fx_call(&buyer, "GET", "/v1/seller/products", NULL, NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    free(body);
    h_resp_cleanup(&r);
    fx_actor_free(&buyer);
}

static void test_patch_etag_if_match(void **state)
{
    struct actor s;
    struct h_resp r = {0};
    char path[80];
    fx_actor(&s, true);
    json_t *p = fx_create(&s, "Old title here", "{\"description\":\"first\"}");
    snprintf(path, sizeof path, "/v1/products/%s", fx_str(p, "id"));

    fx_call(&s, "PATCH", path, "{\"title\":\"New title here\",\"price_minor\":99900}",
            "If-Match: \"1\"", &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "title"), "New title here");
    assert_int_equal(fx_int(r.json, "price_minor"), 99900);
    assert_string_equal(fx_str(r.json, "description"), "first"); /* untouched */
    assert_int_equal(fx_int(r.json, "version"), 2);
    assert_string_equal(h_resp_header(&r, "ETag"), "\"2\"");

    /* Stale, weak, garbage: 412, nothing changes. */
    static const char *const stale[] = {"If-Match: \"1\"", "If-Match: W/\"2\"", "If-Match: 2",
                                        "If-Match: \"abc\""};
    for (size_t i = 0; i < 4; i++) {
        fx_call(&s, "PATCH", path, "{\"title\":\"Should not apply\"}", stale[i], &r);
        h_assert_problem(&r, 412, "precondition_failed");
    }
    fx_call(&s, "PATCH", path, "{\"description\":null}", "If-Match: \"7\", \"2\"", &r);
    h_assert_status(&r, 200);
    assert_true(json_is_null(json_object_get(r.json, "description")));
    assert_int_equal(fx_int(r.json, "version"), 3);
    fx_call(&s, "PATCH", path, "{\"city\":\"Mumbai\"}", "If-Match: *", &r);
    h_assert_status(&r, 200);
    fx_call(&s, "PATCH", path, "{\"condition\":\"refurbished\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(fx_int(r.json, "version"), 5);
    assert_string_equal(fx_str(r.json, "city"), "Mumbai");
    assert_string_equal(fx_str(r.json, "title"), "New title here");

    expect_fields(&s, "PATCH", path, "{\"title\":\"ab\",\"stock\":5,\"status\":\"sold_out\"}",
                  "title,status,stock");
    expect_fields(&s, "PATCH", path, "{\"category\":\"nowhere\",\"price_minor\":0}",
                  "price_minor,category");
    fx_call(&s, "GET", path, NULL, NULL, &r);
    assert_int_equal(fx_int(r.json, "version"), 5);
    assert_string_equal(h_resp_header(&r, "ETag"), "\"5\"");
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
}

/* Another seller (and a buyer) can change nothing of s's product: 404 / 403, re-read proves
 * it. */
static void test_other_sellers_blocked(void **state)
{
    struct actor s, thief, buyer;
    struct h_resp r = {0};
    char path[80], sub[120];
    fx_actor(&s, true);
    fx_actor(&thief, true);
    fx_actor(&buyer, false);
    json_t *p = fx_create(&s, "Mine, not yours", "{\"stock\":4}");
    const char *id = fx_str(p, "id");
    snprintf(path, sizeof path, "/v1/products/%s", id);

    fx_call(&thief, "PATCH", path, "{\"title\":\"Stolen title\"}", NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&thief, "PATCH", path, "{\"title\":\"Stolen title\"}", "If-Match: \"1\"", &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&thief, "DELETE", path, NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    snprintf(sub, sizeof sub, "%s/stock", path);
    fx_call(&thief, "PUT", sub, "{\"quantity\":0,\"reason\":\"mine now\"}", NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    snprintf(sub, sizeof sub, "%s/stock/adjustments", path);
    fx_call(&thief, "POST", sub, "{\"delta\":-4,\"reason\":\"mine now\"}", NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    snprintf(sub, sizeof sub, "%s/stock/movements", path);
    fx_call(&thief, "GET", sub, NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&buyer, "PATCH", path, "{\"title\":\"Stolen title\"}", NULL, &r);
    h_assert_problem(&r, 403, "forbidden");

    fx_call(&thief, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_true(json_equal(r.json, p)); /* unchanged, version 1 */
    assert_int_equal(fx_count("SELECT count(*) FROM stock_movements WHERE product_id = '%s'", id),
                     1); /* its creation only */
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    fx_actor_free(&thief);
    fx_actor_free(&buyer);
}

static void test_bad_ids(void **state)
{
    struct actor s;
    struct h_resp r = {0};
    fx_actor(&s, true);
    static const char *const paths[] = {"/v1/products/not-a-uuid",
                                        "/v1/products/0190f7c2-8a1e-7000-8000-00000000000",
                                        "/v1/products/0190f7c2-8a1e-7000-8000-000000000000"};
    for (size_t i = 0; i < 3; i++) {
        fx_call(NULL, "GET", paths[i], NULL, NULL, &r);
        h_assert_problem(&r, 404, "not_found");
        fx_call(&s, "PATCH", paths[i], "{\"title\":\"whatever\"}", NULL, &r);
        h_assert_problem(&r, 404, "not_found");
        fx_call(&s, "DELETE", paths[i], NULL, NULL, &r);
        h_assert_problem(&r, 404, "not_found");
    }
    h_resp_cleanup(&r);
    fx_actor_free(&s);
}

static void test_drafts_and_publish_event(void **state)
{
    struct actor s, other;
    struct h_resp r = {0};
    char word[16], path[80], q[120], title[64];
    fx_actor(&s, true);
    fx_actor(&other, true);
    fx_word(word, 10);
    snprintf(title, sizeof title, "Draft %s lamp", word);
    json_t *p = fx_create(&s, title, "{\"status\":\"draft\",\"price_minor\":4200}");
    const char *id = fx_str(p, "id");
    assert_string_equal(fx_str(p, "status"), "draft");
    assert_int_equal(events("product.published", id), 0);
    snprintf(path, sizeof path, "/v1/products/%s", id);
    snprintf(q, sizeof q, "/v1/products?q=%s", word);

    fx_call(&s, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    fx_call(&other, "GET", path, NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(NULL, "GET", q, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    fx_call(&s, "GET", "/v1/seller/products?status=draft", NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(json_array_get(json_object_get(r.json, "items"), 0), "id"), id);

    fx_call(&s, "PATCH", path, "{\"status\":\"active\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "active");
    assert_int_equal(events("product.published", id), 1);
    char *payload = h_db_scalar(cat_db_url, "SELECT payload::text FROM outbox_events "
                                            "WHERE type = 'product.published' ORDER BY id DESC "
                                            "LIMIT 1");
    json_t *ev = json_loads(payload, 0, NULL);
    assert_string_equal(fx_str(ev, "product_id"), id);
    assert_string_equal(fx_str(ev, "seller_id"), s.id);
    assert_string_equal(fx_str(ev, "title"), title);
    assert_int_equal(fx_int(ev, "price_minor"), 4200);
    assert_string_equal(fx_str(ev, "currency"), "INR");
    json_decref(ev);
    free(payload);

    fx_call(&other, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    fx_call(NULL, "GET", q, NULL, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    /* Active again after a second unpublish/publish: one more event; an edit is none. */
    fx_call(&s, "PATCH", path, "{\"status\":\"draft\"}", NULL, &r);
    fx_call(&s, "PATCH", path, "{\"status\":\"active\"}", NULL, &r);
    fx_call(&s, "PATCH", path, "{\"price_minor\":4300}", NULL, &r);
    assert_int_equal(events("product.published", id), 2);
    /* Created active: published at once. */
    json_t *p2 = fx_create(&s, "Published at once", NULL);
    assert_int_equal(events("product.published", fx_str(p2, "id")), 1);
    json_decref(p2);
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    fx_actor_free(&other);
}

static void test_delete_archives(void **state)
{
    struct actor s;
    struct h_resp r = {0};
    char word[16], path[80], sub[120], q[120], title[64];
    fx_actor(&s, true);
    fx_word(word, 10);
    snprintf(title, sizeof title, "Archive %s chair", word);
    json_t *p = fx_create(&s, title, "{\"stock\":3}");
    snprintf(path, sizeof path, "/v1/products/%s", fx_str(p, "id"));
    snprintf(q, sizeof q, "/v1/products?q=%s", word);
    fx_call(NULL, "GET", q, NULL, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);

    fx_call(&s, "DELETE", path, NULL, NULL, &r);
    h_assert_status(&r, 204);
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "archived");
    assert_int_equal(fx_int(r.json, "version"), 2);
    fx_call(NULL, "GET", q, NULL, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    fx_call(&s, "DELETE", path, NULL, NULL, &r);
    h_assert_status(&r, 204); /* idempotent */
    fx_call(&s, "PATCH", path, "{\"title\":\"Back from the dead\"}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    snprintf(sub, sizeof sub, "%s/stock", path);
    fx_call(&s, "PUT", sub, "{\"quantity\":9,\"reason\":\"recount\"}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    snprintf(sub, sizeof sub, "%s/stock/adjustments", path);
    fx_call(&s, "POST", sub, "{\"delta\":1,\"reason\":\"found one\"}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    fx_call(&s, "GET", "/v1/seller/products", NULL, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    fx_call(&s, "GET", "/v1/seller/products?status=archived", NULL, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    assert_string_equal(fx_str(r.json, "title"), title);
    assert_int_equal(fx_int(r.json, "stock"), 3);
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
}

static void test_seller_products(void **state)
{
    struct actor s, other;
    struct h_resp r = {0};
    fx_actor(&s, true);
    fx_actor(&other, true);
    json_t *ids = json_array();
    for (int i = 0; i < 7; i++) {
        char title[32];
        snprintf(title, sizeof title, "Listing number %d", i);
        json_t *p = fx_create(&s, title, i % 3 == 0 ? "{\"status\":\"draft\"}" : NULL);
        json_array_insert_new(ids, 0, json_string(fx_str(p, "id"))); /* newest first */
        json_decref(p);
    }
    json_decref(fx_create(&other, "Not in the list", NULL));
    json_t *seen = json_array();
    char path[320] = "/v1/seller/products?limit=3";
    for (int page = 0; page < 5; page++) {
        fx_call(&s, "GET", path, NULL, NULL, &r);
        h_assert_status(&r, 200);
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(r.json, "items"), i, it)
        {
            assert_string_equal(fx_str(it, "seller_id"), s.id);
            json_array_append_new(seen, json_string(fx_str(it, "id")));
        }
        if (!fx_str(r.json, "next_cursor"))
            break;
        snprintf(path, sizeof path, "/v1/seller/products?limit=3&cursor=%s",
                 fx_str(r.json, "next_cursor"));
    }
    assert_true(json_equal(seen, ids));
    fx_call(&s, "GET", "/v1/seller/products?status=draft", NULL, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3);
    fx_call(&s, "GET", "/v1/seller/products?status=active&limit=100", NULL, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 4);
    fx_call(&s, "GET", "/v1/seller/products?status=gone", NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&s, "GET", "/v1/seller/products?limit=abc", NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    json_decref(ids);
    json_decref(seen);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    fx_actor_free(&other);
}

/* A PATCH naming no editable field changes nothing (no new version, same updated_at) and
 * answers 200 with the current product and its ETag; the guard still applies. */
static void test_patch_without_fields(void **state)
{
    struct actor s, other;
    struct h_resp r = {0};
    char path[120];
    fx_actor(&s, true);
    fx_actor(&other, true);
    json_t *p = fx_create(&s, "Unchanged teapot", NULL);
    snprintf(path, sizeof path, "/v1/products/%s", fx_str(p, "id"));
    fx_call(&s, "PATCH", path, "{}", NULL, &r);
    h_assert_status(&r, 200);
    assert_true(json_equal(r.json, p));
    assert_string_equal(h_resp_header(&r, "ETag"), "\"1\"");
    fx_call(&s, "PATCH", path, "{\"unknown\":true}", "If-Match: \"1\"", &r);
    h_assert_status(&r, 200);
    assert_true(json_equal(r.json, p));
    assert_string_equal(h_resp_header(&r, "ETag"), "\"1\"");
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    assert_int_equal(fx_int(r.json, "version"), 1);
    assert_string_equal(fx_str(r.json, "updated_at"), fx_str(p, "updated_at"));
    assert_int_equal(fx_count("SELECT version FROM products WHERE id = '%s'", fx_str(p, "id")), 1);
    fx_call(&s, "PATCH", path, "{}", "If-Match: \"7\"", &r);
    h_assert_problem(&r, 412, "precondition_failed");
    fx_call(&other, "PATCH", path, "{}", NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&s, "DELETE", path, NULL, NULL, &r);
    h_assert_status(&r, 204);
    fx_call(&s, "PATCH", path, "{}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    fx_actor_free(&other);
}

/* Free text follows one rule: no control characters (ANSI escapes), no bidi controls, not only
 * (Unicode) whitespace; a description keeps its line breaks. */
static void test_free_text_rule(void **state)
{
    struct actor s;
    struct h_resp r = {0};
    char path[160];
    fx_actor(&s, true);
    char *b = fx_body("\x1b[31mRed\x1b[0m lamp", NULL);
    expect_fields(&s, "POST", "/v1/products", b, "title");
    free(b);
    b = fx_body("Desk lamp", "{\"city\":\"Pune\u202e\"}");
    expect_fields(&s, "POST", "/v1/products", b, "city");
    free(b);
    b = fx_body("Desk lamp", "{\"city\":\"\u00a0\u3000\"}");
    expect_fields(&s, "POST", "/v1/products", b, "city");
    free(b);
    b = fx_body("Desk lamp", "{\"description\":\"\u200b \u00a0\"}");
    expect_fields(&s, "POST", "/v1/products", b, "description");
    free(b);
    b = fx_body("Desk lamp", "{\"description\":\"warm\u2066white\"}");
    expect_fields(&s, "POST", "/v1/products", b, "description");
    free(b);
    json_t *p =
        fx_create(&s, "Desk lamp", "{\"description\":\"Line one.\\n\\tLine two.\",\"stock\":3}");
    assert_string_equal(fx_str(p, "description"), "Line one.\n\tLine two.");
    snprintf(path, sizeof path, "/v1/products/%s", fx_str(p, "id"));
    expect_fields(&s, "PATCH", path, "{\"title\":\"Desk\u202alamp\"}", "title");
    expect_fields(&s, "PATCH", path, "{\"title\":\"Desk lamp\\u0085\"}", "title");
    snprintf(path, sizeof path, "/v1/products/%s/stock/adjustments", fx_str(p, "id"));
    expect_fields(&s, "POST", path, "{\"delta\":1,\"reason\":\"\\u001b[2Jrecount\"}", "reason");
    expect_fields(&s, "POST", path, "{\"delta\":1,\"reason\":\"\u3000\"}", "reason");
    snprintf(path, sizeof path, "/v1/products/%s/stock", fx_str(p, "id"));
    expect_fields(&s, "PUT", path, "{\"quantity\":1,\"reason\":\"re\\ncount\"}", "reason");
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
}

/* A seller's cursor is issued to that seller: another seller presenting it gets a 422 on
 * cursor (never a 500, never the first seller's page). */
static void test_seller_cursor_other_seller(void **state)
{
    struct actor a, b;
    struct h_resp r = {0};
    char path[320];
    fx_actor(&a, true);
    fx_actor(&b, true);
    for (int i = 0; i < 3; i++) {
        char title[32];
        snprintf(title, sizeof title, "Cursor listing %d", i);
        json_decref(fx_create(&a, title, NULL));
    }
    json_decref(fx_create(&b, "The other seller's listing", NULL));
    fx_call(&a, "GET", "/v1/seller/products?limit=1", NULL, NULL, &r);
    h_assert_status(&r, 200);
    const char *cursor = fx_str(r.json, "next_cursor");
    assert_non_null(cursor);
    snprintf(path, sizeof path, "/v1/seller/products?limit=1&cursor=%s", cursor);
    struct h_resp mine = {0};
    fx_call(&a, "GET", path, NULL, NULL, &mine);
    h_assert_status(&mine, 200);
    assert_string_equal(fx_str(json_array_get(json_object_get(mine.json, "items"), 0), "seller_id"),
                        a.id);
    h_resp_cleanup(&mine);
    fx_call(&b, "GET", path, NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    char fields[64];
    fx_error_fields(&r, fields, sizeof fields);
    assert_string_equal(fields, "cursor");
    h_resp_cleanup(&r);
    fx_actor_free(&a);
    fx_actor_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_create_get_defaults),
        cmocka_unit_test(test_create_validation),
        cmocka_unit_test(test_auth_kinds),
        cmocka_unit_test(test_patch_etag_if_match),
        cmocka_unit_test(test_other_sellers_blocked),
        cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_drafts_and_publish_event),
        cmocka_unit_test(test_delete_archives),
        cmocka_unit_test(test_seller_products),
        cmocka_unit_test(test_seller_cursor_other_seller),
        cmocka_unit_test(test_free_text_rule),
        cmocka_unit_test(test_patch_without_fields),
    };
    return HAAT_RUN_GROUP("catalog", tests, fx_start, fx_stop);
}
