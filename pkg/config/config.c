/* config — see config.h. One table describes every setting; loading collects the raw text of
 * each setting (file first, then the environment on top), then parses the whole table, then
 * fills in the derived defaults and checks the settings that depend on each other.
 *
 * Rules beyond the header:
 * - An environment variable set to the empty string counts as unset.
 * - File values may be JSON strings, JSON integers for numeric settings, true/false for on/off
 *   settings, or null (= unset). Keys starting with '_' are comments and ignored; any other
 *   unknown key is an error (typos must not pass silently).
 * - A setting's former name (renamed[]) is an error in the file and in the environment:
 *   "HAAT_PUBLIC_BASE_URL: renamed to HAAT_PUBLIC_URL".
 * - Durations in seconds are capped at 100 years so callers can add them to a timestamp. */
#include "pkg/config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/util/xalloc.h"

#define DEFAULT_PATH "configs/dev.json"
#define MAX_SECONDS  INT64_C(3153600000) /* 100 years */

enum kind { K_STR, K_INT, K_I64, K_ONOFF, K_ENUM };

enum {
    F_SECRET = 1u,   /* environment only */
    F_REQUIRED = 2u, /* error when unset */
};

struct setting {
    const char *name;
    enum kind kind;
    size_t off;          /* of the field in struct cfg */
    unsigned flags;      /* F_* */
    const char *def;     /* default text; NULL: empty, or derived later (see derive) */
    int64_t min, max;    /* K_INT, K_I64 */
    const char *choices; /* K_ENUM: "a|b|c" */
};

#define OFF(field) offsetof(struct cfg, field)
/* Initializer bodies for the table below (the braces stay in the table). */
#define STR(n, f, fl, d)        .name = n, .kind = K_STR, .off = OFF(f), .flags = fl, .def = d
#define ENUM(n, f, d, ch)       .name = n, .kind = K_ENUM, .off = OFF(f), .def = d, .choices = ch
#define NUM(n, k, f, d, lo, hi) .name = n, .kind = k, .off = OFF(f), .def = d, .min = lo, .max = hi

