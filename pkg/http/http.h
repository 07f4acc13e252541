/* http — the HTTP server: libmicrohttpd daemon, request context, replies, problem+json.
 *
 * A request's life: the daemon accumulates the body (<= 1 MiB), the router picks a route from
 * the command or query set, the server checks content type, parses JSON bodies, runs the auth
 * hook for the route's auth kind and the idempotency hook for POSTs, then calls the handler.
 * The handler replies exactly once through http_reply_*(), either before it returns or later
 * from another thread after http_req_defer(). Everything the request allocated is freed in one
 * place, the completion callback, which also writes the access-log line and the metrics. */
#ifndef HAAT_PKG_HTTP_HTTP_H
#define HAAT_PKG_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pkg/db/db.h"
#include "pkg/ids/ids.h"
#include "pkg/json/jsonh.h"

/* Bodies: every route has a limit of its own (http_route.max_body), HTTP_BODY_DEFAULT unless
 * it declares more, never more than HTTP_MAX_BODY. */
#define HTTP_MAX_BODY     (1024 * 1024)
#define HTTP_BODY_DEFAULT (8 * 1024)
#define HTTP_KIB(n)       ((size_t)(n)*1024)
#define HTTP_MAX_PARAMS   4
/* The consistency token of a command answer, sent back by a query (read-your-writes). */
#define HTTP_CONSISTENCY_HEADER "X-Haat-Consistency"

struct http_req;
struct router;

enum http_auth {
    HTTP_AUTH_NONE,     /* anyone */
    HTTP_AUTH_USER,     /* a valid access token */
    HTTP_AUTH_VERIFIED, /* ... whose user has a verified phone */
    HTTP_AUTH_SELLER,   /* ... with the seller role */
    HTTP_AUTH_ADMIN,    /* ... with the admin role */
};

enum http_route_set { HTTP_COMMANDS, HTTP_QUERIES };

enum http_route_flags {
    HTTP_JSON_BODY = 1u << 0,     /* body must be application/json and a JSON object */
    HTTP_RAW_BODY = 1u << 1,      /* body kept as bytes, any content type (webhooks) */
    HTTP_IDEMPOTENT = 1u << 2,    /* Idempotency-Key required (otherwise honoured on POST) */
    HTTP_OPTIONAL_BODY = 1u << 3, /* with HTTP_JSON_BODY: an empty body is allowed */
    /* Idempotency-Key is ignored: the response carries credentials (token pairs) that must
     * never be stored or handed out twice, so a retry simply runs again. */
    HTTP_NO_IDEMPOTENCY = 1u << 4,
    /* Cache-Control: no-store on every answer: it carries tokens, codes or account data. */
    HTTP_NO_STORE = 1u << 5,
};

typedef void (*http_handler_fn)(struct http_req *req);

/* A route, declared as static data in each module's routes.c. */
struct http_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/v1/products/{id}"; also the metrics/log label */
    http_handler_fn handler;
    enum http_auth auth;
    unsigned flags; /* enum http_route_flags */
    /* The largest body this route accepts, in bytes (0: HTTP_BODY_DEFAULT; at most
     * HTTP_MAX_BODY). Checked on the declared Content-Length and while the body arrives,
     * before anything is parsed: 413 payload_too_large beyond it. */
    size_t max_body;
};

enum http_role { HTTP_ROLE_BUYER = 1u << 0, HTTP_ROLE_SELLER = 1u << 1, HTTP_ROLE_ADMIN = 1u << 2 };

/* Who is calling, filled by the auth hook. */
struct http_principal {
    char user_id[IDS_UUID_LEN];
    unsigned roles; /* enum http_role bits */
    bool phone_verified;
};

/* Auth hook: checks the bearer token (NULL when absent). Returns 0 and fills *who, or -1 when
 * the token is missing or invalid (the server answers 401). Called only for routes whose auth
 * kind is not NONE, and for NONE routes that carry a token (so handlers may personalise). */
typedef int (*http_auth_fn)(const char *bearer, struct http_principal *who);

/* A reply as the idempotency store sees it (borrowed views into the request). */
struct http_reply_view {
    int status;
    const char *content_type; /* "" when none */
    const char *body;
    size_t len;
    const char *location; /* the Location header, NULL when none */
    const char *etag;     /* the ETag header, NULL when none */
};

