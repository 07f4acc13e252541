/* housekeeping — one periodic job that purges what each module no longer needs (expired
 * Idempotency-Keys, OTPs and refresh tokens, processed outbox events, old notifications). */
#ifndef HAAT_INTERNAL_APP_HOUSEKEEPING_H
#define HAAT_INTERNAL_APP_HOUSEKEEPING_H

/* Registers the job with pkg/jobs (before jobs_start). 0, or -1 (logged). */
int housekeeping_register(void);

#endif
