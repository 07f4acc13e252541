/* Integration tests of the order module against the real binary: placing, reading and listing
 * orders (the buyer's and the seller's views), cancelling an unpaid order (stock back), every
 * refusal of POST /v1/orders, the life cycle past payment (ship, confirm, dispute, review)
 * and the wrong actors. */
#include "tests/integration/order_fixtures.h"
#include "tests/test_main.h"

static const char *const order_fields[] = {"id",           "buyer_id",     "seller_id",
                                           "status",       "items",        "subtotal_minor",
                                           "total_minor",  "currency",     "shipping_address",
                                           "expires_at",   "paid_at",      "shipped_at",
                                           "delivered_at", "completed_at", "cancelled_at",
                                           "tracking",     "created_at",   NULL};

static void assert_order_shape(const json_t *o, bool seller_view)
{
    for (int i = 0; order_fields[i]; i++)
        if (!json_object_get(o, order_fields[i]))
            fail_msg("order lacks %s", order_fields[i]);
    assert_int_equal(json_object_get(o, "commission_minor") != NULL, seller_view);
    assert_int_equal(json_object_get(o, "seller_amount_minor") != NULL, seller_view);
}

/* Seconds between two RFC 3339 UTC timestamps. */
static long long seconds_between(const char *a, const char *b)
{
    struct tm ta = {0}, tb = {0};
    assert_non_null(strptime(a, "%Y-%m-%dT%H:%M:%SZ", &ta));
    assert_non_null(strptime(b, "%Y-%m-%dT%H:%M:%SZ", &tb));
    return (long long)(timegm(&tb) - timegm(&ta));
}

