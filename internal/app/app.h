/* app — wires the modules into one program: router, hooks, workers, lifecycle. */
#ifndef HAAT_INTERNAL_APP_APP_H
#define HAAT_INTERNAL_APP_APP_H

#include "pkg/config/config.h"
#include "pkg/http/router.h"

/* Each returns the process exit code. */
int app_serve(const struct cfg *c);
int app_worker(const struct cfg *c);
int app_migrate(const struct cfg *c);
/* `haat admin grant EMAIL`: argv holds the words after "admin". */
int app_admin(const struct cfg *c, int argc, char **argv);

/* Every route of the program (ops + modules), for the server and for the OpenAPI check.
 * Does not touch the database. */
struct router *app_router_new(void);

/* Where migrations live (HAAT_MIGRATIONS_DIR, default "migrations"). */
const char *app_migrations_dir(void);

#endif
