#include "pkg/util/failpoint.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARMED_MAX 256

static char armed[ARMED_MAX]; /* ",a,b," or "" */

void failpoint_init(void)
{
    const char *v = getenv("HAAT_FAILPOINTS");
    if (!v || !*v || strlen(v) + 3 > sizeof armed) {
        armed[0] = '\0';
        return;
    }
    snprintf(armed, sizeof armed, ",%s,", v);
}

void failpoint_crash(const char *name)
{
    if (!armed[0])
        return;
    char needle[96];
    snprintf(needle, sizeof needle, ",%s,", name);
    if (!strstr(armed, needle))
        return;
    /* One unbuffered write: stdio buffers and locks are not to be trusted here. */
    char line[160];
    int n = snprintf(line, sizeof line,
                     "{\"level\":\"error\",\"msg\":\"failpoint\",\"name\":\"%s\"}\n", name);
    if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
        n = 0;
    _exit(FAILPOINT_EXIT);
}