static const struct setting settings[] = {
    {STR("DATABASE_URL", database_url, F_REQUIRED, NULL)},
    {STR("DATABASE_READ_URL", database_read_url, 0, NULL)},
    {STR("HAAT_HTTP_ADDR", http_addr, 0, "127.0.0.1:8080")},
    {NUM("HAAT_HTTP_THREADS", K_INT, http_threads, NULL, 1, 256)},
    {.name = "HAAT_WORKERS", .kind = K_ONOFF, .off = OFF(workers), .def = "on"},
    {STR("HAAT_JWT_SECRET", jwt_secret, F_SECRET | F_REQUIRED, NULL)},
    {NUM("HAAT_COMMISSION_BPS", K_INT, commission_bps, "500", 0, 10000)},
    {NUM("HAAT_HOLD_PERIOD_S", K_I64, hold_period_s, "604800", 0, MAX_SECONDS)},
    {NUM("HAAT_PAYMENT_TIMEOUT_S", K_I64, payment_timeout_s, "900", 1, MAX_SECONDS)},
    {NUM("HAAT_AUTO_CONFIRM_S", K_I64, auto_confirm_s, "1209600", 1, MAX_SECONDS)},
    {NUM("HAAT_PAYMENT_RECONCILE_AFTER_S", K_I64, payment_reconcile_after_s, "300", 1,
         MAX_SECONDS)},
    {ENUM("HAAT_ENV", env, "development", "development|production")},
    {ENUM("HAAT_PAYMENT_PROVIDER", payment_provider, "sandbox", "sandbox|razorpay")},
    {STR("HAAT_RAZORPAY_BASE_URL", razorpay_base_url, 0, "https://api.razorpay.com")},
    {STR("HAAT_RAZORPAY_KEY_ID", razorpay_key_id, F_SECRET, NULL)},
    {STR("HAAT_RAZORPAY_KEY_SECRET", razorpay_key_secret, F_SECRET, NULL)},
    {STR("HAAT_RAZORPAY_WEBHOOK_SECRET", razorpay_webhook_secret, F_SECRET, NULL)},
    {STR("HAAT_SANDBOX_WEBHOOK_SECRET", sandbox_webhook_secret, F_SECRET, NULL)},
    {ENUM("HAAT_SMS_PROVIDER", sms_provider, "log", "log|twilio")},
    {STR("HAAT_TWILIO_BASE_URL", twilio_base_url, 0, "https://api.twilio.com")},
    {STR("HAAT_TWILIO_ACCOUNT_SID", twilio_account_sid, 0, NULL)},
    {STR("HAAT_TWILIO_AUTH_TOKEN", twilio_auth_token, F_SECRET, NULL)},
    {STR("HAAT_TWILIO_FROM", twilio_from, 0, NULL)},
    {ENUM("HAAT_EMAIL_PROVIDER", email_provider, "log", "log|smtp")},
    {STR("HAAT_SMTP_URL", smtp_url, 0, NULL)},
    {STR("HAAT_SMTP_USER", smtp_user, 0, NULL)},
    {STR("HAAT_SMTP_PASSWORD", smtp_password, F_SECRET, NULL)},
    {STR("HAAT_SMTP_FROM", smtp_from, 0, "haat <no-reply@haat.local>")},
    {ENUM("HAAT_SMTP_TLS", smtp_tls, "require", "require|none")},
    {STR("HAAT_NOTIFY_LOG_DIR", notify_log_dir, 0, "var/notify")},
    {STR("HAAT_TEMPLATES_DIR", templates_dir, 0, "configs/templates")},
    {ENUM("HAAT_LOG_LEVEL", log_level, "info", "debug|info|warn|error")},
    {ENUM("HAAT_LOG_FORMAT", log_format, "json", "json|text")},
    {STR("HAAT_PUBLIC_URL", public_url, 0, NULL)},
    {NUM("HAAT_SHUTDOWN_GRACE_S", K_INT, shutdown_grace_s, "8", 1, 60)},
    {STR("HAAT_CORS_ORIGINS", cors_origins, 0, NULL)},
    {STR("HAAT_TRUSTED_PROXIES", trusted_proxies, 0, NULL)},
    {NUM("HAAT_CHAT_STREAMS_MAX", K_INT, chat_streams_max, "1000", 1, 100000)},
    {NUM("HAAT_CHAT_STREAMS_PER_USER", K_INT, chat_streams_per_user, "5", 1, 100)},
    {NUM("HAAT_CHAT_HEARTBEAT_S", K_INT, chat_heartbeat_s, "15", 1, 60)},
    {NUM("HAAT_LIMIT_CHAT_PER_MIN", K_INT, limit_chat_per_min, "30", 1, 10000)},
    {STR("HAAT_OPS_ADDR", ops_addr, 0, NULL)},
    {NUM("HAAT_DB_CONNECT_TIMEOUT_MS", K_INT, db_connect_timeout_ms, "1000", 50, 60000)},
    {NUM("HAAT_DB_STATEMENT_TIMEOUT_MS", K_INT, db_statement_timeout_ms, "5000", 100, 600000)},
    {NUM("HAAT_LIMIT_CONNS_PER_IP", K_INT, limit_conns_per_ip, "64", 0, 100000)},
    {NUM("HAAT_HTTP_BODY_TIMEOUT_S", K_INT, http_body_timeout_s, "20", 1, 600)},
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

/* Settings that were renamed: the old name, in the file or in the environment, stops start-up
 * rather than being ignored (a deployment still setting it would silently get the default). */
static const struct {
    const char *old_name, *new_name;
} renamed[] = {
    {"HAAT_PUBLIC_BASE_URL", "HAAT_PUBLIC_URL"},
};

/* Writes "<name>: <message>" into err and returns -1. */
static int fail(char *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, const char *name, const char *fmt, ...)
{
    int n = snprintf(err, CFG_ERR_LEN, "%s: ", name);
    if (n < 0 || n >= CFG_ERR_LEN)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, CFG_ERR_LEN - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int find_setting(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp(settings[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* -1 with "OLD: renamed to NEW" in err when name is a setting's former name, else 0. */
static int check_renamed(const char *name, char *err)
{
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        if (strcmp(renamed[i].old_name, name) == 0)
            return fail(err, name, "renamed to %s", renamed[i].new_name);
    return 0;
}

/* Strict base-10 integer: the whole string, no leading blanks, within [min, max]. */
static int parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Builds "must be a, b or c" from "a|b|c". */
static void choices_text(const char *choices, char *out, size_t outlen)
{
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s", choices);
    size_t n = 1;
    for (const char *p = tmp; *p; p++)
        n += *p == '|';
    size_t len = (size_t)snprintf(out, outlen, "must be ");
    char *save = NULL;
    size_t i = 0;
    for (char *tok = strtok_r(tmp, "|", &save); tok; tok = strtok_r(NULL, "|", &save), i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        if (len < outlen)
            len += (size_t)snprintf(out + len, outlen - len, "%s%s", sep, tok);
    }
}

static bool is_choice(const char *choices, const char *v)
{
    size_t vlen = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vlen && strncmp(p, v, n) == 0)
            return true;
        p += bar ? n + 1 : n;
    }
    return false;
}

/* Converts one file value to raw text (new heap string in *out, NULL for null). */
static int file_value(const struct setting *s, json_t *v, char **out, char *err)
{
    *out = NULL;
    if (json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        *out = xstrdup(json_string_value(v));
        return 0;
    }
    if ((s->kind == K_INT || s->kind == K_I64) && json_is_integer(v)) {
        *out = xasprintf("%lld", (long long)json_integer_value(v));
        return 0;
    }
    if (s->kind == K_ONOFF && json_is_boolean(v)) {
        *out = xstrdup(json_is_true(v) ? "on" : "off");
        return 0;
    }
    if (s->kind == K_INT || s->kind == K_I64)
        return fail(err, s->name, "must be an integer between %lld and %lld", (long long)s->min,
                    (long long)s->max);
    return fail(err, s->name, "must be a string");
}

/* Opens path (NULL: the default file). *f stays NULL when the default file does not exist. */
static int open_file(const char *path, FILE **f, char *err)
{
    const char *p = path ? path : DEFAULT_PATH;
    *f = fopen(p, "r");
    if (*f || (!path && errno == ENOENT))
        return 0;
    snprintf(err, CFG_ERR_LEN, "%s: cannot read config file: %s", p, strerror(errno));
    return -1;
}

/* Reads the JSON file into raw[] (heap strings the caller frees). */
static int read_file(const char *path, char **raw, char *err)
{
    const char *p = path ? path : DEFAULT_PATH;
    FILE *f = NULL;
    json_t *root = NULL;
    int rc = -1;
    if (open_file(path, &f, err) < 0)
        goto out;
    if (!f) {
        rc = 0;
        goto out;
    }
    json_error_t jerr;
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, CFG_ERR_LEN, "%s:%d:%d: invalid JSON: %s", p, jerr.line, jerr.column,
                 jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        snprintf(err, CFG_ERR_LEN, "%s: must be a JSON object", p);
        goto out;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (key[0] == '_')
            continue;
        if (check_renamed(key, err) < 0)
            goto out;
        int i = find_setting(key);
        if (i < 0) {
            snprintf(err, CFG_ERR_LEN, "%.100s: unknown setting in %.100s", key, p);
            goto out;
        }
        if (settings[i].flags & F_SECRET) {
            fail(err, key, "secrets are read only from the environment");
            goto out;
        }
        free(raw[i]);
        if (file_value(&settings[i], val, &raw[i], err) < 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(root);
    if (f)
        fclose(f);
    return rc;
}

/* The environment overrides the file; an empty variable counts as unset. A former name of
 * a setting (renamed[]) that is set is an error. */
static int read_env(char **raw, char *err)
{
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++) {
        const char *v = getenv(renamed[i].old_name);
        if (v && *v)
            return check_renamed(renamed[i].old_name, err);
    }
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = getenv(settings[i].name);
        if (v && *v) {
            free(raw[i]);
            raw[i] = xstrdup(v);
        }
    }
    return 0;
}

/* Parses one setting's text (NULL or "" when unset) into its field. */
static int apply(struct cfg *c, const struct setting *s, const char *v, char *err)
{
    char *field = (char *)c + s->off;
    bool unset = !v || !*v;
    if (unset && (s->flags & F_REQUIRED))
        return fail(err, s->name, "required but not set");
    if (unset && !s->def && s->kind != K_STR)
        return 0; /* derived later */
    if (unset)
        v = s->def ? s->def : "";
    int64_t n;
    char msg[160];
    switch (s->kind) {
    case K_STR:
        *(char **)field = xstrdup(v);
        return 0;
    case K_ENUM:
        if (!is_choice(s->choices, v)) {
            choices_text(s->choices, msg, sizeof msg);
            return fail(err, s->name, "%s", msg);
        }
        *(char **)field = xstrdup(v);
        return 0;
    case K_ONOFF:
        if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
            return fail(err, s->name, "must be on or off");
        *(bool *)field = strcmp(v, "on") == 0;
        return 0;
    case K_INT:
    case K_I64:
        if (parse_int(v, s->min, s->max, &n) < 0)
            return fail(err, s->name, "must be an integer between %lld and %lld", (long long)s->min,
                        (long long)s->max);
        if (s->kind == K_INT)
            *(int *)field = (int)n;
        else
            *(int64_t *)field = n;
        return 0;
    }
    return 0;
}

/* Splits a "host:port" or "[v6]:port" setting (name) into host and port 0..65535. */
static int parse_addr(const char *a, const char *name, char **host_out, int *port_out, char *err)
{
    const char *colon = strrchr(a, ':');
    int64_t port;
    if (!colon || colon == a || parse_int(colon + 1, 0, 65535, &port) < 0)
        return fail(err, name, "must be host:port");
    const char *host = a;
    size_t hlen = (size_t)(colon - a);
    if (host[0] == '[') {
        if (hlen < 3 || host[hlen - 1] != ']')
            return fail(err, name, "must be host:port");
        host++;
        hlen -= 2;
    } else if (memchr(host, ':', hlen)) {
        return fail(err, name, "must be host:port");
    }
    *host_out = xstrndup(host, hlen);
    *port_out = (int)port;
    return 0;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN) * 2;
    return n < 2 ? 2 : n > 64 ? 64 : (int)n;
}

/* 32 random bytes as 64 hex digits. */
static int random_secret(struct cfg *c, char *err)
{
    if (sodium_init() < 0)
        return fail(err, "HAAT_SANDBOX_WEBHOOK_SECRET", "cannot generate a random secret");
    unsigned char bytes[32];
    char hex[sizeof bytes * 2 + 1];
    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
    sodium_memzero(bytes, sizeof bytes);
    free(c->sandbox_webhook_secret);
    c->sandbox_webhook_secret = xstrdup(hex);
    sodium_memzero(hex, sizeof hex);
    return 0;
}

/* "NAME: required when OTHER is value" unless the field is set. */
static int need(const char *field, const char *name, const char *other, const char *value,
                char *err)
{
    if (*field)
        return 0;
    return fail(err, name, "required when %s is %s", other, value);
}

static int check_url(const char *v, const char *name, const char *s1, const char *s2, char *err)
{
    if (strncmp(v, s1, strlen(s1)) == 0 || strncmp(v, s2, strlen(s2)) == 0)
        return 0;
    return fail(err, name, "must be an %s or %s URL", s1, s2);
}

/* One origin: "*", or http(s)://host[:port] with nothing after it (browsers send exactly that,
 * so anything else could never match). */
static bool origin_ok(const char *o, size_t n)
{
    if (n == 1 && o[0] == '*')
        return true;
    size_t scheme = strncmp(o, "https://", 8) == 0 ? 8 : strncmp(o, "http://", 7) == 0 ? 7 : 0;
    if (!scheme || n == scheme)
        return false;
    for (size_t i = scheme; i < n; i++)
        if (!isalnum((unsigned char)o[i]) && !strchr(".-:[]", o[i]))
            return false;
    return true;
}

/* Comma-separated items, blanks around them allowed, each accepted by ok. */
static int check_list(const char *v, const char *name, bool (*ok)(const char *, size_t),
                      const char *what, char *err)
{
    for (const char *p = v; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n && !ok(p, n))
            return fail(err, name, "%.*s is not %s", (int)n, p, what);
        p += n;
    }
    return 0;
}

