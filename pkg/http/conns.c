/* Connections per client address, counted in libmicrohttpd's accept-policy callback: beyond
 * HAAT_LIMIT_CONNS_PER_IP from one address, or beyond the server's connection limit in all,
 * a new connection is closed at once (never left waiting in the backlog), so slow clients
 * from one address cannot take every connection. Trusted proxies (HAAT_TRUSTED_PROXIES),
 * which carry everyone's traffic, are counted but never refused by the per-address limit.
 * A connection is counted when accepted and uncounted when libmicrohttpd closes it. */
#include <stdlib.h>
#include <string.h>

#include "pkg/http/internal.h"
#include "pkg/log/log.h"
#include "pkg/metrics/metrics.h"
#include "pkg/util/xalloc.h"

struct conn_node {
    struct conn_node *next;
    struct proxy_addr addr;
    unsigned n;
};

static struct metrics_counter *m_refused;

static void init_metrics(void)
{
    static const char *const labels[] = {"reason"};
    m_refused = metrics_counter_new("http_connections_refused_total",
                                    "Connections closed at accept: per-address or global limit.", 1,
                                    labels);
}

void conns_init(struct http_server *s)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_metrics);
    pthread_mutex_init(&s->conns_mu, NULL);
}

static size_t bucket_of(const struct proxy_addr *a)
{
    uint32_t h = 2166136261u ^ (uint32_t)a->family;
    for (size_t i = 0; i < sizeof a->a; i++)
        h = (h ^ a->a[i]) * 16777619u;
    return h % CONNS_BUCKETS;
}

/* The node of a (created when make), with conns_mu held. */
static struct conn_node **find(struct http_server *s, const struct proxy_addr *a)
{
    struct conn_node **p = &s->conns[bucket_of(a)];
    while (*p && ((*p)->addr.family != a->family || memcmp((*p)->addr.a, a->a, 16) != 0))
        p = &(*p)->next;
    return p;
}

static void refuse(const char *reason, const struct proxy_addr *a)
{
    const char *labels[] = {reason};
    metrics_counter_add(m_refused, labels, 1);
    log_debug("http_conn_refused", "%s (family %d)", reason, a->family);
}

enum MHD_Result conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct http_server *s = cls;
    struct proxy_addr a;
    (void)addrlen;
    access_sockaddr(addr, &a);
    unsigned per_ip = s->opts.conns_per_ip;
    bool exempt = per_ip == 0 || access_trusted(s, &a);
    pthread_mutex_lock(&s->conns_mu);
    struct conn_node **p = find(s, &a);
    const char *why = NULL;
    if (s->conns_total >= s->opts.connection_limit)
        why = "global";
    else if (!exempt && *p && (*p)->n >= per_ip)
        why = "per_ip";
    if (!why) {
        if (!*p) {
            *p = xcalloc(1, sizeof **p);
            (*p)->addr = a;
        }
        (*p)->n++;
        s->conns_total++;
    }
    pthread_mutex_unlock(&s->conns_mu);
    if (why)
        refuse(why, &a);
    return why ? MHD_NO : MHD_YES;
}

void conns_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
                  enum MHD_ConnectionNotificationCode code)
{
    struct http_server *s = cls;
    (void)socket_ctx;
    if (code != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    struct proxy_addr a;
    access_peer(c, &a);
    pthread_mutex_lock(&s->conns_mu);
    struct conn_node **p = find(s, &a);
    if (*p && --(*p)->n == 0) {
        struct conn_node *dead = *p;
        *p = dead->next;
        free(dead);
    }
    if (s->conns_total > 0)
        s->conns_total--;
    pthread_mutex_unlock(&s->conns_mu);
}

void conns_cleanup(struct http_server *s)
{
    for (size_t i = 0; i < CONNS_BUCKETS; i++) {
        while (s->conns[i]) {
            struct conn_node *n = s->conns[i];
            s->conns[i] = n->next;
            free(n);
        }
    }
    pthread_mutex_destroy(&s->conns_mu);
}
