/* Private to pkg/http: the request context and the server, shared by its .c files. */
#ifndef HAAT_PKG_HTTP_INTERNAL_H
#define HAAT_PKG_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pkg/http/http.h"
#include "pkg/http/router.h"
#include "pkg/util/strbuf.h"

#define REQ_ID_MAX      64
#define REQ_MAX_HEADERS 8

struct arena_block {
    struct arena_block *next;
    max_align_t data[];
};

struct reply_header {
    char *name;
    char *value;
};

/* Origins that may read answers in a browser (cors.c). */
struct cors_policy {
    char **origins; /* exact origins, owned */
    size_t n;
    bool any; /* "*": any origin, on the public reads only */
};

/* A trusted reverse proxy's address (access.c). */
struct proxy_addr {
    int family; /* AF_INET, AF_INET6 */
    unsigned char a[16];
};

#define CONNS_BUCKETS 1024
struct conn_node;

struct http_server {
    struct MHD_Daemon *daemon;
    struct router *router;
    struct http_server_opts opts;
    http_auth_fn auth;
    const struct http_idem_hooks *idem;
    char *public_url; /* absolute base of Location headers, no trailing '/'; owned */
    atomic_int in_flight;
    atomic_bool streams_closed; /* stream.c: set by http_server_stop, refuses new streams */
    int port;
    struct cors_policy cors;
    struct proxy_addr *proxies; /* HAAT_TRUSTED_PROXIES; owned */
    size_t nproxies;
    /* conns.c: open connections per client address, and in all. */
    pthread_mutex_t conns_mu;
    struct conn_node *conns[CONNS_BUCKETS]; /* guarded by conns_mu */
    unsigned conns_total;                   /* guarded by conns_mu */
};

/* A reply built inside http_txn, not yet sent. body is owned when mem is MHD_RESPMEM_MUST_FREE. */
struct held_reply {
    bool set;
    int status;
    const char *content_type; /* static, or NULL */
    const char *body;
    size_t len;
    enum MHD_ResponseMemoryMode mem;
};

enum req_state { REQ_NEW, REQ_READING, REQ_DEFERRED, REQ_DONE };

struct http_req {
    struct http_server *srv;
    struct MHD_Connection *conn;
    const char *method; /* borrowed from MHD for the connection's life */
    char *path;         /* owned */
    struct router_match match;
    const struct http_route *route; /* NULL when unmatched */
    char request_id[REQ_ID_MAX + 1];
    char trace_id[33];   /* W3C trace id: the caller's, or a fresh one */
    char span_id[17];    /* this request's span, the parent of its outgoing calls */
    char trace_flags[3]; /* the caller's flags, "01" for a fresh trace */
    char client[46];     /* the client's address for the log ("" unknown) */
    size_t resp_bytes;   /* body bytes of the answer, as sent */
    uint64_t start_ns;
    const char *origin;      /* the Origin header, borrowed from MHD; NULL when absent */
    bool cors_preflight;     /* an OPTIONS preflight: cors_origin was decided for it */
    const char *cors_origin; /* the preflight's Access-Control-Allow-Origin, or NULL */

    struct strbuf body;
    unsigned long long drained; /* body bytes read and dropped after the answer was decided */
    int closed_status;          /* closed without an answer: the status logged (408) */
    json_t *json;               /* owned */

    struct http_principal who;
    bool authenticated;
    char user_id[IDS_UUID_LEN]; /* for the access log */
    const char *idem_key;       /* borrowed from MHD */
    void *idem_ctx;             /* what the begin hook left for the other hooks */
    bool idem_recorded;         /* the key's response was stored by the command's commit */

    /* Inside http_txn replies are held here until COMMIT (see held_reply). */
    bool holding;
    struct held_reply held;
    size_t held_mark; /* nheaders when http_txn began: later headers go with the held reply */

    struct reply_header headers[REQ_MAX_HEADERS];
    size_t nheaders;

