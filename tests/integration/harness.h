/* harness — what every integration test binary uses to drive the real haat binary.
 *
 * A test starts `$HAAT_BIN serve` as a child on a free port against a throwaway database on the
 * private PostgreSQL cluster, talks to it over HTTP with libcurl, and reads what it sent from
 * the SMTP sink / HTTP capture servers (infra/dev/smtp_sink.py, infra/dev/http_capture.py).
 *
 * Environment (set by `make itest`): HAAT_BIN (the binary under test), HAAT_PG_ADMIN_URL
 * (maintenance database of the cluster, for CREATE/DROP DATABASE), HAAT_JWT_SECRET (optional;
 * a fixed test secret is used when unset or shorter than 32 bytes). DATABASE_URL is never used:
 * it is the developer's database.
 *
 * Failures: the functions documented as "fails the test" report through cmocka (fail_msg with
 * the caller's file and line, which the macros below pass in) and, for a server, print the path
 * and the last 40 lines of its log. Everything that waits has a bound, so a hung server fails
 * the test instead of hanging the suite.
 *
 * Clean-up: every server, sink and database created here is remembered; whatever a test left
 * behind (e.g. after a failed assertion) is killed or dropped when the program exits. Child
 * processes also get SIGKILL if the test program dies (PR_SET_PDEATHSIG), so start them from
 * the main thread (or a thread that outlives them). */
#ifndef HAAT_TESTS_INTEGRATION_HARNESS_H
#define HAAT_TESTS_INTEGRATION_HARNESS_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define H_TEST_CONFIG "configs/test.json"
/* HAAT_SANDBOX_WEBHOOK_SECRET given to every server (unless the test overrides it). */
#define H_SANDBOX_WEBHOOK_SECRET "sandbox-test-secret-0123456789abcdef0123456789"
#define H_PATH_MAX               512
#define H_LOG_TAIL_LINES         40

/* Timeouts, in milliseconds. */
#define H_HTTP_TIMEOUT_MS  10000
#define H_START_TIMEOUT_MS 10000
#define H_STOP_TIMEOUT_MS  15000
#define H_RUN_TIMEOUT_MS   60000

/* ---- throwaway databases ------------------------------------------------------------------ */

/* Creates database haat_t_<pid>_<n> on the admin cluster. Returns 0, or -1 (printed). name gets
 * the database name, url its libpq URI. The database is dropped at exit unless dropped before. */
int h_db_create(char name[64], char url[256]);
/* DROP DATABASE IF EXISTS name WITH (FORCE). Returns 0, or -1 (printed). */
int h_db_drop(const char *name);
/* Runs sql (one or more statements, no parameters) on the database at url. Returns 0 or -1. */
int h_db_exec(const char *url, const char *sql);
/* The first column of the first row of sql as a new string (caller frees), or NULL when there
 * is no row, the value is NULL, or the query failed (printed). */
char *h_db_scalar(const char *url, const char *sql);
/* The same with printf-formatted SQL (test-made values only), for fixtures' own variadic
 * helpers; h_db_vint is the scalar as a number, -1 when NULL or no row. */
int h_db_vexec(const char *url, const char *fmt, va_list ap);
char *h_db_vscalar(const char *url, const char *fmt, va_list ap);
long long h_db_vint(const char *url, const char *fmt, va_list ap);

/* ---- the server under test ---------------------------------------------------------------- */

struct h_server {
    /* Set by the caller before h_server_start (all optional). */
    char db_url[256];    /* preset: use this database (not created, not dropped) */
    const char *command; /* "serve" (default) or "worker" */
    const char *config;  /* --config file (default H_TEST_CONFIG) */
    bool no_migrate;     /* skip `haat migrate` before starting */
    bool no_wait;        /* do not wait for /healthz (a worker has no HTTP) */

    /* Filled by h_server_start. */
    char db_name[64]; /* the database h_server_start created ("" when preset) */
    pid_t pid;        /* 0 when not running */
    int port;
    char base_url[64];           /* "http://127.0.0.1:<port>" */
    char log_path[H_PATH_MAX];   /* var/test-logs/<test>-<n>.log: migrate + serve output */
    char notify_dir[H_PATH_MAX]; /* HAAT_NOTIFY_LOG_DIR: var/test-logs/<test>-<n>.notify */
    int exit_status;             /* of the last stop: exit code, or 128 + signal */
};

