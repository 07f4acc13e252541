#include "pkg/ids/ids.h"

#include <ctype.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pkg/clock/clock.h"

void ids_uuid7(char out[IDS_UUID_LEN])
{
    uint8_t b[16];
    uint64_t ms = (uint64_t)clock_unix_ms();
    randombytes_buf(b + 6, 10);
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
    snprintf(out, IDS_UUID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

bool ids_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

void ids_random_hex(char *out, size_t n_bytes)
{
    uint8_t buf[64];
    while (n_bytes > 0) {
        size_t n = n_bytes < sizeof buf ? n_bytes : sizeof buf;
        randombytes_buf(buf, n);
        sodium_bin2hex(out, n * 2 + 1, buf, n);
        out += n * 2;
        n_bytes -= n;
    }
    *out = '\0';
}

/* splitmix64: a fast, well-mixed 64-bit sequence; each thread starts at a random point. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void ids_request_id(char out[IDS_REQUEST_ID_LEN])
{
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    if (!seeded) {
        randombytes_buf(&state, sizeof state);
        seeded = true;
    }
    uint64_t a = splitmix64(&state), b = splitmix64(&state);
    snprintf(out, IDS_REQUEST_ID_LEN, "%016llx%016llx", (unsigned long long)a,
             (unsigned long long)b);
}
