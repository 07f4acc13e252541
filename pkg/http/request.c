/* Request accessors and per-request memory. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/http/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

const char *http_req_method(const struct http_req *r)
{
    return r->method;
}

const char *http_req_path(const struct http_req *r)
{
    return r->path;
}

const char *http_req_route(const struct http_req *r)
{
    /* A known path answered 405 or OPTIONS is labelled with its pattern too. */
    return r->route ? r->route->pattern : r->match.pattern ? r->match.pattern : "unmatched";
}

const char *http_req_id(const struct http_req *r)
{
    return r->request_id;
}

const char *http_req_param(const struct http_req *r, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < r->match.nparams; i++) {
        const struct router_param *p = &r->match.params[i];
        if (p->name_len == len && memcmp(p->name, name, len) == 0)
            return p->value;
    }
    return NULL;
}

const char *http_req_query(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_header(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *request_bearer(const struct http_req *r)
{
    const char *h = http_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

json_t *http_req_json(const struct http_req *r)
{
    return r->json;
}

const char *http_req_body(const struct http_req *r, size_t *len)
{
    if (len)
        *len = r->body.len;
    return r->body.buf ? r->body.buf : "";
}

char *http_req_keep_string(struct http_req *r, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = http_req_alloc(r, n);
    memcpy(copy, s, n);
    return copy;
}

void http_req_drop_body(struct http_req *r)
{
    json_decref(r->json);
    r->json = NULL;
    if (r->body.buf)
        sodium_memzero(r->body.buf, r->body.cap);
    strbuf_cleanup(&r->body);
    strbuf_init(&r->body);
}

const struct http_principal *http_req_principal(const struct http_req *r)
{
    return r->authenticated ? &r->who : NULL;
}

void http_req_log_context(const struct http_req *r)
{
    log_set_request_id(r ? r->request_id : NULL);
    log_set_trace_id(r ? r->trace_id : NULL);
}

void http_req_set_user(struct http_req *r, const char *user_id)
{
    snprintf(r->user_id, sizeof r->user_id, "%s", user_id ? user_id : "");
}

void *http_req_alloc(struct http_req *r, size_t n)
{
    struct arena_block *b = xcalloc(1, sizeof *b + n);
    b->next = r->arena;
    r->arena = b;
    return b->data;
}

void request_free(struct http_req *r)
{
    if (!r)
        return;
    while (r->arena) {
        struct arena_block *next = r->arena->next;
        free(r->arena);
        r->arena = next;
    }
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    if (r->response)
        MHD_destroy_response(r->response);
    if (r->held.set && r->held.mem == MHD_RESPMEM_MUST_FREE)
        free((void *)(uintptr_t)r->held.body);
    json_decref(r->json);
    strbuf_cleanup(&r->body);
    pthread_mutex_destroy(&r->lock);
    free(r->path);
    free(r);
}
