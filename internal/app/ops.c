#include "internal/app/ops.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal/app/app.h"
#include "pkg/db/db.h"
#include "pkg/http/assets.h"
#include "pkg/metrics/metrics.h"
#include "pkg/outbox/outbox.h"

static atomic_bool draining;
/* The OpenAPI document as served: the embedded one with servers set to the public URL. */
static char *spec_json;
static size_t spec_len;
static const char *version_text = "dev"; /* what `haat version` prints */

static const char docs_html[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>haat API reference</title>"
    "<link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.svg\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<style>body{margin:0;padding:0}</style></head><body>"
    "<redoc spec-url=\"/openapi.json\"></redoc>"
    "<script src=\"/docs/redoc.standalone.js\"></script></body></html>\n";

void ops_set_draining(void)
{
    atomic_store(&draining, true);
}

static void healthz(struct http_req *r)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    http_reply_static(r, 200, "application/json; charset=utf-8", ok, sizeof ok - 1);
}

static const char *state_text(enum db_state st)
{
    return st == DB_STATE_UP ? "up" : "down";
}

static const char *migrations_text(enum db_migrations m)
{
    return m == DB_MIGRATIONS_CURRENT   ? "current"
           : m == DB_MIGRATIONS_PENDING ? "pending"
                                        : "unknown";
}

/* "This instance can serve": the read side answers and the migrations are current (a lost
 * primary alone keeps it in the balancer: commands answer 503, queries go on). The health
 * prober's cached findings, so the answer never waits on the database. */
static void readyz(struct http_req *r)
{
    struct db_health h;
    db_health_get(&h);
    bool draining_now = atomic_load(&draining);
    json_t *checks = json_pack("{s:s,s:s,s:s}", "primary", state_text(h.primary), "read",
                               state_text(h.read), "migrations", migrations_text(h.migrations));
    bool ready = !draining_now && h.read == DB_STATE_UP && h.migrations == DB_MIGRATIONS_CURRENT;
    if (ready) {
        http_reply_json(r, 200, json_pack("{s:s,s:o}", "status", "ready", "checks", checks));
        return;
    }
    const char *why = draining_now                            ? "shutting down"
                      : h.read != DB_STATE_UP                 ? "the read database is unreachable"
                      : h.migrations == DB_MIGRATIONS_PENDING ? "migrations are pending"
                                                              : "migrations not yet checked";
    json_t *p = http_problem_new(503, "service_unavailable", why, http_req_id(r));
    json_object_set_new(p, "checks", checks);
    http_set_header(r, "Retry-After", "1");
    char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    http_reply_bytes(r, 503, "application/problem+json; charset=utf-8", s, strlen(s));
    free(s);
}

/* A scrape reads the outbox backlog: it must not wait long on a database in trouble. */
#define METRICS_DB_DEADLINE_MS 500

static void metrics(struct http_req *r)
{
    size_t len = 0;
    db_thread_deadline_ms(METRICS_DB_DEADLINE_MS);
    char *text = metrics_render(&len);
    db_thread_deadline_ms(0);
    http_reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static void set_public_url(const char *url)
{
    json_t *spec = json_loadb(http_asset_openapi_json, http_asset_openapi_json_len, 0, NULL);
    if (!spec || !url || !*url) {
        json_decref(spec);
        return;
    }
    json_object_set_new(spec, "servers",
                        json_pack("[{s:s,s:s}]", "url", url, "description", "this server"));
    char *text = json_dumps(spec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(spec);
    if (!text)
        return;
    free(spec_json);
    spec_json = text;
    spec_len = strlen(text);
}

static void openapi(struct http_req *r)
{
    if (spec_json)
        http_reply_static(r, 200, "application/json; charset=utf-8", spec_json, spec_len);
    else
        http_reply_static(r, 200, "application/json; charset=utf-8", http_asset_openapi_json,
                          http_asset_openapi_json_len);
}

/* GET /v1: what this is and where its reference is. */
static void api_root(struct http_req *r)
{
    http_reply_json(r, 200,
                    json_pack("{s:s,s:s,s:s,s:s}", "name", "haat", "version", version_text, "docs",
                              "/docs", "openapi", "/openapi.json"));
}

static void favicon(struct http_req *r)
{
    http_set_header(r, "Cache-Control", "public, max-age=86400");
    http_reply_static(r, 200, "image/svg+xml", http_asset_favicon_svg, http_asset_favicon_svg_len);
}

static void docs(struct http_req *r)
{
    http_reply_static(r, 200, "text/html; charset=utf-8", docs_html, sizeof docs_html - 1);
}

static void redoc_js(struct http_req *r)
{
    http_set_header(r, "Cache-Control", "public, max-age=86400");
    http_reply_static(r, 200, "application/javascript; charset=utf-8", http_asset_redoc_js,
                      http_asset_redoc_js_len);
}

static const struct http_route routes[] = {
    {"GET", "/v1", api_root, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/healthz", healthz, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/readyz", readyz, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/openapi.json", openapi, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/docs", docs, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/docs/redoc.standalone.js", redoc_js, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/favicon.svg", favicon, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/favicon.ico", favicon, HTTP_AUTH_NONE, 0,
     HTTP_BODY_DEFAULT}, /* what browsers ask for unprompted */
};

static const struct http_route metrics_route[] = {
    {"GET", "/metrics", metrics, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
};

/* The ops listener (HAAT_OPS_ADDR): health, readiness and metrics only. */
static const struct http_route listener_routes[] = {
    {"GET", "/healthz", healthz, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/readyz", readyz, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
    {"GET", "/metrics", metrics, HTTP_AUTH_NONE, 0, HTTP_BODY_DEFAULT},
};

void ops_routes(struct router *r, bool with_metrics)
{
    router_add(r, HTTP_QUERIES, routes, sizeof routes / sizeof routes[0]);
    if (with_metrics)
        router_add(r, HTTP_QUERIES, metrics_route, 1);
}

struct router *ops_listener_router(void)
{
    struct router *r = router_new();
    router_add(r, HTTP_QUERIES, listener_routes,
               sizeof listener_routes / sizeof listener_routes[0]);
    return r;
}

static double gauge_db_connections(void *arg)
{
    (void)arg;
    return db_open_connections();
}

static double gauge_outbox_pending(void *arg)
{
    (void)arg;
    long long n = 0;
    return outbox_pending(&n) == DB_OK ? (double)n : -1;
}

static double gauge_replica_lag(void *arg)
{
    (void)arg;
    return db_replica_lag_seconds();
}

static void metrics_init(const char *version)
{
    metrics_gauge_fn("db_replica_lag_seconds",
                     "Replay lag of the read database in seconds (0 when it is a primary or "
                     "caught up; -1 when it does not answer).",
                     gauge_replica_lag, NULL);
    metrics_gauge_fn("db_pool_connections", "Open PostgreSQL connections of this process.",
                     gauge_db_connections, NULL);
    metrics_gauge_fn("outbox_pending_events", "Domain events not yet processed.",
                     gauge_outbox_pending, NULL);
    metrics_build_info(version);
    metrics_process_init();
}

void ops_init(const char *version, const char *public_url)
{
    version_text = version;
    metrics_init(version);
    set_public_url(public_url);
}
