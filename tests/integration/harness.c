/* harness — see harness.h. Self-contained: links only libcurl, jansson, libpq, libsodium and
 * libc (the test binaries do not link the server's own objects). */
#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <sodium.h>

#define LOG_DIR            "var/test-logs"
#define MAX_TRACKED        64
#define DEFAULT_JWT_SECRET "haat-integration-test-jwt-secret-0123456789abcdef"

extern char **environ;

/* ---- small utilities ---------------------------------------------------------------------- */

static void *xmalloc_(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrdup_(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

static char *xasprintf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Hands the buffer over (never NULL). */
static char *buf_take(struct buf *b, size_t *len)
{
    if (!b->p)
        buf_add(b, "", 0);
    char *p = b->p;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}

long long h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

const char *h_test_name(void)
{
    return program_invocation_short_name;
}

char *h_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    return buf_take(&b, len);
}

size_t h_count_lines_with(const char *text, const char *needle)
{
    size_t count = 0;
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (memmem(line, n, needle, strlen(needle)))
            count++;
        line = nl ? nl + 1 : NULL;
    }
    return count;
}

static void mkdir_p(const char *path)
{
    char tmp[H_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

/* Reports a failure at the caller's file and line through cmocka (does not return). */
static void fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
static void fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("ERROR: %s\n", msg);
    _fail(file, line);
    abort(); /* _fail longjmps out of the test; not reached */
}

/* ---- process bookkeeping (what exit clean-up kills and drops) ------------------------------ */

static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t tracked_pids[MAX_TRACKED];
static char tracked_dbs[MAX_TRACKED][64];

static void track_pid(pid_t pid, bool add)
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

static void track_db(const char *name, bool add)
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

/* Waits up to timeout_ms for pid. Returns its status code, or -1 on timeout. */
static int wait_pid(pid_t pid, int timeout_ms)
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

static void cleanup_at_exit(void)
{
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (tracked_pids[i] > 0) {
            kill(tracked_pids[i], SIGKILL);
            wait_pid(tracked_pids[i], 5000);
            tracked_pids[i] = 0;
        }
    }
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked_dbs[i][0])
            h_db_drop(tracked_dbs[i]);
}

static pthread_key_t curl_key;

static void curl_handle_free(void *h)
{
    curl_easy_cleanup(h);
}

static void init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_ALL) != 0 || sodium_init() < 0)
        abort();
    pthread_key_create(&curl_key, curl_handle_free);
    signal(SIGPIPE, SIG_IGN);
    atexit(cleanup_at_exit);
}

static void h_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}

/* ---- environment of the children ----------------------------------------------------------- */

struct envlist {
    char **v; /* NULL-terminated, each owned */
    size_t n, cap;
};

static void env_set(struct envlist *e, const char *pair)
{
    const char *eq = strchr(pair, '=');
    size_t klen = eq ? (size_t)(eq - pair) : strlen(pair);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], pair, klen) == 0 && e->v[i][klen] == '=') {
            free(e->v[i]);
            e->v[i] = xstrdup_(pair);
            return;
        }
    }
    if (e->n + 2 > e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        if (!e->v)
            abort();
    }
    e->v[e->n++] = xstrdup_(pair);
    e->v[e->n] = NULL;
}

static void env_setf(struct envlist *e, const char *name, const char *value)
{
    char *pair = xasprintf_("%s=%s", name, value);
    env_set(e, pair);
    free(pair);
}

static void env_free(struct envlist *e)
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

static void env_base(struct envlist *e)
{
    for (char **p = environ; *p; p++)
        if (inherited_ok(*p))
            env_set(e, *p);
    env_setf(e, "HAAT_JWT_SECRET", h_jwt_secret());
    env_set(e, "PYTHONUNBUFFERED=1");
}

static void env_add_list(struct envlist *e, const char *const *extra)
{
    for (size_t i = 0; extra && extra[i]; i++)
        env_set(e, extra[i]);
}

/* fork + exec argv (PATH lookup) with envp; stdout and stderr to out_fd, stdin /dev/null.
 * Returns the pid, or -1. */
