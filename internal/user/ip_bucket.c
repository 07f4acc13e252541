/* The per-address token bucket in front of the password pool and the code routes: every
 * client address may spend HAAT_LIMIT_AUTH_PER_IP_MIN requests a minute on signup, login, OTP
 * requests and checks and password resets, refilled continuously; beyond, 429 rate_limited
 * with Retry-After, before any hashing or database work, so a flooding address cannot take
 * the pool from everyone else.
 *
 * In-process (per instance), deliberately: the bucket protects this process's pool, is
 * consulted on the hot path of a flood (no database round trip to refuse a request) and loses
 * nothing that matters on a restart. The limits that must hold across instances (SMS and email
 * budgets, login failures, OTP failures) are in PostgreSQL.
 *
 * A fixed table of BUCKETS slots in STRIPES mutex-guarded stripes: an address probes PROBE
 * slots from its hash and takes its own slot, else one whose bucket has refilled (equivalent
 * to a fresh one), else the least recently used (an attacker rotating addresses can only
 * evict buckets, i.e. give others a fresh allowance, never take one away). */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/clock/clock.h"

#define BUCKETS 8192
#define STRIPES 64
#define PROBE   4

struct bucket {
    char addr[48];
    double tokens;
    int64_t at_ms; /* last refill */
};

static struct bucket buckets[BUCKETS];
static pthread_mutex_t stripes[STRIPES];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int per_min = 30;
static unsigned char hash_key[crypto_shorthash_KEYBYTES];

static void init_stripes(void)
{
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&stripes[i], NULL);
    randombytes_buf(hash_key, sizeof hash_key);
}

void user_ip_bucket_configure(int requests_per_min)
{
    pthread_once(&once, init_stripes);
    per_min = requests_per_min > 0 ? requests_per_min : 1;
    memset(buckets, 0, sizeof buckets);
}

static void refill(struct bucket *b, int64_t now_ms, double cap)
{
    double rate = cap / 60000.0; /* tokens per ms */
    if (now_ms > b->at_ms)
        b->tokens += (double)(now_ms - b->at_ms) * rate;
    if (b->tokens > cap)
        b->tokens = cap;
    b->at_ms = now_ms;
}

/* The slot of addr among its PROBE candidates (under the stripe's lock). */
static struct bucket *slot_for(size_t base, const char *addr, int64_t now_ms, double cap)
{
    struct bucket *lru = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        struct bucket *b = &buckets[(base + i) % BUCKETS];
        if (b->addr[0] && strcmp(b->addr, addr) == 0)
            return b;
    }
    for (size_t i = 0; i < PROBE; i++) {
        struct bucket *b = &buckets[(base + i) % BUCKETS];
        if (b->addr[0])
            refill(b, now_ms, cap);
        if (!b->addr[0] || b->tokens >= cap) {
            lru = b;
            break;
        }
        if (!lru || b->at_ms < lru->at_ms)
            lru = b;
    }
    snprintf(lru->addr, sizeof lru->addr, "%s", addr);
    lru->tokens = cap;
    lru->at_ms = now_ms;
    return lru;
}

int user_ip_bucket_take(const char *addr)
{
    pthread_once(&once, init_stripes);
    if (!addr || !*addr)
        return 0; /* no address (a unix socket, a test double): nothing to count against */
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)addr, strlen(addr), hash_key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    /* A stripe covers whole probe windows, so one lock guards every slot addr may use. */
    size_t window = (size_t)(v % (BUCKETS / PROBE));
    size_t base = window * PROBE;
    pthread_mutex_t *m = &stripes[window % STRIPES];
    double cap = (double)per_min;
    int64_t now_ms = (int64_t)(clock_mono_ns() / 1000000u);
    int wait = 0;
    pthread_mutex_lock(m);
    struct bucket *b = slot_for(base, addr, now_ms, cap);
    refill(b, now_ms, cap);
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
    } else {
        double ms = (1.0 - b->tokens) / (cap / 60000.0);
        wait = (int)(ms / 1000.0) + 1;
    }
    pthread_mutex_unlock(m);
    return wait;
}

bool user_ip_allow_or_reply(struct http_req *r)
{
    int wait = user_ip_bucket_take(http_req_client(r));
    if (wait == 0)
        return true;
    http_reply_rate_limited(r, wait, "too many requests from this address; try again later");
    return false;
}
