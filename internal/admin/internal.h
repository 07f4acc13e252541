/* Private to internal/admin: the handlers of its routes (one use case a file). */
#ifndef HAAT_INTERNAL_ADMIN_INTERNAL_H
#define HAAT_INTERNAL_ADMIN_INTERNAL_H

#include "internal/admin/admin.h"
#include "pkg/http/http.h"

#define ADMIN_NOTE_MAX 500

/* ---- handlers (commands/, queries/; tables and admin_routes in routes.c) ---------------- */

void admin_resolve_dispute(struct http_req *r);
void admin_list_disputes(struct http_req *r);
void admin_get_revenue(struct http_req *r);

#endif
