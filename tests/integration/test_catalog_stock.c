/* Integration tests of the catalog's stock against the real binary: PUT stock (If-Match, no-op
 * when unchanged), adjustments (validation, refused below 0 with nothing recorded), 20
 * concurrent -1 on stock 10, movements paging, sold_out both ways with product.sold_out. */
#include <pthread.h>

#include "tests/integration/catalog_fixtures.h"
#include "tests/test_main.h"

static void test_put_stock_and_movements(void **state)
{
    struct actor s;
    struct h_resp r = {0};
    char path[80], stock[120], adj[120], mov[512];
    fx_actor(&s, true);
    json_t *p = fx_create(&s, "Stocked kettle", NULL);
    const char *id = fx_str(p, "id");
    snprintf(path, sizeof path, "/v1/products/%s", id);
    snprintf(stock, sizeof stock, "%s/stock", path);
    snprintf(adj, sizeof adj, "%s/stock/adjustments", path);

    fx_call(&s, "PUT", stock, "{\"quantity\":5,\"reason\":\"recount\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "product_id"), id);
    assert_int_equal(fx_int(r.json, "stock"), 5);
    assert_string_equal(h_resp_header(&r, "ETag"), "\"2\"");
    fx_call(&s, "PUT", stock, "{\"quantity\":5,\"reason\":\"same again\"}", NULL, &r);
    h_assert_status(&r, 200); /* no change: no movement, no new version */
    assert_string_equal(h_resp_header(&r, "ETag"), "\"2\"");
    fx_call(&s, "PUT", stock, "{\"quantity\":6,\"reason\":\"stale\"}", "If-Match: \"1\"", &r);
    h_assert_problem(&r, 412, "precondition_failed");
    fx_call(&s, "PUT", stock, "{\"quantity\":0,\"reason\":\"all gone\"}", "If-Match: \"2\"", &r);
    h_assert_status(&r, 200);
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    assert_string_equal(fx_str(r.json, "status"), "sold_out");
    assert_int_equal(events("product.sold_out", id), 1);
    fx_call(&s, "PUT", stock, "{\"quantity\":3,\"reason\":\"restock\"}", NULL, &r);
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    assert_string_equal(fx_str(r.json, "status"), "active");
    assert_int_equal(fx_int(r.json, "stock"), 3);

    expect_fields(&s, "PUT", stock, "{}", "quantity,reason");
    expect_fields(&s, "PUT", stock, "{\"quantity\":-1,\"reason\":\"\"}", "quantity,reason");
    expect_fields(&s, "PUT", stock, "{\"quantity\":1000001,\"reason\":\" \"}", "quantity,reason");
    expect_fields(&s, "PUT", stock, "{\"quantity\":\"5\",\"reason\":5}", "quantity,reason");
    char body[400];
    snprintf(body, sizeof body, "{\"delta\":1,\"reason\":\"%0201d\"}", 0);
    expect_fields(&s, "POST", adj, body, "reason");
    expect_fields(&s, "POST", adj, "{\"delta\":0,\"reason\":\"none\"}", "delta");
    expect_fields(&s, "POST", adj, "{\"delta\":1000001,\"reason\":\"x\"}", "delta");
    expect_fields(&s, "POST", adj, "{\"delta\":-1000001,\"reason\":\"x\"}", "delta");
    expect_fields(&s, "POST", adj, "{\"delta\":1.0,\"reason\":\"x\"}", "delta");
    expect_fields(&s, "POST", adj, "{\"reason\":\"x\"}", "delta");
    expect_fields(&s, "POST", adj, "{\"delta\":999999,\"reason\":\"above the maximum\"}", "delta");

    /* Refused: below zero. Nothing is recorded. */
    long long before = fx_count("SELECT count(*) FROM stock_movements WHERE product_id = '%s'", id);
    fx_call(&s, "POST", adj, "{\"delta\":-4,\"reason\":\"too many\"}", NULL, &r);
    h_assert_problem(&r, 409, "insufficient_stock");
    assert_int_equal(fx_count("SELECT count(*) FROM stock_movements WHERE product_id = '%s'", id),
                     before);
    /* 7 more movements: +1 .. +7; then page through them 3 at a time, newest first. */
    for (int i = 1; i <= 7; i++) {
        snprintf(body, sizeof body, "{\"delta\":%d,\"reason\":\"delivery %d\"}", i, i);
        fx_call(&s, "POST", adj, body, NULL, &r);
        h_assert_status(&r, 200);
    }
    assert_int_equal(fx_int(r.json, "stock"), 3 + 28);
    json_t *all = json_array();
    char cursor[256] = "";
    for (int page = 0; page < 10; page++) {
        snprintf(mov, sizeof mov, "%s/stock/movements?limit=3%s%s", path, *cursor ? "&cursor=" : "",
                 cursor);
        fx_call(&s, "GET", mov, NULL, NULL, &r);
        h_assert_status(&r, 200);
        json_t *items = json_object_get(r.json, "items");
        assert_true(json_array_size(items) <= 3);
        json_array_extend(all, items);
        const char *next = fx_str(r.json, "next_cursor");
        if (!next)
            break;
        snprintf(cursor, sizeof cursor, "%s", next);
    }
    /* created +1, recount +4 (1->5), all gone -5, restock +3, deliveries +1..+7: 11. */
    assert_int_equal(json_array_size(all), 11);
    static const int deltas[] = {7, 6, 5, 4, 3, 2, 1, 3, -5, 4, 1};
    static const int after[] = {31, 24, 18, 13, 9, 6, 4, 3, 0, 5, 1};
    for (size_t i = 0; i < 11; i++) {
        json_t *m = json_array_get(all, i);
        assert_int_equal(fx_int(m, "delta"), deltas[i]);
        assert_int_equal(fx_int(m, "stock_after"), after[i]);
        assert_true(json_is_null(json_object_get(m, "order_id")));
        assert_non_null(fx_str(m, "created_at"));
        assert_non_null(fx_str(m, "reason"));
    }
    assert_string_equal(fx_str(json_array_get(all, 9), "reason"), "recount");
    assert_string_equal(fx_str(json_array_get(all, 10), "reason"), "created");
    snprintf(mov, sizeof mov, "%s/stock/movements?limit=0", path);
    fx_call(&s, "GET", mov, NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    snprintf(mov, sizeof mov, "%s/stock/movements?cursor=bm90LWEtY3Vyc29y", path);
    fx_call(&s, "GET", mov, NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    json_decref(all);
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
}

/* The sum of a product's movements (its creation included) and the stock it reports. */
static void assert_movements_sum(const char *id)
{
    long long sum =
        fx_count("SELECT COALESCE(sum(delta), 0) FROM stock_movements WHERE product_id = '%s'", id);
    long long stock = fx_count("SELECT stock FROM products WHERE id = '%s'", id);
    assert_int_equal(sum, stock);
}

/* A product's creation is its first movement ("created", delta = initial stock; none for 0):
 * movements sum to the stock from the start and after every change. */
static void test_movements_sum_to_stock(void **state)
{
    struct actor s;
    struct h_resp r = {0};
    char path[120], mov[160];
    fx_actor(&s, true);
    json_t *p = fx_create(&s, "Brass diya set", "{\"stock\":4}");
    const char *id = fx_str(p, "id");
    snprintf(mov, sizeof mov, "/v1/products/%s/stock/movements", id);
    fx_call(&s, "GET", mov, NULL, NULL, &r);
    h_assert_status(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(fx_str(json_array_get(items, 0), "reason"), "created");
    assert_int_equal(fx_int(json_array_get(items, 0), "delta"), 4);
    assert_int_equal(fx_int(json_array_get(items, 0), "stock_after"), 4);
    assert_movements_sum(id);
    snprintf(path, sizeof path, "/v1/products/%s/stock/adjustments", id);
    fx_call(&s, "POST", path, "{\"delta\":3,\"reason\":\"delivery\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_movements_sum(id);
    fx_call(&s, "POST", path, "{\"delta\":-6,\"reason\":\"sold at the shop\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_movements_sum(id);
    snprintf(path, sizeof path, "/v1/products/%s/stock", id);
    fx_call(&s, "PUT", path, "{\"quantity\":9,\"reason\":\"recount\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_movements_sum(id);
    /* Created with no stock: no movement (a movement never has delta 0), still balanced. */
    json_t *z = fx_create(&s, "Empty shelf", "{\"stock\":0}");
    assert_int_equal(
        fx_count("SELECT count(*) FROM stock_movements WHERE product_id = '%s'", fx_str(z, "id")),
        0);
    assert_movements_sum(fx_str(z, "id"));
    snprintf(path, sizeof path, "/v1/products/%s/stock", fx_str(z, "id"));
    fx_call(&s, "PUT", path, "{\"quantity\":2,\"reason\":\"found some\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_movements_sum(fx_str(z, "id"));
    json_decref(z);
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
}

struct racer {
    const struct actor *seller;
    const char *path;
    long status;
    char code[64];
};

static void *race(void *arg)
{
    struct racer *x = arg;
    struct h_resp r = {0};
    x->status = fx_call(x->seller, "POST", x->path,
                        "{\"delta\":-1,\"reason\":\"sold at the shop\"}", NULL, &r);
    if (r.json && fx_str(r.json, "code"))
        snprintf(x->code, sizeof x->code, "%s", fx_str(r.json, "code"));
    h_resp_cleanup(&r);
    return NULL;
}

/* 20 parallel -1 on stock 10: exactly 10 succeed, 10 get 409, stock 0, 10 movements,
 * sold_out (one event); then +1 makes it active again. */
static void test_concurrent_adjustments(void **state)
{
    enum { N = 20 };
    struct actor s;
    struct h_resp r = {0};
    char path[80], adj[120];
    fx_actor(&s, true);
    json_t *p = fx_create(&s, "Limited edition print", "{\"stock\":10}");
    const char *id = fx_str(p, "id");
    snprintf(path, sizeof path, "/v1/products/%s", id);
    snprintf(adj, sizeof adj, "%s/stock/adjustments", path);
    pthread_t t[N];
    struct racer x[N];
    for (int i = 0; i < N; i++) {
        x[i] = (struct racer){.seller = &s, .path = adj};
        assert_int_equal(pthread_create(&t[i], NULL, race, &x[i]), 0);
    }
    int ok = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ok += x[i].status == 200;
        refused += x[i].status == 409 && strcmp(x[i].code, "insufficient_stock") == 0;
    }
    assert_int_equal(ok, 10);
    assert_int_equal(refused, 10);
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    assert_int_equal(fx_int(r.json, "stock"), 0);
    assert_string_equal(fx_str(r.json, "status"), "sold_out");
    assert_int_equal(fx_count("SELECT count(*) FROM stock_movements WHERE product_id = '%s' "
                              "AND delta = -1 AND order_id IS NULL",
                              id),
                     10);
    assert_int_equal(fx_count("SELECT count(*) FROM stock_movements WHERE product_id = '%s'", id),
                     11); /* with its creation (+10) */
    assert_int_equal(
        fx_count("SELECT min(stock_after) FROM stock_movements WHERE product_id = '%s'", id), 0);
    assert_int_equal(events("product.sold_out", id), 1);
    char *payload = h_db_scalar(cat_db_url, "SELECT payload::text FROM outbox_events "
                                            "WHERE type = 'product.sold_out' ORDER BY id DESC "
                                            "LIMIT 1");
    json_t *ev = json_loads(payload, 0, NULL);
    assert_string_equal(fx_str(ev, "product_id"), id);
    assert_string_equal(fx_str(ev, "seller_id"), s.id);
    assert_string_equal(fx_str(ev, "title"), "Limited edition print");
    json_decref(ev);
    free(payload);

    fx_call(&s, "POST", adj, "{\"delta\":1,\"reason\":\"one returned\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(fx_int(r.json, "stock"), 1);
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    assert_string_equal(fx_str(r.json, "status"), "active");
    assert_int_equal(events("product.sold_out", id), 1);
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
}

/* A product created "active" with stock 0 is sold out; a draft with stock 0 stays a draft. */
static void test_zero_stock_status(void **state)
{
    struct actor s;
    struct h_resp r = {0};
    fx_actor(&s, true);
    json_t *a = fx_create(&s, "Nothing left", "{\"stock\":0}");
    assert_string_equal(fx_str(a, "status"), "sold_out");
    json_t *d = fx_create(&s, "Nothing yet", "{\"stock\":0,\"status\":\"draft\"}");
    assert_string_equal(fx_str(d, "status"), "draft");
    char path[80];
    snprintf(path, sizeof path, "/v1/products/%s", fx_str(d, "id"));
    fx_call(&s, "PATCH", path, "{\"status\":\"active\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "sold_out");
    json_decref(a);
    json_decref(d);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
}

/* Idempotency-Key covers the concrete path: the same key and body sent for another product is
 * refused (422), not answered with the first product's replay, and that product is unchanged.
 * The same request again is replayed, flagged. A key that is not printable ASCII is a 400. */
static void test_idempotency_key_is_per_path(void **state)
{
    struct actor s;
    struct h_resp r = {0};
    fx_actor(&s, true);
    json_t *a = fx_create(&s, "Idem product A", "{\"stock\":5}");
    json_t *b = fx_create(&s, "Idem product B", "{\"stock\":5}");
    static const char body[] = "{\"delta\":-1,\"reason\":\"sold offline\"}";
    char pa[120], pb[120];
    snprintf(pa, sizeof pa, "/v1/products/%s/stock/adjustments", fx_str(a, "id"));
    snprintf(pb, sizeof pb, "/v1/products/%s/stock/adjustments", fx_str(b, "id"));
    fx_call(&s, "POST", pa, body, "Idempotency-Key: adj-1", &r);
    h_assert_status(&r, 200);
    assert_int_equal(fx_int(r.json, "stock"), 4);
    fx_call(&s, "POST", pa, body, "Idempotency-Key: adj-1", &r);
    h_assert_status(&r, 200);
    assert_non_null(h_resp_header(&r, "Idempotent-Replayed"));
    assert_int_equal(fx_int(r.json, "stock"), 4); /* replayed, not applied twice */
    fx_call(&s, "POST", pb, body, "Idempotency-Key: adj-1", &r);
    h_assert_problem(&r, 422, "idempotency_key_reused");
    assert_int_equal(fx_count("SELECT stock FROM products WHERE id = '%s'", fx_str(b, "id")), 5);
    assert_int_equal(fx_count("SELECT stock FROM products WHERE id = '%s'", fx_str(a, "id")), 4);
    fx_call(&s, "POST", pb, body, "Idempotency-Key: caf\xc3\xa9", &r);
    h_assert_problem(&r, 400, "validation_failed");
    json_decref(a);
    json_decref(b);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_stock_and_movements),
        cmocka_unit_test(test_movements_sum_to_stock),
        cmocka_unit_test(test_concurrent_adjustments),
        cmocka_unit_test(test_zero_stock_status),
        cmocka_unit_test(test_idempotency_key_is_per_path),
    };
    return HAAT_RUN_GROUP("catalog_stock", tests, fx_start, fx_stop);
}
