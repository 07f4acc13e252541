/* audit — an append-only record of operator and admin actions (table audit_log): who (actor),
 * did what (action) to which record (target), why (reason), and the relevant state before and
 * after. Like pkg/outbox, a command writes its row inside its own transaction, so the row
 * commits with the change it records and a rolled-back change leaves no row. The database
 * refuses UPDATE, DELETE and TRUNCATE on the table, and nothing purges it. */
#ifndef HAAT_PKG_AUDIT_AUDIT_H
#define HAAT_PKG_AUDIT_AUDIT_H

#include <jansson.h>

#include "pkg/db/db.h"

/* The actor of an operator command run from the command line (haat admin ...). */
#define AUDIT_ACTOR_CLI "cli"

/* One audit row. Every pointer is borrowed for the duration of audit_record. */
struct audit_entry {
    const char *actor_id;    /* a user id, or AUDIT_ACTOR_CLI; required */
    const char *action;      /* "<area>.<verb>", e.g. "admin.grant", "user.suspend"; required */
    const char *target_kind; /* "user", "product", "order" or "notification"; required */
    const char *target_id;   /* the target's id; required */
    const char *reason;      /* free text from the actor; NULL: none */
    const json_t *before;    /* any JSON value stored as jsonb, e.g. {"roles":[...]}; NULL: none */
    const json_t *after;     /* the same after the change; NULL: none */
};

/* Registers the audit statement. Call at start-up, before the first db_conn(); calling it
 * again is harmless (a command that opens the database itself may call it too). */
void audit_init(void);

/* Records e inside the caller's db_txn on c (the primary): one INSERT with a fresh UUIDv7 id
 * and created_at = now(). Returns the statement's status (DB_CHECK for a value the table's
 * checks refuse, e.g. an unknown target_kind); the caller returns it from its transaction
 * function so that a failed record rolls the change back. A missing required field, or a call
 * outside a transaction, is refused (DB_ERROR, logged): an audit row must commit with its
 * change. */
enum db_status audit_record(struct db_conn *c, const struct audit_entry *e);

#endif
