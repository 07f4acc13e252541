/* chat — buyer-seller conversations about a product, their messages in real time, blocks
 * and reports (tables chat_*; migrations/0012_chat.sql).
 *
 * The only header other modules and internal/app include. Routes are listed in
 * docs/openapi.yaml (tag "chat"). Start-up (internal/app): chat_init(cfg) with the other
 * modules, chat_routes(router), then in every `haat serve` (workers or not)
 * chat_streams_start(cfg) before the HTTP server accepts requests; at shutdown the HTTP
 * server ends the open streams (http_server_stop), then chat_streams_stop(grace_ms). */
#ifndef HAAT_INTERNAL_CHAT_CHAT_H
#define HAAT_INTERNAL_CHAT_CHAT_H

#include <stdbool.h>

#include "pkg/config/config.h"
#include "pkg/http/router.h"

/* Registers the statements and reads the chat settings. Returns 0. */
int chat_init(const struct cfg *c);
/* Adds the module's command and query routes. */
void chat_routes(struct router *r);

/* The real-time side of this process: subscribes to the chat channel on the process's one
 * listener (pkg/listen, started here on cfg->database_url, the primary) and starts the
 * stream pump thread (reads new messages for open streams, heartbeats, presence). Returns 0,
 * or -1 (logged, nothing left running). */
int chat_streams_start(const struct cfg *c);
/* Stops the listener and the pump within grace_ms; true when both were joined. */
bool chat_streams_stop(int grace_ms);

/* For the admin module's GET /v1/admin/reports (behind its gate): answers a page of reports,
 * newest first, each with the reporter, the target and the snapshot of what was reported
 * (listing "chat.reports", cursors bound to the admin), on the request's read connection. */
void chat_list_reports(struct http_req *r);

#endif