/* Starts the server (see the file comment): creates a database unless s->db_url is preset,
 * runs `haat migrate` (exit 0 required), starts `haat --config <config> <command>` with
 * HAAT_HTTP_ADDR=127.0.0.1:<free port>, DATABASE_URL, HAAT_JWT_SECRET, HAAT_LOG_LEVEL=info,
 * HAAT_NOTIFY_LOG_DIR, HAAT_SANDBOX_WEBHOOK_SECRET and then env ("NAME=value" strings,
 * NULL-terminated, may be NULL; they override the defaults), and waits up to 10 s for
 * GET /healthz = 200. Fails the test when any step fails. May be called again after
 * h_server_stop to restart against the same database (env is not remembered). */
#define h_server_start(s, env) h_server_start_at((s), (env), __FILE__, __LINE__)
void h_server_start_at(struct h_server *s, const char *const *env, const char *file, int line);
/* SIGTERM, then waits up to 15 s for the process to exit. Returns its exit status (exit code,
 * or 128 + signal number). After 15 s: SIGKILL and fails the test. A non-zero status also
 * prints the log tail. Returns 0 at once when the server is not running. */
#define h_server_stop(s) h_server_stop_at((s), __FILE__, __LINE__)
int h_server_stop_at(struct h_server *s, const char *file, int line);
/* SIGKILL and reap (no graceful shutdown). Returns 128 + 9 (or the status it had already). */
int h_server_kill(struct h_server *s);
/* Sends sig (e.g. SIGTERM) without waiting. Returns 0, or -1 when not running. */
int h_server_signal(struct h_server *s, int sig);
/* Waits up to timeout_ms for the process to exit, without signalling. Returns its exit status,
 * or -1 on timeout (the process keeps running). */
int h_server_wait(struct h_server *s, int timeout_ms);
/* Stops the server if still running (SIGKILL), drops the database it created. Idempotent. */
void h_server_cleanup(struct h_server *s);
/* Prints the log path and its last n lines to stderr (for failure messages). */
void h_server_print_log(const struct h_server *s, int n);
/* The whole log as a new string (caller frees; "" when absent). */
char *h_server_log(const struct h_server *s);
/* Path of a file in the server's notify dir (e.g. "sms.jsonl"), in a static per-thread buffer. */
const char *h_server_notify_file(const struct h_server *s, const char *name);

/* Runs `$HAAT_BIN args...` (args NULL-terminated, without the binary itself) with the base test
 * environment (the caller's minus DATABASE_* and HAAT_*, plus HAAT_JWT_SECRET and HAAT_DATA_KEY)
 * and then env (NULL-terminated "NAME=value", may be NULL), from the current directory, for at most
 * 60 s. *exit_code gets the exit status (exit code, or 128 + signal); *output (when not NULL) gets
 * stdout and stderr interleaved, a new string the caller frees. Returns 0, or -1 when the
 * program could not be started or timed out (then killed; *exit_code = -1). */
int h_run(const char *const *args, const char *const *env, int *exit_code, char **output);

/* ---- HTTP --------------------------------------------------------------------------------- */

struct h_header {
    char *name;
    char *value;
};

struct h_resp {
    long status; /* 0 when the transfer failed (error holds why) */
    char *body;  /* NUL-terminated; never NULL after a request */
    size_t len;
    json_t *json;  /* parsed when the content type says JSON and it parses, else NULL */
    char *headers; /* raw header block of the final response */
    struct h_header *hdrs;
    size_t nhdrs;
    char error[256]; /* libcurl's error text when status is 0 */
    double seconds;  /* total time of the transfer */
};

/* headers: NULL-terminated "Name: value" strings (may be NULL). A body without a Content-Type
 * header gets "Content-Type: application/json"; pass "Content-Type:" to send none at all (a
 * request without a body never gets one).
 * The method may be anything (HEAD sends no body back). Times out after 10 s. Returns
 * out->status. out must be zeroed or cleaned up before (h_resp_cleanup). One easy handle per
 * thread, kept alive (connection reuse). */
long h_request(const struct h_server *s, const char *method, const char *path, const char *body,
               const char *const *headers, struct h_resp *out);
/* Same with an explicit body length (bodies holding NUL bytes). */
long h_request_len(const struct h_server *s, const char *method, const char *path, const char *body,
                   size_t len, const char *const *headers, struct h_resp *out);
/* Same with a full URL instead of a server. body may be NULL. */
long h_request_url(const char *method, const char *url, const char *body, size_t len,
                   const char *const *headers, struct h_resp *out);
/* GET path; shorthand. */
long h_get(const struct h_server *s, const char *path, struct h_resp *out);
/* Case-insensitive header lookup in the final response; borrowed, NULL when absent. */
const char *h_resp_header(const struct h_resp *r, const char *name);
void h_resp_cleanup(struct h_resp *r);
/* Prints a response (status, headers, body up to 2 kB) to stderr. */
void h_resp_print(const struct h_resp *r);