static pid_t spawn(const char *const *argv, char *const *envp, int out_fd)
{
    h_init();
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

static const char *haat_bin(void)
{
    const char *b = getenv("HAAT_BIN");
    return b && *b ? b : NULL;
}

/* ---- h_run -------------------------------------------------------------------------------- */

/* Collects fd until EOF, then reaps pid; both within timeout_ms. Returns 0 (*code set) or -1. */
static int read_until_exit(int fd, pid_t pid, int timeout_ms, struct buf *out, int *code)
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
            buf_add(out, chunk, (size_t)n);
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            break; /* EOF: the program closed its output (it is exiting) */
    }
    int st = wait_pid(pid, (int)(deadline - h_now_ms() > 0 ? deadline - h_now_ms() : 0));
    if (st < 0)
        return -1;
    *code = st;
    return 0;
}

int h_run(const char *const *args, const char *const *env, int *exit_code, char **output)
{
    h_init();
    *exit_code = -1;
    if (output)
        *output = NULL;
    const char *bin = haat_bin();
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
    struct envlist e = {0};
    env_base(&e);
    env_add_list(&e, env);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        abort();
    pid_t pid = spawn(argv, e.v, pipefd[1]);
    close(pipefd[1]);
    env_free(&e);
    if (pid < 0) {
        close(pipefd[0]);
        return -1;
    }
    track_pid(pid, true);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    struct buf out = {0};
    int rc = read_until_exit(pipefd[0], pid, H_RUN_TIMEOUT_MS, &out, exit_code);
    if (rc != 0) {
        print_error("harness: %s timed out after %d ms; killed\n", bin, H_RUN_TIMEOUT_MS);
        kill(pid, SIGKILL);
        wait_pid(pid, 5000);
        *exit_code = -1;
    }
    track_pid(pid, false);
    close(pipefd[0]);
    char *text = buf_take(&out, NULL);
    if (output)
        *output = text;
    else
        free(text);
    return rc;
}

/* ---- databases ---------------------------------------------------------------------------- */

