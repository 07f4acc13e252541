/* Integration tests of orders under concurrency and of the order jobs, against the real
 * binary: one Idempotency-Key fired 20 times at once, 200 buyers racing for 50 units, two
 * baskets in opposite orders, and unpaid orders expiring (stock back, once) and shipped ones
 * confirming themselves with two worker processes.
 *
 * The API server runs without workers and with HAAT_PAYMENT_TIMEOUT_S=2, so nothing expires
 * until the job tests (last) start their worker processes. */
#include <pthread.h>
#include <unistd.h>

#include "tests/integration/order_fixtures.h"
#include "tests/test_main.h"

static int race_start(void **state)
{
    (void)state;
    static const char *const env[] = {"HAAT_WORKERS=off", "HAAT_PAYMENT_TIMEOUT_S=2", NULL};
    if (sodium_init() < 0 || h_db_create(cat_db_name, cat_db_url) != 0)
        return -1;
    snprintf(cat_srv.db_url, sizeof cat_srv.db_url, "%s", cat_db_url);
    h_server_start(&cat_srv, env);
    return 0;
}

struct shot {
    const struct actor *buyer;
    const char *body, *key; /* key: a full header line, NULL for a fresh one */
    long status;
    char code[48], order_id[37];
    pthread_barrier_t *go;
};

static void *fire(void *arg)
{
    struct shot *x = arg;
    struct h_resp r = {0};
    char key[80];
    if (!x->key)
        order_fx_key(key);
    pthread_barrier_wait(x->go);
    x->status = fx_call(x->buyer, "POST", "/v1/orders", x->body, x->key ? x->key : key, &r);
    if (r.json && fx_str(r.json, "code"))
        snprintf(x->code, sizeof x->code, "%s", fx_str(r.json, "code"));
    if (r.json && x->status == 201)
        snprintf(x->order_id, sizeof x->order_id, "%s", fx_str(r.json, "id"));
    h_resp_cleanup(&r);
    return NULL;
}

/* Fires shots[0..n) at once and joins them. */
static void fire_all(struct shot *shots, int n)
{
    pthread_t *t = calloc((size_t)n, sizeof *t);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        shots[i].go = &go;
        assert_int_equal(pthread_create(&t[i], NULL, fire, &shots[i]), 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    free(t);
}

static char *place_body(const char *items)
{
    char *b = NULL;
    assert_true(asprintf(&b, "{\"items\":%s,\"shipping_address\":" ORDER_FX_ADDRESS "}", items) >
                0);
    return b;
}

/* The same key 20 times at once: one order; the rest replay it or are told it is running. */
static void test_same_key_burst(void **state)
{
    enum { N = 20 };
    struct actor s, b;
    char items[200];
    struct shot shots[N];
    fx_actor(&s, true);
    fx_actor(&b, false);
    json_t *p = fx_create(&s, "Burst tea set", "{\"stock\":100}");
    char *body = place_body(order_fx_items1(p, 1, items, sizeof items));
    for (int i = 0; i < N; i++)
        shots[i] = (struct shot){.buyer = &b, .body = body, .key = "Idempotency-Key: burst-1"};
    fire_all(shots, N);
    int created = 0, running = 0;
    const char *id = NULL;
    for (int i = 0; i < N; i++) {
        if (shots[i].status == 201) {
            created++;
            if (id)
                assert_string_equal(shots[i].order_id, id);
            id = shots[i].order_id;
        } else {
            assert_int_equal(shots[i].status, 409);
            assert_string_equal(shots[i].code, "idempotency_in_progress");
            running++;
        }
    }
    assert_true(created >= 1);
    assert_int_equal(created + running, N);
    assert_int_equal(fx_count("SELECT count(*) FROM orders WHERE buyer_id = '%s'", b.id), 1);
    assert_int_equal(order_fx_stock(p), 99);
    free(body);
    json_decref(p);
    fx_actor_free(&s);
    fx_actor_free(&b);
}

/* 200 buyers, one unit each, 50 in stock: exactly 50 orders, the rest out_of_stock, no 5xx. */
static void test_200_buyers_50_units(void **state)
{
    enum { N = 200, STOCK = 50 };
    struct actor s, *buyers = calloc(N, sizeof *buyers);
    struct shot *shots = calloc(N, sizeof *shots);
    char items[200];
    fx_actor(&s, true);
    json_t *p = fx_create(&s, "Festival special diya", "{\"stock\":50}");
    char *body = place_body(order_fx_items1(p, 1, items, sizeof items));
    for (int i = 0; i < N; i++) {
        fx_actor(&buyers[i], false);
        shots[i] = (struct shot){.buyer = &buyers[i], .body = body};
    }
    fire_all(shots, N);
    int created = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        if (shots[i].status >= 500)
            fail_msg("buyer %d got %ld", i, shots[i].status);
        created += shots[i].status == 201;
        refused += shots[i].status == 409 && strcmp(shots[i].code, "out_of_stock") == 0;
    }
    assert_int_equal(created, STOCK);
    assert_int_equal(refused, N - STOCK);
    assert_int_equal(order_fx_stock(p), 0);
    const char *id = fx_str(p, "id");
    assert_int_equal(fx_count("SELECT count(*) FROM order_items WHERE product_id = '%s'", id),
                     STOCK);
    /* Movements account for the whole change: 50 (creation) - 50 = 0. */
    assert_int_equal(fx_count("SELECT COALESCE(sum(delta), 0) FROM stock_movements "
                              "WHERE product_id = '%s' AND order_id IS NOT NULL",
                              id),
                     -STOCK);
    assert_int_equal(
        fx_count("SELECT min(stock_after) FROM stock_movements WHERE product_id = '%s'", id), 0);
    for (int i = 0; i < N; i++)
        fx_actor_free(&buyers[i]);
    free(buyers);
    free(shots);
    free(body);
    json_decref(p);
    fx_actor_free(&s);
}

