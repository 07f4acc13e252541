#include "internal/app/housekeeping.h"

#include "internal/notification/notification.h"
#include "internal/user/user.h"
#include "pkg/idem/idem.h"
#include "pkg/jobs/jobs.h"
#include "pkg/log/log.h"
#include "pkg/outbox/outbox.h"

#define EVERY_MS (10 * 60 * 1000)

struct purge {
    const char *what;
    long long (*fn)(void); /* rows deleted, or -1 (the function logs why) */
};

static const struct purge purges[] = {
    {"idempotency keys", idem_purge_expired},
    {"expired OTPs, throttles and refresh tokens", user_purge_expired},
    {"accounts nobody verified within 7 days", user_purge_unverified},
    {"processed outbox events", outbox_purge_processed},
    {"old notifications", notify_purge_expired},
};

/* One pass over every purge; a failing one does not stop the others. */
static int run(void *arg)
{
    (void)arg;
    int failed = 0;
    for (size_t i = 0; i < sizeof purges / sizeof purges[0]; i++) {
        long long n = purges[i].fn();
        if (n < 0)
            failed = 1;
        else if (n > 0)
            log_info("housekeeping", "purged %lld %s", n, purges[i].what);
    }
    return failed ? -1 : 0;
}

int housekeeping_register(void)
{
    static const struct jobs_spec spec = {
        .name = "housekeeping", .run = run, .idle_ms = EVERY_MS, .threads = 1};
    return jobs_register(&spec);
}
