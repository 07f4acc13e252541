/* The access log and who the client is: one line per request with the client's address (the
 * peer, or what a trusted reverse proxy says in X-Forwarded-For), user agent, status,
 * response bytes and duration; the trace id and request id come with every line. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/http/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

/* Parses one address of a list item ("10.0.0.1", "::1"; blanks around it ignored). */
static bool parse_addr(const char *s, size_t n, struct proxy_addr *out)
{
    char buf[INET6_ADDRSTRLEN];
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->a) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, out->a) == 1)
        out->family = AF_INET6;
    return out->family != 0;
}

void access_init_proxies(struct http_server *s, const char *list)
{
    for (const char *p = list ? list : ""; *p;) {
        size_t n = strcspn(p, ",");
        struct proxy_addr a;
        if (parse_addr(p, n, &a)) {
            s->proxies = xrealloc(s->proxies, (s->nproxies + 1) * sizeof *s->proxies);
            s->proxies[s->nproxies++] = a;
        }
        p += n + (p[n] == ',');
    }
}

bool access_trusted(const struct http_server *s, const struct proxy_addr *a)
{
    for (size_t i = 0; i < s->nproxies; i++)
        if (s->proxies[i].family == a->family && memcmp(s->proxies[i].a, a->a, 16) == 0)
            return true;
    return false;
}

void access_sockaddr(const struct sockaddr *sa, struct proxy_addr *a)
{
    memset(a, 0, sizeof *a);
    if (sa && sa->sa_family == AF_INET) {
        a->family = AF_INET;
        memcpy(a->a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        a->family = AF_INET6;
        memcpy(a->a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    }
}

void access_peer(struct MHD_Connection *c, struct proxy_addr *a)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    access_sockaddr(ci ? ci->client_addr : NULL, a);
}

/* The client: the peer, unless the peer is a trusted proxy; then the right-most address of
 * X-Forwarded-For that is not a trusted proxy (each proxy appends the address it saw, so
 * anything left of the first untrusted hop is the client's own claim and ignored). */
void access_client_address(struct http_req *r)
{
    struct proxy_addr a;
    access_peer(r->conn, &a);
    const char *xff = http_req_header(r, "X-Forwarded-For");
    if (a.family && access_trusted(r->srv, &a) && xff) {
        for (const char *end = xff + strlen(xff); end > xff;) {
            const char *start = end;
            while (start > xff && start[-1] != ',')
                start--;
            struct proxy_addr hop;
            if (!parse_addr(start, (size_t)(end - start), &hop))
                break;
            a = hop;
            if (!access_trusted(r->srv, &hop))
                break;
            end = start > xff ? start - 1 : xff;
        }
    }
    if (!a.family || !inet_ntop(a.family, a.a, r->client, sizeof r->client))
        r->client[0] = '\0';
}

/* A JSON string of a client-controlled value that may not be UTF-8: bytes that are not
 * printable ASCII are written %XX when the value is not valid UTF-8 (new reference). */
static json_t *loggable_string(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    struct strbuf sb;
    strbuf_init(&sb);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p < 0x7f)
            strbuf_append(&sb, (const char *)p, 1);
        else
            strbuf_printf(&sb, "%%%02X", *p);
    }
    j = json_stringn(sb.buf ? sb.buf : "", sb.len);
    strbuf_cleanup(&sb);
    return j;
}

void access_log(const struct http_req *r, int status, double seconds)
{
    if (!log_enabled(LOG_LEVEL_INFO) && status < 500)
        return;
    /* request_id and trace_id are added by log_write from the thread's context. */
    double ms = (double)(int64_t)(seconds * 1e6) / 1e3; /* microsecond precision */
    json_t *f = json_pack("{s:o,s:s,s:o,s:i,s:f,s:I}", "method", loggable_string(r->method),
                          "route", http_req_route(r), "path", loggable_string(r->path), "status",
                          status, "duration_ms", ms, "bytes", (json_int_t)r->resp_bytes);
    if (r->client[0])
        json_object_set_new(f, "client", json_string(r->client));
    const char *ua = http_req_header(r, MHD_HTTP_HEADER_USER_AGENT);
    if (ua)
        json_object_set_new(f, "user_agent", loggable_string(ua));
    if (r->user_id[0])
        json_object_set_new(f, "user_id", json_string(r->user_id));
    log_write(status >= 500 ? LOG_LEVEL_ERROR : LOG_LEVEL_INFO, "http_request", NULL, f);
}
