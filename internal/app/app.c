#include "internal/app/app.h"

#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal/admin/admin.h"
#include "internal/app/housekeeping.h"
#include "internal/app/idempotency.h"
#include "internal/app/ops.h"
#include "internal/app/version.h"
#include "internal/catalog/catalog.h"
#include "internal/chat/chat.h"
#include "internal/notification/notification.h"
#include "internal/order/order.h"
#include "internal/payment/payment.h"
#include "internal/user/user.h"
#include "pkg/audit/audit.h"
#include "pkg/clock/clock.h"
#include "pkg/crypto/sec.h"
#include "pkg/db/db.h"
#include "pkg/http/http.h"
#include "pkg/idem/idem.h"
#include "pkg/jobs/jobs.h"
#include "pkg/log/log.h"
#include "pkg/outbox/outbox.h"
#include "pkg/page/page.h"
#include "pkg/util/failpoint.h"

/* How often the health prober asks both databases (readiness and the circuit breakers). */
#define HEALTH_PROBE_MS 250
/* How long shutdown waits for a suspension list query in flight (it takes milliseconds). */
#define SUSPENSIONS_STOP_MS 1000
/* libmicrohttpd's memory pool per connection, in bytes (see start_http). */
#define HTTP_CONNECTION_MEMORY (8 * 1024)
/* Seconds between two malloc_trim calls of a serve process (see wait_for_signal). */
#define TRIM_EVERY_S 1

const char *app_migrations_dir(void)
{
    const char *d = getenv("HAAT_MIGRATIONS_DIR");
    return d && *d ? d : "migrations";
}

/* The API's routes; /metrics among them only when there is no ops listener. */
static struct router *router_with(bool metrics)
{
    struct router *r = router_new();
    ops_routes(r, metrics);
    user_routes(r);
    catalog_routes(r);
    notify_routes(r);
    order_routes(r);
    chat_routes(r);
    payment_routes(r);
    admin_routes(r);
    return r;
}

struct router *app_router_new(void)
{
    return router_with(true);
}

/* Seller profile figures the user module shows but other modules own. */
static const struct user_seller_stats_provider seller_stats = {
    .active_listings = catalog_seller_active_listings,
    .rating = order_seller_rating,
};

/* How the order module moves money: back to the buyer (a paid order cancelled before
 * shipping, a dispute decided for the buyer) or on to the seller (an order completed). */
static const struct order_payment_port payment_port = {
    .refund_order = payment_refund_order,
    .release_order = payment_release_order,
};

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

/* Waits for SIGTERM or SIGINT; meanwhile, every TRIM_EVERY_S, gives the memory freed since
 * (the buffers of connections that closed after a burst) back to the system: glibc keeps
 * freed memory inside its arenas, and malloc_trim releases the free pages of every arena. */
