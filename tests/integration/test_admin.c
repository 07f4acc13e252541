/* The admin module (the /v1/admin routes) through the real binary: who may call it (anonymous 401,
 * non-admin 403), suspension and its audit rows (the user's tokens stop and come back), the
 * resend of a failed notification (delivered exactly once through the log provider), the
 * audit log's filters and pages, the per-admin rate limit, and the `haat admin revoke` /
 * `suspend` commands, audited with actor "cli". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/integration/order_fixtures.h"
#include "tests/test_main.h"

#define ADMIN_PER_MIN "20" /* HAAT_LIMIT_ADMIN_PER_MIN of this binary's server */
#define WAIT_MS       10000

static int start(void **state)
{
    (void)state;
    if (sodium_init() < 0 || h_db_create(cat_db_name, cat_db_url) != 0)
        return -1;
    snprintf(cat_srv.db_url, sizeof cat_srv.db_url, "%s", cat_db_url);
    const char *env[] = {"HAAT_LIMIT_ADMIN_PER_MIN=" ADMIN_PER_MIN, NULL};
    h_server_start(&cat_srv, env);
    return 0;
}

/* A fresh user with a token carrying the admin role. */
static void admin_actor(struct actor *a)
{
    fx_actor(a, false);
    fx_sql("UPDATE users SET is_admin = true WHERE id = '%s'", a->id);
    free(a->token);
    long long now = (long long)time(NULL);
    char claims[512];
    snprintf(claims, sizeof claims,
             "{\"sub\":\"%s\",\"roles\":[\"buyer\",\"admin\"],\"pv\":true,\"iat\":%lld,"
             "\"exp\":%lld}",
             a->id, now, now + 600);
    a->token = h_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, h_jwt_secret());
    assert_non_null(a->token);
}

