/* The product read cache: the public GET /v1/products/{id} answer (rendered JSON and its
 * version, the ETag), in process, bounded by entries and by bytes, least recently used out.
 *
 * Invalidation: every product-changing repository path calls catalog_product_changed() in
 * its transaction, which NOTIFYs CATALOG_CHANNEL with "<id> <version>"; the process's one
 * listener (pkg/listen) delivers it to catalog_cache_invalidate(), which replaces the entry by
 * a tombstone holding that version. A fill (after a miss read on the read connection, which
 * may be a lagging replica) is refused when the entry or tombstone already knows a newer
 * version, or when anything that forgets versions (a clear, a tombstone evicted) happened
 * since the miss began (the ticket): the cache never keeps a value older than an invalidation
 * it has seen. After the listener (re)connects the whole cache is dropped: notifications sent
 * while it was away are lost.
 *
 * One mutex; a hit copies the body out under it (a product is ~1 KB). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal/catalog/internal.h"
#include "pkg/listen/listen.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"
#include "pkg/util/xalloc.h"

#define NBUCKETS_MIN 64

struct entry {
    char id[IDS_UUID_LEN];
    long long version;
    char *body; /* NULL: a tombstone (the version an invalidation named) */
    size_t len;
    struct entry *next_hash;
    struct entry *prev, *next; /* LRU list, most recent first */
};

static struct {
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t nbuckets, count, bytes, max_entries, max_bytes;
    struct entry *head, *tail;
    uint64_t epoch; /* bumped by everything that forgets versions */
    bool on;
    bool need_listener; /* serve: only while the listener listens (else changes go unseen) */
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct metrics_counter *m_hit, *m_miss, *m_evict, *m_inval, *m_clear;

static size_t cost(const struct entry *e)
{
    return sizeof *e + e->len;
}

/* FNV-1a of the (lower-case) id. */
static size_t bucket_of(const char *id)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 0x100000001b3u;
    return (size_t)(h % cache.nbuckets);
}

/* id lower-cased into key (ids are UUIDs: a request may spell them in upper case). */
static bool make_key(const char *id, char key[IDS_UUID_LEN])
{
    size_t n = strlen(id);
    if (n != IDS_UUID_LEN - 1)
        return false;
    for (size_t i = 0; i <= n; i++)
        key[i] = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] + 32 : id[i]);
    return true;
}

static struct entry *find(const char *key)
{
    for (struct entry *e = cache.buckets[bucket_of(key)]; e; e = e->next_hash)
        if (strcmp(e->id, key) == 0)
            return e;
    return NULL;
}

static void lru_unlink(struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        cache.head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        cache.tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(struct entry *e)
{
    e->next = cache.head;
    if (cache.head)
        cache.head->prev = e;
    cache.head = e;
    if (!cache.tail)
        cache.tail = e;
}

static void drop(struct entry *e)
{
    struct entry **p = &cache.buckets[bucket_of(e->id)];
    while (*p != e)
        p = &(*p)->next_hash;
    *p = e->next_hash;
    lru_unlink(e);
    cache.count--;
    cache.bytes -= cost(e);
    free(e->body);
    free(e);
}

/* Sets e's body (NULL: tombstone), keeping the byte count. */
static void set_body(struct entry *e, long long version, const char *body, size_t len)
{
    cache.bytes -= cost(e);
    free(e->body);
    e->body = NULL;
    if (body) {
        e->body = xmalloc(len);
        memcpy(e->body, body, len);
    }
    e->len = body ? len : 0;
    e->version = version;
    cache.bytes += cost(e);
}

static struct entry *insert(const char *key)
{
    struct entry *e = xcalloc(1, sizeof *e);
    memcpy(e->id, key, IDS_UUID_LEN);
    size_t b = bucket_of(key);
    e->next_hash = cache.buckets[b];
    cache.buckets[b] = e;
    lru_push(e);
    cache.count++;
    cache.bytes += cost(e);
    return e;
}

/* Whether the cache may answer or be filled now. Under the lock. */
static bool usable(void)
{
    return cache.on && (!cache.need_listener || listen_connected());
}

/* Evicts from the cold end until both bounds hold (keep: never evicted). */
static void shrink(const struct entry *keep)
{
    while (cache.tail && (cache.count > cache.max_entries || cache.bytes > cache.max_bytes)) {
        struct entry *e = cache.tail == keep ? keep->prev : cache.tail;
        if (!e)
            break;
        if (!e->body)
            cache.epoch++; /* a forgotten tombstone: fills begun before it are refused */
        drop(e);
        metrics_counter_inc(m_evict, NULL);
    }
}

static void clear_locked(void)
{
    while (cache.head)
        drop(cache.head);
    cache.epoch++;
}

/* Scrape-time gauges (the registry calls them with its lock held, never ours). */
static double gauge_bytes(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&cache.mu);
    double v = (double)cache.bytes;
    pthread_mutex_unlock(&cache.mu);
    return v;
}

static double gauge_entries(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&cache.mu);
    double v = (double)cache.count;
    pthread_mutex_unlock(&cache.mu);
    return v;
}