static PGconn *pg_connect(const char *url)
{
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *vals[] = {url, "5", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        print_error("harness: cannot connect to %s: %s", url, PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

static const char *admin_url(void)
{
    const char *u = getenv("HAAT_PG_ADMIN_URL");
    return u && *u ? u : "postgresql://haat@127.0.0.1:55432/postgres";
}

int h_db_exec(const char *url, const char *sql)
{
    PGconn *pg = pg_connect(url);
    if (!pg)
        return -1;
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc != 0)
        print_error("harness: %s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
    return rc;
}

char *h_db_scalar(const char *url, const char *sql)
{
    PGconn *pg = pg_connect(url);
    if (!pg)
        return NULL;
    char *value = NULL;
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        print_error("harness: %s: %s", sql, PQerrorMessage(pg));
    else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        value = xstrdup_(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(pg);
    return value;
}

/* Drops haat_t_<pid>_* databases whose test program is gone (it crashed before clean-up). */
static void drop_stale_databases(PGconn *pg)
{
    PGresult *res = PQexec(pg, "SELECT datname FROM pg_database WHERE datname LIKE 'haat\\_t\\_%'");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0);
        long pid = strtol(name + 7, NULL, 10);
        if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            h_db_drop(name);
    }
    PQclear(res);
}

/* url of database name on the admin cluster: the admin URL with its path replaced. */
static int db_url_for(const char *name, char url[256])
{
    const char *admin = admin_url();
    const char *scheme = strstr(admin, "://");
    const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
    if (!path)
        return -1;
    const char *query = strchr(path, '?');
    int n = snprintf(url, 256, "%.*s/%s%s", (int)(path - admin), admin, name, query ? query : "");
    return n > 0 && n < 256 ? 0 : -1;
}

int h_db_create(char name[64], char url[256])
{
    static atomic_int counter;
    static atomic_bool stale_done;
    h_init();
    PGconn *pg = pg_connect(admin_url());
    if (!pg)
        return -1;
    if (!atomic_exchange(&stale_done, true))
        drop_stale_databases(pg);
    snprintf(name, 64, "haat_t_%ld_%d", (long)getpid(), atomic_fetch_add(&counter, 1));
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    PGresult *res = PQexec(pg, sql);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0)
        print_error("harness: %s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
    if (rc == 0) {
        track_db(name, true);
        rc = db_url_for(name, url);
    }
    return rc;
}

int h_db_drop(const char *name)
{
    if (!name || !*name)
        return 0;
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    int rc = h_db_exec(admin_url(), sql);
    if (rc == 0)
        track_db(name, false);
    return rc;
}

/* ---- the server --------------------------------------------------------------------------- */

int h_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Last n lines of a file to stderr. */
static void print_tail(const char *path, int n)
{
    size_t len = 0;
    char *text = h_read_file(path, &len);
    if (!text) {
        print_error("harness: (no log at %s)\n", path);
        return;
    }
    const char *start = text + len;
    int lines = 0;
    while (start > text && lines <= n) {
        start--;
        if (*start == '\n' && start + 1 < text + len)
            lines++;
    }
    if (lines > n)
        start++;
    print_error("harness: log %s (last %d lines):\n%s%s", path, n, start,
                len && text[len - 1] != '\n' ? "\n" : "");
    free(text);
}

void h_server_print_log(const struct h_server *s, int n)
{
    print_tail(s->log_path, n);
}

char *h_server_log(const struct h_server *s)
{
    char *t = h_read_file(s->log_path, NULL);
    return t ? t : xstrdup_("");
}

const char *h_server_notify_file(const struct h_server *s, const char *name)
{
    static _Thread_local char path[H_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", s->notify_dir, name);
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* rm -rf dir (a notify dir from an earlier run). */
static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void server_paths(struct h_server *s)
{
    static atomic_int counter;
    if (s->log_path[0])
        return; /* a restart: keep the log and the notify dir */
    mkdir_p(LOG_DIR);
    int n = atomic_fetch_add(&counter, 1);
    /* The pid keeps concurrent runs of the same test binary apart. */
    snprintf(s->log_path, sizeof s->log_path, LOG_DIR "/%s-%d-%d.log", h_test_name(), (int)getpid(),
             n);
    snprintf(s->notify_dir, sizeof s->notify_dir, LOG_DIR "/%s-%d-%d.notify", h_test_name(),
             (int)getpid(), n);
    unlink(s->log_path);
    remove_tree(s->notify_dir);
    mkdir_p(s->notify_dir);
}

static void server_env(const struct h_server *s, const char *const *extra, struct envlist *e)
{
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port);
    env_base(e);
    env_setf(e, "DATABASE_URL", s->db_url);
    env_setf(e, "HAAT_HTTP_ADDR", addr);
    env_set(e, "HAAT_LOG_LEVEL=info");
    env_setf(e, "HAAT_NOTIFY_LOG_DIR", s->notify_dir);
    env_set(e, "HAAT_SANDBOX_WEBHOOK_SECRET=" H_SANDBOX_WEBHOOK_SECRET);
    env_add_list(e, extra);
}

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* Runs `haat --config C migrate` into the server's log. Returns the exit status or -1. */
static int server_migrate(struct h_server *s, const char *const *extra)
{
    const char *argv[] = {haat_bin(), "--config", s->config ? s->config : H_TEST_CONFIG, "migrate",
                          NULL};
    struct envlist e = {0};
    server_env(s, extra, &e);
    int fd = open_log(s->log_path);
    dprintf(fd, "harness: --- %s migrate ---\n", argv[0]);
    pid_t pid = spawn(argv, e.v, fd);
    close(fd);
    env_free(&e);
    if (pid < 0)
        return -1;
    track_pid(pid, true);
    int st = wait_pid(pid, H_RUN_TIMEOUT_MS);
    if (st == -1) {
        kill(pid, SIGKILL);
        wait_pid(pid, 5000);
    }
    track_pid(pid, false);
    return st;
}

/* Outcome of one start attempt. */
enum start_result { START_OK, START_RETRY, START_FAILED };

static enum start_result server_spawn(struct h_server *s, const char *const *extra, char *why,
                                      size_t why_len)
{
    s->port = h_free_port();
    snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d", s->port);
    const char *argv[] = {haat_bin(), "--config", s->config ? s->config : H_TEST_CONFIG,
                          s->command ? s->command : "serve", NULL};
    struct envlist e = {0};
    server_env(s, extra, &e);
    int fd = open_log(s->log_path);
    dprintf(fd, "harness: --- %s %s on port %d ---\n", argv[0], argv[3], s->port);
    s->pid = spawn(argv, e.v, fd);
    close(fd);
    env_free(&e);
    if (s->pid < 0) {
        s->pid = 0;
        snprintf(why, why_len, "fork failed: %s", strerror(errno));
        return START_FAILED;
    }
    track_pid(s->pid, true);
    if (s->no_wait)
        return START_OK;
    long long deadline = h_now_ms() + H_START_TIMEOUT_MS;
    while (h_now_ms() < deadline) {
        int st = wait_pid(s->pid, 0);
        if (st != -1) {
            track_pid(s->pid, false);
            s->pid = 0;
            s->exit_status = st;
            char *log = h_server_log(s);
            bool port_taken = strstr(log, "cannot listen") || strstr(log, "in use");
            free(log);
            snprintf(why, why_len, "the server exited with status %d before /healthz", st);
            return port_taken ? START_RETRY : START_FAILED;
        }
        struct h_resp r = {0};
        long status = h_get(s, "/healthz", &r);
        h_resp_cleanup(&r);
        if (status == 200)
            return START_OK;
        h_sleep_ms(50);
    }
    snprintf(why, why_len, "GET /healthz did not answer 200 within %d ms", H_START_TIMEOUT_MS);
    h_server_kill(s);
    return START_FAILED;
}

void h_server_start_at(struct h_server *s, const char *const *env, const char *file, int line)
{
    h_init();
    if (!haat_bin())
        fail_at(file, line, "HAAT_BIN is not set (run through `make itest`)");
    if (s->pid > 0)
        fail_at(file, line, "h_server_start: server %d is already running", (int)s->pid);
    server_paths(s);
    if (!s->db_url[0] && h_db_create(s->db_name, s->db_url) != 0)
        fail_at(file, line, "h_server_start: cannot create a database on %s", admin_url());
    if (!s->no_migrate) {
        int st = server_migrate(s, env);
        if (st != 0) {
            print_tail(s->log_path, H_LOG_TAIL_LINES);
            fail_at(file, line, "h_server_start: haat migrate exited with %d", st);
        }
    }
    char why[256] = "";
    for (int attempt = 0; attempt < 5; attempt++) {
        enum start_result res = server_spawn(s, env, why, sizeof why);
        if (res == START_OK)
            return;
        if (res == START_FAILED)
            break;
    }
    print_tail(s->log_path, H_LOG_TAIL_LINES);
    fail_at(file, line, "h_server_start: %s", why);
}

int h_server_signal(struct h_server *s, int sig)
{
    if (s->pid <= 0)
        return -1;
    return kill(s->pid, sig);
}

int h_server_wait(struct h_server *s, int timeout_ms)
{
    if (s->pid <= 0)
        return s->exit_status;
    int st = wait_pid(s->pid, timeout_ms);
    if (st == -1)
        return -1;
    track_pid(s->pid, false);
    s->pid = 0;
    s->exit_status = st;
    return st;
}

int h_server_kill(struct h_server *s)
{
    if (s->pid <= 0)
        return s->exit_status;
    kill(s->pid, SIGKILL);
    int st = wait_pid(s->pid, 5000);
    track_pid(s->pid, false);
    s->pid = 0;
    s->exit_status = st;
    return st;
}

int h_server_stop_at(struct h_server *s, const char *file, int line)
{
    if (s->pid <= 0)
        return s->exit_status;
    kill(s->pid, SIGTERM);
    int st = h_server_wait(s, H_STOP_TIMEOUT_MS);
    if (st == -1) {
        h_server_kill(s);
        print_tail(s->log_path, H_LOG_TAIL_LINES);
        fail_at(file, line, "h_server_stop: no exit within %d ms of SIGTERM; killed",
                H_STOP_TIMEOUT_MS);
    }
    if (st != 0) {
        print_error("harness: server exited with status %d\n", st);
        print_tail(s->log_path, H_LOG_TAIL_LINES);
    }
    return st;
}

void h_server_cleanup(struct h_server *s)
{
    if (s->pid > 0)
        h_server_kill(s);
    if (s->db_name[0])
        h_db_drop(s->db_name);
    memset(s, 0, sizeof *s);
}

/* ---- HTTP --------------------------------------------------------------------------------- */

static CURL *thread_handle(void)
{
    h_init();
    CURL *h = pthread_getspecific(curl_key);
    if (!h) {
        h = curl_easy_init();
        if (!h)
            abort();
        pthread_setspecific(curl_key, h);
    }
    curl_easy_reset(h);
    return h;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    buf_add(arg, p, size * n);
    return size * n;
}

/* Keeps the header block of the last response only (a 100 Continue comes first). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
        b->len = 0;
    buf_add(b, p, size * n);
    return size * n;
}

static void parse_headers(struct h_resp *r)
{
    size_t cap = 0;
    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t n = end ? (size_t)(end - line) : strlen(line);
        const char *colon = memchr(line, ':', n);
        if (colon && strncmp(line, "HTTP/", 5) != 0) {
            if (r->nhdrs == cap) {
                cap = cap ? cap * 2 : 16;
                r->hdrs = realloc(r->hdrs, cap * sizeof *r->hdrs);
                if (!r->hdrs)
                    abort();
            }
            const char *v = colon + 1;
            while (v < line + n && (*v == ' ' || *v == '\t'))
                v++;
            size_t vlen = (size_t)(line + n - v);
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            r->hdrs[r->nhdrs].name = strndup(line, (size_t)(colon - line));
            r->hdrs[r->nhdrs].value = strndup(v, vlen);
            r->nhdrs++;
        }
        line = end ? end + 2 : NULL;
    }
}

const char *h_resp_header(const struct h_resp *r, const char *name)
{
    for (size_t i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0)
            return r->hdrs[i].value;
    return NULL;
}

void h_resp_cleanup(struct h_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    memset(r, 0, sizeof *r);
}

static struct curl_slist *build_headers(const char *const *headers, bool has_body)
{
    struct curl_slist *list = NULL;
    bool has_ctype = false;
    for (size_t i = 0; headers && headers[i]; i++) {
        if (strncasecmp(headers[i], "Content-Type:", 13) == 0)
            has_ctype = true;
        list = curl_slist_append(list, headers[i]);
    }
    if (has_body && !has_ctype)
        list = curl_slist_append(list, "Content-Type: application/json");
    else if (!has_ctype)
        list = curl_slist_append(list, "Content-Type:"); /* not curl's form default */
    return list;
}

static void set_method(CURL *h, const char *method, const char *body, size_t len)
{
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        if (body || strcmp(method, "POST") == 0) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        }
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
}

static void finish_resp(CURL *h, CURLcode rc, struct buf *body, struct buf *hdrs,
                        struct h_resp *out)
{
    out->body = buf_take(body, &out->len);
    out->headers = buf_take(hdrs, NULL);
    if (rc != CURLE_OK) {
        if (!out->error[0])
            snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
        out->status = 0;
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    }
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &out->seconds);
    parse_headers(out);
    const char *ct = h_resp_header(out, "Content-Type");
    if (ct && strstr(ct, "json") && out->len > 0)
        out->json = json_loadb(out->body, out->len, JSON_DECODE_ANY, NULL);
}

