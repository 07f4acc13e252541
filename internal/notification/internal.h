/* Private declarations shared by the files of internal/notification. */
#ifndef HAAT_INTERNAL_NOTIFICATION_INTERNAL_H
#define HAAT_INTERNAL_NOTIFICATION_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/config/config.h"
#include "pkg/db/db.h"
#include "pkg/http/http.h"
#include "pkg/page/page.h"

#define NOTIFY_ERR_LEN 256

/* ---- channels and categories (events.c) -------------------------------------------------- */

enum notify_channel { NOTIFY_EMAIL, NOTIFY_SMS, NOTIFY_NCHANNELS };

const char *notify_channel_name(enum notify_channel ch); /* "email" | "sms" */
/* The channel called name, or -1. */
int notify_channel_parse(const char *name);

/* Preference categories ("kinds"), in the order they are listed in responses. */
struct notify_category {
    const char *name;
    bool switchable;      /* false: security messages, always sent */
    bool default_enabled; /* when the user never chose */
};
extern const struct notify_category notify_categories[];
extern const size_t notify_ncategories;
const struct notify_category *notify_category_find(const char *name);

/* ---- the routing table (events.c) --------------------------------------------------------- */

enum nf_type {
    NF_STR,   /* JSON string */
    NF_UUID,  /* JSON string */
    NF_INT,   /* JSON integer */
    NF_MONEY, /* JSON integer in minor units: templates must render it with |rupees */
    NF_BOOL,  /* JSON true/false */
};
enum nf_flags {
    NF_OPTIONAL = 1u << 0, /* absent or null renders as "" */
    NF_DERIVED = 1u << 1,  /* computed by the worker, not read from the payload */
};
struct nf_field {
    const char *name; /* NULL terminates a table */
    enum nf_type type;
    unsigned flags;
};

#define NOTIFY_MAX_RECIPIENTS 2

/* Who receives an event. A user recipient's address comes from user_contact(); the OTP event
 * carries its own channel and destination. */
struct notify_recipient {
    const char *role;       /* template key suffix ("buyer", "seller"), or NULL */
    const char *user_field; /* payload member holding the recipient's user id */
};

struct notify_route {
    const char *event;    /* "order.placed" */
    const char *category; /* a notify_categories[] name */
    bool priority;        /* the OTP fast lane */
    bool secret;          /* the body holds a secret: the feed keeps a masked copy only */
    bool to_destination;  /* recipient is payload channel + destination (OTP) */
    size_t nrecipients;
    struct notify_recipient recipients[NOTIFY_MAX_RECIPIENTS];
    const struct nf_field *fields; /* declared payload fields (docs/events.md) + derived ones */
    const char *throttle_field;    /* at most one per recipient, channel and value of this field */
    int throttle_s;                /* ... per this many seconds */
};

extern const struct notify_route notify_route_table[];
extern const size_t notify_nroutes;
const struct notify_route *notify_route_find(const char *event);
/* Placeholders every template of a route may use besides the route's fields. */
extern const struct nf_field notify_common_fields[]; /* app_url */
extern const struct nf_field notify_user_fields[];   /* recipient_name (user recipients) */
/* The only event type the fast lane claims; the SQL of notify_claim_events_priority and the
 * partial index in migrations/0004 name the same type (a unit test keeps them equal). */
#define NOTIFY_PRIORITY_EVENT "otp.requested"
/* What the feed shows in place of a secret (the OTP code). */
#define NOTIFY_MASK "••••••"

/* ---- templates (template.c: pure) --------------------------------------------------------- */

enum tpl_filter { TPL_F_NONE, TPL_F_RUPEES, TPL_F_SHORT, TPL_F_YESNO };

struct tpl_seg {
    char *text; /* literal bytes (owned) when var is NULL */
    size_t len;
    char *var; /* placeholder name (owned), or NULL */
    enum tpl_filter filter;
};

struct tpl {
    struct tpl_seg *segs; /* owned */
    size_t n;
};

/* Parses src (len bytes; "{{name}}" / "{{ name | filter }}" placeholders, names
 * [a-z0-9_]+, filters rupees|short|yesno). Returns 0, or -1 with err ("line 3: unterminated
 * {{"). t is caller-owned; free it with notify_tpl_free even after a failure. */
int notify_tpl_parse(struct tpl *t, const char *src, size_t len, char *err, size_t errlen);
void notify_tpl_free(struct tpl *t);
/* Checks every placeholder against the union of the NULL-terminated list of field tables:
 * an unknown name, a filter that does not fit the field's type, or a money field without
 * |rupees is an error. Returns 0 or -1 with err. */
int notify_tpl_check(const struct tpl *t, const struct nf_field *const *sets, char *err,
                     size_t errlen);
