/* The catalog module's start-up: statements, cursor key. */
#include <sodium.h>
#include <string.h>

#include "internal/catalog/internal.h"
#include "pkg/log/log.h"

int catalog_init(const struct cfg *c)
{
    if (sodium_init() < 0) {
        log_error("catalog_init", "libsodium could not start");
        return -1;
    }
    const char *secret = c && c->jwt_secret ? c->jwt_secret : "";
    catalog_cursor_set_secret(secret, strlen(secret));
    catalog_repo_register();
    catalog_repo_register_search();
    return 0;
}
