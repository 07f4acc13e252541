/* harness — the server under test: start (migrate, spawn, wait for /healthz), stop, logs
 * (see harness.h). */
#include "tests/integration/harness_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

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

void h_server_print_log(const struct h_server *s, int n)
{
    hi_print_tail(s->log_path, n);
}

char *h_server_log(const struct h_server *s)
{
    char *t = h_read_file(s->log_path, NULL);
    return t ? t : hi_xstrdup("");
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
    hi_mkdir_p(HI_LOG_DIR);
    int n = atomic_fetch_add(&counter, 1);
    /* The pid keeps concurrent runs of the same test binary apart. */
    snprintf(s->log_path, sizeof s->log_path, HI_LOG_DIR "/%s-%d-%d.log", h_test_name(),
             (int)getpid(), n);
    snprintf(s->notify_dir, sizeof s->notify_dir, HI_LOG_DIR "/%s-%d-%d.notify", h_test_name(),
             (int)getpid(), n);
    unlink(s->log_path);
    remove_tree(s->notify_dir);
    hi_mkdir_p(s->notify_dir);
}

static void server_env(const struct h_server *s, const char *const *extra, struct hi_env *e)
{
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port);
    hi_env_base(e);
    hi_env_setf(e, "DATABASE_URL", s->db_url);
    hi_env_setf(e, "HAAT_HTTP_ADDR", addr);
    hi_env_set(e, "HAAT_LOG_LEVEL=info");
    hi_env_setf(e, "HAAT_NOTIFY_LOG_DIR", s->notify_dir);
    hi_env_set(e, "HAAT_SANDBOX_WEBHOOK_SECRET=" H_SANDBOX_WEBHOOK_SECRET);
    hi_env_add_list(e, extra);
}

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* Runs `haat --config C migrate` into the server's log. Returns the exit status or -1. */
static int server_migrate(struct h_server *s, const char *const *extra)
{
    const char *argv[] = {hi_haat_bin(), "--config", s->config ? s->config : H_TEST_CONFIG,
                          "migrate", NULL};
    struct hi_env e = {0};
    server_env(s, extra, &e);
    int fd = open_log(s->log_path);
    dprintf(fd, "harness: --- %s migrate ---\n", argv[0]);
    pid_t pid = hi_spawn(argv, e.v, fd);
    close(fd);
    hi_env_free(&e);
    if (pid < 0)
        return -1;
    hi_track_pid(pid, true);
    int st = hi_wait_pid(pid, H_RUN_TIMEOUT_MS);
    if (st == -1) {
        kill(pid, SIGKILL);
        hi_wait_pid(pid, 5000);
    }
    hi_track_pid(pid, false);
    return st;
}

static enum hi_start server_spawn(struct h_server *s, const char *const *extra, char *why,
                                  size_t why_len)
{
    s->port = h_free_port();
    snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d", s->port);
    const char *argv[] = {hi_haat_bin(), "--config", s->config ? s->config : H_TEST_CONFIG,
                          s->command ? s->command : "serve", NULL};
    struct hi_env e = {0};
    server_env(s, extra, &e);
    int fd = open_log(s->log_path);
    dprintf(fd, "harness: --- %s %s on port %d ---\n", argv[0], argv[3], s->port);
    s->pid = hi_spawn(argv, e.v, fd);
    close(fd);
    hi_env_free(&e);
    if (s->pid < 0) {
        s->pid = 0;
        snprintf(why, why_len, "fork failed: %s", strerror(errno));
        return HI_START_FAILED;
    }
    hi_track_pid(s->pid, true);
    if (s->no_wait)
        return HI_START_OK;
    long long deadline = h_now_ms() + H_START_TIMEOUT_MS;
    while (h_now_ms() < deadline) {
        int st = hi_wait_pid(s->pid, 0);
        if (st != -1) {
            hi_track_pid(s->pid, false);
            s->pid = 0;
            s->exit_status = st;
            char *log = h_server_log(s);
            bool port_taken = strstr(log, "cannot listen") || strstr(log, "in use");
            free(log);
            snprintf(why, why_len, "the server exited with status %d before /healthz", st);
            return port_taken ? HI_START_RETRY : HI_START_FAILED;
        }
        struct h_resp r = {0};
        long status = h_get(s, "/healthz", &r);
        h_resp_cleanup(&r);
        if (status == 200)
            return HI_START_OK;
        h_sleep_ms(50);
    }
    snprintf(why, why_len, "GET /healthz did not answer 200 within %d ms", H_START_TIMEOUT_MS);
    h_server_kill(s);
    return HI_START_FAILED;
}

void h_server_start_at(struct h_server *s, const char *const *env, const char *file, int line)
{
    hi_init();
    if (!hi_haat_bin())
        hi_fail_at(file, line, "HAAT_BIN is not set (run through `make itest`)");
    if (s->pid > 0)
        hi_fail_at(file, line, "h_server_start: server %d is already running", (int)s->pid);
    server_paths(s);
    if (!s->db_url[0] && h_db_create(s->db_name, s->db_url) != 0)
        hi_fail_at(file, line, "h_server_start: cannot create a database on %s", hi_admin_url());
    if (!s->no_migrate) {
        int st = server_migrate(s, env);
        if (st != 0) {
            hi_print_tail(s->log_path, H_LOG_TAIL_LINES);
            hi_fail_at(file, line, "h_server_start: haat migrate exited with %d", st);
        }
    }
    char why[256] = "";
    for (int attempt = 0; attempt < 5; attempt++) {
        enum hi_start res = server_spawn(s, env, why, sizeof why);
        if (res == HI_START_OK)
            return;
        if (res == HI_START_FAILED)
            break;
    }
    hi_print_tail(s->log_path, H_LOG_TAIL_LINES);
    hi_fail_at(file, line, "h_server_start: %s", why);
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
    int st = hi_wait_pid(s->pid, timeout_ms);
    if (st == -1)
        return -1;
    hi_track_pid(s->pid, false);
    s->pid = 0;
    s->exit_status = st;
    return st;
}

int h_server_kill(struct h_server *s)
{
    if (s->pid <= 0)
        return s->exit_status;
    kill(s->pid, SIGKILL);
    int st = hi_wait_pid(s->pid, 5000);
    hi_track_pid(s->pid, false);
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
        hi_print_tail(s->log_path, H_LOG_TAIL_LINES);
        hi_fail_at(file, line, "h_server_stop: no exit within %d ms of SIGTERM; killed",
                   H_STOP_TIMEOUT_MS);
    }
    if (st != 0) {
        print_error("harness: server exited with status %d\n", st);
        hi_print_tail(s->log_path, H_LOG_TAIL_LINES);
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
