#include "pkg/http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/util/xalloc.h"

#define MAX_SEGMENTS 12

struct segment {
    const char *text; /* into the pattern; a {param} segment keeps its braces */
    size_t len;
    int is_param;
};

struct entry {
    const struct http_route *route;
    enum http_route_set set;
    struct segment seg[MAX_SEGMENTS];
    size_t nseg;
    unsigned literal_mask; /* bit i set when segment i is literal: more specific = larger */
};

struct router {
    struct entry *entries;
    size_t n, cap;
};

struct router *router_new(void)
{
    return xcalloc(1, sizeof(struct router));
}

void router_free(struct router *r)
{
    if (!r)
        return;
    free(r->entries);
    free(r);
}

/* Splits "/a/b/c" into segments. Returns the count, or -1 when malformed/too deep. */
static int split(const char *path, struct segment *seg, size_t max)
{
    if (path[0] != '/')
        return -1;
    if (path[1] == '\0')
        return 0;
    size_t n = 0;
    const char *p = path + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || n == max)
            return -1;
        seg[n].text = p;
        seg[n].len = len;
        seg[n].is_param = len > 2 && p[0] == '{' && p[len - 1] == '}';
        n++;
        if (!end)
            return (int)n;
        p = end + 1;
    }
}

static void die(const char *what, const struct http_route *route)
{
    fprintf(stderr, "router: %s: %s %s\n", what, route->method, route->pattern);
    abort();
}

/* CQRS by construction: queries read (GET; HEAD is answered by GET routes), commands write. */
static bool fits_set(const struct http_route *route, enum http_route_set set)
{
    bool reads = strcmp(route->method, "GET") == 0 || strcmp(route->method, "HEAD") == 0;
    return set == HTTP_QUERIES ? reads : !reads;
}

void router_add(struct router *r, enum http_route_set set, const struct http_route *routes,
                size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!fits_set(&routes[i], set))
            die(set == HTTP_QUERIES ? "a writing method in the query set"
                                    : "a reading method in the command set",
                &routes[i]);
        if (routes[i].max_body > HTTP_MAX_BODY)
            die("a body limit above 1 MiB", &routes[i]);
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 32;
            r->entries = xrealloc(r->entries, r->cap * sizeof *r->entries);
        }
        struct entry *e = &r->entries[r->n];
        memset(e, 0, sizeof *e);
        e->route = &routes[i];
        e->set = set;
        int k = split(routes[i].pattern, e->seg, MAX_SEGMENTS);
        if (k < 0)
            die("malformed pattern", &routes[i]);
        e->nseg = (size_t)k;
        size_t nparams = 0;
        for (size_t s = 0; s < e->nseg; s++) {
            if (!e->seg[s].is_param)
                e->literal_mask |= 1u << (MAX_SEGMENTS - 1 - s);
            else
                nparams++;
        }
        if (nparams > HTTP_MAX_PARAMS)
            die("too many parameters", &routes[i]);
        for (size_t j = 0; j < r->n; j++)
            if (strcmp(r->entries[j].route->pattern, routes[i].pattern) == 0 &&
                strcmp(r->entries[j].route->method, routes[i].method) == 0)
                die("duplicate route", &routes[i]);
        r->n++;
    }
}

static int entry_matches(const struct entry *e, const struct segment *seg, size_t nseg)
{
    if (e->nseg != nseg)
        return 0;
    for (size_t i = 0; i < nseg; i++) {
        if (e->seg[i].is_param) {
            if (seg[i].len >= ROUTER_MAX_SEGMENT)
                return 0;
            continue;
        }
        if (e->seg[i].len != seg[i].len || memcmp(e->seg[i].text, seg[i].text, seg[i].len) != 0)
            return 0;
    }
    return 1;
}

static void fill_params(const struct entry *e, const struct segment *seg, struct router_match *m)
{
    m->nparams = 0;
    for (size_t i = 0; i < e->nseg && m->nparams < HTTP_MAX_PARAMS; i++) {
        if (!e->seg[i].is_param)
            continue;
        struct router_param *p = &m->params[m->nparams++];
        p->name = e->seg[i].text + 1;
        p->name_len = e->seg[i].len - 2;
        memcpy(p->value, seg[i].text, seg[i].len);
        p->value[seg[i].len] = '\0';
    }
}

static void add_allow(struct router_match *m, const char *method)
{
    size_t used = strlen(m->allow);
    if (strstr(m->allow, method))
        return;
    snprintf(m->allow + used, sizeof m->allow - used, "%s%s", used ? ", " : "", method);
}

enum router_result router_match(const struct router *r, const char *method, const char *path,
                                struct router_match *m)
{
    struct segment seg[MAX_SEGMENTS];
    memset(m, 0, sizeof *m);
    int nseg = split(path, seg, MAX_SEGMENTS);
    if (nseg < 0)
        return ROUTER_NOT_FOUND;
    if (strcmp(method, "HEAD") == 0)
        method = "GET";
    /* The most specific pattern that matches the path decides. */
    const struct entry *best = NULL;
    for (size_t i = 0; i < r->n; i++) {
        const struct entry *e = &r->entries[i];
        if (entry_matches(e, seg, (size_t)nseg) && (!best || e->literal_mask > best->literal_mask))
            best = e;
    }
    if (!best)
        return ROUTER_NOT_FOUND;
    m->pattern = best->route->pattern;
    for (size_t i = 0; i < r->n; i++) {
        const struct entry *e = &r->entries[i];
        if (e->literal_mask != best->literal_mask || !entry_matches(e, seg, (size_t)nseg))
            continue;
        if (strcmp(e->route->method, method) == 0) {
            m->route = e->route;
            m->set = e->set;
            fill_params(e, seg, m);
            return ROUTER_FOUND;
        }
        add_allow(m, e->route->method);
        if (strcmp(e->route->method, "GET") == 0)
            add_allow(m, "HEAD"); /* every GET route also answers HEAD */
    }
    return ROUTER_METHOD_NOT_ALLOWED;
}

void router_foreach(const struct router *r,
                    void (*fn)(const struct http_route *route, enum http_route_set set, void *arg),
                    void *arg)
{
    for (size_t i = 0; i < r->n; i++)
        fn(r->entries[i].route, r->entries[i].set, arg);
}
