/* clock — wall and monotonic time, RFC 3339 formatting. */
#ifndef HAAT_PKG_CLOCK_CLOCK_H
#define HAAT_PKG_CLOCK_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_RFC3339_LEN 32 /* buffer size for clock_rfc3339 */

int64_t clock_unix_ms(void);  /* wall clock, ms since the epoch */
int64_t clock_unix_s(void);   /* wall clock, s since the epoch */
uint64_t clock_mono_ns(void); /* monotonic, for durations */
/* "2026-11-21T10:00:00Z" (ms precision when with_ms). out must hold CLOCK_RFC3339_LEN. */
void clock_rfc3339(int64_t unix_ms, int with_ms, char *out);

#endif
