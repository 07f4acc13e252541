/* stream — long-lived answers (text/event-stream) that hold no HTTP thread.
 *
 * A handler answers with http_reply_stream(): 200 with a callback-based body of unknown
 * length (chunked). The body is a byte queue filled from any thread with http_stream_write().
 * When the queue is empty libmicrohttpd's read callback suspends the connection (returning 0
 * bytes without suspending would spin); a write resumes it. One mutex guards the queue and
 * the suspended flag, so a connection is resumed only when it is suspended, and at most once
 * per suspension.
 *
 * A suspended connection does not notice a client that went away: whoever owns the stream
 * writes something periodically (an SSE comment heartbeat); the failed send then ends it.
 * The closed callback runs exactly once, on an HTTP thread, when the connection is done
 * (client gone, http_stream_end, server stop).
 *
 * Limits: a process-wide cap on open streams (http_stream_set_max); beyond it
 * http_reply_stream answers 503 service_unavailable with Retry-After instead of opening one.
 * A stream whose unsent bytes exceed HTTP_STREAM_MAX_QUEUED (a client that does not read) is
 * ended; the client reconnects and resumes.
 *
 * Shutdown: http_server_stop ends every stream of the server first (what was written is
 * still sent) and refuses new ones, so the daemon never stops with a suspended connection. */
#ifndef HAAT_PKG_HTTP_STREAM_H
#define HAAT_PKG_HTTP_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "pkg/http/http.h"

#define HTTP_STREAM_MAX_QUEUED (1024 * 1024)

struct http_stream;
typedef void (*http_stream_closed_fn)(void *arg);

/* The cap on open streams in this process (0: none). Call at start-up. */
void http_stream_set_max(int max);
/* Streams open now in this process. */
int http_stream_count(void);

/* Answers r (a GET handler, outside http_txn) with 200, Content-Type content_type,
 * Cache-Control no-store, and first the bytes of prelude (may be NULL). Returns the stream
 * with one reference for the caller (give it back with http_stream_release), or NULL after
 * replying 503 (cap reached, or the server is stopping). closed(arg) runs once when the
 * connection is done; arg must stay valid until then. */
struct http_stream *http_reply_stream(struct http_req *r, const char *content_type,
                                      const char *prelude, http_stream_closed_fn closed, void *arg);
/* Queues len bytes and wakes the connection. Any thread. false when the stream is closed or
 * ending (nothing queued). */
bool http_stream_write(struct http_stream *s, const char *buf, size_t len);
/* Ends the stream once what is queued is sent. Any thread; idempotent. */
void http_stream_end(struct http_stream *s);
/* Gives back the caller's reference. */
void http_stream_release(struct http_stream *s);

#endif
