/* harness — the SMTP sink and HTTP capture servers, and the JSON-lines files they write
 * (see harness.h). */
#include "tests/integration/harness_internal.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static enum hi_start sink_spawn(struct h_sink *k, const char *script, const char *scheme, char *why,
                                size_t why_len)
{
    k->port = h_free_port();
    snprintf(k->url, sizeof k->url, "%s://127.0.0.1:%d", scheme, k->port);
    char port[16];
    snprintf(port, sizeof port, "%d", k->port);
    const char *argv[] = {"python3", script, "--port", port, "--out", k->out, NULL};
    struct hi_env e = {0};
    hi_env_base(&e);
    int fd = open(k->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    k->pid = hi_spawn(argv, e.v, fd);
    close(fd);
    hi_env_free(&e);
    if (k->pid < 0) {
        k->pid = 0;
        snprintf(why, why_len, "fork failed");
        return HI_START_FAILED;
    }
    hi_track_pid(k->pid, true);
    long long deadline = h_now_ms() + H_START_TIMEOUT_MS;
    while (h_now_ms() < deadline) {
        if (file_has_line(k->log_path, "ready"))
            return HI_START_OK;
        int st = hi_wait_pid(k->pid, 0);
        if (st != -1) {
            hi_track_pid(k->pid, false);
            k->pid = 0;
            char *log = h_read_file(k->log_path, NULL);
            bool taken = log && (strstr(log, "in use") || strstr(log, "cannot listen"));
            free(log);
            snprintf(why, why_len, "%s exited with status %d before \"ready\"", script, st);
            return taken ? HI_START_RETRY : HI_START_FAILED;
        }
        h_sleep_ms(20);
    }
    snprintf(why, why_len, "%s did not print \"ready\" within %d ms", script, H_START_TIMEOUT_MS);
    h_sink_stop(k);
    return HI_START_FAILED;
}

void h_sink_start_at(struct h_sink *k, const char *script, const char *scheme, const char *file,
                     int line)
{
    static atomic_int counter;
    hi_init();
    memset(k, 0, sizeof *k);
    if (access(script, R_OK) != 0)
        hi_fail_at(file, line, "%s is missing (run from the repository root)", script);
    hi_mkdir_p(HI_LOG_DIR);
    int n = atomic_fetch_add(&counter, 1);
    snprintf(k->out, sizeof k->out, HI_LOG_DIR "/%s-%d-%s%d.jsonl", h_test_name(), (int)getpid(),
             scheme, n);
    snprintf(k->log_path, sizeof k->log_path, HI_LOG_DIR "/%s-%d-%s%d.log", h_test_name(),
             (int)getpid(), scheme, n);
    unlink(k->out);
    char why[256] = "";
    for (int attempt = 0; attempt < 5; attempt++) {
        enum hi_start res = sink_spawn(k, script, scheme, why, sizeof why);
        if (res == HI_START_OK)
            return;
        if (res == HI_START_FAILED)
            break;
    }
    hi_print_tail(k->log_path, H_LOG_TAIL_LINES);
    hi_fail_at(file, line, "sink: %s", why);
}

int h_sink_stop(struct h_sink *k)
{
    if (k->pid <= 0)
        return 0;
    kill(k->pid, SIGTERM);
    int st = hi_wait_pid(k->pid, 5000);
    if (st == -1) {
        kill(k->pid, SIGKILL);
        st = hi_wait_pid(k->pid, 5000);
    }
    hi_track_pid(k->pid, false);
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
