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

static bool begin(struct http_req *r, const char *key, void **ctx)
{
    if (!idem_key_valid(key)) {
        json_t *errs = json_pack("[{s:s,s:s}]", "field", "Idempotency-Key", "message",
                                 "must be 1 to 255 printable ASCII characters");
        http_reply_problem_errors(r, 400, "validation_failed", "bad Idempotency-Key", errs);
        return false;
    }
    char hash[IDEM_HASH_LEN];
    char *scope = http_req_alloc(r, SCOPE_LEN); /* kept for finish: freed with the request */
    request_hash(r, hash);
    scope_of(r, hash, scope);
    struct idem_stored stored = {0};
    switch (idem_begin(scope, key, hash, &stored)) {
    case IDEM_PROCEED:
        *ctx = scope;
        return true;
    case IDEM_REPLAY:
        http_set_header(r, "Idempotent-Replayed", "true");
        http_reply_bytes(r, stored.status, stored.content_type, stored.body, stored.len);
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
        http_set_header(r, "Retry-After", "1");
        http_reply_problem(r, 503, "service_unavailable", "the database is unavailable");
        return false;
    }
}

/* ctx: the scope begin claimed the key under. */
static void finish(struct http_req *r, const char *key, void *ctx, int status,
                   const char *content_type, const char *body, size_t len)
{
    const char *scope = ctx;
    if (status >= 500)
        idem_release(scope, key);
    else
        idem_complete(scope, key, status, content_type, body, len);
}

static const struct http_idem_hooks hooks = {begin, finish};

const struct http_idem_hooks *app_idem_hooks(void)
{
    return &hooks;
}
