/* GET /v1/me/notifications: the caller's notifications, newest first, keyset paginated.
 * Only the caller's own rows are ever read (user_id from the access token). Security messages
 * show their code masked: the feed body never held it. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/notification/internal.h"
#include "pkg/ids/ids.h"

#define DEFAULT_LIMIT  20
#define MAX_LIMIT      100
#define CURSOR_RAW_MAX (24 + 1 + IDS_UUID_LEN)

/* ?limit: absent 20, above 100 -> 100, not an integer or < 1 -> 422. */
static bool limit_or_reply(struct http_req *r, int *limit)
{
    const char *s = http_req_query(r, "limit");
    *limit = DEFAULT_LIMIT;
    if (!s)
        return true;
    size_t len = strlen(s);
    bool digits = len > 0 && len <= 9 && strspn(s, "0123456789") == len;
    long v = digits ? strtol(s, NULL, 10) : 0;
    if (!digits || v < 1) {
        json_t *errs = json_pack("[{s:s,s:s}]", "field", "limit", "message",
                                 "must be an integer from 1 to 100");
        http_reply_problem_errors(r, 422, "validation_failed", "invalid query parameter", errs);
        return false;
    }
    *limit = v > MAX_LIMIT ? MAX_LIMIT : (int)v;
    return true;
}

/* The cursor is base64url("<created_at in microseconds>|<id>"). */
static void cursor_encode(const struct notify_cursor *c, char *out, size_t outlen)
{
    char raw[CURSOR_RAW_MAX + 8];
    int n = snprintf(raw, sizeof raw, "%s|%s", c->at_us, c->id);
    sodium_bin2base64(out, outlen, (const unsigned char *)raw, (size_t)n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool cursor_decode(const char *s, struct notify_cursor *c)
{
    unsigned char raw[CURSOR_RAW_MAX + 1];
    size_t n = 0;
    if (strlen(s) > 128 || sodium_base642bin(raw, sizeof raw - 1, s, strlen(s), NULL, &n, NULL,
                                             sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return false;
    raw[n] = '\0';
    char *bar = strchr((char *)raw, '|');
    if (!bar || memchr(raw, '\0', n))
        return false;
    *bar = '\0';
    size_t tlen = strlen((char *)raw);
    if (tlen == 0 || tlen > 18 || strspn((char *)raw, "0123456789") != tlen ||
        !ids_is_uuid(bar + 1))
        return false;
    memcpy(c->at_us, raw, tlen + 1);
    memcpy(c->id, bar + 1, IDS_UUID_LEN);
    return true;
}

static bool cursor_or_reply(struct http_req *r, struct notify_cursor *c, bool *has)
{
    const char *s = http_req_query(r, "cursor");
    *has = s != NULL;
    if (!s || cursor_decode(s, c))
        return true;
    json_t *errs = json_pack("[{s:s,s:s}]", "field", "cursor", "message",
                             "is not a cursor from a previous page");
    http_reply_problem_errors(r, 422, "validation_failed", "invalid query parameter", errs);
    return false;
}

void notify_list_notifications(struct http_req *r)
{
    const struct http_principal *who = http_req_principal(r);
    struct notify_cursor after, last;
    bool has_cursor = false, more = false;
    int limit = 0;
    json_t *items = NULL;
    if (!limit_or_reply(r, &limit) || !cursor_or_reply(r, &after, &has_cursor))
        return;
    struct db_conn *c = http_req_db_or_reply(r);
    if (!c)
        return;
    enum db_status st =
        notify_repo_feed(c, who->user_id, limit, has_cursor ? &after : NULL, &items, &more, &last);
    if (st != DB_OK) {
        http_reply_db(r, st);
        return;
    }
    char enc[128] = "";
    if (more)
        cursor_encode(&last, enc, sizeof enc);
    json_t *next = more ? json_string(enc) : json_null();
    http_reply_json(r, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor", next));
}
