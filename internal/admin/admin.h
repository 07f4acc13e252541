/* admin — the operators' HTTP door (the /v1/admin routes): the route table and thin handlers. It
 * owns no table: every effect lives in the module that owns the data, behind a public function that
 * takes the handler's connection (order.h for disputes, payment.h for revenue), so the change
 * and its audit row commit together in that module's rules. HTTP routes are listed in
 * docs/openapi.yaml (tag "admin"); every route needs the admin role. */
#ifndef HAAT_INTERNAL_ADMIN_ADMIN_H
#define HAAT_INTERNAL_ADMIN_ADMIN_H

#include "pkg/config/config.h"
#include "pkg/http/router.h"

/* Start-up (nothing to register yet: the admin module has no statements). Returns 0. */
int admin_init(const struct cfg *c);

/* Adds the admin module's command and query routes. */
void admin_routes(struct router *r);

#endif