long h_request_url(const char *method, const char *url, const char *body, size_t len,
                   const char *const *headers, struct h_resp *out)
{
    CURL *h = thread_handle();
    memset(out, 0, sizeof *out);
    struct buf bbody = {0}, bhdrs = {0};
    struct curl_slist *list = build_headers(headers, body != NULL);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)H_HTTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bbody);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &bhdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, out->error);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    set_method(h, method, body, len);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    finish_resp(h, rc, &bbody, &bhdrs, out);
    curl_slist_free_all(list);
    return out->status;
}

long h_request_len(const struct h_server *s, const char *method, const char *path, const char *body,
                   size_t len, const char *const *headers, struct h_resp *out)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", s->base_url, path);
    return h_request_url(method, url, body, len, headers, out);
}

long h_request(const struct h_server *s, const char *method, const char *path, const char *body,
               const char *const *headers, struct h_resp *out)
{
    return h_request_len(s, method, path, body, body ? strlen(body) : 0, headers, out);
}

long h_get(const struct h_server *s, const char *path, struct h_resp *out)
{
    return h_request(s, "GET", path, NULL, NULL, out);
}

void h_resp_print(const struct h_resp *r)
{
    print_error("harness: response status %ld%s%s (%.3f s)\n%s%.*s%s\n", r->status,
                r->error[0] ? ", error: " : "", r->error, r->seconds, r->headers ? r->headers : "",
                (int)(r->len > 2048 ? 2048 : r->len), r->body ? r->body : "",
                r->len > 2048 ? "..." : "");
}

