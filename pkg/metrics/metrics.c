/* metrics — see metrics.h.
 *
 * Layout: a registry (linked list under reg_mu) of families; each family owns an
 * open-addressing table of series keyed by their label values. Readers probe the current
 * table without a lock (slots are atomic pointers published with release stores, series are
 * immutable apart from their atomic values). Writers that miss take the family mutex,
 * probe again and insert; a table more than 3/4 full is copied into one twice the size and
 * published, and the old one is kept on the family's retired list until reset, so a reader
 * still probing it never touches freed memory (it just misses and takes the slow path).
 * Doubles live in _Atomic uint64_t as their bit patterns; adds are CAS loops. */
#include "pkg/metrics/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/log/log.h"
#include "pkg/util/strbuf.h"
#include "pkg/util/xalloc.h"

#define INITIAL_SLOTS 16

const double metrics_duration_buckets[METRICS_DURATION_BUCKETS_N] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

enum kind { M_COUNTER, M_GAUGE, M_GAUGE_FN, M_HISTOGRAM, M_COUNTER_FN };

static const char *const kind_names[] = {"counter", "gauge", "gauge", "histogram", "counter"};

static bool read_at_scrape(enum kind k)
{
    return k == M_GAUGE_FN || k == M_COUNTER_FN;
}

struct series {
    uint64_t hash;
    char *values[METRICS_MAX_LABELS]; /* owned; NULL past the family's nlabels */
    _Atomic uint64_t value;           /* double bits: counter/gauge value, histogram sum */
    _Atomic uint64_t counts[];        /* histogram: per bucket (not cumulative), then +Inf */
};

struct table {
    size_t mask;                /* slots - 1; slots is a power of two */
    struct table *retired_next; /* older tables stay alive for lock-free readers */
    _Atomic(struct series *) slots[];
};

struct family {
    enum kind kind;
    char *name, *help;
    int nlabels;
    char *labels[METRICS_MAX_LABELS];
    double bounds[METRICS_MAX_BUCKETS];
    int nbounds;
    double (*fn)(void *); /* M_GAUGE_FN, M_COUNTER_FN */
    void *arg;
    pthread_mutex_t mu; /* guards inserts: count, retired, replacing table */
    _Atomic(struct table *) table;
    size_t count;
    struct table *retired;
    struct family *next; /* registry order */
};

/* The public handle types are the family itself. */
struct metrics_counter {
    struct family f;
};
struct metrics_gauge {
    struct family f;
};
struct metrics_histogram {
    struct family f;
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct family *families;
static struct family **families_tail = &families;

/* ---- doubles in atomics ---------------------------------------------------------------- */

static uint64_t d2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double u2d(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void add_double(_Atomic uint64_t *p, double v)
{
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(p, &old, d2u(u2d(old) + v), memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

/* ---- series tables --------------------------------------------------------------------- */

static const char *val(const char *const *values, int i)
{
    return values && values[i] ? values[i] : "";
}

static uint64_t hash_values(int n, const char *const *values)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (int i = 0; i < n; i++) {
        for (const char *p = val(values, i); *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211u;
        h = (h ^ 0xffu) * 1099511628211u; /* separator: ("ab","") != ("a","b") */
    }
    return h;
}

static bool same_values(const struct series *s, int n, const char *const *values)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s->values[i], val(values, i)) != 0)
            return false;
    return true;
}

static struct table *table_new(size_t slots)
{
    struct table *t = xmalloc(sizeof *t + slots * sizeof t->slots[0]);
    t->mask = slots - 1;
    t->retired_next = NULL;
    for (size_t i = 0; i < slots; i++)
        atomic_init(&t->slots[i], NULL);
    return t;
}

/* Lock-free lookup: the series, or NULL when t does not hold it. */
static struct series *probe(struct table *t, uint64_t h, int n, const char *const *values)
{
    for (size_t k = 0, i = h & t->mask; k <= t->mask; k++, i = (i + 1) & t->mask) {
        struct series *s = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (!s)
            return NULL;
        if (s->hash == h && same_values(s, n, values))
            return s;
    }
    return NULL;
}

/* Puts s in the first free slot of its probe sequence (t has room). */
static void place(struct table *t, struct series *s)
{
    size_t i = s->hash & t->mask;
    while (atomic_load_explicit(&t->slots[i], memory_order_relaxed))
        i = (i + 1) & t->mask;
    atomic_store_explicit(&t->slots[i], s, memory_order_release);
}

static struct series *series_new(const struct family *f, uint64_t h, const char *const *values)
{
    size_t nc = f->kind == M_HISTOGRAM ? (size_t)f->nbounds + 1 : 0;
    struct series *s = xmalloc(sizeof *s + nc * sizeof s->counts[0]);
    s->hash = h;
    for (int i = 0; i < METRICS_MAX_LABELS; i++)
        s->values[i] = i < f->nlabels ? xstrdup(val(values, i)) : NULL;
    atomic_init(&s->value, d2u(0.0));
    for (size_t i = 0; i < nc; i++)
        atomic_init(&s->counts[i], 0);
    return s;
}

/* Inserts a new series; caller holds f->mu. Grows the table past 3/4 load. */
static struct series *insert(struct family *f, uint64_t h, const char *const *values)
{
    struct table *t = atomic_load_explicit(&f->table, memory_order_relaxed);
    if ((f->count + 1) * 4 > (t->mask + 1) * 3) {
        struct table *nt = table_new((t->mask + 1) * 2);
        for (size_t i = 0; i <= t->mask; i++) {
            struct series *s = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
            if (s)
                place(nt, s);
        }
        t->retired_next = f->retired;
        f->retired = t;
        atomic_store_explicit(&f->table, nt, memory_order_release);
        t = nt;
    }
    struct series *s = series_new(f, h, values);
    place(t, s);
    f->count++;
    return s;
}

/* The series for these label values, created on first use. */
static struct series *lookup(struct family *f, const char *const *values)
{
    uint64_t h = hash_values(f->nlabels, values);
    struct table *t = atomic_load_explicit(&f->table, memory_order_acquire);
    struct series *s = probe(t, h, f->nlabels, values);
    if (s)
        return s;
    pthread_mutex_lock(&f->mu);
    t = atomic_load_explicit(&f->table, memory_order_relaxed);
    s = probe(t, h, f->nlabels, values);
    if (!s)
        s = insert(f, h, values);
    pthread_mutex_unlock(&f->mu);
    return s;
}

/* ---- registration ---------------------------------------------------------------------- */

__attribute__((noreturn)) static void die(const char *name, const char *why)
{
    log_error("metrics_invalid", "metric %s: %s", name ? name : "(null)", why);
    abort();
}

static bool valid_name(const char *s, bool colon)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (colon && *s == ':')))
            return false;
    return true;
}

