/* The admin module's start-up. */
#include "internal/admin/internal.h"

int admin_init(const struct cfg *c)
{
    (void)c;
    return 0;
}
