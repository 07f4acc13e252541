/* Ops endpoints: health, readiness, metrics, the OpenAPI document, /docs, the favicon, and
 * the API's front door GET /v1. */
#ifndef HAAT_INTERNAL_APP_OPS_H
#define HAAT_INTERNAL_APP_OPS_H

#include <stdbool.h>

#include "pkg/http/router.h"

/* The ops routes of the API listener; /metrics only with_metrics (no ops listener). */
void ops_routes(struct router *r, bool with_metrics);
/* A router for the ops listener (HAAT_OPS_ADDR): /healthz, /readyz, /metrics. */
struct router *ops_listener_router(void);
/* Once set, /readyz answers 503 (shutdown has begun). */
void ops_set_draining(void);
/* At start-up, before serving: registers the process-wide metrics (db pool, outbox backlog,
 * build info, process_*); GET /v1 names version (borrowed, static); /openapi.json names
 * public_url (HAAT_PUBLIC_URL) as its server (the embedded document names the development
 * default). */
void ops_init(const char *version, const char *public_url);

#endif