    bool db_decided;          /* http_req_db chose db_target for this query (kit.c) */
    enum db_target db_target; /* where a consistency token sent this query */

    /* The reply. Guarded by lock once the request is deferred. */
    pthread_mutex_t lock;
    enum req_state state;
    bool suspended;
    struct MHD_Response *response;
    int status;

    struct arena_block *arena;
};

/* reply.c: sends the held reply (after COMMIT), or drops it and the headers set since
 * held_mark (rollback, rerun). */
void reply_release_held(struct http_req *r);
void reply_drop_held(struct http_req *r);
/* The value of a reply header set with http_set_header, or NULL. */
const char *reply_header(const struct http_req *r, const char *name);
void request_free(struct http_req *r);
/* The bearer token of the Authorization header, or NULL. */
const char *request_bearer(const struct http_req *r);

/* gzip.c: bodies of at least HTTP_GZIP_MIN bytes of a gzip_type are compressed when the
 * request's Accept-Encoding allows it. */
#define HTTP_GZIP_MIN 1024
bool gzip_type(const char *ctype);
bool gzip_accepted(const char *accept_encoding);
/* Replaces *body (and *len, *mem) with its gzip; a MUST_FREE body is freed, a PERSISTENT one
 * is compressed once and kept. Returns false, changing nothing, when compression would not
 * make it smaller. */
bool gzip_body(const char **body, size_t *len, enum MHD_ResponseMemoryMode *mem);

/* cache.c: the ETag computed for a read's 200 without one (etag, "" when none was needed),
 * and the status to send (304 when If-None-Match names the ETag). */
#define CACHE_ETAG_LEN 24
int cache_prepare(struct http_req *r, int status, const char *body, size_t len,
                  char etag[CACHE_ETAG_LEN]);
/* Adds that ETag and the Cache-Control the answer calls for (see cache.c) to resp. */
void cache_add_headers(const struct http_req *r, struct MHD_Response *resp, int status,
                       const char *etag);

/* access.c: the trusted proxies from a comma-separated list; r->client from the peer and
 * X-Forwarded-For; the access-log line. */
void access_init_proxies(struct http_server *s, const char *list);
/* An address from a sockaddr (family 0 when neither IPv4 nor IPv6, or NULL), from a
 * connection's peer, and whether it is a trusted proxy. */
void access_sockaddr(const struct sockaddr *sa, struct proxy_addr *a);
void access_peer(struct MHD_Connection *c, struct proxy_addr *a);
bool access_trusted(const struct http_server *s, const struct proxy_addr *a);
void access_client_address(struct http_req *r);
void access_log(const struct http_req *r, int status, double seconds);

/* conns.c: the accept-policy callback and the connection-closed notification that count
 * connections per client address (cls is the server). */
void conns_init(struct http_server *s);
void conns_cleanup(struct http_server *s);
enum MHD_Result conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void conns_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
                  enum MHD_ConnectionNotificationCode code);

/* cors.c: the policy parsed from a comma-separated list (see http_server_opts). */
void cors_init(struct cors_policy *p, const char *list);
void cors_cleanup(struct cors_policy *p);
bool cors_enabled(const struct cors_policy *p);
/* The 204 answer to OPTIONS on a known path: Allow, and for a preflight from an allowed
 * origin the Access-Control-Allow-* headers (added by cors_add_headers). */
void cors_reply_options(struct http_req *r);
/* Adds the CORS headers of r's answer to resp (nothing when r's origin may not read it). */
void cors_add_headers(const struct http_req *r, struct MHD_Response *resp);

/* reply.c: stores resp (taken over) as the reply with the request's headers (X-Request-ID,
 * traceparent, those set with http_set_header, CORS, Vary: Origin unless resp has a Vary),
 * resuming a deferred request's connection. */
void reply_set_response(struct http_req *r, int status, struct MHD_Response *resp);
/* stream.c: ends every event stream of srv and refuses new ones (http_server_stop). */
void stream_end_all(struct http_server *srv);

#endif