/* Idempotency hooks. begin runs before the handler of a POST that carries an Idempotency-Key;
 * it returns true to proceed (and may leave in *ctx what it worked out, e.g. in http_req_alloc
 * memory, for the other hooks), or replies itself (replay or error) and returns false.
 * complete_txn runs inside a command's transaction (http_txn), just before COMMIT, with the
 * reply the command built: it stores that reply as the key's response on c, so the key is
 * completed by the very commit that makes the effect; anything but DB_OK rolls the
 * transaction back. finish runs for every other reply of such a request (one no committed
 * transaction recorded: a refusal before any effect, or a 5xx), after it is built. */
struct http_idem_hooks {
    bool (*begin)(struct http_req *req, const char *key, void **ctx);
    enum db_status (*complete_txn)(struct http_req *req, struct db_conn *c, const char *key,
                                   void *ctx, const struct http_reply_view *reply);
    void (*finish)(struct http_req *req, const char *key, void *ctx,
                   const struct http_reply_view *reply);
};

struct http_server_opts {
    const char *host;          /* listen address, e.g. "127.0.0.1" or "0.0.0.0" */
    int port;                  /* 0: any free port (see http_server_port) */
    int threads;               /* thread-pool size */
    unsigned connection_limit; /* concurrent connections; more are closed at accept */
    /* Open connections per client address (trusted proxies exempt); more are closed at
     * accept. 0: no per-address limit. */
    unsigned conns_per_ip;
    unsigned timeout_s; /* idle connection timeout */
    /* A request's body must be complete within this many seconds of its headers, however
     * it trickles in (else the connection is closed; logged as 408). 0: only the idle
     * timeout. */
    unsigned body_timeout_s;
    size_t connection_memory; /* per-connection memory pool in bytes */
    /* Comma-separated origins whose pages may read the answers ("https://shop.example"), and
     * "*" for any origin on the public reads only (see pkg/http/cors.c); NULL or "": no CORS
     * headers at all. Copied. */
    const char *cors_origins;
    /* The service's public base URL ("https://api.example.com"): Location headers are this
     * plus the path (http_set_location). NULL or "": relative. Copied. */
    const char *public_url;
    /* Comma-separated addresses of reverse proxies whose X-Forwarded-For names the client in
     * the access log. NULL or "": the peer is the client. */
    const char *trusted_proxies;
};

struct http_server *http_server_new(const struct http_server_opts *o, struct router *r);
void http_server_set_auth(struct http_server *s, http_auth_fn fn);
void http_server_set_idempotency(struct http_server *s, const struct http_idem_hooks *h);
int http_server_start(struct http_server *s);      /* 0, or -1 (logged) */
int http_server_port(const struct http_server *s); /* the bound port */
/* Stops accepting new connections; in-flight requests go on. */
void http_server_quiesce(struct http_server *s);
/* Waits up to grace_ms for in-flight requests, then stops the daemon. Returns the number of
 * requests still in flight when it gave up (0: all finished). */
int http_server_stop(struct http_server *s, int grace_ms);
void http_server_free(struct http_server *s);

/* --- the request (borrowed pointers live until the request completes) --- */
const char *http_req_method(const struct http_req *r);
const char *http_req_path(const struct http_req *r);
/* The matched pattern (also for a 405 or OPTIONS on a known path); "unmatched" otherwise. */
const char *http_req_route(const struct http_req *r);
const char *http_req_id(const struct http_req *r);
const char *http_req_param(const struct http_req *r, const char *name); /* path {name} */
const char *http_req_query(const struct http_req *r, const char *name); /* NULL when absent */
const char *http_req_header(const struct http_req *r, const char *name);
/* The client's address as text (the peer, or what HAAT_TRUSTED_PROXIES say in X-Forwarded-For:
 * the same address the access log shows); "" when unknown. For per-address limits. */
const char *http_req_client(const struct http_req *r);
json_t *http_req_json(const struct http_req *r); /* borrowed; the parsed JSON body or NULL */
const char *http_req_body(const struct http_req *r, size_t *len); /* raw body bytes */
/* The caller, or NULL on an anonymous request. */
const struct http_principal *http_req_principal(const struct http_req *r);
/* Sets the calling thread's log context (request id, trace id) to r's, for work done for r
 * on another thread (e.g. the password pool); NULL clears it. */
void http_req_log_context(const struct http_req *r);
/* Records the user for the access log (e.g. after login). */
void http_req_set_user(struct http_req *r, const char *user_id);
/* Memory freed with the request. */
void *http_req_alloc(struct http_req *r, size_t n);
/* A copy of s in request memory (http_req_alloc). */
char *http_req_keep_string(struct http_req *r, const char *s);
/* Frees the parsed JSON body and the raw body (wiped first) before the request ends: a
 * request that waits (e.g. for the password pool) keeps only the fields it copied out.
 * Afterwards http_req_json() is NULL and http_req_body() empty. */