/* True when the template uses placeholder name. */
bool notify_tpl_uses(const struct tpl *t, const char *name);

enum tpl_render_flags {
    TPL_ONE_LINE = 1u << 0, /* values' line breaks and control characters become spaces */
};
/* Renders with vars (a JSON object, borrowed). A placeholder whose member is absent or null
 * renders as "" only if optional (listed in optional, NULL-terminated, may be NULL); otherwise
 * NULL is returned with err. Values never carry control characters other than \n and \t
 * (none at all with TPL_ONE_LINE). Returns a new string the caller frees. */
char *notify_tpl_render(const struct tpl *t, const json_t *vars, unsigned flags,
                        const struct nf_field *fields, char *err, size_t errlen);

#define NOTIFY_RUPEES_LEN 48
/* "₹1,00,000.00" (Indian digit grouping, paise to two decimals), "-₹5.00" when negative. */
void notify_rupees(int64_t minor, char out[NOTIFY_RUPEES_LEN]);

/* ---- the template set (templates.c) ------------------------------------------------------- */

struct notify_tpl {
    bool present;
    struct tpl subject; /* email only */
    struct tpl body;
};

/* Loads dir/<key>.<channel>.txt for every route, recipient and channel (key = event, or
 * event.role for routes with roles) and validates each. Returns 0, or -1 after logging every
 * problem found. Replaces a previously loaded set. */
int notify_templates_load(const char *dir);
void notify_templates_free(void);
/* The loaded template, or NULL. */
const struct notify_tpl *notify_template(const struct notify_route *r, size_t recipient,
                                         enum notify_channel ch);
/* Parses one template file's text for channel ch into t (email: "Subject: ..." line, blank
 * line, body). Returns 0 or -1 with err. */
int notify_template_parse(struct notify_tpl *t, enum notify_channel ch, const char *text,
                          size_t len, char *err, size_t errlen);
void notify_template_free(struct notify_tpl *t);
/* Validates t for route r (recipient kind decides which extra placeholders exist; a secret
 * may not appear in a subject). Returns 0 or -1 with err. */
int notify_template_check(const struct notify_tpl *t, const struct notify_route *r, char *err,
                          size_t errlen);

/* ---- email message building (mail.c: pure) ------------------------------------------------ */

struct notify_mail {
    const char *from;    /* "haat <no-reply@haat.local>" or a bare address */
    const char *to;      /* address */
    const char *to_name; /* display name, or NULL/"" */
    const char *subject; /* UTF-8 */
    const char *body;    /* UTF-8, \n line ends */
    const char *id;      /* notification id: Message-ID <id@from-domain> */
    int64_t unix_s;      /* Date */
};

/* The whole RFC 5322 message (CRLF line ends), a new string; *len gets its length. */
char *notify_mail_build(const struct notify_mail *m, size_t *len);
/* The address inside "Name <addr>" (or the whole string), a new string; NULL when none. */
char *notify_mail_addr(const char *from);
/* True for an address we can put in MAIL RCPT and a To header: local@domain, printable ASCII
 * without spaces, <, >, quotes, commas or control characters, at most 254 bytes. */
bool notify_mail_addr_ok(const char *addr);
/* RFC 2047 "=?UTF-8?B?...?=" words folded at 75 columns when s is not plain printable ASCII
 * (else a copy of s). New string. */
char *notify_mail_encode_header(const char *s);
/* Quoted-printable (RFC 2045), CRLF line ends, lines <= 76. New string. */
char *notify_mail_qp(const char *s);
/* "Sat, 21 Nov 2026 10:00:00 +0000". out holds 40 bytes. */
void notify_mail_date(int64_t unix_s, char out[40]);

/* ---- delivery policy (policy.c: pure) ----------------------------------------------------- */

#define NOTIFY_MAX_ATTEMPTS       5 /* sends before a notification is failed */
#define NOTIFY_BACKOFF_BASE_MS    1000
#define NOTIFY_BACKOFF_CAP_MS     (5 * 60 * 1000)
#define NOTIFY_CONNECT_TIMEOUT_MS 3000
#define NOTIFY_TOTAL_TIMEOUT_MS   10000
/* A claimed message belongs to its worker this long; then another worker may send it. Longer
 * than one send can take (NOTIFY_TOTAL_TIMEOUT_MS) plus the database round trips. */
#define NOTIFY_LEASE_S 30
/* How long after its claim a worker keeps trying to record that a message went out when the
 * database does not answer (a failover: ~11 s on the rig), well inside the lease, so nobody
 * else claims and sends it again meanwhile. */
#define NOTIFY_RECORD_FOR_S 24
/* Events: claim lease, and how often a transient fan-out failure is retried. */
#define NOTIFY_EVENT_LEASE_S      30
#define NOTIFY_EVENT_MAX_ATTEMPTS 10

