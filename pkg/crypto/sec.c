/* Keys, sealing, hashes, randomness and synchronous password hashing. */
#include "pkg/crypto/sec.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/crypto/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

#define KDF_CONTEXT "haatsec1" /* crypto_kdf_CONTEXTBYTES = 8 */
#define KDF_ID_SEAL 1
#define KDF_ID_MAC  2
#define B64         sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define SEAL_NONCE  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_TAG    crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEALED_MAX  (1024 * 1024) /* base64 chars; sealed values are small */

_Static_assert(SEC_PWHASH_LEN == crypto_pwhash_STRBYTES, "SEC_PWHASH_LEN");
_Static_assert(SEC_HEX_LEN == crypto_hash_sha256_BYTES * 2 + 1, "SEC_HEX_LEN");
_Static_assert(sizeof KDF_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES, "KDF_CONTEXT");

/* All key material, in one sodium_malloc'd block (guard pages, mlock'd, read-only once set).
 * jwt_key is a separate sodium_malloc'd copy of the secret's bytes. */
struct keys {
    unsigned char seal[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    unsigned char mac[crypto_auth_hmacsha256_KEYBYTES];
    unsigned char *jwt_key;
    size_t jwt_len;
};

static struct keys *K;

const unsigned char *sec_key_jwt(size_t *len)
{
    *len = K ? K->jwt_len : 0;
    return K ? K->jwt_key : NULL;
}

void sec_cleanup(void)
{
    if (!K)
        return;
    sodium_mprotect_readwrite(K);
    sodium_free(K->jwt_key);
    sodium_free(K); /* zeroes before freeing */
    K = NULL;
}

int sec_init(const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n < SEC_SECRET_MIN || sodium_init() < 0)
        return -1;
    sec_cleanup();
    struct keys *k = sodium_malloc(sizeof *k);
    unsigned char *jwt = sodium_malloc(n);
    if (!k || !jwt) {
        sodium_free(k);
        sodium_free(jwt);
        return -1;
    }
    unsigned char master[crypto_kdf_KEYBYTES];
    crypto_generichash(master, sizeof master, (const unsigned char *)secret, n, NULL, 0);
    crypto_kdf_derive_from_key(k->seal, sizeof k->seal, KDF_ID_SEAL, KDF_CONTEXT, master);
    crypto_kdf_derive_from_key(k->mac, sizeof k->mac, KDF_ID_MAC, KDF_CONTEXT, master);
    sodium_memzero(master, sizeof master);
    memcpy(jwt, secret, n);
    sodium_mprotect_readonly(jwt);
    k->jwt_key = jwt;
    k->jwt_len = n;
    sodium_mprotect_readonly(k);
    K = k;
    return 0;
}

/* --- base64url --- */

char *sec_b64url_encode(const unsigned char *bin, size_t n)
{
    size_t len = sodium_base64_ENCODED_LEN(n, B64);
    char *s = xmalloc(len);
    sodium_bin2base64(s, len, bin, n, B64);
    return s;
}

int sec_b64url_decode(const char *s, size_t n, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    size_t cap = n / 4 * 3 + 3;
    unsigned char *bin = xmalloc(cap);
    size_t len = 0;
    const char *end = NULL;
    /* ignore = NULL: any character outside the alphabet fails; libsodium also refuses a
     * length of 4k+1 and non-zero trailing bits, so every byte string has one encoding. */
    if (sodium_base642bin(bin, cap, s, n, NULL, &len, &end, B64) != 0 || end != s + n) {
        free(bin);
        return -1;
    }
    *out = bin;
    *out_len = len;
    return 0;
}

/* --- sealing --- */

char *sec_seal(const char *plaintext)
{
    if (!K || !plaintext)
        return NULL;
    size_t m = strlen(plaintext);
    size_t total = SEAL_NONCE + m + SEAL_TAG;
    unsigned char *buf = xmalloc(total);
    randombytes_buf(buf, SEAL_NONCE);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        buf + SEAL_NONCE, &clen, (const unsigned char *)plaintext, m, NULL, 0, NULL, buf, K->seal);
    char *s = sec_b64url_encode(buf, SEAL_NONCE + (size_t)clen);
    free(buf);
    return s;
}

char *sec_open(const char *sealed)
{
    if (!K || !sealed)
        return NULL;
    size_t n = strnlen(sealed, SEALED_MAX + 1);
    unsigned char *bin = NULL;
    size_t len = 0;
    char *plain = NULL;
    if (n > SEALED_MAX || sec_b64url_decode(sealed, n, &bin, &len) != 0)
        return NULL;
    if (len < SEAL_NONCE + SEAL_TAG)
        goto out;
    plain = xmalloc(len - SEAL_NONCE - SEAL_TAG + 1);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)plain, &mlen, NULL,
                                                   bin + SEAL_NONCE, len - SEAL_NONCE, NULL, 0, bin,
                                                   K->seal) != 0 ||
        memchr(plain, '\0', (size_t)mlen)) {
        free(plain);
        plain = NULL;
        goto out;
    }
    plain[mlen] = '\0';
out:
    free(bin);
    return plain;
}

/* --- hashes, MACs, randomness --- */

void sec_hash_token(const char *token, char out[SEC_HEX_LEN])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, SEC_HEX_LEN, h, sizeof h);
}

void sec_mac_hex(const char *domain, const char *msg, char out[SEC_HEX_LEN])
{
    unsigned char h[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    static const unsigned char zero = 0;
    if (!K) {
        log_error("sec_misuse", "sec_mac_hex before sec_init");
        abort(); /* a zero key would make every fingerprint guessable */
    }
    crypto_auth_hmacsha256_init(&st, K->mac, sizeof K->mac);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)domain, strlen(domain));
    crypto_auth_hmacsha256_update(&st, &zero, 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, h);
    sodium_memzero(&st, sizeof st);
    sodium_bin2hex(out, SEC_HEX_LEN, h, sizeof h);
}

void sec_random_token(char *out, size_t bytes)
{
    unsigned char buf[64];
    unsigned char *bin = bytes <= sizeof buf ? buf : xmalloc(bytes);
    randombytes_buf(bin, bytes);
    sodium_bin2base64(out, SEC_TOKEN_LEN(bytes), bin, bytes, B64);
    sodium_memzero(bin, bytes);
    if (bin != buf)
        free(bin);
}

void sec_random_digits(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)('0' + randombytes_uniform(10));
    out[n] = '\0';
}

bool sec_streq(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b))
        return false;
    return n == 0 || sodium_memcmp(a, b, n) == 0;
}

/* --- passwords --- */

int sec_password_hash(const char *password, char out[SEC_PWHASH_LEN])
{
    return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0
               ? 0
               : -1;
}

int sec_password_verify(const char *hash, const char *password)
{
    if (!hash || !password || !memchr(hash, '\0', SEC_PWHASH_LEN))
        return -1;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 ? 0 : -1;
}

bool sec_password_needs_rehash(const char *hash)
{
    return crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

static char dummy_hash[SEC_PWHASH_LEN];

static void make_dummy(void)
{
    char pw[SEC_TOKEN_LEN(24)];
    sec_random_token(pw, 24);
    if (sec_password_hash(pw, dummy_hash) != 0)
        abort(); /* out of memory at start-up */
    sodium_memzero(pw, sizeof pw);
}

const char *sec_password_dummy_hash(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_dummy);
    return dummy_hash;
}
