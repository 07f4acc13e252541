/* idem — the Idempotency-Key store (table idempotency_keys).
 *
 * A request carrying a key goes through:
 *
 *     idem_hash(method, path, body, len, hash);
 *     switch (idem_begin(scope, key, hash, claim, &stored)) {
 *     case IDEM_PROCEED:     run the command; inside its transaction, before COMMIT,
 *                            idem_complete_txn(c, scope, key, claim, &response) — the key
 *                            completes in the commit that makes the effect, or not at all.
 *                            An answer that committed nothing (a validation error, a
 *                            conflict, a 5xx) releases the key (idem_release): nothing
 *                            happened, so a retry with the same key simply runs again;
 *     case IDEM_REPLAY:      answer stored.status / content_type / body (and its Location
 *                            and ETag) with Idempotent-Replayed: true; idem_stored_cleanup();
 *     case IDEM_MISMATCH:    422 idempotency_key_reused;
 *     case IDEM_IN_PROGRESS: 409 idempotency_in_progress;
 *     case IDEM_UNAVAILABLE: 503 service_unavailable.
 *     }
 *
 * scope: who and where, so keys of different users and routes never meet, e.g.
 * "<user id> POST /v1/orders" or "anon:<something> POST /v1/auth/signup".
 * Keys live IDEM_TTL_S: after that the same key starts afresh. A claim that was never
 * completed nor released (the process died before committing, or the database was down when
 * idem_release ran) may be taken over after IDEM_STALE_CLAIM_S, so a crash does not lock a
 * key for a day. Each claim has its own id: completing and releasing match it, so a request
 * whose claim was taken over can neither complete nor drop the new claim, and its
 * transaction rolls back — the effect never happens twice.
 *
 * idem_begin and idem_release run on the calling thread's primary connection
 * outside any transaction (the claim must be visible to other instances at once);
 * idem_complete_txn runs on the command's transaction connection. */
#ifndef HAAT_PKG_IDEM_IDEM_H
#define HAAT_PKG_IDEM_IDEM_H

#include <stdbool.h>
#include <stddef.h>

#include "pkg/db/db.h"

#define IDEM_TTL_S         86400
#define IDEM_STALE_CLAIM_S 300
#define IDEM_HASH_LEN      65 /* 64 hex chars + NUL */
#define IDEM_CLAIM_LEN     37 /* a UUID + NUL */

enum idem_outcome {
    IDEM_PROCEED,     /* the key is ours: run the request, then complete or release it */
    IDEM_REPLAY,      /* done before with the same request: *replay holds the response */
    IDEM_MISMATCH,    /* the key was used with a different request */
    IDEM_IN_PROGRESS, /* the first request with this key has not finished */
    IDEM_UNAVAILABLE, /* the database could not answer */
};

/* A stored response. Caller-owned struct; idem_stored_cleanup frees its members. */
struct idem_stored {
    int status;
    char *content_type; /* NULL when none was stored */
    unsigned char *body;
    size_t len;
    char *location; /* the first answer's Location header, NULL when none */
    char *etag;     /* ... and its ETag */
};

/* A response to store (borrowed). content_type, location and etag may be NULL; body may be
 * NULL when len is 0. */
struct idem_response {
    int status;
    const char *content_type;
    const void *body;
    size_t len;
    const char *location;
    const char *etag;
};

/* Registers the statements. Call at start-up, before the first db_conn(). */
void idem_init(void);

/* True when key is a usable Idempotency-Key: 1-255 visible ASCII characters or spaces
 * (the HTTP layer answers 400 otherwise, before idem_begin). */
bool idem_key_valid(const char *key);

/* The request fingerprint: hex SHA-256 over method, route and body (body may be NULL when
 * len is 0). out holds IDEM_HASH_LEN. */
void idem_hash(const char *method, const char *route, const void *body, size_t len,
               char out[IDEM_HASH_LEN]);

/* Claims (scope, key) for a request with request_hash, atomically across instances. On
 * IDEM_PROCEED claim holds this claim's id (for the calls below). On IDEM_REPLAY *replay is
 * filled (else left zeroed); replay may be NULL only if the caller never wants the body. */
enum idem_outcome idem_begin(const char *scope, const char *key, const char *request_hash,
                             char claim[IDEM_CLAIM_LEN], struct idem_stored *replay);

/* Inside the command's transaction on c: stores resp as the key's response. DB_OK, or
 * DB_NOT_FOUND when the claim is no longer ours (taken over): the caller must roll back. */
enum db_status idem_complete_txn(struct db_conn *c, const char *scope, const char *key,
                                 const char *claim, const struct idem_response *resp);

/* Drops our unfinished claim: the request committed nothing, so the client may retry. */
void idem_release(const char *scope, const char *key, const char *claim);

void idem_stored_cleanup(struct idem_stored *s);

/* Deletes keys older than IDEM_TTL_S, in batches (a periodic job). Returns the number
 * deleted, or -1 when the database failed (logged). */
long long idem_purge_expired(void);

#endif
