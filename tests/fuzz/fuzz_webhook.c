/* libFuzzer target: what a webhook sender controls — the X-Sandbox-Signature header and the
 * raw body. Input: "<header>\n<body>". A forged header never verifies; a header this program
 * signed for the body always does; parsing any body is safe. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/payment/internal.h"

#define SECRET "fuzz-webhook-secret-0123456789abcdef"
#define NOW    1764650000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *nl = memchr(buf, '\n', size);
    const char *header = buf, *body = "";
    size_t blen = 0;
    if (nl) {
        *nl = '\0';
        body = nl + 1;
        blen = size - (size_t)(nl + 1 - buf);
    }
    char good[PAYMENT_SIGNATURE_LEN];
    payment_sandbox_sign(SECRET, NOW, body, blen, good);
    bool ok = payment_sandbox_verify(SECRET, header, body, blen, NOW);
    const char *mac = strstr(good, "v1=");
    if (ok && (!mac || !strstr(header, mac + 3)))
        abort(); /* verified without carrying this body's own HMAC */
    if (!payment_sandbox_verify(SECRET, good, body, blen, NOW))
        abort();
    struct payment_event ev;
    memset(&ev, 0, sizeof ev);
    payment_sandbox_parse(body, blen, &ev);
    free(buf);
    return 0;
}