static bool address_ok(const char *a, size_t n)
{
    char buf[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, a, n);
    buf[n] = '\0';
    return inet_pton(AF_INET, buf, bin) == 1 || inet_pton(AF_INET6, buf, bin) == 1;
}

/* Cross-setting rules: secrets' length, providers' credentials, URL schemes. */
static int check_providers(const struct cfg *c, char *err)
{
    if (strlen(c->jwt_secret) < 32)
        return fail(err, "HAAT_JWT_SECRET", "must be at least 32 bytes");
    const char *pp = "HAAT_PAYMENT_PROVIDER", *sp = "HAAT_SMS_PROVIDER";
    if (strcmp(c->env, "production") == 0 && strcmp(c->payment_provider, "sandbox") == 0)
        return fail(err, pp, "sandbox is not allowed when HAAT_ENV is production");
    if (strcmp(c->payment_provider, "razorpay") == 0 &&
        (need(c->razorpay_key_id, "HAAT_RAZORPAY_KEY_ID", pp, "razorpay", err) < 0 ||
         need(c->razorpay_key_secret, "HAAT_RAZORPAY_KEY_SECRET", pp, "razorpay", err) < 0 ||
         need(c->razorpay_webhook_secret, "HAAT_RAZORPAY_WEBHOOK_SECRET", pp, "razorpay", err) < 0))
        return -1;
    if (strcmp(c->sms_provider, "twilio") == 0 &&
        (need(c->twilio_account_sid, "HAAT_TWILIO_ACCOUNT_SID", sp, "twilio", err) < 0 ||
         need(c->twilio_auth_token, "HAAT_TWILIO_AUTH_TOKEN", sp, "twilio", err) < 0 ||
         need(c->twilio_from, "HAAT_TWILIO_FROM", sp, "twilio", err) < 0))
        return -1;
    if (strcmp(c->email_provider, "smtp") == 0 &&
        (need(c->smtp_url, "HAAT_SMTP_URL", "HAAT_EMAIL_PROVIDER", "smtp", err) < 0 ||
         check_url(c->smtp_url, "HAAT_SMTP_URL", "smtp://", "smtps://", err) < 0))
        return -1;
    if (check_url(c->razorpay_base_url, "HAAT_RAZORPAY_BASE_URL", "http://", "https://", err) < 0 ||
        check_url(c->twilio_base_url, "HAAT_TWILIO_BASE_URL", "http://", "https://", err) < 0 ||
        check_url(c->public_url, "HAAT_PUBLIC_URL", "http://", "https://", err) < 0)
        return -1;
    if (check_list(c->cors_origins, "HAAT_CORS_ORIGINS", origin_ok,
                   "an origin (scheme://host[:port]) or *", err) < 0 ||
        check_list(c->trusted_proxies, "HAAT_TRUSTED_PROXIES", address_ok, "an IP address", err) <
            0)
        return -1;
    return 0;
}

