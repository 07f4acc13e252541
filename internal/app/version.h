/* version — the program's version, e.g. "3153816" or "v1.2.0-4-gabcdef-dirty" (git describe
 * of the checkout it was built from; "dev" outside a git checkout). Used by `haat version`
 * and by the haat_build_info metric, so the two always agree. */
#ifndef HAAT_INTERNAL_APP_VERSION_H
#define HAAT_INTERNAL_APP_VERSION_H

/* A static string, never NULL. */
const char *app_version(void);

#endif
