/* failpoint — named places where a crash test may stop the process on purpose.
 *
 * HAAT_FAILPOINTS="name[,name...]" in the environment arms the named points; failpoint_crash()
 * at an armed point logs one line and ends the process at once with _exit(FAILPOINT_EXIT), as
 * a power cut or a SIGKILL would (no atexit handlers, no flushing of anything but the log
 * line). Unarmed, a point costs one load and a branch. Read once by failpoint_init(), called
 * at start-up before any thread runs. */
#ifndef HAAT_PKG_UTIL_FAILPOINT_H
#define HAAT_PKG_UTIL_FAILPOINT_H

#define FAILPOINT_EXIT 86

void failpoint_init(void);
void failpoint_crash(const char *name);

#endif