/* Defaults that depend on other settings or on the machine, then the cross checks. */
static int derive(struct cfg *c, const char *const *raw, char *err)
{
    if (!*c->database_read_url) {
        free(c->database_read_url);
        c->database_read_url = xstrdup(c->database_url);
    }
    if (parse_addr(c->http_addr, "HAAT_HTTP_ADDR", &c->http_host, &c->http_port, err) < 0)
        return -1;
    if (*c->ops_addr &&
        parse_addr(c->ops_addr, "HAAT_OPS_ADDR", &c->ops_host, &c->ops_port, err) < 0)
        return -1;
    if (!c->ops_host)
        c->ops_host = xstrdup("");
    if (!raw[find_setting("HAAT_HTTP_THREADS")])
        c->http_threads = default_threads();
    if (!*c->public_url) {
        free(c->public_url);
        c->public_url = xasprintf("http://%s", c->http_addr);
    }
    if (!*c->sandbox_webhook_secret && random_secret(c, err) < 0)
        return -1;
    return check_providers(c, err);
}

int cfg_load(struct cfg *c, const char *path, char err[CFG_ERR_LEN])
{
    char *raw[NSETTINGS] = {0};
    int rc = -1;
    memset(c, 0, sizeof *c);
    err[0] = '\0';
    if (read_file(path, raw, err) < 0)
        goto out;
    if (read_env(raw, err) < 0)
        goto out;
    for (size_t i = 0; i < NSETTINGS; i++)
        if (apply(c, &settings[i], raw[i], err) < 0)
            goto out;
    if (derive(c, (const char *const *)raw, err) < 0)
        goto out;
    rc = 0;
out:
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (raw[i] && (settings[i].flags & F_SECRET))
            sodium_memzero(raw[i], strlen(raw[i]));
        free(raw[i]);
    }
    if (rc < 0)
        cfg_cleanup(c);
    return rc;
}

void cfg_cleanup(struct cfg *c)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (settings[i].kind != K_STR && settings[i].kind != K_ENUM)
            continue;
        char **field = (char **)((char *)c + settings[i].off);
        if (*field && (settings[i].flags & F_SECRET))
            sodium_memzero(*field, strlen(*field));
        free(*field);
    }
    free(c->http_host);
    free(c->ops_host);
    memset(c, 0, sizeof *c);
}
