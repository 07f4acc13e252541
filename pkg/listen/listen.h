/* listen — the process's one PostgreSQL LISTEN connection, for everything in a `haat serve`
 * process that reacts to NOTIFY at once (the chat event streams today; cache invalidation
 * later). Business-free: a channel, a callback, a reconnect callback.
 *
 * One thread holds one dedicated connection to the primary (NOTIFY is not replicated), named
 * application_name "haat-listen:<pid>" so an operator (or a test) can find it in
 * pg_stat_activity. It LISTENs on every subscribed channel and calls each channel's callback
 * for each notification, on the listener thread, in arrival order. When the connection
 * breaks it reconnects with a bounded, jittered back-off (250 ms doubling to 5 s); after
 * every successful connect, the first one included, it calls the reconnect callbacks:
 * notifications sent while it was away are lost, so subscribers re-read what they may have
 * missed from the database.
 *
 * Callbacks run on the listener thread and must be quick (hand work to another thread);
 * they must not call listen_* functions.
 *
 * Lifecycle: listen_subscribe / listen_on_reconnect ... listen_start ... listen_stop; after
 * listen_stop everything is forgotten and the sequence may start over (tests do). */
#ifndef HAAT_PKG_LISTEN_LISTEN_H
#define HAAT_PKG_LISTEN_LISTEN_H

#include <stdbool.h>

#define LISTEN_MAX_CHANNELS 8

/* channel and payload are borrowed for the call. */
typedef void (*listen_fn)(const char *channel, const char *payload, void *arg);
typedef void (*listen_reconnect_fn)(void *arg);

/* Before listen_start. channel: 1..63 chars of [a-z0-9_] (copied). arg is borrowed until
 * listen_stop returns. Returns 0, or -1 (logged) for a bad name, a full table or a started
 * listener. */
int listen_subscribe(const char *channel, listen_fn fn, void *arg);
/* Before listen_start. Returns 0, or -1 (logged). */
int listen_on_reconnect(listen_reconnect_fn fn, void *arg);

/* Starts the thread (db_url copied: a libpq URI or key=value string). An unreachable
 * database is not an error: the thread keeps trying. Returns 0, or -1 (logged) when already
 * started, nothing is subscribed or the thread cannot start. */
int listen_start(const char *db_url);

/* True while the listener holds a working connection. Any thread. */
bool listen_connected(void);

/* Stops the thread, waiting up to grace_ms; returns true when it was joined (or never
 * started), false when it was left running (detached, its state never freed). */
bool listen_stop(int grace_ms);

#endif
