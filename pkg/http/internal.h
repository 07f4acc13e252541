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

struct http_server {
    struct MHD_Daemon *daemon;
    struct router *router;
    struct http_server_opts opts;
    http_auth_fn auth;
    const struct http_idem_hooks *idem;
    atomic_int in_flight;
    int port;
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
    char trace_id[33];
    uint64_t start_ns;

    struct strbuf body;
    bool body_too_large;
    json_t *json; /* owned */

    struct http_principal who;
    bool authenticated;
    char user_id[IDS_UUID_LEN]; /* for the access log */
    const char *idem_key;       /* borrowed from MHD */
    void *idem_ctx;             /* what the begin hook left for finish */

    struct reply_header headers[REQ_MAX_HEADERS];
    size_t nheaders;

    /* The reply. Guarded by lock once the request is deferred. */
    pthread_mutex_t lock;
    enum req_state state;
    bool suspended;
    struct MHD_Response *response;
    int status;

    struct arena_block *arena;
};

void reply_queue_pending(struct http_req *r);
void request_free(struct http_req *r);

#endif
