/* JWT HS256 (RFC 7519 / 7515 compact form), with the algorithm pinned.
 *
 * Verification order: shape (two dots, bounded length), signature (HMAC-SHA-256 over the
 * first two segments, compared in constant time), then the header (alg exactly "HS256", typ
 * absent or "JWT", no crit) and the claims (exp an integer after now; nbf, when present, not
 * after now). JSON with duplicate members is refused so no two parsers can disagree. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/crypto/internal.h"
#include "pkg/crypto/sec.h"
#include "pkg/util/xalloc.h"

/* {"alg":"HS256","typ":"JWT"} */
static const char header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

static void hmac(const char *data, size_t n, unsigned char out[crypto_auth_hmacsha256_BYTES])
{
    size_t klen = 0;
    const unsigned char *key = sec_key_jwt(&klen);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, n);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

char *sec_jwt_sign(const json_t *claims)
{
    size_t klen = 0;
    if (!sec_key_jwt(&klen) || !json_is_object(claims))
        return NULL;
    char *payload = json_dumps(claims, JSON_COMPACT);
    if (!payload)
        return NULL;
    char *payload_b64 = sec_b64url_encode((const unsigned char *)payload, strlen(payload));
    char *signing = xasprintf("%s.%s", header_b64, payload_b64);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    hmac(signing, strlen(signing), mac);
    char *sig = sec_b64url_encode(mac, sizeof mac);
    char *token = xasprintf("%s.%s", signing, sig);
    free(payload);
    free(payload_b64);
    free(signing);
    free(sig);
    return token;
}

/* The JSON object encoded in s[0..n), or NULL (new reference). */
static json_t *decode_object(const char *s, size_t n)
{
    unsigned char *bin = NULL;
    size_t len = 0;
    if (sec_b64url_decode(s, n, &bin, &len) != 0)
        return NULL;
    json_error_t err;
    json_t *v = json_loadb((const char *)bin, len, JSON_REJECT_DUPLICATES, &err);
    free(bin);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static bool signature_ok(const char *token, size_t signed_len, const char *sig, size_t sig_len)
{
    unsigned char *given = NULL;
    size_t given_len = 0;
    if (sec_b64url_decode(sig, sig_len, &given, &given_len) != 0)
        return false;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    hmac(token, signed_len, mac);
    bool ok = given_len == sizeof mac && sodium_memcmp(given, mac, sizeof mac) == 0;
    free(given);
    return ok;
}

static bool header_ok(const json_t *h)
{
    const json_t *alg = json_object_get(h, "alg");
    const json_t *typ = json_object_get(h, "typ");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0)
        return false;
    if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
        return false;
    return json_object_get(h, "crit") == NULL;
}

static bool claims_ok(const json_t *c, int64_t now)
{
    const json_t *exp = json_object_get(c, "exp");
    const json_t *nbf = json_object_get(c, "nbf");
    if (!json_is_integer(exp) || json_integer_value(exp) <= now)
        return false;
    if (nbf && (!json_is_integer(nbf) || json_integer_value(nbf) > now))
        return false;
    return true;
}

int sec_jwt_verify(const char *token, int64_t now, json_t **claims)
{
    size_t klen = 0;
    *claims = NULL;
    if (!token || !sec_key_jwt(&klen))
        return -1;
    size_t n = strnlen(token, SEC_JWT_MAX + 1);
    const char *dot1 = memchr(token, '.', n);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - token)) : NULL;
    if (n > SEC_JWT_MAX || !dot2 || memchr(dot2 + 1, '.', n - (size_t)(dot2 + 1 - token)))
        return -1;
    if (!signature_ok(token, (size_t)(dot2 - token), dot2 + 1, n - (size_t)(dot2 + 1 - token)))
        return -1;
    json_t *h = decode_object(token, (size_t)(dot1 - token));
    json_t *c = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    bool ok = h && c && header_ok(h) && claims_ok(c, now);
    json_decref(h);
    if (!ok) {
        json_decref(c);
        return -1;
    }
    *claims = c;
    return 0;
}
