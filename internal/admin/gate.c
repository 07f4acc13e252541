/* The admin routes' rate limit: one token bucket per admin in this process, holding at most
 * HAAT_LIMIT_ADMIN_PER_MIN tokens and refilled at that many per minute. Admins are few, so a
 * small table with a lock is enough; when it is full the least recently used bucket is
 * reused (its admin starts again with a full bucket). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal/admin/internal.h"
#include "pkg/clock/clock.h"

#define BUCKETS 256

struct bucket {
    char admin[IDS_UUID_LEN]; /* "" when free */
    double tokens;
    uint64_t at_ns; /* last refill */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct bucket buckets[BUCKETS];
static double capacity = 120;

void admin_gate_configure(int per_min)
{
    pthread_mutex_lock(&lock);
    capacity = per_min > 0 ? per_min : 1;
    memset(buckets, 0, sizeof buckets);
    pthread_mutex_unlock(&lock);
}

static struct bucket *find(const char *admin, uint64_t now)
{
    struct bucket *oldest = &buckets[0];
    for (size_t i = 0; i < BUCKETS; i++) {
        if (strcmp(buckets[i].admin, admin) == 0)
            return &buckets[i];
        if (buckets[i].admin[0] == '\0' || buckets[i].at_ns < oldest->at_ns)
            oldest = &buckets[i];
        if (buckets[i].admin[0] == '\0')
            break;
    }
    snprintf(oldest->admin, sizeof oldest->admin, "%s", admin);
    oldest->tokens = capacity;
    oldest->at_ns = now;
    return oldest;
}

bool admin_gate_take(const char *admin_id, int *retry_after_s)
{
    uint64_t now = clock_mono_ns();
    pthread_mutex_lock(&lock);
    struct bucket *b = find(admin_id, now);
    double per_s = capacity / 60.0;
    b->tokens = fmin(capacity, b->tokens + (double)(now - b->at_ns) / 1e9 * per_s);
    b->at_ns = now;
    bool ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    else
        *retry_after_s = (int)ceil((1.0 - b->tokens) / per_s);
    pthread_mutex_unlock(&lock);
    return ok;
}
