/* admin_init: the module's statements (and pkg/audit's) and the gate's setting. */
#include "internal/admin/internal.h"
#include "pkg/audit/audit.h"

int admin_init(const struct cfg *c)
{
    static bool registered;
    if (!registered) { /* the statement registry takes a table once */
        admin_repo_register();
        registered = true;
    }
    audit_init();
    admin_gate_configure(c->limit_admin_per_min);
    return 0;
}