/* Asserts a problem+json answer: content type application/problem+json, members type and title
 * (strings), status == the HTTP status == status, code == code, request_id == the X-Request-ID
 * response header. Fails the test (printing the response) otherwise. */
#define h_assert_problem(r, status, code) \
    h_assert_problem_at((r), (status), (code), __FILE__, __LINE__)
void h_assert_problem_at(const struct h_resp *r, long status, const char *code, const char *file,
                         int line);
/* Asserts the status, printing the whole response when it differs. */
#define h_assert_status(r, status) h_assert_status_at((r), (status), __FILE__, __LINE__)
void h_assert_status_at(const struct h_resp *r, long status, const char *file, int line);

/* Polls GET path every 50 ms until it answers want (or timeout_ms passes). Returns the elapsed
 * milliseconds, or -1 on timeout. */
long h_wait_status(const struct h_server *s, const char *path, long want, int timeout_ms);

/* ---- metrics ------------------------------------------------------------------------------ */

/* The value of one series from GET /metrics, e.g.
 * "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}" or
 * "db_pool_connections". Label order does not matter; the label set must be exactly equal.
 * Returns -1 when the series is missing (or /metrics fails). */
double h_metric_value(const struct h_server *s, const char *series);
/* The same, on a metrics text already fetched. */
double h_metric_in(const char *text, const char *series);

/* ---- sinks: SMTP and HTTP capture servers -------------------------------------------------- */

struct h_sink {
    pid_t pid;
    int port;
    char url[64];         /* "smtp://127.0.0.1:<port>" or "http://127.0.0.1:<port>" */
    char out[H_PATH_MAX]; /* the JSON-lines file it appends to (truncated at start) */
    char log_path[H_PATH_MAX];
};

/* python3 infra/dev/smtp_sink.py --port N --out FILE; waits (<= 10 s) for "ready". Fails the
 * test on error. */
#define h_smtp_sink_start(k) \
    h_sink_start_at((k), "infra/dev/smtp_sink.py", "smtp", __FILE__, __LINE__)
/* python3 infra/dev/http_capture.py --port N --out FILE; same. */
#define h_http_capture_start(k) \
    h_sink_start_at((k), "infra/dev/http_capture.py", "http", __FILE__, __LINE__)
void h_sink_start_at(struct h_sink *k, const char *script, const char *scheme, const char *file,
                     int line);
/* SIGTERM, wait (<= 5 s, then SIGKILL). Returns the exit status. Idempotent. */
int h_sink_stop(struct h_sink *k);
/* POST <capture>/__control with the JSON text body, e.g. {"fail_next":2,"status":503}.
 * Returns the HTTP status. */
long h_capture_control(const struct h_sink *k, const char *json_body);

/* Every complete line of a JSON-lines file as a JSON array (new reference; empty when the file
 * is missing). Unparsable lines become JSON strings holding the raw line. */
json_t *h_jsonl_read(const char *path);
/* Polls path until it holds at least count lines or timeout_ms passes. Returns what it read
 * last (new reference, never NULL): compare its size with count. */
json_t *h_wait_jsonl(const char *path, size_t count, int timeout_ms);

/* ---- odds and ends ------------------------------------------------------------------------ */

/* A TCP port that was free a moment ago on 127.0.0.1 (bind port 0, read it, close). */
int h_free_port(void);
/* A blocking TCP connection to 127.0.0.1:port with 10 s send/receive timeouts; -1 on error. */
int h_tcp_connect(int port);
/* Sends all of buf; 0 or -1. */
int h_tcp_send(int fd, const char *buf, size_t len);
/* Reads until EOF or timeout_ms; a new NUL-terminated string (caller frees; never NULL). */
char *h_tcp_recv_all(int fd, int timeout_ms);
/* Reads one HTTP/1.1 response (headers, then Content-Length bytes of body) within timeout_ms,
 * leaving the connection open; a new string (caller frees; what arrived on timeout). */
char *h_tcp_recv_response(int fd, int timeout_ms);
/* Milliseconds on the monotonic clock. */
long long h_now_ms(void);
void h_sleep_ms(int ms);
/* The JWT secret the servers get (HAAT_JWT_SECRET of the caller when >= 32 bytes). */
const char *h_jwt_secret(void);
/* An HS256 JWT over the given header and claims JSON texts, signed with secret. Returns a new
 * string the caller frees. Lets tests forge tokens (other alg, expired, bad signature). */
char *h_jwt_sign(const char *header_json, const char *claims_json, const char *secret);
/* The test program's short name (e.g. "test_platform"), for file names. */
const char *h_test_name(void);
/* A new string: the file's content (NULL when unreadable). */
char *h_read_file(const char *path, size_t *len);
/* Number of lines of text that contain needle. */
size_t h_count_lines_with(const char *text, const char *needle);

#endif
