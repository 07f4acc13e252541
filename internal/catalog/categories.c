/* The categories (seeded by migrations/0003_catalog.sql, changed only by migrations), cached
 * for CACHE_TTL_MS: GET /v1/categories is answered from memory and product validation checks
 * category slugs without a round trip. The cache holds the response text and the categories;
 * it is loaded by its first caller and reloaded when stale by whichever caller finds it so,
 * on the connection that caller's request uses (the read connection for GET /v1/categories,
 * the primary for a product command). The reload runs outside the lock (two threads may
 * both reload; the last wins). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal/catalog/internal.h"
#include "pkg/clock/clock.h"

#define CACHE_TTL_MS (5 * 60 * 1000)

struct snapshot {
    char *body; /* {"items":[{"slug","name"}...]} */
    struct catalog_category *items;
    size_t n;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot cache;
static int64_t loaded_ms;
static bool loaded;

static void snapshot_free(struct snapshot *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].slug);
        free(s->items[i].name);
    }
    free(s->items);
    free(s->body);
    memset(s, 0, sizeof *s);
}

static enum db_status load(struct db_conn *c, struct snapshot *s)
{
    if (!c)
        return DB_UNAVAILABLE;
    enum db_status st = catalog_repo_categories(c, &s->items, &s->n);
    if (st != DB_OK)
        return st;
    json_t *items = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(
            items, json_pack("{s:s,s:s}", "slug", s->items[i].slug, "name", s->items[i].name));
    json_t *body = json_pack("{s:o}", "items", items); /* steals items */
    s->body = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    return DB_OK;
}

/* Makes the cache fresh (reloading when stale); DB_OK when it holds data. */
static enum db_status refresh(struct db_conn *c)
{
    pthread_mutex_lock(&mu);
    bool fresh = loaded && clock_mono_ns() / 1000000 - (uint64_t)loaded_ms < CACHE_TTL_MS;
    pthread_mutex_unlock(&mu);
    if (fresh)
        return DB_OK;
    struct snapshot s = {0};
    enum db_status st = load(c, &s);
    if (st != DB_OK) {
        snapshot_free(&s);
        return st;
    }
    pthread_mutex_lock(&mu);
    snapshot_free(&cache);
    cache = s;
    loaded_ms = (int64_t)(clock_mono_ns() / 1000000);
    loaded = true;
    pthread_mutex_unlock(&mu);
    return DB_OK;
}

json_t *catalog_categories_json(struct db_conn *c, enum db_status *st)
{
    *st = refresh(c);
    if (*st != DB_OK)
        return NULL;
    pthread_mutex_lock(&mu);
    json_t *j = json_loads(cache.body, 0, NULL);
    pthread_mutex_unlock(&mu);
    if (!j)
        *st = DB_ERROR;
    return j;
}

int catalog_category_exists(struct db_conn *c, const char *slug)
{
    if (refresh(c) != DB_OK)
        return -1;
    int found = 0;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < cache.n && !found; i++)
        found = strcmp(cache.items[i].slug, slug) == 0;
    pthread_mutex_unlock(&mu);
    return found;
}