void catalog_cache_configure(size_t max_entries, size_t max_bytes)
{
    metrics_gauge_fn("haat_product_cache_bytes",
                     "Bytes the product cache holds (bodies and bookkeeping)", gauge_bytes, NULL);
    metrics_gauge_fn("haat_product_cache_entries", "Products (and tombstones) in the cache",
                     gauge_entries, NULL);
    m_hit = metrics_counter_new("haat_product_cache_hits_total",
                                "Product GETs answered from the in-process cache", 0, NULL);
    m_miss = metrics_counter_new("haat_product_cache_misses_total",
                                 "Cacheable product GETs that read the database", 0, NULL);
    m_evict = metrics_counter_new("haat_product_cache_evictions_total",
                                  "Product cache entries evicted by its bounds", 0, NULL);
    m_inval = metrics_counter_new("haat_product_cache_invalidations_total",
                                  "Product change notifications received", 0, NULL);
    m_clear = metrics_counter_new("haat_product_cache_clears_total",
                                  "Whole product cache drops (listener (re)connected)", 0, NULL);
    pthread_mutex_lock(&cache.mu);
    if (cache.buckets)
        clear_locked();
    free(cache.buckets);
    cache.max_entries = max_entries;
    cache.max_bytes = max_bytes;
    cache.nbuckets = max_entries > NBUCKETS_MIN ? max_entries : NBUCKETS_MIN;
    cache.buckets = xcalloc(cache.nbuckets, sizeof *cache.buckets);
    cache.on = max_entries > 0 && max_bytes > 0;
    cache.need_listener = false;
    pthread_mutex_unlock(&cache.mu);
}

void catalog_cache_cleanup(void)
{
    pthread_mutex_lock(&cache.mu);
    if (cache.buckets)
        clear_locked();
    free(cache.buckets);
    cache.buckets = NULL;
    cache.on = false;
    pthread_mutex_unlock(&cache.mu);
}

bool catalog_cache_get(const char *id, struct strbuf *out, long long *version, uint64_t *ticket)
{
    char key[IDS_UUID_LEN];
    bool hit = false;
    pthread_mutex_lock(&cache.mu);
    *ticket = cache.epoch;
    bool on = usable();
    struct entry *e = on && make_key(id, key) ? find(key) : NULL;
    if (e && e->body) {
        strbuf_append(out, e->body, e->len);
        *version = e->version;
        lru_unlink(e);
        lru_push(e);
        hit = true;
    }
    pthread_mutex_unlock(&cache.mu);
    if (on)
        metrics_counter_inc(hit ? m_hit : m_miss, NULL);
    return hit;
}

bool catalog_cache_put(const char *id, long long version, const char *body, size_t len,
                       uint64_t ticket)
{
    char key[IDS_UUID_LEN];
    bool kept = false;
    pthread_mutex_lock(&cache.mu);
    if (usable() && ticket == cache.epoch && make_key(id, key) &&
        sizeof(struct entry) + len <= cache.max_bytes) {
        struct entry *e = find(key);
        if (!e || e->version < version || (e->version == version && !e->body)) {
            /* A tombstone naming this very version: the notified change is what was read. */
            if (!e)
                e = insert(key);
            set_body(e, version, body, len);
            shrink(e);
            kept = true;
        }
    }
    pthread_mutex_unlock(&cache.mu);
    return kept;
}

void catalog_cache_invalidate(const char *id, long long version)
{
    char key[IDS_UUID_LEN];
    pthread_mutex_lock(&cache.mu);
    if (cache.on && make_key(id, key)) {
        metrics_counter_inc(m_inval, NULL);
        struct entry *e = find(key);
        if (!e)
            e = insert(key);
        if (e->version <= version || e->body)
            set_body(e, e->version > version ? e->version : version, NULL, 0);
        shrink(e);
    }
    pthread_mutex_unlock(&cache.mu);
}

void catalog_cache_clear(void)
{
    pthread_mutex_lock(&cache.mu);
    if (cache.buckets) {
        metrics_counter_inc(m_clear, NULL);
        clear_locked();
    }
    pthread_mutex_unlock(&cache.mu);
}

/* A NOTIFY on CATALOG_CHANNEL: "<product id> <version>". */
static void on_changed(const char *channel, const char *payload, void *arg)
{
    (void)channel;
    (void)arg;
    char id[IDS_UUID_LEN];
    long long version;
    if (sscanf(payload, "%36s %lld", id, &version) != 2) {
        log_warn("catalog_bad_notify", "catalog: unexpected notification payload");
        catalog_cache_clear(); /* cannot tell which product: forget them all */
        return;
    }
    catalog_cache_invalidate(id, version);
}

static void on_reconnect(void *arg)
{
    (void)arg;
    catalog_cache_clear();
}

int catalog_cache_start(const struct cfg *c)
{
    catalog_cache_configure((size_t)c->product_cache_entries,
                            (size_t)c->product_cache_mb * 1024 * 1024);
    if (c->product_cache_entries == 0)
        return 0;
    if (listen_subscribe(CATALOG_CHANNEL, on_changed, NULL) != 0 ||
        listen_on_reconnect(on_reconnect, NULL) != 0)
        return -1;
    pthread_mutex_lock(&cache.mu);
    cache.need_listener = true;
    pthread_mutex_unlock(&cache.mu);
    return 0;
}

void catalog_cache_stop(void)
{
    catalog_cache_cleanup();
}
