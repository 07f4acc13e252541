/* page — the pagination kit every listing uses: ?limit= with the contract's clamping, opaque
 * keyset cursors authenticated with a MAC, and the {"items","next_cursor"} page body.
 *
 * A listing is keyset-paginated on (key, id): its statement orders by a 64-bit sort key and
 * breaks ties by a UUID id (or by the key alone when it is unique, id ""), asks for limit + 1
 * rows, and hands the last row it returns to page_next() when there was one more.
 *
 * A cursor is base64url (no padding) of "<listing>|<key>|<id>" and a 16-byte BLAKE2b MAC over
 * that text and the owner it was issued to, under a key derived from the server secret (the
 * same on every instance, so a cursor from one instance works on all). A cursor that does not
 * verify — edited, forged, made for another listing or handed out to another caller — is a
 * 422 on "cursor": never a 500, never someone else's page.
 *
 * Usage in a query handler:
 *
 *     struct page_req pg;
 *     if (!page_params_or_reply(r, "notify.feed", who->user_id, &pg))
 *         return;                         // replied 422
 *     ... repo call with pg.limit + 1 and (pg.has_cursor ? &pg.after : NULL) ...
 *     page_reply(r, items, "notify.feed", who->user_id, more ? &last : NULL);
 */
#ifndef HAAT_PKG_PAGE_PAGE_H
#define HAAT_PKG_PAGE_PAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/ids/ids.h"
#include "pkg/json/jsonh.h"
#include "pkg/util/strbuf.h"

struct http_req;

#define PAGE_LIMIT_DEFAULT 20
#define PAGE_LIMIT_MAX     100
#define PAGE_CURSOR_SIZE   192 /* encoded cursor, NUL included */
#define PAGE_LISTING_MAX   32  /* listing names: [a-z0-9._] */

/* A keyset position: the sort key of a row and its id ("" when the key alone is unique). */
struct page_key {
    int64_t key; /* >= 0 */
    char id[IDS_UUID_LEN];
};

/* What a listing request asked for. */
struct page_req {
    int limit;       /* 1..PAGE_LIMIT_MAX */
    bool has_cursor; /* after is set */
    struct page_key after;
};

/* Derives the MAC key from the server secret. Call once at start-up, before any thread
 * encodes or decodes; without it an all-zero key is used (unit tests). */
void page_set_secret(const char *secret, size_t len);

/* ?limit: absent (NULL) -> PAGE_LIMIT_DEFAULT, above PAGE_LIMIT_MAX -> PAGE_LIMIT_MAX; not a
 * plain decimal integer, or below 1 -> false. */
bool page_parse_limit(const char *s, int *out);

/* The cursor text for k in listing, issued to owner (NULL or "" for public listings). */
void page_cursor_encode(const char *listing, const char *owner, const struct page_key *k,
                        char out[PAGE_CURSOR_SIZE]);
/* True when text is a cursor this server issued for listing and owner; fills *out. */
bool page_cursor_decode(const char *text, const char *listing, const char *owner,
                        struct page_key *out);

/* Reads ?limit and ?cursor into *out; errors go to e (field "limit" / "cursor"), so a
 * listing with more query parameters reports them all at once. */
void page_params(struct http_req *r, const char *listing, const char *owner, struct page_req *out,
                 struct jsonh_errors *e);
/* page_params, replying 422 validation_failed itself when either is invalid. */
bool page_params_or_reply(struct http_req *r, const char *listing, const char *owner,
                          struct page_req *out);

/* Replies 200 {"items": items, "next_cursor": cursor of next | null}. Steals items. */
void page_reply(struct http_req *r, json_t *items, const char *listing, const char *owner,
                const struct page_key *next);
/* For listings that write their body as JSON text: appends the next_cursor value, a JSON
 * string or null. */
void page_write_cursor(struct strbuf *sb, const char *listing, const char *owner,
                       const struct page_key *next);

#endif
