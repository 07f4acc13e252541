/* Integration tests of the notification module, part 3: several instances and crashes — no
 * duplicates with three instances, nothing lost when a worker is SIGKILLed mid-send, a bad
 * template stopping start-up, and a clean shutdown while a provider call hangs. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- several instances, crashes -------------------------------------------------------------- */

static void test_no_duplicates_with_three_instances(void **state)
{
    (void)state;
    struct nf_user s;
    nf_signup(&srv, &s, "Dup Check");
    nf_wait_quiet(srv.db_url, 5000);
    char buf[10][256];
    const char *env[16];
    nf_provider_env(buf, env, &smtp, &sms, NULL, NULL);
    struct h_server second = {0}, worker = {0};
    snprintf(second.db_url, sizeof second.db_url, "%s", srv.db_url);
    second.no_migrate = true;
    h_server_start(&second, env);
    snprintf(worker.db_url, sizeof worker.db_url, "%s", srv.db_url);
    worker.no_migrate = true;
    worker.command = "worker";
    worker.no_wait = true;
    h_server_start(&worker, env);
    h_sleep_ms(500);
    char tag[32], sql[1024];
    snprintf(tag, sizeof tag, "dup%u-", randombytes_uniform(1000000));
    snprintf(sql, sizeof sql,
             "WITH e AS (INSERT INTO outbox_events (event_id, type, payload) "
             "SELECT gen_random_uuid(), 'product.published', jsonb_build_object('product_id', "
             "gen_random_uuid(), 'seller_id', '%s', 'title', '%s' || i || '.', "
             "'price_minor', 100 * i, 'currency', 'INR') FROM generate_series(1, 300) i "
             "RETURNING 1) SELECT pg_notify('haat_outbox', 'product.published') "
             "FROM (SELECT count(*) FROM e) c",
             s.id, tag);
    assert_int_equal(h_db_exec(srv.db_url, sql), 0);
    nf_wait_quiet(srv.db_url, 60000);
    /* Every listing reached the seller exactly once per channel. */
    json_t *texts = h_jsonl_read(sms.out), *mails = h_jsonl_read(smtp.out);
    for (int i = 1; i <= 300; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "\"%s%d.\"", tag, i);
        size_t ns = nf_count_sms(texts, s.phone, needle), nm = 0, k;
        json_t *e;
        json_array_foreach(mails, k, e)
        {
            const char *subj = nf_member(e, "subject");
            nm += subj && strstr(subj, needle) != NULL;
        }
        if (ns != 1 || nm != 1)
            fail_msg("listing %s%d: %zu SMS and %zu emails (want 1 and 1)", tag, i, ns, nm);
    }
    json_decref(texts);
    json_decref(mails);
    assert_int_equal(
        nf_db_int(srv.db_url,
                  "SELECT count(*) FROM notifications WHERE user_id = '%s' AND "
                  "event_type = 'product.published' AND status = 'sent' AND attempts = 1",
                  s.id),
        600);
    /* All three did some of the work (each logs its sends at debug only: count jobs runs). */
    assert_int_equal(h_server_stop(&second), 0);
    assert_int_equal(h_server_stop(&worker), 0);
    h_server_cleanup(&second);
    h_server_cleanup(&worker);
}

static void test_worker_killed_mid_send_loses_nothing(void **state)
{
    (void)state;
    struct h_sink smtp2 = {0}, sms2 = {0};
    h_smtp_sink_start(&smtp2);
    h_http_capture_start(&sms2);
    char buf[10][256];
    const char *env[16];
    /* An API-only server for signups, and separate worker processes. */
    nf_provider_env(buf, env, &smtp2, &sms2, "HAAT_WORKERS=off", NULL);
    struct h_server api_srv = {0}, w1 = {0}, w2 = {0};
    h_server_start(&api_srv, env);
    struct nf_user s;
    nf_signup_unverified(&api_srv, &s, "Crash Seller"); /* no workers yet to fan it out */
    char *verify = NULL;
    assert_true(asprintf(&verify,
                         "UPDATE users SET email_verified_at = now(), "
                         "phone_verified_at = now() WHERE id = '%s'",
                         s.id) > 0);
    assert_int_equal(h_db_exec(api_srv.db_url, verify), 0);
    free(verify);
    char payload[512], dests[8][64];
    for (int i = 0; i < 8; i++) {
        char payout[37];
        nf_uuid_new(payout);
        snprintf(dests[i], sizeof dests[i], "crash%d-%u@upi", i, randombytes_uniform(1000000));
        snprintf(payload, sizeof payload,
                 "{\"payout_id\":\"%s\",\"seller_id\":\"%s\",\"amount_minor\":%d,"
                 "\"currency\":\"INR\",\"destination\":\"%s\"}",
                 payout, s.id, 1000 + i, dests[i]);
        nf_emit_at(api_srv.db_url, "payout.paid", payload, NULL);
    }
    /* The SMS provider hangs for 3 s on every request: the worker is mid-send when killed. */
    assert_int_equal(h_capture_control(&sms2, "{\"delay_ms\":3000}"), 200);
    nf_provider_env(buf, env, &smtp2, &sms2, NULL, NULL);
    snprintf(w1.db_url, sizeof w1.db_url, "%s", api_srv.db_url);
    w1.no_migrate = true;
    w1.command = "worker";
    w1.no_wait = true;
    h_server_start(&w1, env);
    json_t *all = nf_wait_sms(&sms2, NULL, NULL, 2, 10000);
    assert_true(json_array_size(all) >= 2); /* requests in flight */
    json_decref(all);
    long long leased =
        nf_db_int(api_srv.db_url, "SELECT count(*) FROM notifications WHERE status = 'queued' AND "
                                  "locked_until > now()");
    assert_true(leased >= 1);
    h_server_kill(&w1);
    print_message("killed the worker with %lld message(s) mid-send\n", leased);
    assert_int_equal(h_capture_control(&sms2, "{\"reset\":true}"), 200);
    snprintf(w2.db_url, sizeof w2.db_url, "%s", api_srv.db_url);
    w2.no_migrate = true;
    w2.command = "worker";
    w2.no_wait = true;
    h_server_start(&w2, env);
    nf_wait_quiet(api_srv.db_url, 75000); /* the leases (30 s) run out, then w2 sends */
    all = h_jsonl_read(sms2.out);
    for (int i = 0; i < 8; i++)
        if (nf_count_sms(all, s.phone, dests[i]) < 1)
            fail_msg("payout SMS %s never sent", dests[i]);
    assert_true(nf_count_sms(all, s.phone, "is your haat code") >= 1);
    json_decref(all);
    all = h_jsonl_read(smtp2.out);
    for (int i = 0; i < 8; i++) { /* at least once: a killed send may be repeated */
        size_t k, n = 0;
        json_t *e;
        json_array_foreach(all, k, e) n +=
            nf_member(e, "body") && strstr(nf_member(e, "body"), dests[i]);
        assert_true(n >= 1);
    }
    json_decref(all);
    assert_int_equal(
        nf_db_int(api_srv.db_url, "SELECT count(*) FROM notifications WHERE status <> 'sent'"), 0);
    assert_int_equal(h_server_stop(&w2), 0);
    h_server_cleanup(&w2);
    h_server_cleanup(&w1);
    h_server_cleanup(&api_srv);
    h_sink_stop(&smtp2);
    h_sink_stop(&sms2);
}

