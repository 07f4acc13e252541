/* The standard process_* metrics of Prometheus client libraries, from /proc and getrusage. */
#include <dirent.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "pkg/metrics/metrics.h"

static double start_time_s;

static double start_time(void *arg)
{
    return start_time_s;
}

/* The second field of /proc/self/statm (resident pages), in bytes; -1 when unreadable. */
static double resident_bytes(void *arg)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    int n = f ? fscanf(f, "%lu %lu", &size, &resident) : 0;
    if (f)
        fclose(f);
    return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) : -1;
}

static double cpu_seconds(void *arg)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0)
        return -1;
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* Entries of /proc/self/fd, less the one opendir itself holds; -1 when unreadable. */
static double open_fds(void *arg)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    double n = 0;
    for (const struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

/* The process start as the kernel has it: boot time (btime in /proc/stat) plus the start in
 * clock ticks (field 22 of /proc/self/stat); now when /proc says nothing. */
static double process_start(void)
{
    unsigned long long btime = 0, ticks = 0;
    char line[256];
    FILE *f = fopen("/proc/stat", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    if (f)
        fclose(f);
    f = fopen("/proc/self/stat", "r");
    /* After "pid (comm) ": fields 3..21, then starttime; comm may hold spaces, so skip to ')'. */
    int ok = f && fscanf(f,
                         "%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d "
                         "%*d %*d %*d %*d %*d %llu",
                         &ticks) == 1;
    if (f)
        fclose(f);
    if (!btime || !ok)
        return (double)time(NULL);
    return (double)btime + (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

void metrics_process_init(void)
{
    start_time_s = process_start();
    metrics_gauge_fn("process_start_time_seconds",
                     "Start time of the process since the Unix epoch in seconds.", start_time,
                     NULL);
    metrics_gauge_fn("process_resident_memory_bytes", "Resident memory size in bytes.",
                     resident_bytes, NULL);
    metrics_counter_fn("process_cpu_seconds_total",
                       "Total user and system CPU time spent in "
                       "seconds.",
                       cpu_seconds, NULL);
    metrics_gauge_fn("process_open_fds", "Number of open file descriptors.", open_fds, NULL);
}