enum notify_result { NOTIFY_SENT, NOTIFY_RETRY, NOTIFY_FAILED };

/* Delay before attempt n+1 after n failed attempts (n >= 1): base 2^(n-1), capped, with
 * "equal jitter": uniformly in [d/2, d] using rnd (any 32-bit random value). */
int64_t notify_backoff_ms(int failed_attempts, uint32_t rnd);
/* After a failed send: retry, or give up because it was the last attempt. */
enum notify_result notify_after_failure(enum notify_result r, int attempts);
/* Twilio-style HTTP answer: 2xx sent; 408, 429, 5xx and transport errors (status 0) retry;
 * other 4xx fail for good. */
enum notify_result notify_classify_http(long status);
/* SMTP: transport errors retry; the last reply code decides otherwise: 5yz fails for good,
 * 4yz retries. curl_ok: libcurl reported success. */
enum notify_result notify_classify_smtp(bool curl_ok, long reply_code);

/* ---- providers (providers.c, provider_*.c) ------------------------------------------------ */

struct notify_msg {
    const char *id;         /* notification id */
    const char *event;      /* event type */
    const char *to;         /* address or E.164 phone */
    const char *to_name;    /* may be NULL */
    const char *subject;    /* email only ("" for SMS) */
    const char *body;       /* what is sent (the real code for OTP) */
    const char *created_at; /* RFC 3339 */
};

struct notify_provider_cfg {
    char *sms;   /* "log" | "twilio" */
    char *email; /* "log" | "smtp" */
    char *log_dir;
    char *twilio_base_url, *twilio_sid, *twilio_token, *twilio_from;
    char *smtp_url, *smtp_user, *smtp_password, *smtp_from, *smtp_tls;
};

/* Copies the settings; creates the log directory when a log provider is used. 0 or -1. */
int notify_providers_init(const struct cfg *c);
void notify_providers_cleanup(void);
/* Sends m on ch with the configured provider. err gets a short reason when not SENT. */
enum notify_result notify_send(enum notify_channel ch, const struct notify_msg *m, char *err,
                               size_t errlen);

enum notify_result notify_log_send(const char *dir, enum notify_channel ch,
                                   const struct notify_msg *m, char *err, size_t errlen);
enum notify_result notify_smtp_send(const struct notify_provider_cfg *p, const struct notify_msg *m,
                                    char *err, size_t errlen);
enum notify_result notify_twilio_send(const struct notify_provider_cfg *p,
                                      const struct notify_msg *m, char *err, size_t errlen);
/* The calling thread's reusable libcurl easy handle (reset; its progress callback aborts the
 * transfer once notify_stopping()), freed when the thread exits. */
void *notify_curl_handle(void);

/* ---- module state, jobs and metrics (module.c) -------------------------------------------- */

#define NOTIFY_JOB_PRIORITY "notify.otp"
#define NOTIFY_JOB_FANOUT   "notify.fanout"
#define NOTIFY_JOB_DELIVER  "notify.deliver"
/* NOTIFYed by the fan-out when it queued messages for the normal lane. */
#define NOTIFY_WAKE_CHANNEL "haat_notify"

/* HAAT_PUBLIC_URL, the {{app_url}} of every template. */
const char *notify_app_url(void);
/* True once notify_cleanup() has begun: provider transfers abort, jobs take no new batch. */
bool notify_stopping(void);

void notify_metrics_init(void);
/* status: "sent" | "failed" | "retry". */
void notify_metric_count(enum notify_channel ch, const char *status);
void notify_metric_latency(enum notify_channel ch, double seconds);

/* ---- persistence (repo_pg.c) -------------------------------------------------------------- */

/* Every function runs its statements on c, the connection its caller chose (the request kit
 * for handlers, the job for the background stages); NULL answers DB_UNAVAILABLE. */

void notify_repo_init(void);
void notify_repo_register_admin(void); /* repo_admin.c */

struct notify_event {
    char *row_id; /* outbox_events.id */
    char *event_id;
    char *type;
    json_t *payload;  /* owned */
    char *created_at; /* timestamptz text, passed back to SQL as is */
    int attempts;     /* including this claim */
};
void notify_event_cleanup(struct notify_event *e);

/* Leases up to max unprocessed events (priority: only the fast-lane type; else every other
 * type). *out gets a new array the caller frees with notify_event_cleanup on each and free.
 * Returns DB_OK (possibly *n = 0) or the failure. */
enum db_status notify_repo_claim_events(struct db_conn *c, bool priority, int max,
                                        struct notify_event **out, size_t *n);
/* Schedules another try of a leased event after delay_s, recording why. */
enum db_status notify_repo_event_retry(struct db_conn *c, const struct notify_event *e, int delay_s,
                                       const char *why);