static void test_place_read_list(void **state)
{
    struct actor s, b, other;
    struct h_resp r = {0};
    char path[120], items[200];
    fx_actor(&s, true);
    fx_actor(&b, false);
    fx_actor(&other, true);
    json_t *p = fx_create(&s, "Brass table lamp", "{\"stock\":5,\"price_minor\":123457}");

    order_fx_place(&b, order_fx_items1(p, 2, items, sizeof items), &r);
    h_assert_status(&r, 201);
    json_t *o = json_incref(r.json);
    const char *id = fx_str(o, "id");
    snprintf(path, sizeof path, "/v1/orders/%s", id);
    assert_non_null(strstr(h_resp_header(&r, "Location"), path));
    assert_order_shape(o, false);
    assert_string_equal(fx_str(o, "status"), "pending_payment");
    assert_string_equal(fx_str(o, "buyer_id"), b.id);
    assert_string_equal(fx_str(o, "seller_id"), s.id);
    assert_int_equal(fx_int(o, "subtotal_minor"), 246914);
    assert_int_equal(fx_int(o, "total_minor"), 246914);
    assert_string_equal(fx_str(o, "currency"), "INR");
    assert_true(json_is_null(json_object_get(o, "paid_at")));
    assert_true(json_is_null(json_object_get(o, "tracking")));
    assert_int_equal(seconds_between(fx_str(o, "created_at"), fx_str(o, "expires_at")), 900);
    json_t *line = json_array_get(json_object_get(o, "items"), 0);
    assert_string_equal(fx_str(line, "title"), "Brass table lamp");
    assert_int_equal(fx_int(line, "unit_price_minor"), 123457);
    assert_int_equal(fx_int(line, "quantity"), 2);
    assert_int_equal(fx_int(line, "line_total_minor"), 246914);
    assert_string_equal(fx_str(json_object_get(o, "shipping_address"), "postal_code"), "411001");
    assert_int_equal(order_fx_stock(p), 3);
    assert_int_equal(fx_count("SELECT count(*) FROM stock_movements WHERE order_id = '%s' "
                              "AND delta = -2",
                              id),
                     1);
    assert_int_equal(events("order.placed", id), 1);

    /* The seller sees the commission: round_half_up(246914 * 500 / 10000) = 12346. */
    fx_call(&s, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_order_shape(r.json, true);
    assert_int_equal(fx_int(r.json, "commission_minor"), 12346);
    assert_int_equal(fx_int(r.json, "seller_amount_minor"), 246914 - 12346);
    fx_call(&b, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_order_shape(r.json, false);
    fx_call(&other, "GET", path, NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&b, "GET", "/v1/orders/not-a-uuid", NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");

    /* Listings, newest first, with status filter and cursors. */
    json_t *o2 = order_fx_order(&b, p, 1);
    fx_call(&b, "GET", "/v1/orders?limit=1", NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(json_array_get(json_object_get(r.json, "items"), 0), "id"),
                        fx_str(o2, "id"));
    char next[400];
    snprintf(next, sizeof next, "/v1/orders?limit=1&cursor=%s", fx_str(r.json, "next_cursor"));
    fx_call(&b, "GET", next, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(json_array_get(json_object_get(r.json, "items"), 0), "id"), id);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    fx_call(&s, "GET", next, NULL, NULL, &r); /* the buyer's cursor is not the seller's */
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&s, "GET", "/v1/seller/orders?status=pending_payment", NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    assert_order_shape(json_array_get(json_object_get(r.json, "items"), 0), true);
    fx_call(&s, "GET", "/v1/seller/orders?status=paid", NULL, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    fx_call(&b, "GET", "/v1/orders?status=lost", NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&b, "GET", "/v1/seller/orders", NULL, NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    fx_call(&other, "GET", "/v1/orders", NULL, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    json_decref(o2);
    json_decref(o);
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    fx_actor_free(&b);
    fx_actor_free(&other);
}

static void test_cancel_unpaid(void **state)
{
    struct actor s, b, other;
    struct h_resp r = {0};
    char path[160];
    fx_actor(&s, true);
    fx_actor(&b, false);
    fx_actor(&other, false);
    json_t *p = fx_create(&s, "Clay water pot", "{\"stock\":3}");
    json_t *o = order_fx_order(&b, p, 3);
    const char *id = fx_str(o, "id");
    assert_int_equal(order_fx_stock(p), 0);
    snprintf(path, sizeof path, "/v1/orders/%s/cancel", id);
    fx_call(&other, "POST", path, "{\"reason\":\"mine now\"}", NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&s, "POST", path, "{\"reason\":\"no\"}", NULL, &r); /* the seller: paid orders only */
    h_assert_problem(&r, 409, "invalid_state");
    fx_call(&b, "POST", path, "{\"reason\":\"\"}", NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&b, "POST", path, "{\"reason\":\"changed\\u001b[2J my mind\"}", NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    assert_string_equal(fx_str(json_array_get(json_object_get(r.json, "errors"), 0), "field"),
                        "reason");
    fx_call(&b, "POST", path, "{\"reason\":\"changed my mind\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "cancelled");
    assert_non_null(fx_str(r.json, "cancelled_at"));
    assert_int_equal(order_fx_stock(p), 3);
    assert_int_equal(fx_count("SELECT count(*) FROM stock_movements WHERE order_id = '%s' "
                              "AND delta = 3",
                              id),
                     1);
    assert_int_equal(events("order.cancelled", id), 1);
    fx_call(&b, "POST", path, NULL, NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    assert_int_equal(order_fx_stock(p), 3);
    json_decref(o);
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    fx_actor_free(&b);
    fx_actor_free(&other);
}

/* Sends items as b and expects status/code with errors[] fields want (NULL: not checked). */
static void expect_refusal(const struct actor *b, const char *items, long status, const char *code,
                           const char *want)
{
    struct h_resp r = {0};
    char got[512];
    order_fx_place(b, items, &r);
    h_assert_problem(&r, status, code);
    fx_error_fields(&r, got, sizeof got);
    if (want && strcmp(got, want) != 0) {
        h_resp_print(&r);
        fail_msg("items %s: errors [%s], want [%s]", items, got, want);
    }
    h_resp_cleanup(&r);
}

static void test_place_refusals(void **state)
{
    struct actor s, s2, b;
    struct h_resp r = {0};
    char items[600];
    fx_actor(&s, true);
    fx_actor(&s2, true);
    fx_actor(&b, true);
    json_t *p = fx_create(&s, "Steel tiffin box", "{\"stock\":2}");
    json_t *q = fx_create(&s2, "Cotton kurta", "{\"stock\":2}");
    json_t *own = fx_create(&b, "My own bicycle", "{\"stock\":2}");
    json_t *draft = fx_create(&s, "Unfinished listing", "{\"stock\":2,\"status\":\"draft\"}");
    json_t *gone = fx_create(&s, "Archived thing", "{\"stock\":2}");
    char path[120];
    snprintf(path, sizeof path, "/v1/products/%s", fx_str(gone, "id"));
    fx_call(&s, "DELETE", path, NULL, NULL, &r);
    h_assert_status(&r, 204);
    const char *pid = fx_str(p, "id"), *qid = fx_str(q, "id");

    snprintf(items, sizeof items,
             "[{\"product_id\":\"%s\",\"quantity\":1},{\"product_id\":\"%s\",\"quantity\":1}]", pid,
             qid);
    expect_refusal(&b, items, 422, "mixed_sellers", NULL);
    expect_refusal(&b, order_fx_items1(own, 1, items, sizeof items), 422, "cannot_buy_own_product",
                   "items[0].product_id");
    snprintf(items, sizeof items,
             "[{\"product_id\":\"%s\",\"quantity\":1},{\"product_id\":\"%s\",\"quantity\":1}]",
             fx_str(draft, "id"), pid);
    expect_refusal(&b, items, 409, "invalid_state", "items[0].product_id");
    snprintf(items, sizeof items,
             "[{\"product_id\":\"%s\",\"quantity\":1},{\"product_id\":\"%s\",\"quantity\":1}]",
             fx_str(gone, "id"), pid);
    expect_refusal(&b, items, 409, "invalid_state", "items[0].product_id");
    /* Lines are taken in product-id order: p (older, smaller id) first. */
    json_t *p2 = fx_create(&s, "Second tiffin box", "{\"stock\":9}");
    snprintf(items, sizeof items,
             "[{\"product_id\":\"%s\",\"quantity\":1},{\"product_id\":\"%s\",\"quantity\":3}]",
             fx_str(p2, "id"), pid);
    expect_refusal(&b, items, 409, "out_of_stock", "items[1].product_id");
    assert_int_equal(order_fx_stock(p2), 9); /* the whole order rolled back */
    assert_int_equal(order_fx_stock(p), 2);
    expect_refusal(&b, "[{\"product_id\":\"0190b3c5-0000-7000-8000-000000000000\",\"quantity\":1}]",
                   422, "validation_failed", "items[0].product_id");
    snprintf(items, sizeof items,
             "[{\"product_id\":\"%s\",\"quantity\":1},{\"product_id\":\"%s\",\"quantity\":1}]", pid,
             pid);
    expect_refusal(&b, items, 422, "validation_failed", "items[1].product_id");
    expect_refusal(&b, "[]", 422, "validation_failed", "items");
    expect_refusal(&b, "[{\"product_id\":\"x\",\"quantity\":0}]", 422, "validation_failed",
                   "items[0].product_id,items[0].quantity");
    expect_refusal(&b, "[{\"quantity\":1.5}]", 422, "validation_failed",
                   "items[0].product_id,items[0].quantity");
    assert_int_equal(fx_count("SELECT count(*) FROM orders WHERE buyer_id = '%s'", b.id), 0);

    /* The address, and a body without it. */
    char key[80], body[1024];
    order_fx_key(key);
    snprintf(body, sizeof body,
             "{\"items\":%s,\"shipping_address\":{\"name\":\" \",\"line1\":\"x\",\"city\":\"P\","
             "\"state\":\"MH\",\"postal_code\":\"!!\",\"country\":\"India\",\"phone\":\"12\"}}",
             order_fx_items1(p, 1, items, sizeof items));
    fx_call(&b, "POST", "/v1/orders", body, key, &r);
    h_assert_problem(&r, 422, "validation_failed");
    char got[512];
    fx_error_fields(&r, got, sizeof got);
    assert_string_equal(got, "shipping_address.name,shipping_address.postal_code,"
                             "shipping_address.country,shipping_address.phone");
    /* Free text in the address: no control characters, no bidi controls, not only spaces. */
    order_fx_key(key);
    snprintf(body, sizeof body,
             "{\"items\":%s,\"shipping_address\":{\"name\":\"\u00a0\",\"line1\":\"12\u202eMG "
             "Road\",\"line2\":\"\\u001b[1mFlat 4\",\"city\":\"Pune\",\"state\":\"MH\","
             "\"postal_code\":\"411001\",\"country\":\"IN\",\"phone\":\"+919876543210\"}}",
             order_fx_items1(p, 1, items, sizeof items));
    fx_call(&b, "POST", "/v1/orders", body, key, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_error_fields(&r, got, sizeof got);
    assert_string_equal(got, "shipping_address.name,shipping_address.line1,shipping_address.line2");
    order_fx_key(key);
    fx_call(&b, "POST", "/v1/orders", "{\"items\":[]}", key, &r);
    fx_error_fields(&r, got, sizeof got);
    assert_string_equal(got, "items,shipping_address");
    /* No Idempotency-Key. */
    snprintf(body, sizeof body, "{\"items\":%s,\"shipping_address\":" ORDER_FX_ADDRESS "}",
             order_fx_items1(p, 1, items, sizeof items));
    fx_call(&b, "POST", "/v1/orders", body, NULL, &r);
    h_assert_problem(&r, 400, "idempotency_key_required");
    json_decref(p2);
    json_decref(p);
    json_decref(q);
    json_decref(own);
    json_decref(draft);
    json_decref(gone);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    fx_actor_free(&s2);
    fx_actor_free(&b);
}

/* An order past payment (set paid by SQL): ship, confirm, review, dispute, and who may. */
static void test_life_cycle(void **state)
{
    struct actor s, b, other;
    struct h_resp r = {0};
    char base[120], path[200];
    fx_actor(&s, true);
    fx_actor(&b, false);
    fx_actor(&other, true);
    json_t *p = fx_create(&s, "Handloom saree", "{\"stock\":4}");
    json_t *o = order_fx_order(&b, p, 1);
    const char *id = fx_str(o, "id");
    snprintf(base, sizeof base, "/v1/orders/%s", id);
#define AT(suffix) (snprintf(path, sizeof path, "%s%s", base, suffix), path)
    static const char ship[] = "{\"carrier\":\"India Post\",\"tracking_number\":\"EE123456789IN\"}";
    fx_call(&s, "POST", AT("/ship"), ship, NULL, &r); /* not paid yet */
    h_assert_problem(&r, 409, "invalid_state");
    fx_call(&b, "POST", AT("/review"), "{\"rating\":5}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    order_fx_mark_paid(id);
    fx_call(&b, "POST", AT("/ship"), ship, NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    fx_call(&other, "POST", AT("/ship"), ship, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    expect_fields(&s, "POST", AT("/ship"), "{\"carrier\":\"\",\"tracking_number\":7}",
                  "carrier,tracking_number");
    fx_call(&b, "POST", AT("/confirm-delivery"), NULL, NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    fx_call(&s, "POST", AT("/ship"), ship, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "shipped");
    json_t *t = json_object_get(r.json, "tracking");
    assert_string_equal(fx_str(t, "carrier"), "India Post");
    assert_string_equal(fx_str(t, "number"), "EE123456789IN");
    assert_non_null(fx_str(r.json, "shipped_at"));
    assert_non_null(json_object_get(r.json, "commission_minor")); /* the seller's view */
    assert_int_equal(events("order.shipped", id), 1);
    fx_call(&s, "POST", AT("/ship"), ship, NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    fx_call(&b, "POST", AT("/cancel"), NULL, NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    fx_call(&b, "POST", AT("/dispute"), "{\"reason\":\"late\"}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    fx_call(&s, "POST", AT("/confirm-delivery"), NULL, NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    fx_call(&b, "POST", AT("/confirm-delivery"), NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "delivered");
    assert_non_null(fx_str(r.json, "delivered_at"));
    assert_null(json_object_get(r.json, "commission_minor")); /* the buyer's view */
    assert_int_equal(events("order.delivered", id), 1);

    /* Review: the buyer only, once, rating 1..5. */
    expect_fields(&b, "POST", AT("/review"), "{\"rating\":6}", "rating");
    expect_fields(&b, "POST", AT("/review"), "{\"rating\":\"5\"}", "rating");
    fx_call(&s, "POST", AT("/review"), "{\"rating\":5}", NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    fx_call(&b, "POST", AT("/review"), "{\"rating\":4,\"comment\":\"Lovely weave\"}", NULL, &r);
    h_assert_status(&r, 201);
    assert_string_equal(fx_str(r.json, "order_id"), id);
    assert_string_equal(fx_str(r.json, "seller_id"), s.id);
    assert_int_equal(fx_int(r.json, "rating"), 4);
    assert_string_equal(fx_str(r.json, "comment"), "Lovely weave");
    assert_non_null(fx_str(r.json, "id"));
    assert_non_null(fx_str(r.json, "created_at"));
    fx_call(&b, "POST", AT("/review"), "{\"rating\":1}", NULL, &r);
    h_assert_problem(&r, 409, "already_reviewed");
    snprintf(path, sizeof path, "/v1/sellers/%s/reviews", s.id);
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    snprintf(path, sizeof path, "/v1/sellers/%s", s.id);
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(fx_int(r.json, "rating_count"), 1);
    assert_true(json_real_value(json_object_get(r.json, "rating_avg")) == 4.0);

    /* Dispute during the hold period, by the buyer. */
    fx_call(&s, "POST", AT("/dispute"), "{\"reason\":\"x\"}", NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    expect_fields(&b, "POST", AT("/dispute"), "{}", "reason");
    fx_call(&b, "POST", AT("/dispute"), "{\"reason\":\"Colour is not as shown\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "disputed");
    assert_int_equal(events("dispute.opened", id), 1);
    fx_call(&b, "POST", AT("/dispute"), "{\"reason\":\"again\"}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");

    /* After the hold period a delivered order cannot be disputed. */
    json_t *o2 = order_fx_order(&b, p, 1);
    snprintf(base, sizeof base, "/v1/orders/%s", fx_str(o2, "id"));
    fx_sql("UPDATE orders SET status = 'delivered', paid_at = now() - interval '30 days', "
           "shipped_at = now() - interval '29 days', delivered_at = now() - interval '8 days' "
           "WHERE id = '%s'",
           fx_str(o2, "id"));
    fx_call(&b, "POST", AT("/dispute"), "{\"reason\":\"too late\"}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");

    /* A paid order marked by SQL holds no payment: the payment port (wired by the app) finds
     * nothing to refund and the cancel goes through, stock back. The refund of a real
     * payment is tested in test_payment.c. */
    json_t *o3 = order_fx_order(&b, p, 1);
    snprintf(base, sizeof base, "/v1/orders/%s", fx_str(o3, "id"));
    order_fx_mark_paid(fx_str(o3, "id"));
    long long stock = order_fx_stock(p);
    fx_call(&s, "POST", AT("/cancel"), "{\"reason\":\"cannot ship\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "cancelled");
    assert_int_equal(order_fx_stock(p), stock + 1);
    assert_int_equal(events("order.cancelled", fx_str(o3, "id")), 1);
#undef AT
    json_decref(o3);
    json_decref(o2);
    json_decref(o);
    json_decref(p);
    h_resp_cleanup(&r);
    fx_actor_free(&s);
    fx_actor_free(&b);
    fx_actor_free(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_place_read_list),
        cmocka_unit_test(test_cancel_unpaid),
        cmocka_unit_test(test_place_refusals),
        cmocka_unit_test(test_life_cycle),
    };
    return HAAT_RUN_GROUP("order", tests, fx_start, fx_stop);
}
