/* Unit tests of internal/order without a database: the state table and the one decision every
 * status change goes through, the commission arithmetic, and the POST /v1/orders body rules
 * (field paths, sorting by product id, duplicates). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal/order/internal.h"
#include "tests/test_main.h"

#define P1 "0190f7c2-8a1e-7abc-8def-000000000001"
#define P2 "0190f7c2-8a1e-7abc-8def-000000000002"
#define ADDRESS                                                                           \
    "\"shipping_address\":{\"name\":\"Asha\",\"line1\":\"12 MG Road\",\"city\":\"Pune\"," \
    "\"state\":\"MH\",\"postal_code\":\"411001\",\"country\":\"IN\",\"phone\":\"+919876543210\"}"

static enum order_decision decide(enum order_status from, enum order_action a, enum order_actor who,
                                  enum order_status *to)
{
    const struct order_transition *t = NULL;
    enum order_decision d = order_decide(from, a, who, &t);
    assert_true((d == ORDER_ALLOWED) == (t != NULL));
    if (t)
        *to = t->to;
    return d;
}

/* Every transition of the contract, and nothing else, is allowed. */
static void test_table_allows_the_life_cycle(void **state)
{
    enum order_status to;
    static const struct {
        enum order_status from;
        enum order_action a;
        enum order_actor who;
        enum order_status to;
    } ok[] = {
        {ORDER_PENDING_PAYMENT, ORDER_PAY, ORDER_SYSTEM, ORDER_PAID},
        {ORDER_PENDING_PAYMENT, ORDER_CANCEL, ORDER_BUYER, ORDER_CANCELLED},
        {ORDER_PENDING_PAYMENT, ORDER_EXPIRE, ORDER_SYSTEM, ORDER_CANCELLED},
        {ORDER_PAID, ORDER_CANCEL, ORDER_BUYER, ORDER_CANCELLED},
        {ORDER_PAID, ORDER_CANCEL, ORDER_SELLER, ORDER_CANCELLED},
        {ORDER_PAID, ORDER_SHIP, ORDER_SELLER, ORDER_SHIPPED},
        {ORDER_SHIPPED, ORDER_CONFIRM, ORDER_BUYER, ORDER_DELIVERED},
        {ORDER_SHIPPED, ORDER_AUTO_CONFIRM, ORDER_SYSTEM, ORDER_DELIVERED},
        {ORDER_DELIVERED, ORDER_COMPLETE, ORDER_SYSTEM, ORDER_COMPLETED},
        {ORDER_DELIVERED, ORDER_DISPUTE, ORDER_BUYER, ORDER_DISPUTED},
        {ORDER_DISPUTED, ORDER_RESOLVE_COMPLETE, ORDER_ADMIN, ORDER_COMPLETED},
        {ORDER_DISPUTED, ORDER_RESOLVE_REFUND, ORDER_ADMIN, ORDER_REFUNDED},
    };
    size_t n;
    order_transitions(&n);
    assert_int_equal(n, sizeof ok / sizeof ok[0]);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(decide(ok[i].from, ok[i].a, ok[i].who, &to), ORDER_ALLOWED);
        assert_int_equal(to, ok[i].to);
    }
    /* Every other (status, action, actor) is refused. */
    int allowed = 0;
    for (int s = 0; s < ORDER_STATUS_COUNT; s++)
        for (int a = 0; a < ORDER_ACTION_COUNT; a++)
            for (int w = ORDER_BUYER; w <= ORDER_ADMIN; w++)
                allowed += decide((enum order_status)s, (enum order_action)a, (enum order_actor)w,
                                  &to) == ORDER_ALLOWED;
    assert_int_equal(allowed, (int)n);
}

/* A side that never does an action is 403; a side that may, but not now, is 409. */
static void test_wrong_actor_and_wrong_state(void **state)
{
    enum order_status to;
    assert_int_equal(decide(ORDER_PAID, ORDER_SHIP, ORDER_BUYER, &to), ORDER_WRONG_ACTOR);
    assert_int_equal(decide(ORDER_SHIPPED, ORDER_CONFIRM, ORDER_SELLER, &to), ORDER_WRONG_ACTOR);
    assert_int_equal(decide(ORDER_DELIVERED, ORDER_DISPUTE, ORDER_SELLER, &to), ORDER_WRONG_ACTOR);
    assert_int_equal(decide(ORDER_PENDING_PAYMENT, ORDER_PAY, ORDER_BUYER, &to), ORDER_WRONG_ACTOR);
    assert_int_equal(decide(ORDER_DISPUTED, ORDER_RESOLVE_REFUND, ORDER_BUYER, &to),
                     ORDER_WRONG_ACTOR);
    assert_int_equal(decide(ORDER_SHIPPED, ORDER_CANCEL, ORDER_BUYER, &to), ORDER_WRONG_STATE);
    assert_int_equal(decide(ORDER_PENDING_PAYMENT, ORDER_CANCEL, ORDER_SELLER, &to),
                     ORDER_WRONG_STATE);
    assert_int_equal(decide(ORDER_PENDING_PAYMENT, ORDER_SHIP, ORDER_SELLER, &to),
                     ORDER_WRONG_STATE);
    assert_int_equal(decide(ORDER_CANCELLED, ORDER_EXPIRE, ORDER_SYSTEM, &to), ORDER_WRONG_STATE);
    assert_int_equal(decide(ORDER_PAID, ORDER_PAY, ORDER_SYSTEM, &to), ORDER_WRONG_STATE);
    assert_int_equal(decide(ORDER_COMPLETED, ORDER_DISPUTE, ORDER_BUYER, &to), ORDER_WRONG_STATE);
}