static char *scalar(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *scalar(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = h_db_vscalar(cat_db_url, fmt, ap);
    va_end(ap);
    return v;
}

/* The audit row of action on target as "actor|reason|before|after" (one row expected). */
static void assert_audit(const char *target, const char *action, const char *want)
{
    char *v = scalar("SELECT string_agg(concat_ws('|', actor_id, coalesce(reason, '-'), before,"
                     " after), ';') FROM audit_log WHERE target_id = '%s' AND action = '%s'",
                     target, action);
    if (!v || strcmp(v, want) != 0)
        fail_msg("audit %s %s\n  got  %s\n  want %s", action, target, v ? v : "(null)", want);
    free(v);
}

static long long audit_count(void)
{
    return fx_count("SELECT count(*) FROM audit_log");
}

/* Polls GET /v1/me as a until it answers want; true when it did within WAIT_MS. */
static bool me_becomes(const struct actor *a, long want)
{
    struct h_resp r = {0};
    long long t0 = h_now_ms();
    bool ok = false;
    while (!ok && h_now_ms() - t0 <= WAIT_MS) {
        ok = fx_call(a, "GET", "/v1/me", NULL, NULL, &r) == want;
        if (!ok)
            h_sleep_ms(50);
    }
    h_resp_cleanup(&r);
    return ok;
}

/* How many products GET /v1/products?q=word finds (as anyone). */
static size_t found_by_search(const char *word)
{
    struct h_resp r = {0};
    char path[128];
    snprintf(path, sizeof path, "/v1/products?q=%s", word);
    fx_call(NULL, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    size_t n = json_array_size(json_object_get(r.json, "items"));
    h_resp_cleanup(&r);
    return n;
}

static void test_roles(void **state)
{
    struct actor user;
    fx_actor(&user, true);
    struct h_resp r = {0};
    static const char *const paths[][2] = {
        {"GET", "/v1/admin/reports"},
        {"GET", "/v1/admin/notifications?status=failed"},
        {"GET", "/v1/admin/audit-log"},
        {"GET", "/v1/admin/users?q=test"},
        {"GET", "/v1/admin/disputes"},
        {"GET", "/v1/admin/revenue?from=2026-01-01&to=2026-01-02"},
        {"POST", "/v1/admin/orders/00000000-0000-4000-8000-000000000001/resolve-dispute"},
        {"POST", "/v1/admin/users/00000000-0000-4000-8000-000000000001/suspend"},
        {"POST", "/v1/admin/users/00000000-0000-4000-8000-000000000001/unsuspend"},
        {"POST", "/v1/admin/notifications/00000000-0000-4000-8000-000000000001/retry"},
        {"POST", "/v1/admin/products/00000000-0000-4000-8000-000000000001/takedown"},
        {"POST", "/v1/admin/products/00000000-0000-4000-8000-000000000001/restore"},
    };
    long long before = audit_count();
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const char *body = paths[i][0][0] == 'P' ? "{\"reason\":\"x\"}" : NULL;
        fx_call(NULL, paths[i][0], paths[i][1], body, NULL, &r);
        h_assert_problem(&r, 401, "unauthorized");
        fx_call(&user, paths[i][0], paths[i][1], body, NULL, &r);
        h_assert_problem(&r, 403, "forbidden");
    }
    assert_int_equal(audit_count(), before);
    h_resp_cleanup(&r);
    fx_actor_free(&user);
}

/* GET /v1/admin/users: by a piece of the name, email or phone, by status, newest first, in
 * pages; bad filters are 422. */
static void test_find_users(void **state)
{
    struct actor admin, a, b;
    admin_actor(&admin);
    fx_actor(&a, false);
    fx_actor(&b, false);
    char tag[9];
    snprintf(tag, sizeof tag, "%.8s", a.id); /* unique to this run */
    fx_sql("UPDATE users SET name = 'Zed %s One', created_at = now() - interval '1 minute' "
           "WHERE id = '%s'",
           tag, a.id);
    fx_sql("UPDATE users SET name = 'zed %s two', suspended_at = now() WHERE id = '%s'", tag, b.id);
    struct h_resp r = {0};
    char path[256];
    snprintf(path, sizeof path, "/v1/admin/users?q=ZED%%20%s&limit=1", tag);
    fx_call(&admin, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), b.id);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "status")),
                        "suspended");
    const char *c0 = json_string_value(json_object_get(r.json, "next_cursor"));
    assert_non_null(c0);
    char cur[512];
    snprintf(cur, sizeof cur, "%s", c0);
    char next[1024];
    snprintf(next, sizeof next, "%s&cursor=%s", path, cur);
    fx_call(&admin, "GET", next, NULL, NULL, &r);
    h_assert_status(&r, 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), a.id);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "status")),
                        "active");
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    /* By email (the fixture's address is <id>@catalog.test) and by status. */
    snprintf(path, sizeof path, "/v1/admin/users?q=%s@CATALOG&status=active", a.id);
    fx_call(&admin, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    snprintf(path, sizeof path, "/v1/admin/users?q=%s@catalog&status=suspended", a.id);
    fx_call(&admin, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    /* Wildcards are plain characters. */
    fx_call(&admin, "GET", "/v1/admin/users?q=%25", NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    /* The cursor belongs to these filters; bad filters change nothing and answer 422. */
    snprintf(next, sizeof next, "/v1/admin/users?q=other&cursor=%s", cur);
    fx_call(&admin, "GET", next, NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&admin, "GET", "/v1/admin/users?status=gone", NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&admin, "GET", "/v1/admin/users?q=", NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    h_resp_cleanup(&r);
    fx_actor_free(&admin);
    fx_actor_free(&a);
    fx_actor_free(&b);
}

static void test_suspend_and_unsuspend(void **state)
{
    struct actor admin, user;
    admin_actor(&admin);
    fx_actor(&user, true);
    assert_true(me_becomes(&user, 200));
    struct h_resp r = {0};
    char path[128], want[256];
    long long before = audit_count();

    /* Refusals change nothing. */
    snprintf(path, sizeof path, "/v1/admin/users/%s/suspend", user.id);
    fx_call(&admin, "POST", path, "{}", NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&admin, "POST", path, "{\"reason\":\"   \"}", NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&admin, "POST", "/v1/admin/users/00000000-0000-4000-8000-00000000abcd/suspend",
            "{\"reason\":\"fraud\"}", NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&admin, "POST", "/v1/admin/users/not-a-uuid/suspend", "{\"reason\":\"fraud\"}", NULL,
            &r);
    h_assert_problem(&r, 404, "not_found");
    assert_int_equal(audit_count(), before);
    assert_int_equal(
        fx_count("SELECT count(*) FROM users WHERE id = '%s' AND suspended_at IS NULL", user.id),
        1);

    char word[17], title[64];
    fx_word(word, 16);
    snprintf(title, sizeof title, "Fake phone %s", word);
    json_t *listed = fx_create(&user, title, "{\"stock\":2}");
    snprintf(title, sizeof title, "Draft phone %s", word);
    json_t *draft = fx_create(&user, title, "{\"stock\":2,\"status\":\"draft\"}");
    assert_int_equal(found_by_search(word), 1);
    /* A buyer talking to the seller: the conversation stops taking messages while the seller
     * is suspended and takes them again afterwards. */
    struct actor buyer;
    fx_actor(&buyer, false);
    char body[256], msgs[128];
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"message\":\"Is it real?\"}",
             fx_str(listed, "id"));
    fx_call(&buyer, "POST", "/v1/conversations", body, NULL, &r);
    h_assert_status(&r, 201);
    snprintf(msgs, sizeof msgs, "/v1/conversations/%s/messages", fx_str(r.json, "id"));
    fx_call(&admin, "POST", path, "{\"reason\":\"sold fake phones\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "id"), user.id);
    assert_string_equal(fx_str(r.json, "status"), "suspended");
    snprintf(want, sizeof want,
             "%s|sold fake phones|{\"suspended\": false}|"
             "{\"suspended\": true, \"listings_hidden\": 1}",
             admin.id);
    assert_audit(user.id, "user.suspend", want);
    assert_true(me_becomes(&user, 401)); /* the token stops (within 2 s; polled up to 10 s) */
    fx_call(&buyer, "POST", msgs, "{\"body\":\"Hello?\"}", NULL, &r);
    h_assert_problem(&r, 403, "blocked");
    /* The listed product is hidden: out of search, 404 to others, not buyable. */
    char pget[128], line[256];
    snprintf(pget, sizeof pget, "/v1/products/%s", fx_str(listed, "id"));
    assert_int_equal(found_by_search(word), 0);
    fx_call(&buyer, "GET", pget, NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&admin, "GET", pget, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "suspended");
    order_fx_place(&buyer, order_fx_items1(listed, 1, line, sizeof line), &r);
    h_assert_problem(&r, 409, "invalid_state");

    snprintf(path, sizeof path, "/v1/admin/users/%s/unsuspend", user.id);
    fx_call(&admin, "POST", path, "{\"reason\":\"appeal accepted\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "active");
    fx_call(&buyer, "POST", msgs, "{\"body\":\"Back again?\"}", NULL, &r);
    h_assert_status(&r, 201);
    snprintf(want, sizeof want,
             "%s|appeal accepted|{\"suspended\": true}|"
             "{\"suspended\": false, \"listings_restored\": 1}",
             admin.id);
    assert_audit(user.id, "user.unsuspend", want);
    assert_true(me_becomes(&user, 200));
    assert_int_equal(audit_count(), before + 2);
    /* Back in search and buyable; the draft it never hid stays a draft. */
    assert_int_equal(found_by_search(word), 1);
    fx_call(&buyer, "GET", pget, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "active");
    assert_int_equal(fx_count("SELECT count(*) FROM products WHERE id = '%s' AND status = 'draft'",
                              fx_str(draft, "id")),
                     1);
    order_fx_place(&buyer, order_fx_items1(listed, 1, line, sizeof line), &r);
    h_assert_status(&r, 201);
    json_decref(listed);
    json_decref(draft);
    fx_actor_free(&buyer);

    /* The audit log shows both, newest first, filtered by target and by actor, in pages. */
    snprintf(path, sizeof path, "/v1/admin/audit-log?target=%s&limit=1", user.id);
    fx_call(&admin, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    json_t *row = json_array_get(items, 0);
    assert_string_equal(fx_str(row, "action"), "user.unsuspend");
    assert_string_equal(fx_str(row, "actor_id"), admin.id);
    assert_string_equal(fx_str(row, "target_kind"), "user");
    assert_string_equal(fx_str(row, "reason"), "appeal accepted");
    assert_true(json_is_true(json_object_get(json_object_get(row, "before"), "suspended")));
    assert_true(json_is_false(json_object_get(json_object_get(row, "after"), "suspended")));
    const char *cursor = fx_str(r.json, "next_cursor");
    assert_non_null(cursor);
    char next[512];
    snprintf(next, sizeof next, "/v1/admin/audit-log?target=%s&limit=1&cursor=%s", user.id, cursor);
    fx_call(&admin, "GET", next, NULL, NULL, &r);
    h_assert_status(&r, 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(fx_str(json_array_get(items, 0), "action"), "user.suspend");
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    snprintf(path, sizeof path, "/v1/admin/audit-log?actor=%s", admin.id);
    fx_call(&admin, "GET", path, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    fx_call(&admin, "GET", "/v1/admin/audit-log?actor=", NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    h_resp_cleanup(&r);
    fx_actor_free(&admin);
    fx_actor_free(&user);
}

/* A failed SMS to user, as the delivery job leaves one after the provider refused it. */
static void failed_sms(const struct actor *user, char id[37])
{
    fx_uuid4(id);
    fx_sql("INSERT INTO notifications (id, event_id, event_type, user_id, channel, destination,"
           " category, body, status, attempts, last_error, event_created_at)"
           " SELECT '%s', gen_random_uuid(), 'order.shipped', id, 'sms', phone, 'orders',"
           " 'Your order %s has shipped', 'failed', 5, 'provider 400: invalid To number', now()"
           " FROM users WHERE id = '%s'",
           id, id, user->id);
}

/* How many lines of the log provider's sms.jsonl name notification id. */
static int sms_lines(const char *id)
{
    char *text = h_read_file(h_server_notify_file(&cat_srv, "sms.jsonl"), NULL);
    char needle[80];
    snprintf(needle, sizeof needle, "\"notification_id\":\"%s\"", id);
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(text);
    return n;
}

static void test_retry_failed_notification(void **state)
{
    struct actor admin, user;
    admin_actor(&admin);
    fx_actor(&user, false);
    char id[37], path[128], want[256];
    failed_sms(&user, id);
    struct h_resp r = {0};

    fx_call(&admin, "GET", "/v1/admin/notifications?status=failed&limit=100", NULL, NULL, &r);
    h_assert_status(&r, 200);
    const json_t *found = NULL, *it;
    size_t i;
    json_array_foreach(json_object_get(r.json, "items"), i,
                       it) if (strcmp(fx_str(it, "id"), id) == 0) found = it;
    assert_non_null(found);
    assert_string_equal(fx_str(found, "last_error"), "provider 400: invalid To number");
    assert_string_equal(fx_str(found, "status"), "failed");
    fx_call(&admin, "GET", "/v1/admin/notifications?status=lost", NULL, NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");

    snprintf(path, sizeof path, "/v1/admin/notifications/%s/retry", id);
    fx_call(&admin, "POST", path, NULL, NULL, &r);
    h_assert_status(&r, 202);
    assert_string_equal(fx_str(r.json, "id"), id);
    assert_string_equal(fx_str(r.json, "status"), "queued");
    snprintf(want, sizeof want,
             "%s|-|{\"status\": \"failed\", \"last_error\": \"provider 400: invalid To number\"}|"
             "{\"status\": \"queued\"}",
             admin.id);
    assert_audit(id, "notification.retry", want);

    long long t0 = h_now_ms();
    while (sms_lines(id) < 1 && h_now_ms() - t0 <= WAIT_MS)
        h_sleep_ms(50);
    assert_int_equal(sms_lines(id), 1);
    assert_int_equal(fx_count("SELECT count(*) FROM notifications WHERE id = '%s' AND"
                              " status = 'sent'",
                              id),
                     1);
    /* A sent one is not resent: once only. */
    fx_call(&admin, "POST", path, NULL, NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    fx_call(&admin, "POST", "/v1/admin/notifications/00000000-0000-4000-8000-00000000abcd/retry",
            NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    h_sleep_ms(1500); /* two delivery polls: nothing more is sent */
    assert_int_equal(sms_lines(id), 1);
    assert_int_equal(fx_count("SELECT count(*) FROM audit_log WHERE target_id = '%s'", id), 1);
    h_resp_cleanup(&r);
    fx_actor_free(&admin);
    fx_actor_free(&user);
}

static void test_takedown_and_restore(void **state)
{
    struct actor admin, seller, buyer;
    admin_actor(&admin);
    fx_actor(&seller, true);
    fx_actor(&buyer, false);
    char word[17], title[64], path[128], pget[128], want[256], items[256];
    fx_word(word, 16);
    snprintf(title, sizeof title, "Counterfeit %s watch", word);
    json_t *prod = fx_create(&seller, title, "{\"stock\":3}");
    const char *id = fx_str(prod, "id");
    long long version = fx_int(prod, "version");
    assert_string_equal(fx_str(prod, "status"), "active");
    assert_int_equal(found_by_search(word), 1);
    struct h_resp r = {0};
    snprintf(path, sizeof path, "/v1/admin/products/%s/takedown", id);
    snprintf(pget, sizeof pget, "/v1/products/%s", id);

    long long before = audit_count();
    fx_call(&admin, "POST", path, "{}", NULL, &r);
    h_assert_problem(&r, 422, "validation_failed");
    fx_call(&seller, "POST", path, "{\"reason\":\"mine\"}", NULL, &r);
    h_assert_problem(&r, 403, "forbidden");
    assert_int_equal(audit_count(), before);

    fx_call(&admin, "POST", path, "{\"reason\":\"counterfeit goods\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "taken_down");
    assert_string_equal(fx_str(r.json, "takedown_reason"), "counterfeit goods");
    assert_true(fx_int(r.json, "version") > version);
    snprintf(want, sizeof want,
             "%s|counterfeit goods|{\"status\": \"active\"}|{\"status\": \"taken_down\"}",
             admin.id);
    assert_audit(id, "product.takedown", want);
    assert_int_equal(events("product.taken_down", id), 1);
    fx_call(&admin, "POST", path, "{\"reason\":\"again\"}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");

    /* Out of search, 404 to others, visible to its owner and admins, not buyable. */
    assert_int_equal(found_by_search(word), 0);
    fx_call(NULL, "GET", pget, NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&buyer, "GET", pget, NULL, NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    fx_call(&seller, "GET", pget, NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "taken_down");
    assert_string_equal(fx_str(r.json, "takedown_reason"), "counterfeit goods");
    fx_call(&admin, "GET", pget, NULL, NULL, &r);
    h_assert_status(&r, 200);
    order_fx_place(&buyer, order_fx_items1(prod, 1, items, sizeof items), &r);
    h_assert_problem(&r, 409, "invalid_state");
    /* Its seller cannot re-activate or edit it. */
    fx_call(&seller, "PATCH", pget, "{\"status\":\"active\"}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    fx_call(&seller, "PATCH", pget, "{\"title\":\"Genuine watch honest\"}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    assert_int_equal(fx_count("SELECT count(*) FROM products WHERE id = '%s' AND"
                              " status = 'taken_down'",
                              id),
                     1);
    /* The seller is told by SMS (the log provider; email too when their address is verified). */
    long long t0 = h_now_ms();
    bool told = false;
    while (!told && h_now_ms() - t0 <= WAIT_MS) {
        char *text = h_read_file(h_server_notify_file(&cat_srv, "sms.jsonl"), NULL);
        told = text && strstr(text, word) && strstr(text, "taken down: counterfeit goods");
        free(text);
        if (!told)
            h_sleep_ms(50);
    }
    assert_true(told);

    /* Restore: back to what it was, findable and buyable again. */
    snprintf(path, sizeof path, "/v1/admin/products/%s/restore", id);
    fx_call(&admin, "POST", path, "{\"reason\":\"seller proved authenticity\"}", NULL, &r);
    h_assert_status(&r, 200);
    assert_string_equal(fx_str(r.json, "status"), "active");
    assert_null(json_object_get(r.json, "takedown_reason"));
    snprintf(want, sizeof want,
             "%s|seller proved authenticity|{\"status\": \"taken_down\"}|"
             "{\"status\": \"active\"}",
             admin.id);
    assert_audit(id, "product.restore", want);
    fx_call(&admin, "POST", path, "{\"reason\":\"again\"}", NULL, &r);
    h_assert_problem(&r, 409, "invalid_state");
    fx_call(&admin, "POST", "/v1/admin/products/00000000-0000-4000-8000-00000000abcd/restore",
            "{\"reason\":\"x\"}", NULL, &r);
    h_assert_problem(&r, 404, "not_found");
    assert_int_equal(found_by_search(word), 1);
    fx_call(&buyer, "GET", pget, NULL, NULL, &r);
    h_assert_status(&r, 200);
    order_fx_place(&buyer, order_fx_items1(prod, 1, items, sizeof items), &r);
    h_assert_status(&r, 201);
    assert_int_equal(audit_count(), before + 2);
    h_resp_cleanup(&r);
    json_decref(prod);
    fx_actor_free(&admin);
    fx_actor_free(&seller);
    fx_actor_free(&buyer);
}

static void test_reports_route(void **state)
{
    struct actor admin;
    admin_actor(&admin);
    struct h_resp r = {0};
    fx_call(&admin, "GET", "/v1/admin/reports?limit=5", NULL, NULL, &r);
    h_assert_status(&r, 200);
    assert_true(json_is_array(json_object_get(r.json, "items")));
    h_resp_cleanup(&r);
    fx_actor_free(&admin);
}

/* Each admin has a bucket of HAAT_LIMIT_ADMIN_PER_MIN requests; beyond it 429 with
 * Retry-After, and another admin is not affected. The admin's id is logged on every call. */
static void test_rate_limit_per_admin(void **state)
{
    struct actor a, b;
    admin_actor(&a);
    admin_actor(&b);
    struct h_resp r = {0};
    int limit = atoi(ADMIN_PER_MIN), ok = 0;
    long st = 0;
    for (int i = 0; i < limit + 10 && st != 429; i++) {
        st = fx_call(&a, "GET", "/v1/admin/audit-log?limit=1", NULL, NULL, &r);
        ok += st == 200;
    }
    h_assert_problem(&r, 429, "rate_limited");
    assert_non_null(h_resp_header(&r, "Retry-After"));
    assert_true(ok >= limit && ok <= limit + 5);
    fx_call(&b, "GET", "/v1/admin/audit-log?limit=1", NULL, NULL, &r);
    h_assert_status(&r, 200);
    char *log = h_server_log(&cat_srv);
    assert_non_null(strstr(log, b.id));
    free(log);
    h_resp_cleanup(&r);
    fx_actor_free(&a);
    fx_actor_free(&b);
}

/* `haat admin ARGS...` against this binary's database; its exit code. */
static int cli(const char *const *words)
{
    char dburl[300];
    snprintf(dburl, sizeof dburl, "DATABASE_URL=%s", cat_db_url);
    const char *env[] = {dburl, NULL};
    const char *args[8] = {"--config", H_TEST_CONFIG, "admin"};
    size_t n = 3;
    for (; words[n - 3] && n < 7; n++)
        args[n] = words[n - 3];
    args[n] = NULL;
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, env, &code, &out), 0);
    print_message("haat admin %s -> %d: %s", words[0], code, out ? out : "");
    free(out);
    return code;
}

static void test_cli_revoke_and_suspend(void **state)
{
    struct actor u;
    admin_actor(&u);
    char email[80];
    snprintf(email, sizeof email, "%s@catalog.test", u.id);
    long long before = audit_count();
    assert_int_equal(cli((const char *[]){"revoke", email, NULL}), 0);
    assert_int_equal(fx_count("SELECT count(*) FROM users WHERE id = '%s' AND NOT is_admin", u.id),
                     1);
    assert_audit(u.id, "admin.revoke", "cli|-|{\"admin\": true}|{\"admin\": false}");
    assert_int_equal(cli((const char *[]){"suspend", email, "--reason", "chargebacks", NULL}), 0);
    assert_audit(u.id, "user.suspend",
                 "cli|chargebacks|{\"suspended\": false}|"
                 "{\"suspended\": true, \"listings_hidden\": 0}");
    assert_int_equal(
        fx_count("SELECT count(*) FROM users WHERE id = '%s' AND suspended_at IS NOT NULL", u.id),
        1);
    assert_int_equal(audit_count(), before + 2);
    /* Refusals write nothing. */
    assert_int_equal(cli((const char *[]){"revoke", "nobody@catalog.test", NULL}), 1);
    assert_int_equal(cli((const char *[]){"suspend", "not-an-email", "--reason", "x", NULL}), 2);
    assert_int_equal(cli((const char *[]){"suspend", email, "--reason", "", NULL}), 2);
    assert_int_equal(cli((const char *[]){"suspend", email, NULL}), 2);
    assert_int_equal(audit_count(), before + 2);
    fx_actor_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_find_users),
        cmocka_unit_test(test_suspend_and_unsuspend),
        cmocka_unit_test(test_retry_failed_notification),
        cmocka_unit_test(test_takedown_and_restore),
        cmocka_unit_test(test_reports_route),
        cmocka_unit_test(test_rate_limit_per_admin),
        cmocka_unit_test(test_cli_revoke_and_suspend),
    };
    return HAAT_RUN_GROUP("admin", tests, start, fx_stop);
}