static int wait_for_signal(const sigset_t *set)
{
    int sig = -1;
    const struct timespec tick = {.tv_sec = TRIM_EVERY_S};
    while (sig < 0) {
        sig = sigtimedwait(set, NULL, &tick);
        if (sig < 0)
            malloc_trim(0);
    }
    log_info("shutdown", "received %s, draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    return sig;
}

/* Shared start-up of serve and worker: keys, database handles, the modules' statements. */
static int start_common(const struct cfg *c)
{
    if (sec_init(c->jwt_secret) != 0 || db_init(c->database_url, c->database_read_url) != 0)
        return -1;
    db_set_timeouts(c->db_connect_timeout_ms, c->db_statement_timeout_ms);
    failpoint_init();
    page_set_secret(c->jwt_secret, strlen(c->jwt_secret));
    outbox_init();
    idem_init();
    audit_init();
    user_init(c);
    if (catalog_init(c) != 0 || notify_init(c) != 0 || order_init(c) != 0 || payment_init(c) != 0 ||
        chat_init(c) != 0 || admin_init(c) != 0)
        return -1;
    user_set_seller_stats_provider(&seller_stats);
    ops_init(app_version(), c->public_url);
    order_set_payment_port(&payment_port);
    return 0;
}

static int register_jobs(void)
{
    if (housekeeping_register() != 0 || notify_register_jobs() != 0 || order_register_jobs() != 0 ||
        payment_register_jobs() != 0)
        return -1;
    return 0;
}

/* Milliseconds left until deadline (a clock_mono_ns() instant), never negative. */
static int remaining_ms(uint64_t deadline)
{
    uint64_t now = clock_mono_ns();
    return now >= deadline ? 0 : (int)((deadline - now) / 1000000u);
}

/* Stops the workers and frees what start_common set up, within what is left of deadline.
 * When something is still running after that (a stuck provider call, a request that will not
 * finish), the shared state it may touch (keys, database URLs, templates) is kept and the
 * process leaves at once: freeing it under a running thread would be a use-after-free. */
static void stop_common(bool jobs_running, uint64_t deadline)
{
    bool all_stopped = !jobs_running || jobs_stop(remaining_ms(deadline));
    all_stopped &= notify_cleanup(remaining_ms(deadline));
    if (!all_stopped) {
        log_warn("shutdown", "work still running at the deadline: exiting without teardown");
        _exit(0);
    }
    payment_cleanup();
    db_shutdown();
    sec_cleanup();
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
        .conns_per_ip = (unsigned)c->limit_conns_per_ip,
        .timeout_s = 30,
        .body_timeout_s = (unsigned)c->http_body_timeout_s,
        /* libmicrohttpd's per-connection pool: the request line and headers (bodies go to our
         * own buffer) and the reply's headers. A request whose line and headers pass ~6 KiB
         * is refused (431) — documented in docs/architecture.md. 8 KiB instead of 32 KiB:
         * less per idle connection and less for libmicrohttpd to clear per request. */
        .connection_memory = HTTP_CONNECTION_MEMORY,
        .cors_origins = c->cors_origins,
        .public_url = c->public_url,
        .trusted_proxies = c->trusted_proxies,
    };
    struct http_server *s = http_server_new(&o, router);
    http_server_set_auth(s, user_authenticate);
    http_server_set_idempotency(s, app_idem_hooks());
    if (http_server_start(s) != 0) {
        http_server_free(s);
        return NULL;
    }
    log_info("listening", "http://%s:%d (%d threads)", c->http_host, http_server_port(s),
             c->http_threads);
    return s;
}

/* The ops listener: its own daemon and thread, so health and readiness answer even when every
 * API thread is busy. No auth, no idempotency, a handful of connections. */
static struct http_server *start_ops(const struct cfg *c, struct router *router)
{
    struct http_server_opts o = {
        .host = c->ops_host,
        .port = c->ops_port,
        .threads = 1,
        .connection_limit = 64,
        .timeout_s = 10,
        .body_timeout_s = 5,
        .connection_memory = 16 * 1024,
        .trusted_proxies = c->trusted_proxies,
    };
    struct http_server *s = http_server_new(&o, router);
    if (http_server_start(s) != 0) {
        http_server_free(s);
        return NULL;
    }
    log_info("listening", "ops http://%s:%d", c->ops_host, http_server_port(s));
    return s;
}

/* What app_serve has started, so that its one teardown undoes exactly that. */
struct serve_state {
    bool common;     /* start_common succeeded: stop_common */
    bool pwpool;     /* the password pool runs (drain stops it early) */
    bool auth_cache; /* user_auth_cache_start was called (stop also undoes a failed start) */
    bool jobs;       /* the job runner runs */
    bool chat;       /* the listener and the chat stream pump run */
    bool health;     /* the database health prober runs */
    struct router *router, *ops_router;
    struct http_server *http, *ops; /* ops: HAAT_OPS_ADDR's listener, or NULL */
};

/* The shutdown on a signal, with one deadline for everything (returned): /readyz turns 503,
 * the socket closes, jobs and provider calls are told to stop, queued password jobs answer
 * 503, then in-flight requests get until the deadline. When some are still running then,
 * the process exits at once (0): freeing what they use would be a use-after-free. */
static uint64_t drain(const struct cfg *c, struct serve_state *sv)
{
    uint64_t deadline = clock_mono_ns() + (uint64_t)c->shutdown_grace_s * 1000000000u;
    ops_set_draining();
    http_server_quiesce(sv->http);
    jobs_request_stop();
    notify_request_stop(); /* provider calls in progress abort; messages stay queued */
    sec_pwpool_stop();     /* queued password jobs answer 503 before their requests are freed */
    sv->pwpool = false;
    int left = http_server_stop(sv->http, remaining_ms(deadline));
    if (left > 0) {
        log_warn("shutdown", "%d request(s) still running at the deadline: exiting", left);
        _exit(0);
    }
    return deadline;
}

/* Starts everything serve runs, in order, recording in sv what is up (so serve_stop tears
 * down just that). 0, or -1 as soon as one part fails. */
