/* Deadlines and the circuit breakers: one breaker per database (primary, read), shared by
 * every thread. A failed connect or a statement that outlived haat's deadline opens it; while
 * it is open db_conn() answers NULL at once (the request answers 503 without waiting). The
 * health prober (health.c), when it runs, is the only one that tries the database again and
 * closes the breaker when it answers; without a prober (haat worker, the CLI) one caller at a
 * time, at most every DB_TRIAL_SPACING_NS, may try a connection itself. */
#include <stdatomic.h>

#include "pkg/clock/clock.h"
#include "pkg/db/db_internal.h"
#include "pkg/log/log.h"

#define DB_TRIAL_SPACING_NS (500ull * 1000 * 1000)

struct breaker {
    atomic_bool open;
    atomic_uint_fast64_t retry_ns; /* no trial before this clock_mono_ns() */
    atomic_bool trial;             /* a caller is trying a connection now */
    atomic_uint gen;               /* bumped each time the breaker opens */
};

static struct breaker breakers[2];
static atomic_bool prober_running;
static struct db_timeouts timeouts = {.connect_ms = DB_CONNECT_MS_DEFAULT,
                                      .statement_ms = DB_STATEMENT_MS_DEFAULT};
static _Thread_local int tl_deadline_ms;

void db_set_timeouts(int connect_ms, int statement_ms)
{
    if (connect_ms > 0)
        timeouts.connect_ms = connect_ms;
    if (statement_ms > 0)
        timeouts.statement_ms = statement_ms;
}

const struct db_timeouts *db_timeouts_get(void)
{
    return &timeouts;
}

void db_thread_deadline_ms(int ms)
{
    tl_deadline_ms = ms > 0 ? ms : 0;
}

int db_deadline_ms(void)
{
    return tl_deadline_ms > 0 ? tl_deadline_ms : timeouts.statement_ms;
}

void db_breaker_prober(bool running)
{
    atomic_store(&prober_running, running);
}

bool db_breaker_allows(enum db_target t, bool *trial)
{
    struct breaker *b = &breakers[t];
    *trial = false;
    if (!atomic_load(&b->open))
        return true;
    if (atomic_load(&prober_running) || clock_mono_ns() < atomic_load(&b->retry_ns))
        return false;
    bool idle = false;
    if (!atomic_compare_exchange_strong(&b->trial, &idle, true))
        return false;
    *trial = true;
    return true;
}

void db_breaker_report(enum db_target t, bool up)
{
    struct breaker *b = &breakers[t];
    if (up) {
        if (atomic_exchange(&b->open, false))
            log_info("db_breaker_closed", "%s: the database answers again", db_target_names[t]);
    } else {
        atomic_store(&b->retry_ns, clock_mono_ns() + DB_TRIAL_SPACING_NS);
        if (!atomic_exchange(&b->open, true)) {
            atomic_fetch_add(&b->gen, 1);
            log_warn("db_breaker_open", "%s: the database is unreachable; answering 503 at once",
                     db_target_names[t]);
        }
    }
    atomic_store(&b->trial, false);
}

unsigned db_breaker_gen(enum db_target t)
{
    return atomic_load(&breakers[t].gen);
}

bool db_known_down(enum db_target t)
{
    return (t == DB_PRIMARY || t == DB_READ) && atomic_load(&breakers[t].open);
}
