/* Sealing of sellers' bank account numbers at rest: libsodium secretbox (XSalsa20-Poly1305)
 * under the data key HAAT_DATA_KEY (32 bytes, environment only), stored as nonce || box in
 * sellers.bank_account_sealed. A number is opened only for the payment module's payout call
 * (user_seller_payout) and never logged. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/user/internal.h"
#include "pkg/log/log.h"
#include "pkg/util/xalloc.h"

static unsigned char data_key[crypto_secretbox_KEYBYTES];
static bool has_key;

void user_seal_set_key(const char *hex)
{
    size_t n = 0;
    has_key = hex &&
              sodium_hex2bin(data_key, sizeof data_key, hex, strlen(hex), NULL, &n, NULL) == 0 &&
              n == sizeof data_key;
    if (!has_key)
        sodium_memzero(data_key, sizeof data_key);
}

char *user_seal(const char *plain)
{
    size_t len = strlen(plain),
           boxlen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    if (!has_key)
        return NULL;
    unsigned char *box = xmalloc(boxlen);
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, len, box,
                          data_key);
    char *hex = xmalloc(2 + 2 * boxlen + 1);
    memcpy(hex, "\\x", 2);
    sodium_bin2hex(hex + 2, 2 * boxlen + 1, box, boxlen);
    free(box);
    return hex;
}

char *user_unseal(const char *bytea)
{
    size_t n = 0, hexlen = bytea ? strlen(bytea) : 0;
    if (!has_key || hexlen < 2 || strncmp(bytea, "\\x", 2) != 0)
        return NULL;
    size_t cap = (hexlen - 2) / 2;
    unsigned char *box = xmalloc(cap + 1);
    char *plain = NULL;
    if (sodium_hex2bin(box, cap, bytea + 2, hexlen - 2, NULL, &n, NULL) == 0 &&
        n >= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        size_t len = n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
        plain = xmalloc(len + 1);
        if (crypto_secretbox_open_easy((unsigned char *)plain, box + crypto_secretbox_NONCEBYTES,
                                       n - crypto_secretbox_NONCEBYTES, box, data_key) == 0) {
            plain[len] = '\0';
        } else {
            free(plain);
            plain = NULL;
        }
    }
    free(box);
    if (!plain)
        log_error("user_unseal", "a sealed bank account number does not open under HAAT_DATA_KEY");
    return plain;
}
