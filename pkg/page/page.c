/* Pagination: limits, MAC-authenticated keyset cursors, page bodies. */
#include "pkg/page/page.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/http/http.h"

#define MAC_LEN     crypto_generichash_BYTES_MIN /* 16 */
#define PAYLOAD_MAX (PAGE_LISTING_MAX + 1 + 20 + 1 + IDS_UUID_LEN)
#define RAW_MAX     (PAYLOAD_MAX + MAC_LEN)
_Static_assert(((RAW_MAX + 2) / 3) * 4 + 1 <= PAGE_CURSOR_SIZE, "PAGE_CURSOR_SIZE too small");

static unsigned char mac_key[crypto_generichash_KEYBYTES];

void page_set_secret(const char *secret, size_t len)
{
    static const char label[] = "haat page cursor v1";
    unsigned char k0[crypto_generichash_KEYBYTES];
    crypto_generichash(k0, sizeof k0, (const unsigned char *)secret, len, NULL, 0);
    crypto_generichash(mac_key, sizeof mac_key, (const unsigned char *)label, sizeof label - 1, k0,
                       sizeof k0);
    sodium_memzero(k0, sizeof k0);
}

bool page_parse_limit(const char *s, int *out)
{
    *out = PAGE_LIMIT_DEFAULT;
    if (!s)
        return true;
    size_t n = strlen(s);
    if (n == 0 || strspn(s, "0123456789") != n)
        return false;
    size_t zeros = strspn(s, "0");
    if (zeros == n)
        return false; /* 0 */
    /* more than 3 significant digits: above the maximum, however many there are */
    long v = n - zeros > 3 ? PAGE_LIMIT_MAX + 1 : strtol(s + zeros, NULL, 10);
    *out = v > PAGE_LIMIT_MAX ? PAGE_LIMIT_MAX : (int)v;
    return true;
}

/* The MAC binds the payload to the caller it was issued to (the NUL keeps the two apart). */
static void mac(const unsigned char *payload, size_t len, const char *owner,
                unsigned char out[MAC_LEN])
{
    crypto_generichash_state st;
    const char *o = owner ? owner : "";
    crypto_generichash_init(&st, mac_key, sizeof mac_key, MAC_LEN);
    crypto_generichash_update(&st, payload, len);
    crypto_generichash_update(&st, (const unsigned char *)"", 1);
    crypto_generichash_update(&st, (const unsigned char *)o, strlen(o));
    crypto_generichash_final(&st, out, MAC_LEN);
}

void page_cursor_encode(const char *listing, const char *owner, const struct page_key *k,
                        char out[PAGE_CURSOR_SIZE])
{
    unsigned char raw[RAW_MAX];
    int n = snprintf((char *)raw, PAYLOAD_MAX, "%s|%" PRId64 "|%s", listing, k->key, k->id);
    if (n < 0 || n >= PAYLOAD_MAX)
        n = 0; /* cannot happen: a bounded name, a number and a UUID fit */
    mac(raw, (size_t)n, owner, raw + n);
    sodium_bin2base64(out, PAGE_CURSOR_SIZE, raw, (size_t)n + MAC_LEN,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* A non-negative decimal without sign, spaces or leading zeros, within int64. */
static bool parse_key(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

/* The verified payload p[0..n) of listing: "<listing>|<key>|<id>". */
static bool parse_payload(const char *p, size_t n, const char *listing, struct page_key *out)
{
    size_t ln = strlen(listing);
    if (n < ln + 3 || memcmp(p, listing, ln) != 0 || p[ln] != '|')
        return false;
    const char *key = p + ln + 1;
    const char *bar = memchr(key, '|', n - ln - 1);
    if (!bar || !parse_key(key, (size_t)(bar - key), &out->key))
        return false;
    size_t id_len = n - (size_t)(bar + 1 - p);
    if (id_len >= IDS_UUID_LEN)
        return false;
    memcpy(out->id, bar + 1, id_len);
    out->id[id_len] = '\0';
    return id_len == 0 || ids_is_uuid(out->id);
}

bool page_cursor_decode(const char *text, const char *listing, const char *owner,
                        struct page_key *out)
{
    unsigned char raw[RAW_MAX + 1];
    unsigned char want[MAC_LEN];
    size_t len = 0;
    const char *end = NULL;
    memset(out, 0, sizeof *out);
    if (!text || strlen(text) >= PAGE_CURSOR_SIZE)
        return false;
    if (sodium_base642bin(raw, sizeof raw - 1, text, strlen(text), NULL, &len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        *end != '\0' || len <= MAC_LEN)
        return false;
    size_t n = len - MAC_LEN;
    mac(raw, n, owner, want);
    if (sodium_memcmp(want, raw + n, MAC_LEN) != 0)
        return false;
    char canonical[PAGE_CURSOR_SIZE];
    sodium_bin2base64(canonical, sizeof canonical, raw, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (strcmp(canonical, text) != 0)
        return false; /* the same bytes spelt differently (unused bits set) */
    if (memchr(raw, '\0', n))
        return false;
    return parse_payload((const char *)raw, n, listing, out);
}

void page_params(struct http_req *r, const char *listing, const char *owner, struct page_req *out,
                 struct jsonh_errors *e)
{
    memset(out, 0, sizeof *out);
    if (!page_parse_limit(http_req_query(r, "limit"), &out->limit))
        jsonh_errors_add(e, "limit", "must be an integer from 1 to 100");
    const char *cursor = http_req_query(r, "cursor");
    out->has_cursor = cursor != NULL;
    if (cursor && !page_cursor_decode(cursor, listing, owner, &out->after))
        jsonh_errors_add(e, "cursor", "is not a cursor of this listing (use next_cursor as given)");
}

bool page_params_or_reply(struct http_req *r, const char *listing, const char *owner,
                          struct page_req *out)
{
    struct jsonh_errors e;
    jsonh_errors_init(&e);
    page_params(r, listing, owner, out, &e);
    return http_errors_or_reply(r, &e);
}

void page_write_cursor(struct strbuf *sb, const char *listing, const char *owner,
                       const struct page_key *next)
{
    char text[PAGE_CURSOR_SIZE];
    if (!next) {
        strbuf_puts(sb, "null");
        return;
    }
    page_cursor_encode(listing, owner, next, text);
    strbuf_printf(sb, "\"%s\"", text); /* base64url: nothing to escape */
}

void page_reply(struct http_req *r, json_t *items, const char *listing, const char *owner,
                const struct page_key *next)
{
    char text[PAGE_CURSOR_SIZE];
    json_t *body = json_object();
    json_object_set_new(body, "items", items);
    if (next)
        page_cursor_encode(listing, owner, next, text);
    json_object_set_new(body, "next_cursor", next ? json_string(text) : json_null());
    http_reply_json(r, 200, body);
}
