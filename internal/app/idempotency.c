#include "internal/app/idempotency.h"

#include <stdio.h>
#include <string.h>

#include "pkg/idem/idem.h"

#define SCOPE_LEN (IDS_UUID_LEN + IDEM_HASH_LEN + 160)

/* Keys are scoped by caller and route. An authenticated caller's keys are its own. Anonymous
 * callers (signup, login) cannot be told apart, so their scope also carries the request hash:
 * a replay then needs the very same body, and one client can never be handed another's
 * response (the cost: "same key, other body" is not detected for anonymous requests). */
static void scope_of(const struct http_req *r, const char *hash, char out[SCOPE_LEN])
{
    const struct http_principal *who = http_req_principal(r);
    if (who)
        snprintf(out, SCOPE_LEN, "%s %s %s", who->user_id, http_req_method(r), http_req_route(r));
    else
        snprintf(out, SCOPE_LEN, "anon:%s %s %s", hash, http_req_method(r), http_req_route(r));
}

/* The request's fingerprint covers the concrete path, not just the route pattern: the same key
 * and body sent to another product (another {id}) is a different request (422), never a
 * replay of the first product's answer. */
static void request_hash(const struct http_req *r, char hash[IDEM_HASH_LEN])
{
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    idem_hash(http_req_method(r), http_req_path(r), body, len, hash);
}

/* What begin claimed the key under, for the other hooks (in request memory). */
struct claim {
    char scope[SCOPE_LEN];
    char id[IDEM_CLAIM_LEN];
};

static void reply_replay(struct http_req *r, const struct idem_stored *s)
{
    http_set_header(r, "Idempotent-Replayed", "true");
    if (s->location)
        http_set_header(r, "Location", s->location);
    if (s->etag)
        http_set_header(r, "ETag", s->etag);
    http_reply_bytes(r, s->status, s->content_type, s->body, s->len);
}

/* The key's syntax was checked by the server before this hook runs. */
static bool begin(struct http_req *r, const char *key, void **ctx)
{
    char hash[IDEM_HASH_LEN];
    struct claim *cl = http_req_alloc(r, sizeof *cl); /* freed with the request */
    request_hash(r, hash);
    scope_of(r, hash, cl->scope);
    struct idem_stored stored = {0};
    switch (idem_begin(cl->scope, key, hash, cl->id, &stored)) {
    case IDEM_PROCEED:
        *ctx = cl;
        return true;
    case IDEM_REPLAY:
        reply_replay(r, &stored);
        idem_stored_cleanup(&stored);
        return false;
    case IDEM_MISMATCH:
        http_reply_problem(r, 422, "idempotency_key_reused",
                           "this Idempotency-Key was used with a different request");
        return false;
    case IDEM_IN_PROGRESS:
        http_set_header(r, "Retry-After", "1");
        http_reply_problem(r, 409, "idempotency_in_progress",
                           "the first request with this Idempotency-Key is still running");
        return false;
    case IDEM_UNAVAILABLE:
    default:
        http_reply_db(r, DB_UNAVAILABLE);
        return false;
    }
}

static enum db_status complete_txn(struct http_req *r, struct db_conn *c, const char *key,
                                   void *ctx, const struct http_reply_view *v)
{
    const struct claim *cl = ctx;
    struct idem_response resp = {v->status, v->content_type, v->body, v->len, v->location, v->etag};
    return idem_complete_txn(c, cl->scope, key, cl->id, &resp);
}

/* A reply no command transaction recorded committed nothing (a validation error, a conflict,
 * a 5xx): the key is released, so a retry with it runs again — there is nothing to replay. */
static void finish(struct http_req *r, const char *key, void *ctx, const struct http_reply_view *v)
{
    const struct claim *cl = ctx;
    idem_release(cl->scope, key, cl->id);
}

static const struct http_idem_hooks hooks = {begin, complete_txn, finish};

const struct http_idem_hooks *app_idem_hooks(void)
{
    return &hooks;
}