void h_assert_status_at(const struct h_resp *r, long status, const char *file, int line)
{
    if (r->status == status)
        return;
    h_resp_print(r);
    fail_at(file, line, "expected HTTP status %ld, got %ld", status, r->status);
}

static const char *problem_error(const struct h_resp *r, long status, const char *code)
{
    static _Thread_local char why[256];
    const char *ct = h_resp_header(r, "Content-Type");
    if (r->status != status)
        snprintf(why, sizeof why, "HTTP status %ld, expected %ld", r->status, status);
    else if (!ct || strncasecmp(ct, "application/problem+json", 24) != 0)
        snprintf(why, sizeof why, "Content-Type %s, expected application/problem+json",
                 ct ? ct : "(none)");
    else if (!json_is_object(r->json))
        snprintf(why, sizeof why, "the body is not a JSON object");
    else if (!json_is_string(json_object_get(r->json, "type")) ||
             !json_is_string(json_object_get(r->json, "title")))
        snprintf(why, sizeof why, "type or title missing or not a string");
    else if (json_integer_value(json_object_get(r->json, "status")) != status ||
             !json_is_integer(json_object_get(r->json, "status")))
        snprintf(why, sizeof why, "member status differs from %ld", status);
    else if (!json_is_string(json_object_get(r->json, "code")) ||
             strcmp(json_string_value(json_object_get(r->json, "code")), code) != 0)
        snprintf(why, sizeof why, "code is not \"%s\"", code);
    else if (!h_resp_header(r, "X-Request-ID") ||
             !json_is_string(json_object_get(r->json, "request_id")) ||
             strcmp(json_string_value(json_object_get(r->json, "request_id")),
                    h_resp_header(r, "X-Request-ID")) != 0)
        snprintf(why, sizeof why, "request_id differs from the X-Request-ID header");
    else
        return NULL;
    return why;
}

