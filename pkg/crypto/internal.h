/* Private to pkg/crypto: key access and base64url helpers shared by its .c files. */
#ifndef HAAT_PKG_CRYPTO_INTERNAL_H
#define HAAT_PKG_CRYPTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* The HS256 key (the secret's bytes), or NULL before sec_init. Borrowed, read-only. */
const unsigned char *sec_key_jwt(size_t *len);

/* Unpadded base64url of bin[0..n) as a heap string the caller frees. */
char *sec_b64url_encode(const unsigned char *bin, size_t n);
/* Strict decoding of s[0..n) (unpadded base64url, canonical trailing bits, nothing ignored)
 * into a heap buffer *out of *out_len bytes (caller frees). Returns 0, or -1 (nothing
 * allocated). */
int sec_b64url_decode(const char *s, size_t n, unsigned char **out, size_t *out_len);

#endif
