/* Integration tests of money after delivery against the real binary, the sandbox provider and
 * the worker jobs: the release after the hold period (commission to the platform, the rest to
 * the seller's available balance, order.completed), the seller's balance and transactions,
 * disputes keeping money held past the hold period and an admin's decision (refund through
 * the provider, or release), the disputes queue, the revenue report, two worker processes
 * releasing the same due orders once each, and refunds decided while the release job runs.
 * The hold period is configuration (one hour here) and passes by moving delivered_at back,
 * so no test waits for it. Every test ends with the ledger and money invariants. */
#include <time.h>
#include <unistd.h>

#include "tests/integration/money_fixtures.h"
#include "tests/test_main.h"

#define DISPUTE_PATH "dispute"
#define RESOLVE_PATH "/v1/admin/orders/%s/resolve-dispute"

struct scene {
    struct actor s, b;
    json_t *product;
};

static void scene_new(struct scene *x, long long price)
{
    fx_actor(&x->s, true);
    fx_actor(&x->b, false);
    x->product = mf_product(&x->s, price);
}

static void scene_free(struct scene *x)
{
    json_decref(x->product);
    fx_actor_free(&x->s);
    fx_actor_free(&x->b);
}

/* A delivered order of the scene (id into out). */
static void delivered(struct scene *x, char out[40])
{
    mf_paid_order(&x->b, x->product, out);
    order_fx_ship_and_deliver(&x->s, &x->b, out);
}

static void end_checks(void)
{
    mf_assert_owed();
    lf_assert_ledger_balanced(cat_db_url);
}

