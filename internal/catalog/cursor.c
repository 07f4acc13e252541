/* Keyset cursors: opaque to clients, checked by the server.
 *
 * A cursor is base64url (no padding) of "<kind>|<key>|<id>" followed by a 16-byte BLAKE2b MAC
 * of that text under a key derived from the server secret, so a client cannot forge or edit
 * one: anything that does not verify, parse and fit its kind is rejected (422), and a cursor
 * made for one sort order is refused by another. Every instance derives the same key, so a
 * cursor from one instance works on all of them. The key is set once at start-up, before any
 * thread reads it. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "internal/catalog/internal.h"

#define MAC_LEN        crypto_generichash_BYTES_MIN /* 16 */
#define PAYLOAD_MAX    80
#define RAW_MAX        (PAYLOAD_MAX + MAC_LEN)
#define KEY_MAX_NEWEST ((INT64_C(1) << 53) - 1) /* epoch microseconds, exact as double */
#define KEY_MAX_RANK   (INT64_C(1) << 62)
#define KEY_MAX_PRICE  (2 * CATALOG_PRICE_MAX)

static unsigned char mac_key[crypto_generichash_KEYBYTES];

void catalog_cursor_set_secret(const char *secret, size_t len)
{
    static const char label[] = "haat catalog cursor v1";
    unsigned char k0[crypto_generichash_KEYBYTES];
    crypto_generichash(k0, sizeof k0, (const unsigned char *)secret, len, NULL, 0);
    crypto_generichash(mac_key, sizeof mac_key, (const unsigned char *)label, sizeof label - 1, k0,
                       sizeof k0);
    sodium_memzero(k0, sizeof k0);
}

static void mac(const unsigned char *msg, size_t len, unsigned char out[MAC_LEN])
{
    crypto_generichash(out, MAC_LEN, msg, len, mac_key, sizeof mac_key);
}

void catalog_cursor_encode(const struct catalog_cursor *c, char out[CATALOG_CURSOR_SIZE])
{
    unsigned char raw[RAW_MAX];
    int n = snprintf((char *)raw, PAYLOAD_MAX, "%c|%" PRId64 "|%s", c->kind, c->key, c->id);
    if (n < 0 || n >= PAYLOAD_MAX)
        n = 0; /* cannot happen: kind, a number and a UUID fit */
    mac(raw, (size_t)n, raw + n);
    sodium_bin2base64(out, CATALOG_CURSOR_SIZE, raw, (size_t)n + MAC_LEN,
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

static bool key_fits(char kind, int64_t key)
{
    switch (kind) {
    case 'n':
    case 's':
        return key <= KEY_MAX_NEWEST;
    case 'a':
    case 'd':
        return key <= KEY_MAX_PRICE;
    case 'r':
        return key <= KEY_MAX_RANK;
    case 'm':
        return key >= 1;
    default:
        return false;
    }
}

/* Parses the verified payload p[0..n) of the expected kind into out. */
static bool parse_payload(const char *p, size_t n, char kind, struct catalog_cursor *out)
{
    if (n < 4 || p[0] != kind || p[1] != '|')
        return false;
    const char *key = p + 2;
    const char *bar = memchr(key, '|', n - 2);
    if (!bar || !parse_key(key, (size_t)(bar - key), &out->key) || !key_fits(kind, out->key))
        return false;
    size_t id_len = n - (size_t)(bar + 1 - p);
    if (id_len >= IDS_UUID_LEN)
        return false;
    memcpy(out->id, bar + 1, id_len);
    out->id[id_len] = '\0';
    out->kind = kind;
    if (kind == 'm')
        return id_len == 0;
    return ids_is_uuid(out->id) && strspn(out->id, "0123456789abcdef-") == id_len;
}

bool catalog_cursor_decode(const char *text, char kind, struct catalog_cursor *out)
{
    unsigned char raw[RAW_MAX + 1];
    unsigned char want[MAC_LEN];
    size_t len = 0;
    const char *end = NULL;
    memset(out, 0, sizeof *out);
    if (!text || strlen(text) >= CATALOG_CURSOR_SIZE)
        return false;
    if (sodium_base642bin(raw, sizeof raw - 1, text, strlen(text), NULL, &len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        *end != '\0' || len <= MAC_LEN)
        return false;
    size_t n = len - MAC_LEN;
    mac(raw, n, want);
    if (sodium_memcmp(want, raw + n, MAC_LEN) != 0)
        return false;
    char canonical[CATALOG_CURSOR_SIZE];
    sodium_bin2base64(canonical, sizeof canonical, raw, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (strcmp(canonical, text) != 0)
        return false; /* the same bytes spelt differently (unused bits set) */
    raw[n] = '\0';
    if (memchr(raw, '\0', n))
        return false;
    return parse_payload((const char *)raw, n, kind, out);
}