/* The events the table records. */
static void test_table_events(void **state)
{
    const struct order_transition *t;
    assert_int_equal(order_decide(ORDER_SHIPPED, ORDER_AUTO_CONFIRM, ORDER_SYSTEM, &t),
                     ORDER_ALLOWED);
    assert_string_equal(t->events[0], "order.delivered");
    assert_string_equal(t->events[1], "order.auto_confirmed");
    assert_null(t->events[2]);
    assert_int_equal(order_decide(ORDER_PENDING_PAYMENT, ORDER_PAY, ORDER_SYSTEM, &t),
                     ORDER_ALLOWED);
    assert_null(t->events[0]); /* payment.succeeded is the payment module's */
    assert_int_equal(order_decide(ORDER_PENDING_PAYMENT, ORDER_EXPIRE, ORDER_SYSTEM, &t),
                     ORDER_ALLOWED);
    assert_string_equal(t->events[0], "order.cancelled");
}

static void test_status_names(void **state)
{
    enum order_status s;
    for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
        assert_true(order_status_parse(order_status_name((enum order_status)i), &s));
        assert_int_equal(s, i);
    }
    assert_false(order_status_parse("lost", &s));
    assert_false(order_status_parse(NULL, &s));
    assert_string_equal(order_status_name(ORDER_PENDING_PAYMENT), "pending_payment");
}

static void test_commission_rounds_half_up(void **state)
{
    assert_int_equal(order_commission(246914, 500), 12346); /* 12345.7 */
    assert_int_equal(order_commission(100, 500), 5);
    assert_int_equal(order_commission(10, 500), 1); /* 0.5 -> 1 */
    assert_int_equal(order_commission(9, 500), 0);  /* 0.45 -> 0 */
    assert_int_equal(order_commission(1000, 0), 0);
    assert_int_equal(order_commission(1000, 10000), 1000);
    assert_int_equal(order_commission(INT64_MAX, 10000), INT64_MAX); /* no overflow */
    assert_int_equal(order_commission(50000000000000000LL, 500), 2500000000000000LL);
}

/* Parses body; returns the comma-joined error fields in out. */
static void parse(const char *body, struct order_place_input *in, char *out, size_t n)
{
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    order_parse_place(j, in, &e);
    size_t i, used = 0;
    json_t *v;
    out[0] = '\0';
    json_array_foreach(e.list, i, v)
    {
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "," : "",
                                 json_string_value(json_object_get(v, "field")));
    }
    jsonh_errors_cleanup(&e);
    json_decref(j);
}

static void test_place_body(void **state)
{
    struct order_place_input in;
    char errs[512];
    parse("{\"items\":[{\"product_id\":\"" P2 "\",\"quantity\":2},{\"product_id\":\""
          "0190F7C2-8A1E-7ABC-8DEF-000000000001\",\"quantity\":1}]," ADDRESS "}",
          &in, errs, sizeof errs);
    assert_string_equal(errs, "");
    assert_int_equal(in.n, 2);
    assert_string_equal(in.lines[0].product_id, P1); /* sorted, lower-cased */
    assert_int_equal(in.lines[0].index, 1);
    assert_int_equal(in.lines[1].quantity, 2);
    json_t *a = json_loads(in.address, 0, NULL);
    assert_true(json_is_null(json_object_get(a, "line2")));
    assert_string_equal(json_string_value(json_object_get(a, "country")), "IN");
    json_decref(a);
    order_place_input_cleanup(&in);

    parse("{\"items\":[{\"product_id\":\"" P1 "\",\"quantity\":2},{\"product_id\":\"" P1
          "\",\"quantity\":1}]," ADDRESS "}",
          &in, errs, sizeof errs);
    assert_string_equal(errs, "items[1].product_id");
    order_place_input_cleanup(&in);
    parse("{\"items\":[{\"product_id\":\"" P1 "\",\"quantity\":0},{\"product_id\":7,"
          "\"quantity\":\"1\"},{}],\"shipping_address\":{\"postal_code\":\"4110 01\","
          "\"country\":\"in\",\"phone\":\"+91 98\"}}",
          &in, errs, sizeof errs);
    assert_string_equal(errs, "items[0].quantity,items[1].product_id,items[1].quantity,"
                              "items[2].product_id,items[2].quantity,shipping_address.name,"
                              "shipping_address.line1,shipping_address.city,"
                              "shipping_address.state,shipping_address.country,"
                              "shipping_address.phone");
    order_place_input_cleanup(&in);
    parse("{\"items\":[]}", &in, errs, sizeof errs);
    assert_string_equal(errs, "items,shipping_address");
    order_place_input_cleanup(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_allows_the_life_cycle),
        cmocka_unit_test(test_wrong_actor_and_wrong_state),
        cmocka_unit_test(test_table_events),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_commission_rounds_half_up),
        cmocka_unit_test(test_place_body),
    };
    return HAAT_RUN_GROUP("order", tests, NULL, NULL);
}
