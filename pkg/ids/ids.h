/* ids — server-generated identifiers. */
#ifndef HAAT_PKG_IDS_IDS_H
#define HAAT_PKG_IDS_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define IDS_UUID_LEN 37 /* 36 chars + NUL */

/* A UUIDv7 (time-ordered, 74 random bits) in canonical lower-case form. */
void ids_uuid7(char out[IDS_UUID_LEN]);
/* True when s is a canonical UUID string (any version), e.g. a path parameter. */
bool ids_is_uuid(const char *s);
#define IDS_REQUEST_ID_LEN 33 /* 32 hex chars + NUL */

/* A request id: 128 bits from a per-thread generator seeded once from the system CSPRNG.
 * Unique and unpredictable enough to correlate logs, but not a secret (no system call per
 * id, unlike ids_random_hex). */
void ids_request_id(char out[IDS_REQUEST_ID_LEN]);
/* A random token of n_bytes bytes, hex-encoded into out (2*n_bytes+1 chars). */
void ids_random_hex(char *out, size_t n_bytes);

#endif