void http_req_drop_body(struct http_req *r);

/* --- replies: exactly one per request --- */
void http_set_header(struct http_req *r, const char *name, const char *value); /* copied */
/* Location: the public base URL (http_server_opts.public_url) followed by path ("/v1/..."). */
void http_set_location(struct http_req *r, const char *path);
void http_reply_json(struct http_req *r, int status, json_t *body); /* steals body */
void http_reply_status(struct http_req *r, int status);             /* no body */
void http_reply_bytes(struct http_req *r, int status, const char *content_type, const void *body,
                      size_t len); /* body copied */
void http_reply_static(struct http_req *r, int status, const char *content_type, const void *body,
                       size_t len); /* body must outlive the program */
/* problem+json: {"type","title","status","detail","code","request_id"(,"errors")}. */
void http_reply_problem(struct http_req *r, int status, const char *code, const char *detail);
/* With errors[] (steals errors, a JSON array of {"field","message"}). */
void http_reply_problem_errors(struct http_req *r, int status, const char *code, const char *detail,
                               json_t *errors);
bool http_replied(const struct http_req *r);

/* --- deferred replies (the handler hands the work to another thread) ---
 * After http_req_defer() the handler returns without replying; another thread replies later
 * with http_reply_*(), which resumes the connection. */
void http_req_defer(struct http_req *r);

/* --- the request kit: what every handler does the same way (kit.c) --- */

/* The database connection a handler hands to its repository: the read connection for a query
 * route, the primary for a command route. This is the one place that chooses; repository
 * functions use the connection they are given. NULL when the database is unreachable. */
struct db_conn *http_req_db(struct http_req *r);
/* http_req_db, or replies 503 (http_reply_db) and returns NULL. */
struct db_conn *http_req_db_or_reply(struct http_req *r);

/* A database outcome other than DB_OK as a reply: DB_UNAVAILABLE and DB_RETRY (retries
 * exhausted) -> 503 service_unavailable with Retry-After; anything else -> 500 internal. */
void http_reply_db(struct http_req *r, enum db_status st);

/* 401 unauthorized with WWW-Authenticate: Bearer, plus error="invalid_token" (RFC 6750) when
 * the request carried a bearer token; detail NULL: "a valid access token is required". */
void http_reply_unauthorized(struct http_req *r, const char *detail);
/* 403 verification_required: the caller's phone is not verified yet. */
void http_reply_verification_required(struct http_req *r);
/* 429 rate_limited with Retry-After: seconds (at least 1). */
void http_reply_rate_limited(struct http_req *r, int seconds, const char *detail);

/* status (400 or 422) validation_failed with one errors[] entry {field, message}. */
void http_reply_field(struct http_req *r, int status, const char *field, const char *message);
/* 422 validation_failed with e's errors (e stays the caller's). */
void http_reply_invalid(struct http_req *r, const struct jsonh_errors *e);
/* True when e holds no error; otherwise replies as http_reply_invalid. Cleans e up. */
bool http_errors_or_reply(struct http_req *r, struct jsonh_errors *e);
/* Parses the JSON body against spec into out (jsonh_parse); replies 422 and returns false
 * when a field is invalid. */
bool http_parse_or_reply(struct http_req *r, const struct jsonh_field *spec, void *out);
/* The path parameter name when it is a UUID; otherwise replies 404 not_found ("no such
 * <what>", as for an unknown id) and returns NULL. */
const char *http_uuid_param_or_reply(struct http_req *r, const char *name, const char *what);

/* Runs a command: fn in one transaction on the primary (db_txn, reruns on serialization
 * failures included). fn performs the effect and builds the reply with http_reply_*() as
 * usual; inside http_txn that reply is held, and sent only once the transaction commits. When
 * the request carries an Idempotency-Key, the held reply is stored as the key's response in
 * the same transaction, so a key is completed together with its effect or not at all. A
 * rerun or a rollback drops the held reply and the headers fn set. Returns DB_OK when
 * committed (the reply is then sent), else fn's or COMMIT's status with nothing replied: the
 * handler answers (its own 4xx, or http_reply_db). Not nestable; not for query routes. */
enum db_status http_txn(struct http_req *r, db_txn_fn fn, void *arg);

/* Builds a problem body (new reference); used by the server and by the idempotency store. */
json_t *http_problem_new(int status, const char *code, const char *detail, const char *rid);
const char *http_status_title(int status);

#endif
