/* libFuzzer target: the notification template language. The input is a template source;
 * it is parsed, checked against a field table and rendered with fixed values (also on one
 * line, as SMS are). The values hold control characters (\x01, an ANSI escape); rendering
 * must never let them through: the output holds such a byte only if the template's own text
 * does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/notification/internal.h"

static const struct nf_field fields[] = {
    {"name", NF_STR, 0},      {"amount_minor", NF_MONEY, 0},
    {"order_id", NF_UUID, 0}, {"note", NF_STR, NF_OPTIONAL},
    {NULL, NF_STR, 0},
};

static void check_text(const char *out, const uint8_t *src, size_t size)
{
    static const char planted[] = {0x01, 0x1b};
    for (size_t i = 0; i < sizeof planted; i++)
        if (strchr(out, planted[i]) && !memchr(src, planted[i], size))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *vars;
    if (!vars)
        vars = json_pack("{s:s,s:I,s:s,s:n}", "name", "Asha\x01\n\tK\x1b[31m", "amount_minor",
                         (json_int_t)123456789, "order_id", "0190f7c2-8a1e-7abc-8def-0123456789ab",
                         "note");
    struct tpl t = {0};
    char err[256];
    const struct nf_field *const sets[] = {fields, NULL};
    if (notify_tpl_parse(&t, (const char *)data, size, err, sizeof err) == 0 &&
        notify_tpl_check(&t, sets, err, sizeof err) == 0) {
        for (unsigned flags = 0; flags <= TPL_ONE_LINE; flags += TPL_ONE_LINE) {
            char *out = notify_tpl_render(&t, vars, flags, fields, err, sizeof err);
            if (out)
                check_text(out, data, size);
            free(out);
        }
    }
    notify_tpl_free(&t);
    return 0;
}
