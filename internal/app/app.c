#include "internal/app/app.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/app/idempotency.h"
#include "internal/app/ops.h"
#include "pkg/db/db.h"
#include "pkg/http/http.h"
#include "pkg/idem/idem.h"
#include "pkg/jobs/jobs.h"
#include "pkg/log/log.h"
#include "pkg/outbox/outbox.h"

#ifndef HAAT_VERSION
#define HAAT_VERSION "dev"
#endif

const char *app_migrations_dir(void)
{
    const char *d = getenv("HAAT_MIGRATIONS_DIR");
    return d && *d ? d : "migrations";
}

struct router *app_router_new(void)
{
    struct router *r = router_new();
    ops_routes(r);
    return r;
}

/* Blocks SIGINT/SIGTERM in every thread created after this call; the main thread waits for
 * them with sigwait(). */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int wait_for_signal(const sigset_t *set)
{
    int sig = 0;
    sigwait(set, &sig);
    log_info("shutdown", "received %s, draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    return sig;
}

/* Shared start-up of serve and worker: database handles and the modules' statements. */
static int start_common(const struct cfg *c)
{
    if (db_init(c->database_url, c->database_read_url) != 0)
        return -1;
    outbox_init();
    idem_init();
    ops_metrics_init(HAAT_VERSION);
    return 0;
}

static void register_jobs(const struct cfg *c)
{
    app_idem_register_jobs();
}

int app_migrate(const struct cfg *c)
{
    int n = db_migrate(c->database_url, app_migrations_dir());
    if (n < 0)
        return 1;
    log_info("migrate", "%d migration(s) applied", n);
    return 0;
}

static struct http_server *start_http(const struct cfg *c, struct router *router)
{
    struct http_server_opts o = {
        .host = c->http_host,
        .port = c->http_port,
        .threads = c->http_threads,
        .connection_limit = 2048,
        .timeout_s = 30,
        .connection_memory = 64 * 1024,
    };
    struct http_server *s = http_server_new(&o, router);
    http_server_set_idempotency(s, app_idem_hooks());
    if (http_server_start(s) != 0) {
        http_server_free(s);
        return NULL;
    }
    log_info("listening", "http://%s:%d (%d threads)", c->http_host, http_server_port(s),
             c->http_threads);
    return s;
}

int app_serve(const struct cfg *c)
{
    sigset_t set;
    block_signals(&set);
    if (start_common(c) != 0)
        return 1;
    struct router *router = app_router_new();
    struct http_server *s = start_http(c, router);
    if (!s) {
        router_free(router);
        return 1;
    }
    if (c->workers) {
        register_jobs(c);
        jobs_start(c->database_url);
    }
    wait_for_signal(&set);
    ops_set_draining();
    http_server_quiesce(s);
    int grace_ms = c->shutdown_grace_s * 1000;
    if (c->workers)
        jobs_stop(grace_ms);
    http_server_stop(s, grace_ms);
    http_server_free(s);
    router_free(router);
    db_shutdown();
    log_info("shutdown", "stopped cleanly");
    return 0;
}

int app_worker(const struct cfg *c)
{
    sigset_t set;
    block_signals(&set);
    if (start_common(c) != 0)
        return 1;
    register_jobs(c);
    if (jobs_start(c->database_url) != 0)
        return 1;
    log_info("worker", "background jobs running");
    wait_for_signal(&set);
    jobs_stop(c->shutdown_grace_s * 1000);
    db_shutdown();
    log_info("shutdown", "stopped cleanly");
    return 0;
}