static struct family *family_new(enum kind kind, const char *name, const char *help, int nlabels,
                                 const char *const *labels)
{
    if (!valid_name(name, true))
        die(name, "invalid metric name");
    if (nlabels < 0 || nlabels > METRICS_MAX_LABELS || (nlabels > 0 && !labels))
        die(name, "label count must be 0..3 with names");
    struct family *f = xcalloc(1, sizeof *f);
    f->kind = kind;
    f->name = xstrdup(name);
    f->help = xstrdup(help ? help : "");
    f->nlabels = nlabels;
    for (int i = 0; i < nlabels; i++) {
        if (!valid_name(labels[i], false) || strncmp(labels[i], "__", 2) == 0 ||
            (kind == M_HISTOGRAM && strcmp(labels[i], "le") == 0))
            die(name, "invalid label name");
        f->labels[i] = xstrdup(labels[i]);
    }
    pthread_mutex_init(&f->mu, NULL);
    atomic_init(&f->table, table_new(INITIAL_SLOTS));
    return f;
}

static void family_free(struct family *f)
{
    struct table *t = atomic_load_explicit(&f->table, memory_order_relaxed);
    for (size_t i = 0; i <= t->mask; i++) {
        struct series *s = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        for (int j = 0; s && j < METRICS_MAX_LABELS; j++)
            free(s->values[j]);
        free(s);
    }
    free(t);
    while (f->retired) {
        t = f->retired;
        f->retired = t->retired_next;
        free(t);
    }
    for (int i = 0; i < METRICS_MAX_LABELS; i++)
        free(f->labels[i]);
    free(f->name);
    free(f->help);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static bool same_shape(const struct family *a, const struct family *b)
{
    if (a->kind != b->kind || a->nlabels != b->nlabels || a->nbounds != b->nbounds)
        return false;
    for (int i = 0; i < a->nlabels; i++)
        if (strcmp(a->labels[i], b->labels[i]) != 0)
            return false;
    return a->nbounds == 0 ||
           memcmp(a->bounds, b->bounds, sizeof(double) * (size_t)a->nbounds) == 0;
}

/* Adds f to the registry (taking ownership) or returns the identical family registered
 * before (freeing f). Label-less families get their one series at once. */
static struct family *register_family(struct family *f)
{
    pthread_mutex_lock(&reg_mu);
    struct family *old = families;
    while (old && strcmp(old->name, f->name) != 0)
        old = old->next;
    if (old && !same_shape(old, f))
        die(f->name, "registered twice with different types, labels or buckets");
    if (old) {
        if (read_at_scrape(f->kind)) {
            old->fn = f->fn;
            old->arg = f->arg;
        }
        family_free(f);
        f = old;
    } else {
        *families_tail = f;
        families_tail = &f->next;
    }
    pthread_mutex_unlock(&reg_mu);
    if (f->nlabels == 0 && !read_at_scrape(f->kind))
        lookup(f, NULL);
    return f;
}

/* ---- public updates -------------------------------------------------------------------- */

struct metrics_counter *metrics_counter_new(const char *name, const char *help, int nlabels,
                                            const char *const *label_names)
{
    struct family *f = family_new(M_COUNTER, name, help, nlabels, label_names);
    return (struct metrics_counter *)(void *)register_family(f);
}

void metrics_counter_add(struct metrics_counter *c, const char *const *label_values, double v)
{
    if (!(v >= 0)) /* also NaN */
        return;
    add_double(&lookup(&c->f, label_values)->value, v);
}

void metrics_counter_inc(struct metrics_counter *c, const char *const *label_values)
{
    metrics_counter_add(c, label_values, 1.0);
}

struct metrics_gauge *metrics_gauge_new(const char *name, const char *help, int nlabels,
                                        const char *const *label_names)
{
    struct family *f = family_new(M_GAUGE, name, help, nlabels, label_names);
    return (struct metrics_gauge *)(void *)register_family(f);
}

void metrics_gauge_set(struct metrics_gauge *g, const char *const *label_values, double v)
{
    atomic_store_explicit(&lookup(&g->f, label_values)->value, d2u(v), memory_order_relaxed);
}

void metrics_gauge_add(struct metrics_gauge *g, const char *const *label_values, double v)
{
    add_double(&lookup(&g->f, label_values)->value, v);
}

static void register_fn(enum kind kind, const char *name, const char *help, double (*fn)(void *arg),
                        void *arg)
{
    if (!fn)
        die(name, "callback is NULL");
    struct family *f = family_new(kind, name, help, 0, NULL);
    f->fn = fn;
    f->arg = arg;
    register_family(f);
}

void metrics_gauge_fn(const char *name, const char *help, double (*fn)(void *arg), void *arg)
{
    register_fn(M_GAUGE_FN, name, help, fn, arg);
}

void metrics_counter_fn(const char *name, const char *help, double (*fn)(void *arg), void *arg)
{
    register_fn(M_COUNTER_FN, name, help, fn, arg);
}

struct metrics_histogram *metrics_histogram_new(const char *name, const char *help,
                                                const char *label_name, const double *buckets,
                                                int n)
{
    if (!buckets) {
        buckets = metrics_duration_buckets;
        n = METRICS_DURATION_BUCKETS_N;
    }
    if (n < 1 || n > METRICS_MAX_BUCKETS)
        die(name, "histogram needs 1..32 buckets");
    for (int i = 0; i < n; i++)
        if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
            die(name, "histogram buckets must be finite and strictly increasing");
    const char *labels[1] = {label_name};
    struct family *f = family_new(M_HISTOGRAM, name, help, label_name ? 1 : 0, labels);
    memcpy(f->bounds, buckets, sizeof(double) * (size_t)n);
    f->nbounds = n;
    return (struct metrics_histogram *)(void *)register_family(f);
}

void metrics_histogram_observe(struct metrics_histogram *h, const char *label_value, double v)
{
    const char *values[1] = {label_value};
    struct series *s = lookup(&h->f, values);
    int i = 0;
    while (i < h->f.nbounds && !(v <= h->f.bounds[i]))
        i++;
    atomic_fetch_add_explicit(&s->counts[i], 1, memory_order_relaxed);
    add_double(&s->value, v);
}

void metrics_build_info(const char *version)
{
    static const char *const labels[] = {"version"};
    const char *values[] = {version};
    struct metrics_gauge *g =
        metrics_gauge_new("haat_build_info", "Build information: the running version.", 1, labels);
    metrics_gauge_set(g, values, 1);
}

/* ---- rendering ------------------------------------------------------------------------- */

/* Shortest text that reads back as v; +Inf, -Inf and NaN as Prometheus spells them. */
static void fmt_double(double v, char out[32])
{
    if (isnan(v)) {
        strcpy(out, "NaN");
    } else if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
    } else {
        snprintf(out, 32, "%.15g", v);
        if (strtod(out, NULL) != v)
            snprintf(out, 32, "%.17g", v);
    }
}

