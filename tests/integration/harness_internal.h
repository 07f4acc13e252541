/* Private to the harness files (harness_*.c): what they share besides harness.h. Test files
 * include harness.h only. Every name here starts with hi_ (HI_) so that none can clash with a
 * test's own names: the harness objects are linked into every integration test binary.
 *
 * The harness is self-contained: it uses only libcurl, jansson, libpq, libsodium, cmocka and
 * libc (the test binaries do not link the server's own objects). */
#ifndef HAAT_TESTS_INTEGRATION_HARNESS_INTERNAL_H
#define HAAT_TESTS_INTEGRATION_HARNESS_INTERNAL_H

#include "tests/integration/harness.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Where servers and sinks write their logs and output files (relative to the repo root). */
#define HI_LOG_DIR "var/test-logs"

/* --- harness_misc.c: utilities, start-up, failure reports --- */

/* Copies; out of memory aborts. hi_xstrdup(NULL) is "". */
char *hi_xstrdup(const char *s);
char *hi_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growing byte buffer, always NUL-terminated once anything was added. */
struct hi_buf {
    char *p;
    size_t len, cap;
};
void hi_buf_add(struct hi_buf *b, const char *data, size_t n);
/* Hands the buffer over (never NULL; "" when empty) and leaves b empty. */
char *hi_buf_take(struct hi_buf *b, size_t *len);

/* mkdir -p (errors ignored: the next open reports them). */
void hi_mkdir_p(const char *path);
/* Reports a failure at the caller's file and line through cmocka (does not return). */
void hi_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
/* Last n lines of a file to stderr. */
void hi_print_tail(const char *path, int n);
/* Once per program: libcurl, libsodium, SIGPIPE ignored, the exit clean-up. Every entry point
 * that may be first calls it. */
void hi_init(void);

/* --- harness_http.c --- */

/* Creates the per-thread easy-handle key (from hi_init, after curl_global_init). */
void hi_http_init(void);

/* --- harness_proc.c: child processes --- */

/* Remembers (add) or forgets a child / a database for the exit clean-up. */
void hi_track_pid(pid_t pid, bool add);
void hi_track_db(const char *name, bool add);
/* Kills the children and drops the databases still remembered (atexit). */
void hi_cleanup_at_exit(void);
/* Waits up to timeout_ms for pid. Returns its status code (exit code or 128 + signal), -1 on
 * timeout, -2 when pid is not a child (already reaped). */
int hi_wait_pid(pid_t pid, int timeout_ms);

/* The environment of a child: "NAME=value" strings, NULL-terminated, each owned. */
struct hi_env {
    char **v;
    size_t n, cap;
};
/* Sets pair ("NAME=value"), replacing an earlier value of NAME. */
void hi_env_set(struct hi_env *e, const char *pair);
void hi_env_setf(struct hi_env *e, const char *name, const char *value);
void hi_env_free(struct hi_env *e);
/* The caller's environment minus HAAT_*, DATABASE_* and PG*, plus HAAT_JWT_SECRET and
 * PYTHONUNBUFFERED=1. */
void hi_env_base(struct hi_env *e);
/* Sets every pair of extra (NULL-terminated; may be NULL). */
void hi_env_add_list(struct hi_env *e, const char *const *extra);
/* fork + exec argv (PATH lookup) with envp; stdout and stderr to out_fd, stdin /dev/null; the
 * child dies with the test program. Returns the pid, or -1. */
pid_t hi_spawn(const char *const *argv, char *const *envp, int out_fd);
/* $HAAT_BIN, or NULL when unset or empty. */
const char *hi_haat_bin(void);

/* --- harness_db.c --- */

/* $HAAT_PG_ADMIN_URL, or the private cluster's maintenance database. */
const char *hi_admin_url(void);

/* --- harness_server.c, harness_sinks.c --- */

/* Outcome of one attempt to start a server or a sink (RETRY: its free port was taken). */
enum hi_start { HI_START_OK, HI_START_RETRY, HI_START_FAILED };

#endif
