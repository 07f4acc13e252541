/* Integration tests of the notification module, part 2: preferences honoured at fan-out, a
 * switched-off kind never delivered, and the feed (other users' rows never visible, keyset
 * pages, cursors bound to their user and refused when edited, the limit clamped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/integration/harness.h"
#include "tests/integration/notify_fixtures.h"
#include "tests/test_main.h"

/* This binary's sinks and server (the server sends through the sinks), for the whole file. */
static struct h_sink smtp, sms;
static struct h_server srv;

static int group_setup(void **state)
{
    (void)state;
    nf_start(&srv, &smtp, &sms);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nf_stop(&srv, &smtp, &sms);
    return 0;
}

/* ---- preferences and the feed ---------------------------------------------------------------- */

static void test_preferences(void **state)
{
    (void)state;
    struct nf_user a;
    nf_signup(&srv, &a, "Priya Prefs");
    struct h_resp r = {0};
    nf_api(&srv, "GET", "/v1/me/notification-preferences", NULL, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    h_resp_cleanup(&r);
    nf_api(&srv, "GET", "/v1/me/notification-preferences", a.id, NULL, &r);
    h_assert_status(&r, 200);
    json_t *want =
        json_pack("{s:{s:b,s:b,s:b,s:b,s:b,s:b,s:b},s:{s:b,s:b,s:b,s:b,s:b,s:b,s:b}}", "email",
                  "security", 1, "account", 1, "listings", 1, "orders", 1, "payments", 1, "chat", 1,
                  "marketing", 0, "sms", "security", 1, "account", 1, "listings", 1, "orders", 1,
                  "payments", 1, "chat", 1, "marketing", 0);
    assert_true(json_equal(r.json, want));
    h_resp_cleanup(&r);

    nf_api(
        &srv, "PUT", "/v1/me/notification-preferences", a.id,
        "{\"sms\":{\"orders\":false},\"email\":{\"marketing\":true,\"bogus\":false},\"push\":{}}",
        &r);
    h_assert_status(&r, 200);
    json_object_set_new(json_object_get(want, "sms"), "orders", json_false());
    json_object_set_new(json_object_get(want, "email"), "marketing", json_true());
    assert_true(json_equal(r.json, want));
    h_resp_cleanup(&r);
    nf_api(&srv, "GET", "/v1/me/notification-preferences", a.id, NULL, &r);
    assert_true(json_equal(r.json, want));
    h_resp_cleanup(&r);

    /* Security messages cannot be switched off; a bad PUT stores nothing at all. */
    nf_api(&srv, "PUT", "/v1/me/notification-preferences", a.id,
           "{\"email\":{\"chat\":false,\"security\":false}}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    json_t *errs = json_object_get(r.json, "errors");
    assert_int_equal(json_array_size(errs), 1);
    assert_string_equal(nf_member(json_array_get(errs, 0), "field"), "email.security");
    h_resp_cleanup(&r);
    nf_api(&srv, "PUT", "/v1/me/notification-preferences", a.id,
           "{\"email\":{\"orders\":\"no\"},\"sms\":5}", &r);
    h_assert_problem(&r, 422, "validation_failed");
    assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 2);
    h_resp_cleanup(&r);
    nf_api(&srv, "PUT", "/v1/me/notification-preferences", a.id, "{\"email\":{\"orders\":null}}",
           &r);
    h_assert_problem(&r, 422, "validation_failed");
    h_resp_cleanup(&r);
    nf_api(&srv, "PUT", "/v1/me/notification-preferences", a.id, "[true]", &r);
    h_assert_problem(&r, 400, "invalid_json");
    h_resp_cleanup(&r);
    nf_api(&srv, "PUT", "/v1/me/notification-preferences", a.id, "{\"email\":{\"security\":true}}",
           &r);
    h_assert_status(&r, 200);
    assert_true(json_equal(r.json, want)); /* chat untouched by the refused PUT */
    h_resp_cleanup(&r);

    /* Another user's preferences are their own. */
    struct nf_user b;
    nf_signup(&srv, &b, "Bina Other");
    nf_api(&srv, "GET", "/v1/me/notification-preferences", b.id, NULL, &r);
    assert_true(json_is_true(json_object_get(json_object_get(r.json, "sms"), "orders")));
    h_resp_cleanup(&r);
    json_decref(want);
}

/* A switched-off kind creates no message; the other channel still goes out. */
static void test_switched_off_kind_not_delivered(void **state)
{
    (void)state;
    struct nf_user buyer, seller;
    nf_signup(&srv, &buyer, "Kiran Quiet");
    nf_signup(&srv, &seller, "Mohan Ships");
    struct h_resp r = {0};
    nf_api(&srv, "PUT", "/v1/me/notification-preferences", buyer.id, "{\"sms\":{\"orders\":false}}",
           &r);
    h_assert_status(&r, 200);
    h_resp_cleanup(&r);
    char order[37], payload[512], ev[37], tracking[32];
    nf_uuid_new(order);
    snprintf(tracking, sizeof tracking, "TRK%u", randombytes_uniform(100000000));
    snprintf(payload, sizeof payload,
             "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\",\"carrier\":"
             "\"Delhivery\",\"tracking_number\":\"%s\"}",
             order, buyer.id, seller.id, tracking);
    nf_emit_at(srv.db_url, "order.shipped", payload, ev);
    json_t *all = nf_wait_mail(&smtp, buyer.email, "is on its way", 1, 5000);
    const json_t *m = nf_find_mail(all, buyer.email, "is on its way");
    assert_non_null(m);
    assert_non_null(strstr(nf_member(m, "body"), tracking));
    json_decref(all);
    nf_wait_quiet(srv.db_url, 5000);
    all = h_jsonl_read(sms.out);
    assert_int_equal(nf_count_sms(all, NULL, tracking), 0);
    json_decref(all);
    assert_int_equal(
        nf_db_int(srv.db_url, "SELECT count(*) FROM notifications WHERE event_id = '%s'", ev), 1);
    /* Orders still reach the seller by SMS (their preferences are untouched). */
    char ev2[37];
    snprintf(payload, sizeof payload,
             "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\"}", order, buyer.id,
             seller.id);
    nf_emit_at(srv.db_url, "order.delivered", payload, ev2);
    all = nf_wait_sms(&sms, seller.phone, "delivered", 1, 5000);
    assert_int_equal(nf_count_sms(all, seller.phone, "delivered"), 1);
    json_decref(all);
}

static void test_feed_is_private_and_paged(void **state)
{
    (void)state;
    struct nf_user a, b;
    nf_signup(&srv, &a, "Feed Alpha");
    nf_signup(&srv, &b, "Feed Beta");
    char payload[512];
    for (int i = 0; i < 3; i++) { /* a is the buyer, b the seller: both get rows */
        char order[37];
        nf_uuid_new(order);
        snprintf(payload, sizeof payload,
                 "{\"order_id\":\"%s\",\"buyer_id\":\"%s\",\"seller_id\":\"%s\",\"total_minor\":%d,"
                 "\"currency\":\"INR\",\"item_count\":1}",
                 order, a.id, b.id, 100 * (i + 1));
        nf_emit_at(srv.db_url, "order.placed", payload, NULL);
    }
    nf_wait_quiet(srv.db_url, 10000);
    long long total =
        nf_db_int(srv.db_url, "SELECT count(*) FROM notifications WHERE user_id = '%s'", a.id);
    assert_int_equal(total, 2 + 6); /* signup (2 OTP; no welcome to unverified addresses) + 3
                                       orders x 2 channels */

    /* Page through a's feed two at a time. */
    json_t *seen = json_object();
    char path[512] = "/v1/me/notifications?limit=2";
    char last_created[32] = "9999";
    int pages = 0;
    for (;;) {
        struct h_resp r = {0};
        nf_api(&srv, "GET", path, a.id, NULL, &r);
        h_assert_status(&r, 200);
        json_t *items = json_object_get(r.json, "items");
        assert_true(json_array_size(items) <= 2);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            const char *id = nf_member(it, "id");
            assert_null(json_object_get(seen, id)); /* no repeats across pages */
            json_object_set_new(seen, id, json_true());
            assert_true(strcmp(nf_member(it, "created_at"), last_created) <= 0); /* newest first */
            snprintf(last_created, sizeof last_created, "%s", nf_member(it, "created_at"));
            assert_int_equal(nf_db_int(srv.db_url,
                                       "SELECT count(*) FROM notifications WHERE id = '%s' AND "
                                       "user_id = '%s'",
                                       id, a.id),
                             1);
        }
        pages++;
        const char *next = nf_member(r.json, "next_cursor");
        if (!next) {
            assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
            h_resp_cleanup(&r);
            break;
        }
        snprintf(path, sizeof path, "/v1/me/notifications?limit=2&cursor=%s", next);
        h_resp_cleanup(&r);
        assert_true(pages < 20);
    }
    assert_int_equal(json_object_size(seen), (size_t)total);
    assert_int_equal(pages, 4);

    /* b's feed never shows a's rows. */
    struct h_resp r = {0};
    nf_api(&srv, "GET", "/v1/me/notifications?limit=100", b.id, NULL, &r);
    h_assert_status(&r, 200);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(r.json, "items"), i, it)
        assert_null(json_object_get(seen, nf_member(it, "id")));
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2 + 6);
    h_resp_cleanup(&r);
    /* A user with nothing; bad parameters; no token. */
    char nobody[37];
    nf_uuid_new(nobody);
    nf_api(&srv, "GET", "/v1/me/notifications", nobody, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    h_resp_cleanup(&r);
    const char *bad[] = {"limit=0",
                         "limit=-1",
                         "limit=abc",
                         "limit=1.5",
                         "limit=",
                         "cursor=!!!",
                         "cursor=bm90LWEtY3Vyc29y",
                         "cursor=MXxub3QtYS11dWlk"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(path, sizeof path, "/v1/me/notifications?%s", bad[k]);
        nf_api(&srv, "GET", path, a.id, NULL, &r);
        h_assert_problem(&r, 422, "validation_failed");
        h_resp_cleanup(&r);
    }
    nf_api(&srv, "GET", "/v1/me/notifications?limit=1000", a.id, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), (size_t)total);
    h_resp_cleanup(&r);
    nf_api(&srv, "GET", "/v1/me/notifications", NULL, NULL, &r);
    h_assert_problem(&r, 401, "unauthorized");
    h_resp_cleanup(&r);
    json_decref(seen);
}

