/* outbox — domain events recorded in the same transaction as the change that caused them
 * (table outbox_events). Committing the transaction publishes the event: workers are woken
 * by NOTIFY on channel OUTBOX_CHANNEL (payload: the event type) and claim rows themselves;
 * a rolled-back transaction leaves neither a row nor a notification. */
#ifndef HAAT_PKG_OUTBOX_OUTBOX_H
#define HAAT_PKG_OUTBOX_OUTBOX_H

#include <jansson.h>

#include "pkg/db/db.h"

#define OUTBOX_CHANNEL "haat_outbox"
/* Processed events are kept this long (for audit and replay), then purged. */
#define OUTBOX_RETENTION_DAYS 7

/* Registers the outbox statements. Call at start-up, before the first db_conn(). */
void outbox_init(void);

/* Records an event inside the caller's db_txn on c (the primary): one round trip that
 * inserts the row (a fresh UUIDv7 event_id, the calling thread's log_trace_id()) and queues
 * the NOTIFY. type: "order.placed"
 * etc.; aggregate_id may be NULL; payload is a JSON object (borrowed; NULL = {}). Outside
 * a transaction it refuses (DB_ERROR, logged): an event must commit with its change. */
enum db_status outbox_emit(struct db_conn *c, const char *type, const char *aggregate_id,
                           const json_t *payload);

/* The number of unprocessed events (the outbox_pending_events gauge), read on the calling
 * thread's read connection. */
enum db_status outbox_pending(long long *n);

/* Deletes events processed more than OUTBOX_RETENTION_DAYS ago, in batches of 1000 (a
 * periodic job; unprocessed events are never touched). Returns the number deleted, or -1
 * when the database failed (logged). */
long long outbox_purge_processed(void);

#endif
