/* The template set: one file per route, recipient role and channel, loaded and validated at
 * start-up. A missing file, a syntax error or a placeholder the event does not declare stops
 * start-up (notify_init returns -1); nothing is ever rendered with a blank. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/notification/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

#define MAX_TEMPLATE_BYTES (64 * 1024)
#define SUBJECT_PREFIX     "Subject:"

/* [route][recipient][channel], allocated by notify_templates_load. Read-only afterwards. */
static struct notify_tpl (*set)[NOTIFY_MAX_RECIPIENTS][NOTIFY_NCHANNELS];

void notify_template_free(struct notify_tpl *t)
{
    notify_tpl_free(&t->subject);
    notify_tpl_free(&t->body);
    t->present = false;
}

/* Length of text without trailing spaces and line breaks. */
static size_t trimmed_len(const char *s, size_t len)
{
    while (len > 0 &&
           (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return len;
}

static int parse_email(struct notify_tpl *t, const char *text, size_t len, char *err, size_t errlen)
{
    const char *nl = memchr(text, '\n', len);
    size_t plen = strlen(SUBJECT_PREFIX);
    if (len < plen || strncmp(text, SUBJECT_PREFIX, plen) != 0 || !nl) {
        snprintf(err, errlen, "line 1 must be 'Subject: ...' followed by a blank line");
        return -1;
    }
    const char *subj = text + plen;
    while (subj < nl && *subj == ' ')
        subj++;
    size_t slen = trimmed_len(subj, (size_t)(nl - subj));
    const char *rest = nl + 1, *end = text + len;
    if (rest < end && *rest == '\r')
        rest++;
    if (rest >= end || *rest != '\n') {
        snprintf(err, errlen, "line 2 must be blank (it separates the subject from the body)");
        return -1;
    }
    rest++;
    if (slen == 0 || trimmed_len(rest, (size_t)(end - rest)) == 0) {
        snprintf(err, errlen, "the subject and the body must not be empty");
        return -1;
    }
    char sub_err[NOTIFY_ERR_LEN];
    if (notify_tpl_parse(&t->subject, subj, slen, sub_err, sizeof sub_err) != 0) {
        snprintf(err, errlen, "subject: %s", sub_err);
        return -1;
    }
    return notify_tpl_parse(&t->body, rest, trimmed_len(rest, (size_t)(end - rest)), err, errlen);
}

int notify_template_parse(struct notify_tpl *t, enum notify_channel ch, const char *text,
                          size_t len, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "holds a NUL byte");
        return -1;
    }
    int rc;
    if (ch == NOTIFY_EMAIL) {
        rc = parse_email(t, text, len, err, errlen);
    } else {
        size_t blen = trimmed_len(text, len);
        if (blen == 0) {
            snprintf(err, errlen, "the body must not be empty");
            return -1;
        }
        rc = notify_tpl_parse(&t->body, text, blen, err, errlen);
    }
    t->present = rc == 0;
    return rc;
}

int notify_template_check(const struct notify_tpl *t, const struct notify_route *r, char *err,
                          size_t errlen)
{
    const struct nf_field *sets[4] = {r->fields, notify_common_fields, NULL, NULL};
    if (!r->to_destination)
        sets[2] = notify_user_fields;
    char sub[NOTIFY_ERR_LEN];
    if (notify_tpl_check(&t->subject, sets, sub, sizeof sub) != 0) {
        snprintf(err, errlen, "subject: %s", sub);
        return -1;
    }
    if (r->secret && notify_tpl_uses(&t->subject, "code")) {
        snprintf(err, errlen, "subject: {{code}} may only appear in the body");
        return -1;
    }
    return notify_tpl_check(&t->body, sets, err, errlen);
}

static char *template_path(const char *dir, const struct notify_route *r, size_t i,
                           enum notify_channel ch)
{
    const char *role = r->recipients[i].role;
    return xasprintf("%s/%s%s%s.%s.txt", dir, r->event, role ? "." : "", role ? role : "",
                     notify_channel_name(ch));
}

static char *read_small_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    char *buf = xmalloc(MAX_TEMPLATE_BYTES + 1);
    size_t n = fread(buf, 1, MAX_TEMPLATE_BYTES + 1, f);
    bool bad = ferror(f) || n > MAX_TEMPLATE_BYTES;
    fclose(f);
    if (bad) {
        snprintf(err, errlen, n > MAX_TEMPLATE_BYTES ? "larger than 64 KiB" : "read error");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Loads and checks one template. Returns 0 or -1 (logged). */
static int load_one(const char *dir, const struct notify_route *r, size_t i, enum notify_channel ch,
                    struct notify_tpl *t)
{
    char err[NOTIFY_ERR_LEN] = "";
    size_t len = 0;
    char *path = template_path(dir, r, i, ch);
    char *text = read_small_file(path, &len, err, sizeof err);
    int rc = -1;
    if (text && notify_template_parse(t, ch, text, len, err, sizeof err) == 0 &&
        notify_template_check(t, r, err, sizeof err) == 0)
        rc = 0;
    if (rc != 0)
        log_error("notify_template_invalid", "template %s: %s", path, err);
    free(text);
    free(path);
    return rc;
}

/* Logs files in dir that no route uses (a misspelt event name would go unnoticed). */
static void warn_unused(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !strstr(de->d_name, ".txt"))
            continue;
        bool used = false;
        for (size_t r = 0; r < notify_nroutes && !used; r++)
            for (size_t i = 0; i < notify_route_table[r].nrecipients && !used; i++)
                for (int ch = 0; ch < NOTIFY_NCHANNELS && !used; ch++) {
                    char *p = template_path("", &notify_route_table[r], i, ch);
                    used = strcmp(p + 1, de->d_name) == 0;
                    free(p);
                }
        if (!used)
            log_warn("notify_template_unused", "template %s/%s belongs to no event", dir,
                     de->d_name);
    }
    closedir(d);
}

int notify_templates_load(const char *dir)
{
    notify_templates_free();
    set = xcalloc(notify_nroutes, sizeof *set);
    int bad = 0;
    for (size_t r = 0; r < notify_nroutes; r++)
        for (size_t i = 0; i < notify_route_table[r].nrecipients; i++)
            for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
                if (load_one(dir, &notify_route_table[r], i, ch, &set[r][i][ch]) != 0)
                    bad++;
    if (bad) {
        log_error("notify_templates_invalid", "%d template(s) in %s missing or invalid", bad, dir);
        notify_templates_free();
        return -1;
    }
    warn_unused(dir);
    return 0;
}

void notify_templates_free(void)
{
    if (!set)
        return;
    for (size_t r = 0; r < notify_nroutes; r++)
        for (size_t i = 0; i < NOTIFY_MAX_RECIPIENTS; i++)
            for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
                notify_template_free(&set[r][i][ch]);
    free(set);
    set = NULL;
}

const struct notify_tpl *notify_template(const struct notify_route *r, size_t recipient,
                                         enum notify_channel ch)
{
    if (!set || r < notify_route_table || r >= notify_route_table + notify_nroutes ||
        recipient >= r->nrecipients || (unsigned)ch >= NOTIFY_NCHANNELS)
        return NULL;
    const struct notify_tpl *t = &set[r - notify_route_table][recipient][ch];
    return t->present ? t : NULL;
}
