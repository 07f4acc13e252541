/* libFuzzer target: pagination input from clients — ?limit= and ?cursor= text. A cursor the
 * fuzzer did not get from page_cursor_encode must never verify (the MAC); whatever decodes must
 * re-encode to the same text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/page/page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool keyed;
    if (!keyed) {
        page_set_secret("fuzz secret of at least thirty-two bytes", 40);
        keyed = true;
    }
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int limit = 0;
    if (page_parse_limit(s, &limit) && (limit < 1 || limit > PAGE_LIMIT_MAX))
        abort();
    struct page_key k;
    if (page_cursor_decode(s, "catalog.newest", NULL, &k)) {
        char again[PAGE_CURSOR_SIZE];
        page_cursor_encode("catalog.newest", NULL, &k, again);
        if (strcmp(again, s) != 0)
            abort();
    }
    page_cursor_decode(s, "notify.feed", "0190f7c2-8a1e-7abc-8def-00000000000a", &k);
    free(s);
    return 0;
}
