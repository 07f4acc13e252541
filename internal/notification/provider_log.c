/* The development provider: one JSON object per line appended to $HAAT_NOTIFY_LOG_DIR/sms.jsonl
 * or email.jsonl, exactly {"to","subject","body","event","notification_id","created_at"}
 * ("subject" empty for SMS). One write(2) with O_APPEND per line, so lines of concurrent
 * workers and processes never interleave. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/notification/internal.h"
#include "pkg/util/xalloc.h"

static int open_log(const char *dir, const char *file)
{
    char *path = xasprintf("%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0 && errno == ENOENT && mkdir(dir, 0750) == 0)
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    free(path);
    return fd;
}

enum notify_result notify_log_send(const char *dir, enum notify_channel ch,
                                   const struct notify_msg *m, char *err, size_t errlen)
{
    json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "to", m->to, "subject",
                             ch == NOTIFY_SMS || !m->subject ? "" : m->subject, "body", m->body,
                             "event", m->event, "notification_id", m->id, "created_at",
                             m->created_at ? m->created_at : "");
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(line);
    if (!text) {
        snprintf(err, errlen, "cannot encode the message as JSON");
        return NOTIFY_FAILED;
    }
    size_t len = strlen(text);
    text = xrealloc(text, len + 2);
    text[len++] = '\n';
    text[len] = '\0';
    enum notify_result res = NOTIFY_RETRY;
    int fd = open_log(dir, ch == NOTIFY_SMS ? "sms.jsonl" : "email.jsonl");
    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", dir, strerror(errno));
    } else {
        ssize_t w = write(fd, text, len);
        if (w == (ssize_t)len)
            res = NOTIFY_SENT;
        else
            snprintf(err, errlen, "write: %s", w < 0 ? strerror(errno) : "short write");
        close(fd);
    }
    free(text);
    return res;
}
