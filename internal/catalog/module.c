/* The catalog module's start-up: its statements. */
#include "internal/catalog/internal.h"

int catalog_init(const struct cfg *c)
{
    (void)c;
    catalog_repo_register();
    catalog_repo_register_search();
    catalog_repo_register_admin();
    return 0;
}