void h_assert_problem_at(const struct h_resp *r, long status, const char *code, const char *file,
                         int line)
{
    const char *why = problem_error(r, status, code);
    if (!why)
        return;
    h_resp_print(r);
    fail_at(file, line, "not a %ld %s problem: %s", status, code, why);
}

long h_wait_status(const struct h_server *s, const char *path, long want, int timeout_ms)
{
    long long start = h_now_ms();
    for (;;) {
        struct h_resp r = {0};
        long got = h_get(s, path, &r);
        h_resp_cleanup(&r);
        long long now = h_now_ms();
        if (got == want)
            return (long)(now - start);
        if (now - start >= timeout_ms)
            return -1;
        h_sleep_ms(50);
    }
}

/* ---- metrics ------------------------------------------------------------------------------ */

#define MAX_LABELS 16

struct series {
    char name[128];
    size_t nlabels;
    char key[MAX_LABELS][64];
    char val[MAX_LABELS][256];
};

/* Parses `name{k="v",...}` (labels optional) at s. Returns the end, or NULL when malformed. */
static const char *parse_series(const char *s, struct series *out)
{
    memset(out, 0, sizeof *out);
    size_t n = strcspn(s, "{ \t\n");
    if (n == 0 || n >= sizeof out->name)
        return NULL;
    memcpy(out->name, s, n);
    s += n;
    if (*s != '{')
        return s;
    s++;
    while (*s && *s != '}') {
        if (out->nlabels == MAX_LABELS)
            return NULL;
        size_t k = strcspn(s, "=}");
        if (s[k] != '=' || s[k + 1] != '"' || k >= sizeof out->key[0])
            return NULL;
        memcpy(out->key[out->nlabels], s, k);
        s += k + 2;
        size_t v = 0;
        while (*s && *s != '"') {
            if (*s == '\\' && s[1])
                s++;
            if (v + 1 < sizeof out->val[0])
                out->val[out->nlabels][v++] = *s;
            s++;
        }
        if (*s != '"')
            return NULL;
        out->nlabels++;
        s++;
        if (*s == ',')
            s++;
    }
    return *s == '}' ? s + 1 : NULL;
}

