/* config — settings from a JSON file (--config, default configs/dev.json) overridden by
 * environment variables, exactly as in the operations contract. Secrets come only from the
 * environment. A bad or missing setting is reported as one line naming the variable. */
#ifndef HAAT_PKG_CONFIG_CONFIG_H
#define HAAT_PKG_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_ERR_LEN 256

struct cfg {
    /* All strings are owned by the struct (freed by cfg_cleanup); never NULL after a successful
     * cfg_load (empty string when unset and optional). */
    char *database_url;                /* DATABASE_URL (required) */
    char *database_read_url;           /* DATABASE_READ_URL (default: database_url) */
    char *http_addr;                   /* HAAT_HTTP_ADDR "host:port" (default 127.0.0.1:8080) */
    char *http_host;                   /* parsed from http_addr */
    int http_port;                     /* parsed from http_addr, 0..65535 (0 = any free port) */
    int http_threads;                  /* HAAT_HTTP_THREADS, 1..256 (default from the core count) */
    bool workers;                      /* HAAT_WORKERS on|off (default on) */
    char *jwt_secret;                  /* HAAT_JWT_SECRET, >= 32 bytes (env only; required) */
    int commission_bps;                /* HAAT_COMMISSION_BPS 0..10000 (default 500) */
    int64_t hold_period_s;             /* HAAT_HOLD_PERIOD_S >= 0 (default 604800) */
    int64_t payment_timeout_s;         /* HAAT_PAYMENT_TIMEOUT_S > 0 (default 900) */
    int64_t auto_confirm_s;            /* HAAT_AUTO_CONFIRM_S >= 1 (default 1209600) */
    int64_t payment_reconcile_after_s; /* HAAT_PAYMENT_RECONCILE_AFTER_S >= 1 (default 300) */
    char *env;                         /* HAAT_ENV development|production (default development) */
    char *payment_provider;            /* HAAT_PAYMENT_PROVIDER sandbox|razorpay (default sandbox;
                                          production refuses sandbox) */
    char *razorpay_base_url;       /* HAAT_RAZORPAY_BASE_URL (default https://api.razorpay.com) */
    char *razorpay_key_id;         /* HAAT_RAZORPAY_KEY_ID (env only) */
    char *razorpay_key_secret;     /* HAAT_RAZORPAY_KEY_SECRET (env only) */
    char *razorpay_webhook_secret; /* HAAT_RAZORPAY_WEBHOOK_SECRET (env only) */
    char *sandbox_webhook_secret;  /* HAAT_SANDBOX_WEBHOOK_SECRET (env only; random if unset) */
    char *sms_provider;            /* HAAT_SMS_PROVIDER log|twilio (default log) */
    char *twilio_base_url;         /* HAAT_TWILIO_BASE_URL (default https://api.twilio.com) */
    char *twilio_account_sid;      /* HAAT_TWILIO_ACCOUNT_SID */
    char *twilio_auth_token;       /* HAAT_TWILIO_AUTH_TOKEN (env only) */
    char *twilio_from;             /* HAAT_TWILIO_FROM */
    char *email_provider;          /* HAAT_EMAIL_PROVIDER log|smtp (default log) */
    char *smtp_url;                /* HAAT_SMTP_URL e.g. smtp://127.0.0.1:2525 */
    char *smtp_user;               /* HAAT_SMTP_USER */
    char *smtp_password;           /* HAAT_SMTP_PASSWORD (env only) */
    char *smtp_from;               /* HAAT_SMTP_FROM (default "haat <no-reply@haat.local>") */
    char *smtp_tls;                /* HAAT_SMTP_TLS require|none (default require) */
    char *notify_log_dir;          /* HAAT_NOTIFY_LOG_DIR (default var/notify) */
    char *templates_dir;           /* HAAT_TEMPLATES_DIR (default configs/templates) */
    char *log_level;               /* HAAT_LOG_LEVEL debug|info|warn|error (default info) */
    char *log_format;              /* HAAT_LOG_FORMAT json|text (default json) */
    char *public_url;              /* HAAT_PUBLIC_URL (default http://<http_addr>) */
    int shutdown_grace_s;          /* HAAT_SHUTDOWN_GRACE_S 1..60 (default 8) */
    /* HAAT_CORS_ORIGINS: comma-separated exact origins ("https://shop.example", scheme://host
     * [:port], no path) that browsers may call the API from, and "*" for any origin on the
     * public reads only; empty: CORS off. */
    char *cors_origins;
    /* HAAT_TRUSTED_PROXIES: comma-separated IPv4/IPv6 addresses of reverse proxies whose
     * X-Forwarded-For is believed for the client address; empty: none. */
    char *trusted_proxies;
    int chat_streams_max;      /* HAAT_CHAT_STREAMS_MAX open event streams per process
                                  1..100000 (default 1000) */
    int chat_streams_per_user; /* HAAT_CHAT_STREAMS_PER_USER 1..100 (default 5) */
    int chat_heartbeat_s;      /* HAAT_CHAT_HEARTBEAT_S 1..60 (default 15; tests only) */
    int limit_chat_per_min;    /* HAAT_LIMIT_CHAT_PER_MIN messages a user may send a
                                  minute, 1..10000 (default 30) */
    /* HAAT_OPS_ADDR "host:port": a second listener, with its own thread, for /healthz,
     * /readyz and /metrics (then /metrics is served only there); empty: none. */
    char *ops_addr;
    char *ops_host;              /* parsed from ops_addr ("" when unset) */
    int ops_port;                /* parsed from ops_addr */
    int db_connect_timeout_ms;   /* HAAT_DB_CONNECT_TIMEOUT_MS 50..60000 (default 1000) */
    int db_statement_timeout_ms; /* HAAT_DB_STATEMENT_TIMEOUT_MS 100..600000 (default 5000) */
    int limit_conns_per_ip;      /* HAAT_LIMIT_CONNS_PER_IP open connections per client
                                    address, 0..100000, 0 = no limit (default 64) */
    int http_body_timeout_s;     /* HAAT_HTTP_BODY_TIMEOUT_S seconds a request may take to
                                    send its body, 1..600 (default 20) */
};

/* Loads path (NULL: configs/dev.json; a missing default file is not an error, a missing
 * explicit file is), then the environment. Returns 0, or -1 with err holding one line that
 * names the offending variable (e.g. "HAAT_JWT_SECRET: must be at least 32 bytes").
 * The json file uses the variable names as keys, e.g. {"HAAT_HTTP_ADDR": "127.0.0.1:8080"};
 * secrets in the file are refused, and so is a setting's former name, in the file or in the
 * environment ("HAAT_PUBLIC_BASE_URL: renamed to HAAT_PUBLIC_URL"). */
int cfg_load(struct cfg *c, const char *path, char err[CFG_ERR_LEN]);
void cfg_cleanup(struct cfg *c);

#endif
