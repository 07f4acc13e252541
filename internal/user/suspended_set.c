/* The set of recently suspended user ids that the auth hook consults (pure data structure, no
 * locks, no database): an immutable array of 16-byte ids sorted for binary search. A set is
 * built once, published by auth_cache.c and never changed afterwards, so any number of
 * threads may search it at once. */
#include <stdlib.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/util/xalloc.h"

struct user_suspended_set {
    size_t n;
    struct user_suspension v[]; /* sorted by id, no duplicates */
};

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (unsigned char)(ch | 0x20); /* ASCII lower case */
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

bool user_uuid_parse(const char *s, unsigned char out[USER_UUID_BYTES])
{
    if (!s)
        return false;
    size_t k = 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
            continue;
        }
        int hi = hexval((unsigned char)s[i]);
        int lo = hi < 0 ? -1 : hexval((unsigned char)s[i + 1]);
        if (lo < 0)
            return false;
        out[k++] = (unsigned char)(hi << 4 | lo);
        i++;
    }
    return s[36] == '\0';
}

static int by_id(const void *a, const void *b)
{
    const struct user_suspension *x = a, *y = b;
    return memcmp(x->id, y->id, USER_UUID_BYTES);
}

struct user_suspended_set *user_suspended_set_new(const struct user_suspension *v, size_t n)
{
    struct user_suspended_set *s = xmalloc(sizeof *s + n * sizeof s->v[0]);
    s->n = 0;
    if (n == 0)
        return s;
    memcpy(s->v, v, n * sizeof v[0]);
    qsort(s->v, n, sizeof s->v[0], by_id);
    for (size_t i = 0; i < n; i++) { /* duplicates: keep one, with the latest time */
        if (s->n > 0 && by_id(&s->v[s->n - 1], &s->v[i]) == 0) {
            if (s->v[i].at > s->v[s->n - 1].at)
                s->v[s->n - 1].at = s->v[i].at;
        } else {
            s->v[s->n++] = s->v[i];
        }
    }
    return s;
}

void user_suspended_set_free(struct user_suspended_set *s)
{
    free(s);
}

size_t user_suspended_set_size(const struct user_suspended_set *s)
{
    return s ? s->n : 0;
}

bool user_suspended_set_find(const struct user_suspended_set *s,
                             const unsigned char id[USER_UUID_BYTES], int64_t *at)
{
    size_t lo = 0, hi = s ? s->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(id, s->v[mid].id, USER_UUID_BYTES);
        if (c == 0) {
            if (at)
                *at = s->v[mid].at;
            return true;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}
