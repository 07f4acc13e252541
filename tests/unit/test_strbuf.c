/* strbuf: growth, exact reservation, formatting, detach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkg/util/strbuf.h"
#include "tests/test_main.h"

static void test_reserve_is_exact_when_empty(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_reserve(&sb, 1000);
    assert_int_equal(sb.cap, 1001);
    char chunk[250];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 4; i++)
        strbuf_append(&sb, chunk, sizeof chunk);
    assert_int_equal(sb.len, 1000);
    assert_int_equal(sb.cap, 1001); /* no doubling for a declared size */
    assert_int_equal(sb.buf[1000], '\0');
    strbuf_append(&sb, "y", 1); /* beyond it: grows as usual */
    assert_true(sb.cap >= 1002);
    assert_int_equal(sb.buf[1000], 'y');
    strbuf_cleanup(&sb);
    assert_null(sb.buf);
}

static void test_append_printf_detach(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "a=");
    strbuf_printf(&sb, "%d,%s", 42, "b");
    assert_string_equal(sb.buf, "a=42,b");
    size_t len = 0;
    char *s = strbuf_detach(&sb, &len);
    assert_string_equal(s, "a=42,b");
    assert_int_equal(len, 6);
    assert_null(sb.buf);
    free(s);
    s = strbuf_detach(&sb, &len); /* empty: an empty string, never NULL */
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_is_exact_when_empty),
        cmocka_unit_test(test_append_printf_detach),
    };
    return HAAT_RUN_GROUP("strbuf", tests, NULL, NULL);
}