/* Appends s with '\\' and '\n' escaped, and '"' too when quote is set. */
static void append_escaped(struct strbuf *sb, const char *s, bool quote)
{
    const char *stop = quote ? "\\\"\n" : "\\\n";
    while (*s) {
        size_t run = strcspn(s, stop);
        strbuf_append(sb, s, run);
        s += run;
        if (!*s)
            break;
        strbuf_puts(sb, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\");
        s++;
    }
}

/* {a="x",b="y",le="0.5"}; nothing at all when there are no labels and no le. */
static void append_labels(struct strbuf *sb, const struct family *f, const struct series *s,
                          const char *le)
{
    if (f->nlabels == 0 && !le)
        return;
    strbuf_puts(sb, "{");
    for (int i = 0; i < f->nlabels; i++) {
        strbuf_printf(sb, "%s%s=\"", i ? "," : "", f->labels[i]);
        append_escaped(sb, s->values[i], true);
        strbuf_puts(sb, "\"");
    }
    if (le)
        strbuf_printf(sb, "%sle=\"%s\"", f->nlabels ? "," : "", le);
    strbuf_puts(sb, "}");
}

static void append_sample(struct strbuf *sb, const struct family *f, const char *suffix,
                          const struct series *s, const char *le, double v)
{
    char num[32];
    fmt_double(v, num);
    strbuf_printf(sb, "%s%s", f->name, suffix);
    append_labels(sb, f, s, le);
    strbuf_printf(sb, " %s\n", num);
}

static void append_histogram(struct strbuf *sb, const struct family *f, const struct series *s)
{
    char le[32];
    uint64_t cum = 0;
    for (int i = 0; i <= f->nbounds; i++) {
        cum += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
        if (i < f->nbounds)
            fmt_double(f->bounds[i], le);
        else
            strcpy(le, "+Inf");
        append_sample(sb, f, "_bucket", s, le, (double)cum);
    }
    append_sample(sb, f, "_sum", s, NULL,
                  u2d(atomic_load_explicit(&s->value, memory_order_relaxed)));
    append_sample(sb, f, "_count", s, NULL, (double)cum);
}

static int cmp_series(const void *a, const void *b)
{
    const struct series *x = *(const struct series *const *)a;
    const struct series *y = *(const struct series *const *)b;
    for (int i = 0; i < METRICS_MAX_LABELS && x->values[i]; i++) {
        int c = strcmp(x->values[i], y->values[i]);
        if (c)
            return c;
    }
    return 0;
}

/* The family's series, sorted by label values (heap array the caller frees). */
static struct series **snapshot(struct family *f, size_t *n)
{
    pthread_mutex_lock(&f->mu);
    struct table *t = atomic_load_explicit(&f->table, memory_order_relaxed);
    struct series **all = xmalloc((f->count ? f->count : 1) * sizeof *all);
    *n = 0;
    for (size_t i = 0; i <= t->mask; i++) {
        struct series *s = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        if (s)
            all[(*n)++] = s;
    }
    pthread_mutex_unlock(&f->mu);
    qsort(all, *n, sizeof *all, cmp_series);
    return all;
}

static void render_family(struct strbuf *sb, struct family *f)
{
    strbuf_printf(sb, "# HELP %s ", f->name);
    append_escaped(sb, f->help, false);
    strbuf_printf(sb, "\n# TYPE %s %s\n", f->name, kind_names[f->kind]);
    if (read_at_scrape(f->kind)) {
        append_sample(sb, f, "", NULL, NULL, f->fn(f->arg));
        return;
    }
    size_t n;
    struct series **all = snapshot(f, &n);
    for (size_t i = 0; i < n; i++) {
        if (f->kind == M_HISTOGRAM)
            append_histogram(sb, f, all[i]);
        else
            append_sample(sb, f, "", all[i], NULL,
                          u2d(atomic_load_explicit(&all[i]->value, memory_order_relaxed)));
    }
    free(all);
}

char *metrics_render(size_t *len)
{
    struct strbuf sb;
    strbuf_init(&sb);
    pthread_mutex_lock(&reg_mu);
    for (struct family *f = families; f; f = f->next)
        render_family(&sb, f);
    pthread_mutex_unlock(&reg_mu);
    return strbuf_detach(&sb, len);
}

void metrics_reset_for_tests(void)
{
    pthread_mutex_lock(&reg_mu);
    for (struct family *f = families, *next; f; f = next) {
        next = f->next;
        family_free(f);
    }
    families = NULL;
    families_tail = &families;
    pthread_mutex_unlock(&reg_mu);
}