/* Marks a leased event processed, with last_error when not NULL (a dead letter). */
enum db_status notify_repo_event_done(struct db_conn *c, const struct notify_event *e,
                                      const char *last_error);
/* NOTIFYs NOTIFY_WAKE_CHANNEL (delivered at commit). */
enum db_status notify_repo_wake(struct db_conn *c);

/* A notification to insert at fan-out. */
struct notify_row {
    char id[IDS_UUID_LEN];
    const char *user_id; /* borrowed from the event payload; NULL: OTP to an unknown address */
    enum notify_channel channel;
    char *destination;    /* owned */
    char *recipient_name; /* owned; may be NULL */
    const char *category;
    bool priority;
    bool switchable;
    bool default_enabled;
    char *subject;            /* owned; NULL for SMS */
    char *body;               /* owned; what the feed shows */
    char *body_sealed;        /* owned; sealed body to send when it differs from body (secrets) */
    const char *throttle_key; /* borrowed from the event payload; may be NULL */
    int throttle_s;
};
void notify_row_cleanup(struct notify_row *r);

/* Inserts r for event e when the user's preferences, the throttle and the unique (event,
 * recipient, channel) key allow it; *added tells whether it did. A throttled row takes a
 * transaction-scoped lock on its (user, channel, key) first, so c must be inside a
 * transaction. */
enum db_status notify_repo_insert(struct db_conn *c, const struct notify_event *e,
                                  const struct notify_row *r, bool *added);

/* A claimed notification (one send). */
struct notify_claimed {
    char *id, *event, *channel, *destination, *recipient_name, *subject, *body, *body_sealed,
        *created_at;
    int attempts;
    char trace_id[33]; /* of the event that caused it ("" when none): its sends join it */
};
void notify_claimed_cleanup(struct notify_claimed *c);
/* Leases one due queued notification of the lane. DB_NOT_FOUND when none is due. */
enum db_status notify_repo_claim(struct db_conn *c, bool priority, struct notify_claimed *out);
/* *latency_s gets event commit -> now (database clock); < 0 when unknown. DB_NOT_FOUND when
 * the row was no longer queued (someone else finished it). */
enum db_status notify_repo_mark_sent(struct db_conn *c, const char *id, double *latency_s);
/* Both only while the row is queued and still carries this attempt number (a worker whose
 * lease ran out never overwrites a newer attempt). */
enum db_status notify_repo_mark_retry(struct db_conn *c, const char *id, int attempts,
                                      double delay_s, const char *why);
enum db_status notify_repo_mark_failed(struct db_conn *c, const char *id, int attempts,
                                       const char *why);

/* Feed and preferences. */
/* Page of the user's notifications, newest first, keyset on (created_at in microseconds
 * since the epoch, id): at most limit items after the position after (NULL: from the
 * newest). *items gets a new JSON array; *more tells whether rows follow, and then *last is
 * the position of the last item. */
enum db_status notify_repo_feed(struct db_conn *c, const char *user_id, int limit,
                                const struct page_key *after, json_t **items, bool *more,
                                struct page_key *last);
/* The user's stored choices as {"email":{cat:bool},"sms":{...}} over every category (defaults
 * filled in). New reference. */
enum db_status notify_repo_prefs_get(struct db_conn *c, const char *user_id, json_t **prefs);
/* Stores choices: arrays of n channel names, categories and values, in one statement. */
enum db_status notify_repo_prefs_put(struct db_conn *c, const char *user_id,
                                     const char *const *channels, const char *const *categories,
                                     const bool *enabled, size_t n);

/* ---- stages (fanout.c, deliver.c) --------------------------------------------------------- */

/* One fan-out batch of the lane. Returns events handled (>= 0), or -1 on a database error. */
int notify_fanout_batch(bool priority, int max);
/* Delivers up to max due notifications of the lane. Returns how many were handled, or -1. */
int notify_deliver_batch(bool priority, int max);

/* Turns an event into rows (fanout.c; exposed for tests), reading user recipients' contacts
 * on c. Returns 0 and fills rows/n; or -1 with err and *permanent telling whether trying
 * again could help. */
int notify_event_rows(struct db_conn *c, const struct notify_event *e, const struct notify_route *r,
                      struct notify_row **rows, size_t *n, bool *permanent, char *err,
                      size_t errlen);

/* ---- HTTP use cases (queries/, commands/; routed by routes.c) ----------------------------- */

/* queries/list_notifications.c, queries/get_preferences.c, commands/put_preferences.c */
void notify_list_notifications(struct http_req *r);
void notify_get_preferences(struct http_req *r);
void notify_put_preferences(struct http_req *r);

#endif
