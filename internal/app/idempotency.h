/* The HTTP side of Idempotency-Key (docs/architecture.md, "Idempotency"): hooks for pkg/http backed
 * by the pkg/idem store (internal/app/housekeeping.c purges expired keys). */
#ifndef HAAT_INTERNAL_APP_IDEMPOTENCY_H
#define HAAT_INTERNAL_APP_IDEMPOTENCY_H

#include "pkg/http/http.h"

const struct http_idem_hooks *app_idem_hooks(void);

#endif