static int serve_start(const struct cfg *c, struct serve_state *sv)
{
    if (start_common(c) != 0)
        return -1;
    sv->common = true;
    if (sec_pwpool_start(2, 64) != 0)
        return -1;
    sv->pwpool = true;
    /* Every serve process, whatever HAAT_WORKERS says: each one authenticates requests. */
    sv->auth_cache = true;
    if (user_auth_cache_start() != 0)
        return -1;
    /* Every serve process, whatever HAAT_WORKERS says: it may hold event streams. */
    sv->chat = true;
    if (catalog_cache_start(c) != 0 || chat_streams_start(c) != 0) /* chat starts the listener */
        return -1;
    sv->health = true;
    if (db_health_start(app_migrations_dir(), HEALTH_PROBE_MS) != 0)
        return -1;
    bool ops_listener = *c->ops_host != '\0';
    if (ops_listener) {
        sv->ops_router = ops_listener_router();
        sv->ops = start_ops(c, sv->ops_router);
        if (!sv->ops)
            return -1;
    }
    sv->router = router_with(!ops_listener);
    sv->http = start_http(c, sv->router);
    if (!sv->http)
        return -1;
    sv->jobs = c->workers && register_jobs() == 0 && jobs_start(c->database_url) == 0;
    return c->workers && !sv->jobs ? -1 : 0;
}

/* Tears down what serve_start started, in reverse, with deadline (0: at once) for what waits. */
static void serve_stop(struct serve_state *sv, uint64_t deadline)
{
    if (sv->http) {
        http_server_stop(sv->http, 0); /* already stopped by drain: returns at once */
        http_server_free(sv->http);
    }
    router_free(sv->router);
    if (sv->ops) { /* after the API: /readyz says 503 (draining) until the end */
        http_server_stop(sv->ops, 0);
        http_server_free(sv->ops);
    }
    router_free(sv->ops_router);
    if (sv->health)
        db_health_stop();
    if (sv->chat) { /* after the HTTP server: its stop ended the streams */
        chat_streams_stop(remaining_ms(deadline ? deadline : clock_mono_ns() + 1000000000u));
        catalog_cache_stop();
    }
    if (sv->auth_cache)
        user_auth_cache_stop(SUSPENSIONS_STOP_MS);
    if (sv->pwpool)
        sec_pwpool_stop();
    if (sv->common)
        stop_common(sv->jobs, deadline ? deadline : clock_mono_ns());
}

int app_serve(const struct cfg *c)
{
    int rc = 1;
    uint64_t deadline = 0; /* 0 until drain: tear down at once */
    struct serve_state sv = {0};
    sigset_t set;
    block_signals(&set);
    if (serve_start(c, &sv) == 0) {
        wait_for_signal(&set);
        deadline = drain(c, &sv);
        rc = 0;
    }
    serve_stop(&sv, deadline);
    if (rc == 0)
        log_info("shutdown", "stopped cleanly");
    return rc;
}

int app_worker(const struct cfg *c)
{
    sigset_t set;
    block_signals(&set);
    if (start_common(c) != 0)
        return 1;
    if (register_jobs() != 0 || jobs_start(c->database_url) != 0) {
        stop_common(false, clock_mono_ns());
        return 1;
    }
    log_info("worker", "background jobs running");
    wait_for_signal(&set);
    notify_request_stop();
    stop_common(true, clock_mono_ns() + (uint64_t)c->shutdown_grace_s * 1000000000u);
    log_info("shutdown", "stopped cleanly");
    return 0;
}

int app_admin(const struct cfg *c, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[0], "grant") == 0)
        return user_grant_admin(c, argv[1]);
    if (argc == 2 && strcmp(argv[0], "revoke") == 0)
        return admin_cli_revoke(c, argv[1]);
    if (argc == 4 && strcmp(argv[0], "suspend") == 0 && strcmp(argv[2], "--reason") == 0)
        return admin_cli_suspend(c, argv[1], argv[3]);
    if (argc == 1 && strcmp(argv[0], "failed-refunds") == 0)
        return payment_list_failed_refunds(c);
    if (argc == 1 && strcmp(argv[0], "seal-accounts") == 0)
        return user_seal_accounts(c);
    fprintf(stderr, "usage: haat admin grant EMAIL | haat admin revoke EMAIL | "
                    "haat admin suspend EMAIL --reason TEXT | haat admin failed-refunds | "
                    "haat admin seal-accounts\n");
    return 2;
}
