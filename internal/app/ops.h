/* Ops endpoints at the root: health, readiness, metrics, the OpenAPI document and /docs. */
#ifndef HAAT_INTERNAL_APP_OPS_H
#define HAAT_INTERNAL_APP_OPS_H

#include <stdbool.h>

#include "pkg/http/router.h"

void ops_routes(struct router *r);
/* Once set, /readyz answers 503 (shutdown has begun). */
void ops_set_draining(void);
/* /openapi.json names url (HAAT_PUBLIC_URL) as its server from now on (the embedded document
 * names the development default). Call at start-up, before serving. */
void ops_set_public_url(const char *url);
/* Registers the process-wide gauges (db pool, outbox backlog, build info, process_*). */
void ops_metrics_init(const char *version);

#endif
