/* harness — child processes: bookkeeping for the exit clean-up, their environment, spawning,
 * and h_run (see harness.h). */
#include "tests/integration/harness_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_TRACKED        64
#define DEFAULT_JWT_SECRET "haat-integration-test-jwt-secret-0123456789abcdef"
#define DEFAULT_DATA_KEY   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

extern char **environ;

/* ---- process bookkeeping (what exit clean-up kills and drops) -------------------------------- */

static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t tracked_pids[MAX_TRACKED];
static char tracked_dbs[MAX_TRACKED][64];

void hi_track_pid(pid_t pid, bool add)
{
    pthread_mutex_lock(&track_lock);
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (add && tracked_pids[i] == 0) {
            tracked_pids[i] = pid;
            break;
        }
        if (!add && tracked_pids[i] == pid) {
            tracked_pids[i] = 0;
            break;
        }
    }
    pthread_mutex_unlock(&track_lock);
}

void hi_track_db(const char *name, bool add)
{
    pthread_mutex_lock(&track_lock);
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (add && tracked_dbs[i][0] == '\0') {
            snprintf(tracked_dbs[i], sizeof tracked_dbs[i], "%s", name);
            break;
        }
        if (!add && strcmp(tracked_dbs[i], name) == 0) {
            tracked_dbs[i][0] = '\0';
            break;
        }
    }
    pthread_mutex_unlock(&track_lock);
}

static int status_code(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return -1;
}

int hi_wait_pid(pid_t pid, int timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        int ws = 0;
        pid_t r = waitpid(pid, &ws, WNOHANG);
        if (r == pid)
            return status_code(ws);
        if (r < 0 && errno != EINTR)
            return -2; /* not our child (already reaped) */
        if (h_now_ms() >= deadline)
            return -1;
        h_sleep_ms(10);
    }
}

void hi_cleanup_at_exit(void)
{
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (tracked_pids[i] > 0) {
            kill(tracked_pids[i], SIGKILL);
            hi_wait_pid(tracked_pids[i], 5000);
            tracked_pids[i] = 0;
        }
    }
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked_dbs[i][0])
            h_db_drop(tracked_dbs[i]);
}

/* ---- environment of the children ------------------------------------------------------------- */

void hi_env_set(struct hi_env *e, const char *pair)
{
    const char *eq = strchr(pair, '=');
    size_t klen = eq ? (size_t)(eq - pair) : strlen(pair);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], pair, klen) == 0 && e->v[i][klen] == '=') {
            free(e->v[i]);
            e->v[i] = hi_xstrdup(pair);
            return;
        }
    }
    if (e->n + 2 > e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        if (!e->v)
            abort();
    }
    e->v[e->n++] = hi_xstrdup(pair);
    e->v[e->n] = NULL;
}

void hi_env_setf(struct hi_env *e, const char *name, const char *value)
{
    char *pair = hi_xasprintf("%s=%s", name, value);
    hi_env_set(e, pair);
    free(pair);
}

void hi_env_free(struct hi_env *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
    memset(e, 0, sizeof *e);
}

/* Variables of the caller that must not reach the server: its own settings and libpq's. */
static bool inherited_ok(const char *pair)
{
    return strncmp(pair, "HAAT_", 5) != 0 && strncmp(pair, "DATABASE_", 9) != 0 &&
           strncmp(pair, "PG", 2) != 0;
}

const char *h_jwt_secret(void)
{
    const char *s = getenv("HAAT_JWT_SECRET");
    return s && strlen(s) >= 32 ? s : DEFAULT_JWT_SECRET;
}

void hi_env_base(struct hi_env *e)
{
    for (char **p = environ; *p; p++)
        if (inherited_ok(*p))
            hi_env_set(e, *p);
    hi_env_setf(e, "HAAT_JWT_SECRET", h_jwt_secret());
    const char *data_key = getenv("HAAT_DATA_KEY");
    hi_env_setf(e, "HAAT_DATA_KEY",
                data_key && strlen(data_key) == 64 ? data_key : DEFAULT_DATA_KEY);
    hi_env_set(e, "PYTHONUNBUFFERED=1");
}

void hi_env_add_list(struct hi_env *e, const char *const *extra)
{
    for (size_t i = 0; extra && extra[i]; i++)
        hi_env_set(e, extra[i]);
}

pid_t hi_spawn(const char *const *argv, char *const *envp, int out_fd)
{
    hi_init();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(127);
    close_range(3, ~0u, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    execvpe(argv[0], (char *const *)(uintptr_t)argv, envp);
    dprintf(2, "harness: cannot exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

const char *hi_haat_bin(void)
{
    const char *b = getenv("HAAT_BIN");
    return b && *b ? b : NULL;
}

/* ---- h_run ----------------------------------------------------------------------------------- */

/* Collects fd until EOF, then reaps pid; both within timeout_ms. Returns 0 (*code set) or -1. */
static int read_until_exit(int fd, pid_t pid, int timeout_ms, struct hi_buf *out, int *code)
{
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - h_now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left < 100 ? left : 100));
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue;
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0)
            hi_buf_add(out, chunk, (size_t)n);
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            break; /* EOF: the program closed its output (it is exiting) */
    }
    int st = hi_wait_pid(pid, (int)(deadline - h_now_ms() > 0 ? deadline - h_now_ms() : 0));
    if (st < 0)
        return -1;
    *code = st;
    return 0;
}

int h_run(const char *const *args, const char *const *env, int *exit_code, char **output)
{
    hi_init();
    *exit_code = -1;
    if (output)
        *output = NULL;
    const char *bin = hi_haat_bin();
    if (!bin) {
        print_error("harness: HAAT_BIN is not set\n");
        return -1;
    }
    const char *argv[32];
    size_t n = 0;
    argv[n++] = bin;
    for (size_t i = 0; args && args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct hi_env e = {0};
    hi_env_base(&e);
    hi_env_add_list(&e, env);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        abort();
    pid_t pid = hi_spawn(argv, e.v, pipefd[1]);
    close(pipefd[1]);
    hi_env_free(&e);
    if (pid < 0) {
        close(pipefd[0]);
        return -1;
    }
    hi_track_pid(pid, true);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    struct hi_buf out = {0};
    int rc = read_until_exit(pipefd[0], pid, H_RUN_TIMEOUT_MS, &out, exit_code);
    if (rc != 0) {
        print_error("harness: %s timed out after %d ms; killed\n", bin, H_RUN_TIMEOUT_MS);
        kill(pid, SIGKILL);
        hi_wait_pid(pid, 5000);
        *exit_code = -1;
    }
    hi_track_pid(pid, false);
    close(pipefd[0]);
    char *text = hi_buf_take(&out, NULL);
    if (output)
        *output = text;
    else
        free(text);
    return rc;
}