/* GET path as a, asserting 200; the body (new reference). */
static json_t *get_json(const struct actor *a, const char *path)
{
    struct h_resp r = {0};
    fx_call(a, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    json_t *j = json_incref(r.json);
    h_resp_cleanup(&r);
    return j;
}

static void assert_balance(const struct actor *s, long long pending, long long available)
{
    json_t *b = get_json(s, "/v1/seller/balance");
    assert_string_equal(fx_str(b, "currency"), "INR");
    assert_int_equal(fx_int(b, "pending_minor"), pending);
    assert_int_equal(fx_int(b, "available_minor"), available);
    assert_int_equal(fx_int(b, "in_transit_minor"), 0);
    assert_int_equal(fx_int(b, "paid_out_minor"), 0);
    json_decref(b);
}

static void assert_tx(const json_t *t, const char *type, const char *order_id, long long amount,
                      long long after)
{
    assert_string_equal(fx_str(t, "type"), type);
    assert_string_equal(fx_str(t, "order_id"), order_id);
    assert_true(json_is_null(json_object_get(t, "payout_id")));
    assert_int_equal(fx_int(t, "amount_minor"), amount);
    assert_int_equal(fx_int(t, "available_after_minor"), after);
    assert_non_null(fx_str(t, "created_at"));
    assert_non_null(fx_str(t, "id"));
}

static void test_release_after_hold(void **state)
{
    (void)state;
    struct scene x;
    struct h_resp r = {0};
    char id[40];
    scene_new(&x, 129900); /* 5 % of ₹1,299.00 is ₹64.95 */
    assert_balance(&x.s, 0, 0);
    delivered(&x, id);
    assert_balance(&x.s, 129900, 0);
    /* within the hold period nothing moves */
    h_sleep_ms(1500);
    assert_string_equal(order_status(id), "delivered");
    mf_hold_ends_in(id, 0);
    mf_wait_status(id, "completed");
    assert_int_equal(mf_transfers("commission", id), 1);
    assert_int_equal(mf_transfers("release", id), 1);
    assert_balance(&x.s, 0, 129900 - 6495);
    assert_int_equal(events("order.completed", id), 1);
    assert_int_equal(fx_count("SELECT (payload->>'commission_minor')::bigint + "
                              "(payload->>'seller_amount_minor')::bigint * 10 FROM outbox_events "
                              "WHERE type = 'order.completed' AND aggregate_id = '%s'",
                              id),
                     6495 + 123405LL * 10);
    /* newest first: release, commission, sale */
    json_t *page = get_json(&x.s, "/v1/seller/transactions");
    json_t *items = json_object_get(page, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_tx(json_array_get(items, 0), "release", id, 123405, 123405);
    assert_tx(json_array_get(items, 1), "commission", id, -6495, 0);
    assert_tx(json_array_get(items, 2), "sale", id, 129900, 0);
    assert_true(json_is_null(json_object_get(page, "next_cursor")));
    json_decref(page);
    /* pages of one, by cursor */
    page = get_json(&x.s, "/v1/seller/transactions?limit=2");
    assert_int_equal(json_array_size(json_object_get(page, "items")), 2);
    char path[400];
    snprintf(path, sizeof path, "/v1/seller/transactions?limit=2&cursor=%s",
             fx_str(page, "next_cursor"));
    json_t *rest = get_json(&x.s, path);
    assert_int_equal(json_array_size(json_object_get(rest, "items")), 1);
    assert_string_equal(fx_str(json_array_get(json_object_get(rest, "items"), 0), "type"), "sale");
    /* another seller cannot use that cursor; a buyer has no balance */
    struct scene y;
    scene_new(&y, 1000);
    fx_call(&y.s, "GET", path, NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&x.b, "GET", "/v1/seller/balance", NULL, NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    fx_call(NULL, "GET", "/v1/seller/transactions", NULL, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    json_decref(rest);
    json_decref(page);
    /* completed: reviewable, no dispute, no cancel (no refund after release) */
    mf_post(&x.b, DISPUTE_PATH, id, "{\"reason\":\"late\"}", 409);
    mf_post(&x.b, "cancel", id, NULL, 409);
    mf_post(&x.b, "review", id, "{\"rating\":5,\"comment\":\"Lovely\"}", 201);
    h_resp_cleanup(&r);
    scene_free(&y);
    scene_free(&x);
    end_checks();
}

/* Today's revenue row equals what the orders and refunds of today say. */
static void test_revenue_report(void **state)
{
    (void)state;
    struct actor admin, buyer;
    struct h_resp r = {0};
    struct scene x;
    char id[40], path[160], today[16];
    scene_new(&x, 77777); /* commission 3888.85 -> 3889 */
    delivered(&x, id);
    mf_hold_ends_in(id, 0);
    mf_wait_status(id, "completed");
    mf_admin(&admin);
    fx_actor(&buyer, false);
    time_t now = time(NULL);
    strftime(today, sizeof today, "%Y-%m-%d", gmtime(&now));
    snprintf(path, sizeof path, "/v1/admin/revenue?from=%s&to=%s", today, today);
    json_t *rep = get_json(&admin, path);
    json_t *days = json_object_get(rep, "days");
    json_t *last = json_array_get(days, json_array_size(days) - 1);
    assert_string_equal(fx_str(last, "date"), today);
    assert_int_equal(fx_int(last, "orders_completed"),
                     fx_count("SELECT count(*) FROM orders WHERE status = 'completed' AND "
                              "(completed_at AT TIME ZONE 'UTC')::date = '%s'",
                              today));
    assert_int_equal(fx_int(last, "gmv_minor"),
                     fx_count("SELECT sum(total_minor) FROM orders WHERE status = 'completed' "
                              "AND (completed_at AT TIME ZONE 'UTC')::date = '%s'",
                              today));
    assert_int_equal(fx_int(last, "commission_minor"),
                     fx_count("SELECT sum(commission_minor) FROM orders WHERE status = "
                              "'completed' AND (completed_at AT TIME ZONE 'UTC')::date = '%s'",
                              today));
    assert_int_equal(fx_int(last, "refunds_minor"),
                     fx_count("SELECT coalesce(sum(amount_minor), 0) FROM payment_refunds "
                              "WHERE (created_at AT TIME ZONE 'UTC')::date = '%s'",
                              today));
    assert_int_equal(fx_int(last, "payouts_minor"), 0);
    json_decref(rep);
    /* a day with nothing is omitted */
    rep = get_json(&admin, "/v1/admin/revenue?from=2020-01-01&to=2020-01-31");
    assert_int_equal(json_array_size(json_object_get(rep, "days")), 0);
    json_decref(rep);
    /* refusals */
    static const char *const bad[][2] = {
        {"/v1/admin/revenue", "from,to"},
        {"/v1/admin/revenue?from=2024-02-30&to=2024-03-01", "from"},
        {"/v1/admin/revenue?from=2024-03-01&to=2024-02-01", "to"},
        {"/v1/admin/revenue?from=2023-01-01&to=2024-12-31", "to"},
        {"/v1/admin/revenue?from=2024-1-01&to=20240101", "from,to"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char got[200];
        fx_call(&admin, "GET", bad[i][0], NULL, NULL, &r);
        h_assert_problem(&r, 422, "validation_failed");
        fx_error_fields(&r, got, sizeof got);
        assert_string_equal(got, bad[i][1]);
    }
    rep = get_json(&admin, "/v1/admin/revenue?from=2024-02-29&to=2025-02-28"); /* 366 days */
    json_decref(rep);
    fx_call(&buyer, "GET", "/v1/admin/revenue?from=2024-01-01&to=2024-01-02", NULL, NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    h_resp_cleanup(&r);
    fx_actor_free(&buyer);
    fx_actor_free(&admin);
    scene_free(&x);
    end_checks();
}

static long resolve(const struct actor *admin, const char *id, const char *body, struct h_resp *r)
{
    char path[200];
    snprintf(path, sizeof path, RESOLVE_PATH, id);
    return fx_call(admin, "POST", path, body, NULL, r);
}

static void test_dispute_and_resolution(void **state)
{
    (void)state;
    struct scene x;
    struct actor admin;
    struct h_resp r = {0};
    char a[40], b[40], d[40], late[40];
    scene_new(&x, 250000); /* commission 12500 */
    mf_admin(&admin);
    delivered(&x, a);
    delivered(&x, b);
    delivered(&x, d);
    delivered(&x, late);
    /* the seller cannot dispute; the buyer can, during the hold period */
    mf_post(&x.s, DISPUTE_PATH, a, "{\"reason\":\"Not as described\"}", 403);
    mf_post(&x.b, DISPUTE_PATH, a, "{\"reason\":\" \"}", 422);
    mf_post(&x.b, DISPUTE_PATH, a, "{\"reason\":\"Not as described\"}", 200);
    assert_int_equal(events("dispute.opened", a), 1);
    mf_post(&x.b, DISPUTE_PATH, d, "{\"reason\":\"Broken\"}", 200);
    /* after the hold period: no dispute */
    mf_hold_ends_in(late, -1);
    mf_post(&x.b, DISPUTE_PATH, late, "{\"reason\":\"Too late\"}", 409);
    /* the hold period passes for all: b and late are released, the disputed stay held */
    mf_hold_ends_in(a, -10);
    mf_hold_ends_in(b, -10);
    mf_hold_ends_in(d, -10);
    mf_wait_status(b, "completed");
    mf_wait_status(late, "completed");
    h_sleep_ms(1500); /* another round of the release job */
    assert_string_equal(order_status(a), "disputed");
    assert_string_equal(order_status(d), "disputed");
    assert_int_equal(mf_transfers("release", a), 0);
    assert_balance(&x.s, 500000, 2 * 237500);
    mf_assert_owed();
    /* the queue, oldest first, by pages of one */
    json_t *page = get_json(&admin, "/v1/admin/disputes?limit=1");
    json_t *first = json_array_get(json_object_get(page, "items"), 0);
    assert_string_equal(fx_str(first, "status"), "disputed");
    assert_int_equal(fx_int(first, "commission_minor"), 12500);
    char path[400];
    snprintf(path, sizeof path, "/v1/admin/disputes?limit=100&cursor=%s",
             fx_str(page, "next_cursor"));
    json_t *rest = get_json(&admin, path);
    size_t seen_a = strcmp(fx_str(first, "id"), a) == 0, seen_d = 0, i;
    json_t *o;
    json_array_foreach(json_object_get(rest, "items"), i, o)
    {
        seen_a += strcmp(fx_str(o, "id"), a) == 0;
        seen_d += strcmp(fx_str(o, "id"), d) == 0;
    }
    assert_int_equal(seen_a + seen_d, 2); /* a was opened first: never after d */
    assert_true(strcmp(fx_str(first, "id"), d) != 0 || seen_a == 0);
    json_decref(rest);
    json_decref(page);
    fx_call(&x.b, "GET", "/v1/admin/disputes", NULL, NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    /* refusals of the decision */
    resolve(&admin, a, "{\"decision\":\"maybe\",\"note\":\"x\"}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    resolve(&admin, a, "{\"decision\":\"refund\"}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    resolve(&x.b, a, "{\"decision\":\"refund\",\"note\":\"mine\"}", &r);
    h_assert_problem(&r, 403, "forbidden");
    resolve(&admin, "0190a000-0000-7000-8000-000000000000",
            "{\"decision\":\"refund\",\"note\":\"none\"}", &r);
    h_assert_problem(&r, 404, "not_found");
    /* no refund after release */
    resolve(&admin, b, "{\"decision\":\"refund\",\"note\":\"after release\"}", &r);
    h_assert_problem(&r, 409, "invalid_state");
    assert_int_equal(mf_transfers("refund", b), 0);
    /* refund: the buyer is paid back through the provider */
    resolve(&admin, a, "{\"decision\":\"refund\",\"note\":\"Photos show damage\"}", &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "refunded");
    assert_int_equal(events("dispute.resolved", a), 1);
    assert_int_equal(fx_count("SELECT count(*) FROM outbox_events WHERE type = "
                              "'dispute.resolved' AND aggregate_id = '%s' AND "
                              "payload->>'outcome' = 'refunded'",
                              a),
                     1);
    assert_int_equal(fx_count("SELECT count(*) FROM audit_log WHERE action = "
                              "'order.resolve_dispute' AND target_kind = 'order' AND target_id = "
                              "'%s' AND actor_id = '%s' AND reason = 'Photos show damage' AND "
                              "after->>'status' = 'refunded'",
                              a, admin.id),
                     1);
    wait_count(1, "SELECT count(*) FROM payment_refunds WHERE status = 'processed' AND "
                  "order_id IN (SELECT id FROM orders WHERE status = 'refunded' AND dispute_reason "
                  "= 'Not as described')");
    assert_int_equal(mf_transfers("refund", a), 1);
    assert_int_equal(mf_transfers("release", a), 0);
    resolve(&admin, a, "{\"decision\":\"release\",\"note\":\"again\"}", &r);
    h_assert_problem(&r, 409, "invalid_state");
    /* release: as after the hold period */
    resolve(&admin, d, "{\"decision\":\"release\",\"note\":\"Seller shipped as described\"}", &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "completed");
    assert_int_equal(fx_int(r.json, "seller_amount_minor"), 237500);
    assert_int_equal(mf_transfers("release", d), 1);
    assert_int_equal(mf_transfers("commission", d), 1);
    assert_int_equal(events("order.completed", d), 1);
    assert_int_equal(events("dispute.resolved", d), 1);
    assert_balance(&x.s, 0, 3 * 237500);
    h_resp_cleanup(&r);
    fx_actor_free(&admin);
    scene_free(&x);
    end_checks();
}

#define RACE_ORDERS 12

/* Two worker processes (and the server's own job) over the same due orders: each released
 * once. */
static void test_two_workers_release_once(void **state)
{
    (void)state;
    struct scene x;
    char ids[RACE_ORDERS][40];
    scene_new(&x, 99999);
    for (int i = 0; i < RACE_ORDERS; i++)
        delivered(&x, ids[i]);
    struct h_server w[2];
    static const char *const env[] = {MF_HOLD_ENV, NULL};
    for (int i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof w[i]);
        snprintf(w[i].db_url, sizeof w[i].db_url, "%s", cat_db_url);
        w[i].command = "worker";
        w[i].no_migrate = true;
        w[i].no_wait = true;
        h_server_start(&w[i], env);
    }
    h_sleep_ms(500);
    fx_sql("UPDATE orders SET delivered_at = now() - interval '2 hours' WHERE seller_id = '%s' "
           "AND status = 'delivered'",
           x.s.id);
    for (int i = 0; i < RACE_ORDERS; i++)
        mf_wait_status(ids[i], "completed");
    for (int i = 0; i < RACE_ORDERS; i++) {
        assert_int_equal(mf_transfers("release", ids[i]), 1);
        assert_int_equal(mf_transfers("commission", ids[i]), 1);
        assert_int_equal(events("order.completed", ids[i]), 1);
    }
    assert_balance(&x.s, 0, RACE_ORDERS * (99999LL - 5000));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h_server_stop(&w[i]), 0);
        h_server_cleanup(&w[i]);
    }
    scene_free(&x);
    end_checks();
}

/* A dispute and a refund decided while the release job runs for the same orders (their hold
 * periods ending around now, over a second and a half): for each, exactly one of them wins, and the
 * ledger shows only that one. */
static void test_refund_races_release(void **state)
{
    (void)state;
    struct scene x;
    struct actor admin;
    struct h_resp r = {0};
    char ids[RACE_ORDERS][40];
    int refunded = 0, released = 0;
    scene_new(&x, 55555);
    mf_admin(&admin);
    for (int i = 0; i < RACE_ORDERS; i++)
        delivered(&x, ids[i]);
    for (int i = 0; i < RACE_ORDERS; i++)
        mf_hold_ends_in(ids[i], 0.15 * (i - 4)); /* some over already, some about to end */
    for (int i = 0; i < RACE_ORDERS; i++) {
        if (mf_post(&x.b, DISPUTE_PATH, ids[i], "{\"reason\":\"Wrong size\"}", 0) == 200) {
            resolve(&admin, ids[i], "{\"decision\":\"refund\",\"note\":\"race\"}", &r);
            h_assert_status(&r, 200);
        }
    }
    for (int i = 0; i < RACE_ORDERS; i++) {
        const char *st = order_status(ids[i]);
        if (strcmp(st, "delivered") == 0)
            mf_wait_status(ids[i], "completed");
        st = order_status(ids[i]);
        bool refund = strcmp(st, "refunded") == 0;
        assert_true(refund || strcmp(st, "completed") == 0);
        assert_int_equal(mf_transfers("refund", ids[i]), refund ? 1 : 0);
        assert_int_equal(mf_transfers("release", ids[i]), refund ? 0 : 1);
        assert_int_equal(mf_transfers("commission", ids[i]), refund ? 0 : 1);
        refunded += refund;
        released += !refund;
    }
    print_message("refund vs release: %d refunded, %d released\n", refunded, released);
    h_resp_cleanup(&r);
    fx_actor_free(&admin);
    scene_free(&x);
    end_checks();
}

static int start(void **state)
{
    (void)state;
    if (sodium_init() < 0 || h_db_create(cat_db_name, cat_db_url) != 0)
        return -1;
    snprintf(cat_srv.db_url, sizeof cat_srv.db_url, "%s", cat_db_url);
    static const char *const env[] = {MF_HOLD_ENV, NULL};
    h_server_start(&cat_srv, env);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_after_hold),
        cmocka_unit_test(test_revenue_report),
        cmocka_unit_test(test_dispute_and_resolution),
        cmocka_unit_test(test_two_workers_release_once),
        cmocka_unit_test(test_refund_races_release),
    };
    return HAAT_RUN_GROUP("money", tests, start, fx_stop);
}