static bool same_series(const struct series *a, const struct series *b)
{
    if (strcmp(a->name, b->name) != 0 || a->nlabels != b->nlabels)
        return false;
    for (size_t i = 0; i < a->nlabels; i++) {
        bool found = false;
        for (size_t j = 0; j < b->nlabels && !found; j++)
            found = strcmp(a->key[i], b->key[j]) == 0 && strcmp(a->val[i], b->val[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

double h_metric_in(const char *text, const char *series)
{
    struct series want, got;
    if (!text || !parse_series(series, &want))
        return -1;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        if (*line != '#') {
            const char *end = parse_series(line, &got);
            if (end && same_series(&want, &got)) {
                char *stop = NULL;
                double v = strtod(end, &stop);
                return stop != end ? v : -1;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

double h_metric_value(const struct h_server *s, const char *series)
{
    struct h_resp r = {0};
    double v = -1;
    if (h_get(s, "/metrics", &r) == 200)
        v = h_metric_in(r.body, series);
    h_resp_cleanup(&r);
    return v;
}

/* ---- sinks -------------------------------------------------------------------------------- */

static bool file_has_line(const char *path, const char *line)
{
    char *text = h_read_file(path, NULL);
    if (!text)
        return false;
    bool found = false;
    for (char *p = strtok(text, "\n"); p && !found; p = strtok(NULL, "\n"))
        found = strcmp(p, line) == 0 || strcmp(p, "ready\r") == 0;
    free(text);
    return found;
}

static enum start_result sink_spawn(struct h_sink *k, const char *script, const char *scheme,
                                    char *why, size_t why_len)
{
    k->port = h_free_port();
    snprintf(k->url, sizeof k->url, "%s://127.0.0.1:%d", scheme, k->port);
    char port[16];
    snprintf(port, sizeof port, "%d", k->port);
    const char *argv[] = {"python3", script, "--port", port, "--out", k->out, NULL};
    struct envlist e = {0};
    env_base(&e);
    int fd = open(k->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    k->pid = spawn(argv, e.v, fd);
    close(fd);
    env_free(&e);
    if (k->pid < 0) {
        k->pid = 0;
        snprintf(why, why_len, "fork failed");
        return START_FAILED;
    }
    track_pid(k->pid, true);
    long long deadline = h_now_ms() + H_START_TIMEOUT_MS;
    while (h_now_ms() < deadline) {
        if (file_has_line(k->log_path, "ready"))
            return START_OK;
        int st = wait_pid(k->pid, 0);
        if (st != -1) {
            track_pid(k->pid, false);
            k->pid = 0;
            char *log = h_read_file(k->log_path, NULL);
            bool taken = log && (strstr(log, "in use") || strstr(log, "cannot listen"));
            free(log);
            snprintf(why, why_len, "%s exited with status %d before \"ready\"", script, st);
            return taken ? START_RETRY : START_FAILED;
        }
        h_sleep_ms(20);
    }
    snprintf(why, why_len, "%s did not print \"ready\" within %d ms", script, H_START_TIMEOUT_MS);
    h_sink_stop(k);
    return START_FAILED;
}

void h_sink_start_at(struct h_sink *k, const char *script, const char *scheme, const char *file,
                     int line)
{
    static atomic_int counter;
    h_init();
    memset(k, 0, sizeof *k);
    if (access(script, R_OK) != 0)
        fail_at(file, line, "%s is missing (run from the repository root)", script);
    mkdir_p(LOG_DIR);
    int n = atomic_fetch_add(&counter, 1);
    snprintf(k->out, sizeof k->out, LOG_DIR "/%s-%d-%s%d.jsonl", h_test_name(), (int)getpid(),
             scheme, n);
    snprintf(k->log_path, sizeof k->log_path, LOG_DIR "/%s-%d-%s%d.log", h_test_name(),
             (int)getpid(), scheme, n);
    unlink(k->out);
    char why[256] = "";
    for (int attempt = 0; attempt < 5; attempt++) {
        enum start_result res = sink_spawn(k, script, scheme, why, sizeof why);
        if (res == START_OK)
            return;
        if (res == START_FAILED)
            break;
    }
    print_tail(k->log_path, H_LOG_TAIL_LINES);
    fail_at(file, line, "sink: %s", why);
}

int h_sink_stop(struct h_sink *k)
{
    if (k->pid <= 0)
        return 0;
    kill(k->pid, SIGTERM);
    int st = wait_pid(k->pid, 5000);
    if (st == -1) {
        kill(k->pid, SIGKILL);
        st = wait_pid(k->pid, 5000);
    }
    track_pid(k->pid, false);
    k->pid = 0;
    return st;
}

long h_capture_control(const struct h_sink *k, const char *json_body)
{
    char url[128];
    snprintf(url, sizeof url, "%s/__control", k->url);
    struct h_resp r = {0};
    long st = h_request_url("POST", url, json_body, strlen(json_body), NULL, &r);
    h_resp_cleanup(&r);
    return st;
}

json_t *h_jsonl_read(const char *path)
{
    json_t *arr = json_array();
    size_t len = 0;
    char *text = h_read_file(path, &len);
    if (!text)
        return arr;
    const char *line = text;
    for (;;) {
        const char *nl = strchr(line, '\n');
        if (!nl)
            break; /* an incomplete last line is still being written */
        size_t n = (size_t)(nl - line);
        if (n > 0) {
            json_t *v = json_loadb(line, n, 0, NULL);
            json_array_append_new(arr, v ? v : json_stringn(line, n));
        }
        line = nl + 1;
    }
    free(text);
    return arr;
}

json_t *h_wait_jsonl(const char *path, size_t count, int timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        json_t *arr = h_jsonl_read(path);
        if (json_array_size(arr) >= count || h_now_ms() >= deadline)
            return arr;
        json_decref(arr);
        h_sleep_ms(50);
    }
}

/* ---- TCP ---------------------------------------------------------------------------------- */

int h_tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int h_tcp_send(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

char *h_tcp_recv_all(int fd, int timeout_ms)
{
    struct buf b = {0};
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - h_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        char chunk[4096];
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            break;
        buf_add(&b, chunk, (size_t)n);
    }
    return buf_take(&b, NULL);
}

/* Content-Length of a raw header block (case-insensitive), or 0. */
static size_t content_length(const char *head, size_t head_len)
{
    for (const char *p = head; p && p < head + head_len; p = strstr(p, "\r\n")) {
        p += (*p == '\r') ? 2 : 0;
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            return (size_t)strtoull(p + 15, NULL, 10);
    }
    return 0;
}

char *h_tcp_recv_response(int fd, int timeout_ms)
{
    struct buf b = {0};
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        const char *end = b.p ? strstr(b.p, "\r\n\r\n") : NULL;
        if (end) {
            size_t head = (size_t)(end + 4 - b.p);
            if (b.len >= head + content_length(b.p, head))
                break;
        }
        long long left = deadline - h_now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        char chunk[4096];
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            break;
        buf_add(&b, chunk, (size_t)n);
    }
    return buf_take(&b, NULL);
}

/* ---- JWT ---------------------------------------------------------------------------------- */

static char *b64url(const void *data, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = xmalloc_(cap);
    sodium_bin2base64(out, cap, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

char *h_jwt_sign(const char *header_json, const char *claims_json, const char *secret)
{
    h_init();
    char *h = b64url(header_json, strlen(header_json));
    char *c = b64url(claims_json, strlen(claims_json));
    char *signing = xasprintf_("%s.%s", h, c);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)signing, strlen(signing));
    crypto_auth_hmacsha256_final(&st, mac);
    char *sig = b64url(mac, sizeof mac);
    char *jwt = xasprintf_("%s.%s", signing, sig);
    free(h);
    free(c);
    free(signing);
    free(sig);
    return jwt;
}