/* A template that uses a field its event does not declare stops start-up, naming the file. */
static void test_bad_template_stops_startup(void **state)
{
    (void)state;
    char dir[] = "/tmp/haat_itpl_XXXXXX", cmd[512], env_dir[300], env_db[300];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "cp configs/templates/*.txt %s/ && printf 'Subject: Paid\\n\\n"
             "{{amount_minor|rupees}} to {{bank_account}}\\n' > %s/payout.paid.email.txt",
             dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(env_dir, sizeof env_dir, "HAAT_TEMPLATES_DIR=%s", dir);
    snprintf(env_db, sizeof env_db, "DATABASE_URL=%s", srv.db_url);
    const char *args[] = {"--config", H_TEST_CONFIG, "serve", NULL};
    const char *env[] = {env_dir, env_db, "HAAT_HTTP_ADDR=127.0.0.1:0", NULL};
    int code = -1;
    char *out = NULL;
    assert_int_equal(h_run(args, env, &code, &out), 0);
    assert_int_not_equal(code, 0);
    assert_non_null(strstr(out, "payout.paid.email.txt"));
    assert_non_null(strstr(out, "{{bank_account}} is not a field of this event"));
    free(out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* SIGTERM while a provider call hangs: the server still exits 0 within 10 s, the send is
 * aborted and left queued for the next worker (nothing lost, nothing freed under a thread). */
static void test_shutdown_during_hung_send(void **state)
{
    (void)state;
    struct h_sink smtp3 = {0}, sms3 = {0};
    h_smtp_sink_start(&smtp3);
    h_http_capture_start(&sms3);
    char buf[10][256];
    const char *env[16];
    nf_provider_env(buf, env, &smtp3, &sms3, NULL, NULL);
    struct h_server s = {0};
    h_server_start(&s, env);
    struct nf_user u;
    nf_signup(&s, &u, "Hung Provider");
    nf_wait_quiet(s.db_url, 5000);
    assert_int_equal(h_capture_control(&sms3, "{\"delay_ms\":9500}"), 200);
    char payout[37], payload[512], ev[37];
    nf_uuid_new(payout);
    snprintf(payload, sizeof payload,
             "{\"payout_id\":\"%s\",\"seller_id\":\"%s\",\"amount_minor\":700,"
             "\"currency\":\"INR\",\"destination\":\"hung@upi\"}",
             payout, u.id);
    nf_emit_at(s.db_url, "payout.paid", payload, ev);
    json_t *all = nf_wait_sms(&sms3, u.phone, "hung@upi", 1, 5000); /* the request hangs now */
    assert_int_equal(nf_count_sms(all, u.phone, "hung@upi"), 1);
    json_decref(all);
    long long t0 = h_now_ms();
    assert_int_equal(h_server_stop(&s), 0);
    long long took = h_now_ms() - t0;
    print_message("stopped %lld ms after SIGTERM with a provider call hanging\n", took);
    assert_true(took < 10000);
    char *log = h_server_log(&s);
    assert_null(strstr(log, "AddressSanitizer"));
    free(log);
    assert_int_equal(nf_db_int(s.db_url,
                               "SELECT count(*) FROM notifications WHERE event_id = '%s' AND "
                               "channel = 'sms' AND status = 'queued'",
                               ev),
                     1);
    h_server_cleanup(&s);
    h_sink_stop(&smtp3);
    h_sink_stop(&sms3);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_duplicates_with_three_instances),
        cmocka_unit_test(test_worker_killed_mid_send_loses_nothing),
        cmocka_unit_test(test_bad_template_stops_startup),
        cmocka_unit_test(test_shutdown_during_hung_send),
    };
    return HAAT_RUN_GROUP("notify_workers", tests, group_setup, group_teardown);
}
