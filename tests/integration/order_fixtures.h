/* Fixtures of the order tests (header-only, on top of the catalog's actors and direct SQL).
 *
 * Payments are another module: to drive an order past pending_payment, a test sets it paid
 * by direct SQL on the test's own database (order_fx_mark_paid), as a succeeded payment
 * would. */
#ifndef HAAT_TESTS_INTEGRATION_ORDER_FIXTURES_H
#define HAAT_TESTS_INTEGRATION_ORDER_FIXTURES_H

#include <stdatomic.h>

#include "tests/integration/catalog_fixtures.h"

#define ORDER_FX_ADDRESS                                                                \
    "{\"name\":\"Asha Rao\",\"line1\":\"12 MG Road\",\"line2\":null,\"city\":\"Pune\"," \
    "\"state\":\"Maharashtra\",\"postal_code\":\"411001\",\"country\":\"IN\","          \
    "\"phone\":\"+919876543210\"}"

/* A unique Idempotency-Key header line. */
static inline void order_fx_key(char out[80])
{
    static atomic_int n;
    char word[17];
    fx_word(word, 16);
    snprintf(out, 80, "Idempotency-Key: order-%s-%d", word, atomic_fetch_add(&n, 1));
}

/* POST /v1/orders with items (a JSON array text) as buyer b, a fresh key. Returns the status. */
static inline long order_fx_place(const struct actor *b, const char *items, struct h_resp *r)
{
    char key[80], body[4096];
    order_fx_key(key);
    snprintf(body, sizeof body, "{\"items\":%s,\"shipping_address\":" ORDER_FX_ADDRESS "}", items);
    return fx_call(b, "POST", "/v1/orders", body, key, r);
}

/* One line of product p (a product JSON) and quantity q as items text into out. */
static inline const char *order_fx_items1(const json_t *p, int q, char *out, size_t n)
{
    snprintf(out, n, "[{\"product_id\":\"%s\",\"quantity\":%d}]", fx_str(p, "id"), q);
    return out;
}

/* Places an order of q units of p as b, asserting 201; returns the order (new reference). */
static inline json_t *order_fx_order(const struct actor *b, const json_t *p, int q)
{
    char items[200];
    struct h_resp r = {0};
    order_fx_place(b, order_fx_items1(p, q, items, sizeof items), &r);
    h_assert_status(&r, 201);
    json_t *o = json_incref(r.json);
    h_resp_cleanup(&r);
    return o;
}

/* What a succeeded payment does to the order (payments are not this module's). */
static inline void order_fx_mark_paid(const char *order_id)
{
    fx_sql("UPDATE orders SET status = 'paid', paid_at = now() WHERE id = '%s'", order_id);
}

/* The rest of a paid order's journey: the seller ships it, the buyer confirms delivery. */
static inline void order_fx_ship_and_deliver(const struct actor *seller, const struct actor *buyer,
                                             const char *order_id)
{
    struct h_resp r = {0};
    char path[120];
    snprintf(path, sizeof path, "/v1/orders/%s/ship", order_id);
    fx_call(seller, "POST", path, "{\"carrier\":\"India Post\",\"tracking_number\":\"EE1234IN\"}",
            NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "shipped");
    snprintf(path, sizeof path, "/v1/orders/%s/confirm-delivery", order_id);
    fx_call(buyer, "POST", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "delivered");
    assert_non_null(fx_str(r.json, "delivered_at"));
    h_resp_cleanup(&r);
}

static inline long long order_fx_stock(const json_t *p)
{
    return fx_count("SELECT stock FROM products WHERE id = '%s'", fx_str(p, "id"));
}

#endif