/* Two buyers, the same two products in opposite orders, again and again: every order goes
 * through (the lines are taken in product-id order; a deadlock would be rerun, never shown). */
static void test_opposite_baskets(void **state)
{
    enum { ROUNDS = 25 };
    struct actor s, b1, b2;
    char ab[300], ba[300];
    fx_actor(&s, true);
    fx_actor(&b1, false);
    fx_actor(&b2, false);
    json_t *p = fx_create(&s, "Basket item one", "{\"stock\":1000}");
    json_t *q = fx_create(&s, "Basket item two", "{\"stock\":1000}");
    snprintf(ab, sizeof ab,
             "[{\"product_id\":\"%s\",\"quantity\":1},{\"product_id\":\"%s\",\"quantity\":2}]",
             fx_str(p, "id"), fx_str(q, "id"));
    snprintf(ba, sizeof ba,
             "[{\"product_id\":\"%s\",\"quantity\":2},{\"product_id\":\"%s\",\"quantity\":1}]",
             fx_str(q, "id"), fx_str(p, "id"));
    char *body1 = place_body(ab), *body2 = place_body(ba);
    for (int round = 0; round < ROUNDS; round++) {
        struct shot shots[2] = {{.buyer = &b1, .body = body1}, {.buyer = &b2, .body = body2}};
        fire_all(shots, 2);
        for (int i = 0; i < 2; i++)
            if (shots[i].status != 201)
                fail_msg("round %d buyer %d: %ld %s", round, i, shots[i].status, shots[i].code);
    }
    assert_int_equal(order_fx_stock(p), 1000 - 2 * ROUNDS);
    assert_int_equal(order_fx_stock(q), 1000 - 4 * ROUNDS);
    free(body1);
    free(body2);
    json_decref(p);
    json_decref(q);
    fx_actor_free(&s);
    fx_actor_free(&b1);
    fx_actor_free(&b2);
}

static void start_workers(struct h_server w[2])
{
    static const char *const env[] = {"HAAT_AUTO_CONFIRM_S=1", NULL};
    for (int i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof w[i]);
        snprintf(w[i].db_url, sizeof w[i].db_url, "%s", cat_db_url);
        w[i].no_migrate = true;
        w[i].command = "worker";
        w[i].no_wait = true;
        h_server_start(&w[i], env);
    }
}

/* Polls sql (a count) until it is want, up to 60 s. */
static void wait_count(long long want, const char *sql)
{
    for (int i = 0; i < 600 && fx_count("%s", sql) != want; i++)
        usleep(100 * 1000);
    assert_int_equal(fx_count("%s", sql), want);
}

/* Unpaid orders expire by the job, with two worker processes: each once, stock back with a
 * movement carrying the order id. Shipped orders confirm their delivery by themselves. */
static void test_jobs_with_two_workers(void **state)
{
    enum { N = 12 };
    struct actor s, b;
    struct h_server w[2];
    char sql[400];
    fx_actor(&s, true);
    fx_actor(&b, false);
    json_t *p = fx_create(&s, "Expiring brass bell", "{\"stock\":25}");
    json_t *orders[N];
    for (int i = 0; i < N; i++)
        orders[i] = order_fx_order(&b, p, 2);
    /* One shipped order (set by SQL: payments are not this module's) for the auto-confirm. */
    json_t *shipped = order_fx_order(&b, p, 1);
    fx_sql("UPDATE orders SET status = 'shipped', paid_at = now(), carrier = 'DTDC', "
           "tracking_number = 'D1', shipped_at = now() - interval '5 seconds' WHERE id = '%s'",
           fx_str(shipped, "id"));
    assert_int_equal(order_fx_stock(p), 0);
    start_workers(w);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM orders WHERE buyer_id = '%s' AND status = 'cancelled'", b.id);
    wait_count(N, sql);
    assert_int_equal(order_fx_stock(p), 24); /* the shipped one stays out */
    for (int i = 0; i < N; i++) {
        const char *id = fx_str(orders[i], "id");
        assert_int_equal(fx_count("SELECT count(*) FROM stock_movements WHERE order_id = '%s' "
                                  "AND delta = 2",
                                  id),
                         1);
        assert_int_equal(events("order.cancelled", id), 1);
        assert_int_equal(
            fx_count("SELECT count(*) FROM orders WHERE id = '%s' AND cancelled_by = 'system' "
                     "AND cancelled_at IS NOT NULL",
                     id),
            1);
    }
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM orders WHERE id = '%s' AND status = "
             "'delivered' AND delivered_at IS NOT NULL",
             fx_str(shipped, "id"));
    wait_count(1, sql);
    assert_int_equal(events("order.delivered", fx_str(shipped, "id")), 1);
    assert_int_equal(events("order.auto_confirmed", fx_str(shipped, "id")), 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h_server_stop(&w[i]), 0);
        h_server_cleanup(&w[i]);
    }
    for (int i = 0; i < N; i++)
        json_decref(orders[i]);
    json_decref(shipped);
    json_decref(p);
    fx_actor_free(&s);
    fx_actor_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_key_burst),
        cmocka_unit_test(test_200_buyers_50_units),
        cmocka_unit_test(test_opposite_baskets),
        cmocka_unit_test(test_jobs_with_two_workers),
    };
    return HAAT_RUN_GROUP("order_races", tests, race_start, fx_stop);
}