/* ---- the feed's pagination parameters -------------------------------------------------------- */

/* Asserts a 422 validation_failed naming exactly one field. */
static void assert_field_error(const struct h_resp *r, const char *field)
{
    h_assert_problem(r, 422, "validation_failed");
    const json_t *errs = json_object_get(r->json, "errors");
    assert_int_equal(json_array_size(errs), 1);
    assert_string_equal(nf_member(json_array_get(errs, 0), "field"), field);
}

/* n sent notifications for user_id, all with the same created_at (ties broken by id). */
static void insert_sent(const char *user_id, int n)
{
    assert_int_equal(
        nf_db_int(srv.db_url,
                  "WITH ins AS (INSERT INTO notifications (id, event_id, event_type, "
                  "user_id, channel, destination, category, body, status, "
                  "event_created_at, sent_at) SELECT gen_random_uuid(), "
                  "gen_random_uuid(), 'test.bulk', '%s', 'sms', '+919800000009', "
                  "'account', 'bulk ' || g, 'sent', now(), now() "
                  "FROM generate_series(1, %d) g RETURNING 1) SELECT count(*) FROM ins",
                  user_id, n),
        n);
}

static void test_feed_cursor_and_limit(void **state)
{
    (void)state;
    char a[37], b[37], path[512];
    nf_uuid_new(a);
    nf_uuid_new(b);
    insert_sent(a, 120);
    insert_sent(b, 3);

    /* limit above 100 is 100; the next page holds the rest, no row twice. */
    struct h_resp r = {0};
    nf_api(&srv, "GET", "/v1/me/notifications?limit=1000", a, NULL, &r);
    h_assert_status(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 100);
    json_t *seen = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) json_object_set_new(seen, nf_member(it, "id"), json_true());
    char cursor[256];
    assert_non_null(nf_member(r.json, "next_cursor"));
    snprintf(cursor, sizeof cursor, "%s", nf_member(r.json, "next_cursor"));
    h_resp_cleanup(&r);
    snprintf(path, sizeof path, "/v1/me/notifications?limit=100&cursor=%s", cursor);
    nf_api(&srv, "GET", path, a, NULL, &r);
    h_assert_status(&r, 200);
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        assert_null(json_object_get(seen, nf_member(it, "id")));
        json_object_set_new(seen, nf_member(it, "id"), json_true());
    }
    assert_int_equal(json_object_size(seen), 120);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    h_resp_cleanup(&r);
    json_decref(seen);

    /* A cursor handed to a is no cursor for b. */
    nf_api(&srv, "GET", path, b, NULL, &r);
    assert_field_error(&r, "cursor");
    h_resp_cleanup(&r);

    /* An edited cursor: one character changed, or one cut off. */
    size_t mid = strlen(cursor) / 2;
    cursor[mid] = cursor[mid] == 'A' ? 'B' : 'A';
    snprintf(path, sizeof path, "/v1/me/notifications?cursor=%s", cursor);
    nf_api(&srv, "GET", path, a, NULL, &r);
    assert_field_error(&r, "cursor");
    h_resp_cleanup(&r);
    cursor[mid] = cursor[mid] == 'A' ? 'B' : 'A';
    cursor[strlen(cursor) - 1] = '\0';
    snprintf(path, sizeof path, "/v1/me/notifications?cursor=%s", cursor);
    nf_api(&srv, "GET", path, a, NULL, &r);
    assert_field_error(&r, "cursor");
    h_resp_cleanup(&r);

    nf_api(&srv, "GET", "/v1/me/notifications?limit=0", a, NULL, &r);
    assert_field_error(&r, "limit");
    h_resp_cleanup(&r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preferences),
        cmocka_unit_test(test_switched_off_kind_not_delivered),
        cmocka_unit_test(test_feed_is_private_and_paged),
        cmocka_unit_test(test_feed_cursor_and_limit),
    };
    return HAAT_RUN_GROUP("notify_feed", tests, group_setup, group_teardown);
}
