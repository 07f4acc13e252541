/* The program-wide table of prepared statements: filled by db_register() at start-up,
 * frozen when the first connection opens, then read without locks (sorted, bsearch). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/db/db_internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static const struct db_stmt **reg; /* borrowed entries of static tables */
static size_t reg_n, reg_cap;
static atomic_bool frozen;

static int cmp_stmt(const void *a, const void *b)
{
    const struct db_stmt *const *x = a;
    const struct db_stmt *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static void check_unique(void)
{
    for (size_t i = 1; i < reg_n; i++) {
        if (strcmp(reg[i - 1]->name, reg[i]->name) == 0) {
            log_error("db_register_duplicate", "statement %s registered twice", reg[i]->name);
            abort();
        }
    }
}

/* A programming error (late registration, a NULL name or sql) aborts at start-up, where
 * it is found by the first test run, rather than failing requests later. */
void db_register(const struct db_stmt *stmts, size_t n)
{
    pthread_mutex_lock(&reg_mu);
    if (atomic_load(&frozen)) {
        log_error("db_register_late", "db_register after the first connection opened");
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        if (!stmts[i].name || !stmts[i].sql) {
            log_error("db_register_invalid", "statement %zu has no name or sql", i);
            abort();
        }
        if (reg_n == reg_cap) {
            reg_cap = reg_cap ? 2 * reg_cap : 64;
            reg = xrealloc(reg, reg_cap * sizeof *reg);
        }
        reg[reg_n++] = &stmts[i];
    }
    qsort(reg, reg_n, sizeof *reg, cmp_stmt);
    check_unique();
    pthread_mutex_unlock(&reg_mu);
}

void db_registry_freeze(void)
{
    if (atomic_load(&frozen))
        return;
    pthread_mutex_lock(&reg_mu);
    atomic_store(&frozen, true);
    pthread_mutex_unlock(&reg_mu);
}

size_t db_registry_count(void)
{
    return reg_n;
}

long db_registry_find(const char *name, const struct db_stmt **out)
{
    if (!name || !atomic_load(&frozen) || reg_n == 0)
        return -1;
    struct db_stmt key = {.name = name, .sql = NULL};
    const struct db_stmt *kp = &key;
    const struct db_stmt **hit = bsearch(&kp, reg, reg_n, sizeof *reg, cmp_stmt);
    if (!hit)
        return -1;
    *out = *hit;
    return (long)(hit - reg);
}
