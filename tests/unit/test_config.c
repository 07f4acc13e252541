/* Unit tests for pkg/config: defaults, file + environment precedence, error lines that name
 * the variable, secrets refused in files, missing and malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pkg/config/config.h"
#include "tests/test_main.h"

extern char **environ;

#define SECRET "0123456789abcdef0123456789abcdef"

/* Removes every DATABASE_* and HAAT_* variable, then sets the two required ones. */
static int setup(void **state)
{
    char *names[256];
    int n = 0;
    for (char **e = environ; *e && n < 256; e++) {
        if (strncmp(*e, "HAAT_", 5) != 0 && strncmp(*e, "DATABASE_", 9) != 0)
            continue;
        names[n++] = strndup(*e, strcspn(*e, "="));
    }
    for (int i = 0; i < n; i++) {
        unsetenv(names[i]);
        free(names[i]);
    }
    setenv("DATABASE_URL", "postgresql://haat@127.0.0.1:55432/haat", 1);
    setenv("HAAT_JWT_SECRET", SECRET, 1);
    return 0;
}

/* Writes text to a fresh temporary file whose name goes into path. */
static void write_tmp(char path[64], const char *text)
{
    snprintf(path, 64, "/tmp/haat_cfg_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* Loads with the given file text (NULL: no file, from an empty directory). */
static int load_text(struct cfg *c, const char *text, char err[CFG_ERR_LEN])
{
    if (!text) {
        char dir[] = "/tmp/haat_cfgdir_XXXXXX";
        char cwd[4096];
        assert_non_null(getcwd(cwd, sizeof cwd));
        assert_non_null(mkdtemp(dir));
        assert_int_equal(chdir(dir), 0);
        int rc = cfg_load(c, NULL, err);
        assert_int_equal(chdir(cwd), 0);
        rmdir(dir);
        return rc;
    }
    char path[64];
    write_tmp(path, text);
    int rc = cfg_load(c, path, err);
    unlink(path);
    return rc;
}

static void expect_error(const char *text, const char *want)
{
    struct cfg c;
    char err[CFG_ERR_LEN];
    assert_int_equal(load_text(&c, text, err), -1);
    assert_string_equal(err, want);
    assert_null(c.database_url); /* nothing left allocated on failure */
}

static void test_defaults(void **state)
{
    struct cfg c;
    char err[CFG_ERR_LEN];
    assert_int_equal(load_text(&c, NULL, err), 0);
    assert_string_equal(c.database_url, "postgresql://haat@127.0.0.1:55432/haat");
    assert_string_equal(c.database_read_url, c.database_url);
    assert_string_equal(c.http_addr, "127.0.0.1:8080");
    assert_string_equal(c.http_host, "127.0.0.1");
    assert_int_equal(c.http_port, 8080);
    long cores = sysconf(_SC_NPROCESSORS_ONLN) * 2;
    assert_int_equal(c.http_threads, cores < 2 ? 2 : cores > 64 ? 64 : cores);
    assert_true(c.workers);
    assert_string_equal(c.jwt_secret, SECRET);
    assert_int_equal(c.commission_bps, 500);
    assert_int_equal(c.hold_period_s, 604800);
    assert_int_equal(c.payment_timeout_s, 900);
    assert_int_equal(c.auto_confirm_s, 1209600);
    assert_string_equal(c.payment_provider, "sandbox");
    assert_string_equal(c.env, "development");
    assert_string_equal(c.razorpay_base_url, "https://api.razorpay.com");
    assert_string_equal(c.razorpay_key_id, "");
    assert_int_equal(strlen(c.sandbox_webhook_secret), 64);
    assert_string_equal(c.sms_provider, "log");
    assert_string_equal(c.twilio_base_url, "https://api.twilio.com");
    assert_string_equal(c.twilio_auth_token, "");
    assert_string_equal(c.email_provider, "log");
    assert_string_equal(c.smtp_url, "");
    assert_string_equal(c.smtp_from, "haat <no-reply@haat.local>");
    assert_string_equal(c.smtp_tls, "require");
    assert_string_equal(c.notify_log_dir, "var/notify");
    assert_string_equal(c.templates_dir, "configs/templates");
    assert_string_equal(c.log_level, "info");
    assert_string_equal(c.log_format, "json");
    assert_string_equal(c.public_url, "http://127.0.0.1:8080");
    assert_int_equal(c.shutdown_grace_s, 8);
    assert_string_equal(c.ops_addr, "");
    assert_string_equal(c.ops_host, "");
    assert_int_equal(c.db_connect_timeout_ms, 1000);
    assert_int_equal(c.db_statement_timeout_ms, 5000);
    assert_int_equal(c.limit_conns_per_ip, 64);
    assert_int_equal(c.http_body_timeout_s, 20);
    cfg_cleanup(&c);
    assert_null(c.database_url);
    cfg_cleanup(&c); /* twice is harmless */
}

static void test_file_then_env(void **state)
{
    const char *file = "{\"_comment\": \"ignored\", \"HAAT_COMMISSION_BPS\": 700,"
                       " \"HAAT_LOG_LEVEL\": \"debug\", \"HAAT_HTTP_ADDR\": \"0.0.0.0:9000\","
                       " \"HAAT_WORKERS\": false, \"HAAT_HOLD_PERIOD_S\": \"0\","
                       " \"HAAT_SMTP_FROM\": \"file <f@x>\", \"HAAT_HTTP_THREADS\": null,"
                       " \"DATABASE_READ_URL\": \"postgresql://replica/haat\"}";
    setenv("HAAT_COMMISSION_BPS", "250", 1);
    setenv("HAAT_SMTP_FROM", "", 1); /* empty: does not override */
    setenv("HAAT_HTTP_THREADS", "3", 1);
    struct cfg c;
    char err[CFG_ERR_LEN];
    assert_int_equal(load_text(&c, file, err), 0);
    assert_int_equal(c.commission_bps, 250);
    assert_string_equal(c.log_level, "debug");
    assert_string_equal(c.http_host, "0.0.0.0");
    assert_int_equal(c.http_port, 9000);
    assert_false(c.workers);
    assert_int_equal(c.hold_period_s, 0);
    assert_string_equal(c.smtp_from, "file <f@x>");
    assert_int_equal(c.http_threads, 3);
    assert_string_equal(c.database_read_url, "postgresql://replica/haat");
    assert_string_equal(c.public_url, "http://0.0.0.0:9000");
    cfg_cleanup(&c);
}

static void test_ipv6_and_explicit_values(void **state)
{
    setenv("HAAT_HTTP_ADDR", "[::1]:0", 1);
    setenv("HAAT_PUBLIC_URL", "https://api.example.com", 1);
    setenv("HAAT_SANDBOX_WEBHOOK_SECRET", "sandbox-secret", 1);
    setenv("HAAT_PAYMENT_PROVIDER", "razorpay", 1);
    setenv("HAAT_RAZORPAY_KEY_ID", "rzp_test_1", 1);
    setenv("HAAT_RAZORPAY_KEY_SECRET", "ks", 1);
    setenv("HAAT_RAZORPAY_WEBHOOK_SECRET", "ws", 1);
    setenv("HAAT_SMS_PROVIDER", "twilio", 1);
    setenv("HAAT_TWILIO_ACCOUNT_SID", "AC1", 1);
    setenv("HAAT_TWILIO_AUTH_TOKEN", "tok", 1);
    setenv("HAAT_TWILIO_FROM", "+15005550006", 1);
    setenv("HAAT_EMAIL_PROVIDER", "smtp", 1);
    setenv("HAAT_SMTP_URL", "smtp://127.0.0.1:2525", 1);
    setenv("HAAT_SMTP_TLS", "none", 1);
    setenv("HAAT_OPS_ADDR", "10.0.0.5:9090", 1);
    setenv("HAAT_LIMIT_CONNS_PER_IP", "0", 1);
    struct cfg c;
    char err[CFG_ERR_LEN];
    assert_int_equal(load_text(&c, NULL, err), 0);
    assert_string_equal(c.ops_host, "10.0.0.5");
    assert_int_equal(c.ops_port, 9090);
    assert_int_equal(c.limit_conns_per_ip, 0);
    assert_string_equal(c.http_host, "::1");
    assert_int_equal(c.http_port, 0);
    assert_string_equal(c.public_url, "https://api.example.com");
    assert_string_equal(c.sandbox_webhook_secret, "sandbox-secret");
    assert_string_equal(c.razorpay_webhook_secret, "ws");
    assert_string_equal(c.twilio_auth_token, "tok");
    assert_string_equal(c.smtp_tls, "none");
    cfg_cleanup(&c);
}

static void test_random_sandbox_secret(void **state)
{
    struct cfg a, b;
    char err[CFG_ERR_LEN];
    assert_int_equal(load_text(&a, NULL, err), 0);
    assert_int_equal(load_text(&b, NULL, err), 0);
    assert_int_equal(strlen(a.sandbox_webhook_secret), 64);
    assert_int_equal(strspn(a.sandbox_webhook_secret, "0123456789abcdef"), 64);
    assert_string_not_equal(a.sandbox_webhook_secret, b.sandbox_webhook_secret);
    cfg_cleanup(&a);
    cfg_cleanup(&b);
}

struct env_case {
    const char *name, *value, *want;
};

static void test_env_errors_name_the_variable(void **state)
{
    static const struct env_case cases[] = {
        {"HAAT_COMMISSION_BPS", "10001",
         "HAAT_COMMISSION_BPS: must be an integer between 0 and 10000"},
        {"HAAT_COMMISSION_BPS", "12abc",
         "HAAT_COMMISSION_BPS: must be an integer between 0 and 10000"},
        {"HAAT_COMMISSION_BPS", " 5",
         "HAAT_COMMISSION_BPS: must be an integer between 0 and 10000"},
        {"HAAT_COMMISSION_BPS", "-1",
         "HAAT_COMMISSION_BPS: must be an integer between 0 and 10000"},
        {"HAAT_HTTP_THREADS", "0", "HAAT_HTTP_THREADS: must be an integer between 1 and 256"},
        {"HAAT_SHUTDOWN_GRACE_S", "99999999999999999999",
         "HAAT_SHUTDOWN_GRACE_S: must be an integer between 1 and 60"},
        {"HAAT_PAYMENT_TIMEOUT_S", "0",
         "HAAT_PAYMENT_TIMEOUT_S: must be an integer between 1 and 3153600000"},
        {"HAAT_AUTO_CONFIRM_S", "0",
         "HAAT_AUTO_CONFIRM_S: must be an integer between 1 and 3153600000"},
        {"HAAT_HOLD_PERIOD_S", "1.5",
         "HAAT_HOLD_PERIOD_S: must be an integer between 0 and 3153600000"},
        {"HAAT_PAYMENT_PROVIDER", "stripe", "HAAT_PAYMENT_PROVIDER: must be sandbox or razorpay"},
        {"HAAT_ENV", "staging", "HAAT_ENV: must be development or production"},
        {"HAAT_ENV", "production",
         "HAAT_PAYMENT_PROVIDER: sandbox is not allowed when HAAT_ENV is production"},
        {"HAAT_SMS_PROVIDER", "sns", "HAAT_SMS_PROVIDER: must be log or twilio"},
        {"HAAT_EMAIL_PROVIDER", "ses", "HAAT_EMAIL_PROVIDER: must be log or smtp"},
        {"HAAT_SMTP_TLS", "starttls", "HAAT_SMTP_TLS: must be require or none"},
        {"HAAT_LOG_LEVEL", "trace", "HAAT_LOG_LEVEL: must be debug, info, warn or error"},
        {"HAAT_LOG_FORMAT", "xml", "HAAT_LOG_FORMAT: must be json or text"},
        {"HAAT_WORKERS", "yes", "HAAT_WORKERS: must be on or off"},
        {"HAAT_HTTP_ADDR", "8080", "HAAT_HTTP_ADDR: must be host:port"},
        {"HAAT_HTTP_ADDR", ":8080", "HAAT_HTTP_ADDR: must be host:port"},
        {"HAAT_HTTP_ADDR", "localhost:65536", "HAAT_HTTP_ADDR: must be host:port"},
        {"HAAT_HTTP_ADDR", "localhost:", "HAAT_HTTP_ADDR: must be host:port"},
        {"HAAT_HTTP_ADDR", "::1:80", "HAAT_HTTP_ADDR: must be host:port"},
        {"HAAT_HTTP_ADDR", "[]:80", "HAAT_HTTP_ADDR: must be host:port"},
        {"HAAT_OPS_ADDR", "9090", "HAAT_OPS_ADDR: must be host:port"},
        {"HAAT_DB_CONNECT_TIMEOUT_MS", "10",
         "HAAT_DB_CONNECT_TIMEOUT_MS: must be an integer between 50 and 60000"},
        {"HAAT_DB_STATEMENT_TIMEOUT_MS", "99",
         "HAAT_DB_STATEMENT_TIMEOUT_MS: must be an integer between 100 and 600000"},
        {"HAAT_LIMIT_CONNS_PER_IP", "-1",
         "HAAT_LIMIT_CONNS_PER_IP: must be an integer between 0 and 100000"},
        {"HAAT_HTTP_BODY_TIMEOUT_S", "0",
         "HAAT_HTTP_BODY_TIMEOUT_S: must be an integer between 1 and 600"},
        {"HAAT_JWT_SECRET", "0123456789abcdef0123456789abcde",
         "HAAT_JWT_SECRET: must be at least 32 bytes"},
        {"HAAT_PUBLIC_URL", "ftp://x", "HAAT_PUBLIC_URL: must be an http:// or https:// URL"},
        {"HAAT_PAYMENT_PROVIDER", "razorpay",
         "HAAT_RAZORPAY_KEY_ID: required when HAAT_PAYMENT_PROVIDER is razorpay"},
        {"HAAT_SMS_PROVIDER", "twilio",
         "HAAT_TWILIO_ACCOUNT_SID: required when HAAT_SMS_PROVIDER is twilio"},
        {"HAAT_EMAIL_PROVIDER", "smtp", "HAAT_SMTP_URL: required when HAAT_EMAIL_PROVIDER is smtp"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setup(state);
        setenv(cases[i].name, cases[i].value, 1);
        expect_error(NULL, cases[i].want);
    }
}

static void test_required(void **state)
{
    unsetenv("DATABASE_URL");
    expect_error(NULL, "DATABASE_URL: required but not set");
    setup(state);
    unsetenv("HAAT_JWT_SECRET");
    expect_error(NULL, "HAAT_JWT_SECRET: required but not set");
    setup(state);
    setenv("HAAT_PAYMENT_PROVIDER", "razorpay", 1);
    setenv("HAAT_RAZORPAY_KEY_ID", "id", 1);
    setenv("HAAT_RAZORPAY_KEY_SECRET", "ks", 1);
    expect_error(NULL,
                 "HAAT_RAZORPAY_WEBHOOK_SECRET: required when HAAT_PAYMENT_PROVIDER is razorpay");
    setup(state);
    setenv("HAAT_SMS_PROVIDER", "twilio", 1);
    setenv("HAAT_TWILIO_ACCOUNT_SID", "AC1", 1);
    setenv("HAAT_TWILIO_AUTH_TOKEN", "tok", 1);
    expect_error(NULL, "HAAT_TWILIO_FROM: required when HAAT_SMS_PROVIDER is twilio");
    setup(state);
    setenv("HAAT_EMAIL_PROVIDER", "smtp", 1);
    setenv("HAAT_SMTP_URL", "http://mail", 1);
    expect_error(NULL, "HAAT_SMTP_URL: must be an smtp:// or smtps:// URL");
}

static void test_file_errors_name_the_variable(void **state)
{
    expect_error("{\"HAAT_COMMISSION_BPS\": 1.5}",
                 "HAAT_COMMISSION_BPS: must be an integer between 0 and 10000");
    expect_error("{\"HAAT_COMMISSION_BPS\": \"x\"}",
                 "HAAT_COMMISSION_BPS: must be an integer between 0 and 10000");
    expect_error("{\"HAAT_LOG_LEVEL\": 3}", "HAAT_LOG_LEVEL: must be a string");
    expect_error("{\"HAAT_WORKERS\": \"maybe\"}", "HAAT_WORKERS: must be on or off");
    expect_error("{\"HAAT_PAYMENT_PROVIDER\": \"paypal\"}",
                 "HAAT_PAYMENT_PROVIDER: must be sandbox or razorpay");
}

/* HAAT_PUBLIC_URL from the file and from the environment (which wins). */
static void test_public_url(void **state)
{
    struct cfg c;
    char err[CFG_ERR_LEN];
    const char *file = "{\"HAAT_PUBLIC_URL\": \"https://file.example.com\"}";
    assert_int_equal(load_text(&c, file, err), 0);
    assert_string_equal(c.public_url, "https://file.example.com");
    cfg_cleanup(&c);
    setenv("HAAT_PUBLIC_URL", "http://env.example.com:8080", 1);
    assert_int_equal(load_text(&c, file, err), 0);
    assert_string_equal(c.public_url, "http://env.example.com:8080");
    cfg_cleanup(&c);
    unsetenv("HAAT_PUBLIC_URL");
    expect_error("{\"HAAT_PUBLIC_URL\": \"example.com\"}",
                 "HAAT_PUBLIC_URL: must be an http:// or https:// URL");
}

/* HAAT_CORS_ORIGINS and HAAT_TRUSTED_PROXIES: empty by default, lists checked item by item. */
static void test_cors_and_proxies(void **state)
{
    struct cfg c;
    char err[CFG_ERR_LEN];
    assert_int_equal(load_text(&c, NULL, err), 0);
    assert_string_equal(c.cors_origins, "");
    assert_string_equal(c.trusted_proxies, "");
    cfg_cleanup(&c);
    const char *ok = "{\"HAAT_CORS_ORIGINS\": \"https://shop.example, http://127.0.0.1:3000,*\","
                     " \"HAAT_TRUSTED_PROXIES\": \"10.0.0.1,::1\"}";
    assert_int_equal(load_text(&c, ok, err), 0);
    assert_string_equal(c.cors_origins, "https://shop.example, http://127.0.0.1:3000,*");
    cfg_cleanup(&c);
    expect_error("{\"HAAT_CORS_ORIGINS\": \"https://shop.example/\"}",
                 "HAAT_CORS_ORIGINS: https://shop.example/ is not an origin "
                 "(scheme://host[:port]) or *");
    expect_error("{\"HAAT_CORS_ORIGINS\": \"shop.example\"}",
                 "HAAT_CORS_ORIGINS: shop.example is not an origin (scheme://host[:port]) or *");
    expect_error("{\"HAAT_TRUSTED_PROXIES\": \"10.0.0.1,proxy.local\"}",
                 "HAAT_TRUSTED_PROXIES: proxy.local is not an IP address");
}

/* The former name stops start-up wherever it appears, even next to the new one. */
static void test_old_public_url_name_refused(void **state)
{
    const char *want = "HAAT_PUBLIC_BASE_URL: renamed to HAAT_PUBLIC_URL";
    expect_error("{\"HAAT_PUBLIC_BASE_URL\": \"https://api.example.com\"}", want);
    expect_error("{\"HAAT_PUBLIC_URL\": \"https://a.example.com\","
                 " \"HAAT_PUBLIC_BASE_URL\": null}",
                 want);
    setenv("HAAT_PUBLIC_BASE_URL", "https://api.example.com", 1);
    expect_error(NULL, want);
    setenv("HAAT_PUBLIC_URL", "https://api.example.com", 1);
    expect_error(NULL, want);
    expect_error("{\"HAAT_LOG_LEVEL\": \"info\"}", want);
    setenv("HAAT_PUBLIC_BASE_URL", "", 1); /* empty counts as unset, as for every variable */
    struct cfg c;
    char err[CFG_ERR_LEN];
    assert_int_equal(load_text(&c, NULL, err), 0);
    assert_string_equal(c.public_url, "https://api.example.com");
    cfg_cleanup(&c);
    unsetenv("HAAT_PUBLIC_BASE_URL");
}

static void test_secret_in_file_refused(void **state)
{
    static const char *const secrets[] = {
        "HAAT_JWT_SECRET",
        "HAAT_RAZORPAY_KEY_SECRET",
        "HAAT_RAZORPAY_WEBHOOK_SECRET",
        "HAAT_SANDBOX_WEBHOOK_SECRET",
        "HAAT_TWILIO_AUTH_TOKEN",
        "HAAT_SMTP_PASSWORD",
    };
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        char text[128], want[CFG_ERR_LEN];
        snprintf(text, sizeof text, "{\"%s\": \"" SECRET "\"}", secrets[i]);
        snprintf(want, sizeof want, "%s: secrets are read only from the environment", secrets[i]);
        expect_error(text, want);
    }
}

static void test_missing_explicit_file(void **state)
{
    struct cfg c;
    char err[CFG_ERR_LEN];
    assert_int_equal(cfg_load(&c, "/tmp/haat-no-such-config.json", err), -1);
    assert_string_equal(err, "/tmp/haat-no-such-config.json: cannot read config file: "
                             "No such file or directory");
}

static void test_bad_json_file(void **state)
{
    struct cfg c;
    char err[CFG_ERR_LEN], path[64];
    write_tmp(path, "{\"HAAT_LOG_LEVEL\": \"info\",\n  oops}");
    assert_int_equal(cfg_load(&c, path, err), -1);
    char want[128];
    snprintf(want, sizeof want, "%s:2:", path);
    assert_memory_equal(err, want, strlen(want));
    assert_non_null(strstr(err, "invalid JSON"));
    unlink(path);

    write_tmp(path, "[1, 2]");
    assert_int_equal(cfg_load(&c, path, err), -1);
    snprintf(want, sizeof want, "%s: must be a JSON object", path);
    assert_string_equal(err, want);
    unlink(path);

    write_tmp(path, "{\"HAAT_LOG_LEVL\": \"info\"}");
    assert_int_equal(cfg_load(&c, path, err), -1);
    snprintf(want, sizeof want, "HAAT_LOG_LEVL: unknown setting in %s", path);
    assert_string_equal(err, want);
    unlink(path);

    write_tmp(path, "{\"HAAT_LOG_LEVEL\": \"info\", \"HAAT_LOG_LEVEL\": \"warn\"}");
    assert_int_equal(cfg_load(&c, path, err), -1);
    assert_non_null(strstr(err, "invalid JSON"));
    unlink(path);
}

/* The checked-in configs load (tests run from the repository root: infra/dev/run-tests.sh). */
static void test_repo_configs_load(void **state)
{
    if (access("configs/dev.json", R_OK) != 0)
        fail_msg("configs/dev.json is not readable: run the tests from the repository root");
    static const char *const files[] = {"configs/dev.json", "configs/test.json",
                                        "configs/prod.example.json"};
    setenv("HAAT_RAZORPAY_KEY_ID", "rzp_live_x", 1);
    setenv("HAAT_RAZORPAY_KEY_SECRET", "ks", 1);
    setenv("HAAT_RAZORPAY_WEBHOOK_SECRET", "ws", 1);
    setenv("HAAT_TWILIO_AUTH_TOKEN", "tok", 1);
    setenv("HAAT_SMTP_PASSWORD", "pw", 1);
    for (size_t i = 0; i < 3; i++) {
        struct cfg c;
        char err[CFG_ERR_LEN];
        int rc = cfg_load(&c, files[i], err);
        if (rc != 0)
            fail_msg("%s: %s", files[i], err);
        cfg_cleanup(&c);
    }
    struct cfg c;
    char err[CFG_ERR_LEN];
    assert_int_equal(cfg_load(&c, "configs/test.json", err), 0);
    assert_string_equal(c.log_level, "warn");
    cfg_cleanup(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_file_then_env, setup),
        cmocka_unit_test_setup(test_ipv6_and_explicit_values, setup),
        cmocka_unit_test_setup(test_random_sandbox_secret, setup),
        cmocka_unit_test_setup(test_env_errors_name_the_variable, setup),
        cmocka_unit_test_setup(test_required, setup),
        cmocka_unit_test_setup(test_file_errors_name_the_variable, setup),
        cmocka_unit_test_setup(test_public_url, setup),
        cmocka_unit_test_setup(test_cors_and_proxies, setup),
        cmocka_unit_test_setup(test_old_public_url_name_refused, setup),
        cmocka_unit_test_setup(test_secret_in_file_refused, setup),
        cmocka_unit_test_setup(test_missing_explicit_file, setup),
        cmocka_unit_test_setup(test_bad_json_file, setup),
        cmocka_unit_test_setup(test_repo_configs_load, setup),
    };
    return HAAT_RUN_GROUP("config", tests, NULL, NULL);
}
