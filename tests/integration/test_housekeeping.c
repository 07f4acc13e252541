/* The housekeeping job purges what modules no longer need, and nothing else: processed outbox
 * events and sent notifications past retention go, recent and unfinished ones stay; expired
 * Idempotency-Keys go, live ones stay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"
#include "tests/test_main.h"

static const char seed[] =
    "INSERT INTO outbox_events (event_id, type, payload, created_at, processed_at) VALUES "
    "('01a1fe3e-0000-7000-8000-000000000001', 'test.old_done', '{}', now() - interval '9 days',"
    " now() - interval '8 days'),"
    "('01a1fe3e-0000-7000-8000-000000000002', 'test.recent_done', '{}', now() - interval '1 day',"
    " now() - interval '1 day'),"
    "('01a1fe3e-0000-7000-8000-000000000003', 'test.old_pending', '{}', now() - interval '9 days',"
    " NULL);"
    "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES "
    "('s', 'expired', 'h', now() - interval '25 hours'), ('s', 'live', 'h', now());"
    "INSERT INTO notifications (id, event_id, event_type, channel, destination, category, body,"
    " status, event_created_at, created_at, sent_at, next_attempt_at) VALUES "
    "('01a1fe3e-0000-7000-8000-0000000000a1', gen_random_uuid(), 'test.old_sent', 'sms',"
    " '+919800000001', 'account', 'b', 'sent', now(), now() - interval '200 days', now(), now()),"
    "('01a1fe3e-0000-7000-8000-0000000000a2', gen_random_uuid(), 'test.recent_sent', 'sms',"
    " '+919800000002', 'account', 'b', 'sent', now(), now() - interval '10 days', now(), now()),"
    "('01a1fe3e-0000-7000-8000-0000000000a3', gen_random_uuid(), 'test.old_queued', 'sms',"
    " '+919800000003', 'account', 'b', 'queued', now(), now() - interval '200 days', NULL,"
    " now() + interval '1 day');"; /* queued, not yet due: the workers leave it alone */

static long long count(const struct h_server *s, const char *sql)
{
    char *v = h_db_scalar(s->db_url, sql);
    assert_non_null(v);
    long long n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

static void test_purges_only_what_is_past_retention(void **state)
{
    (void)state;
    struct h_server s = {0};
    /* Seed after the migrations but before housekeeping first runs: the first start has no
     * workers, the second one runs housekeeping at once. */
    const char *no_workers[] = {"HAAT_WORKERS=off", NULL};
    h_server_start(&s, no_workers);
    assert_int_equal(h_db_exec(s.db_url, seed), 0);
    assert_int_equal(h_server_stop(&s), 0);

    h_server_start(&s, NULL); /* housekeeping runs once at start */
    long long left = -1;
    for (int i = 0; i < 100; i++) {
        left = count(&s, "SELECT count(*) FROM outbox_events WHERE type = 'test.old_done'");
        if (left == 0)
            break;
        usleep(50 * 1000);
    }
    assert_int_equal(left, 0);
    assert_int_equal(
        count(&s, "SELECT count(*) FROM outbox_events WHERE type = 'test.recent_done'"), 1);
    assert_int_equal(
        count(&s, "SELECT count(*) FROM outbox_events WHERE type LIKE 'test.old_pending'"), 1);
    assert_int_equal(count(&s, "SELECT count(*) FROM idempotency_keys WHERE key = 'expired'"), 0);
    assert_int_equal(count(&s, "SELECT count(*) FROM idempotency_keys WHERE key = 'live'"), 1);
    assert_int_equal(
        count(&s, "SELECT count(*) FROM notifications WHERE event_type = 'test.old_sent'"), 0);
    assert_int_equal(
        count(&s, "SELECT count(*) FROM notifications WHERE event_type = 'test.recent_sent'"), 1);
    assert_int_equal(
        count(&s, "SELECT count(*) FROM notifications WHERE event_type = 'test.old_queued'"), 1);
    assert_int_equal(h_server_stop(&s), 0);
    h_server_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_purges_only_what_is_past_retention),
    };
    return HAAT_RUN_GROUP("housekeeping", tests, NULL, NULL);
}
