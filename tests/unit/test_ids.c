/* ids: UUIDv7 shape and order, UUID recognition, request ids. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "pkg/ids/ids.h"
#include "tests/test_main.h"

static void test_uuid7_shape_and_order(void **state)
{
    (void)state;
    char a[IDS_UUID_LEN], b[IDS_UUID_LEN];
    ids_uuid7(a);
    ids_uuid7(b);
    assert_true(ids_is_uuid(a));
    assert_int_equal(a[14], '7');           /* version 7 */
    assert_non_null(strchr("89ab", a[19])); /* RFC 4122 variant */
    assert_true(strncmp(a, b, 8) <= 0);     /* time-ordered prefix */
    assert_string_not_equal(a, b);
}

static void test_is_uuid(void **state)
{
    (void)state;
    assert_true(ids_is_uuid("01a1fe3e-2791-7c48-b227-8bf700104472"));
    assert_false(ids_is_uuid(NULL));
    assert_false(ids_is_uuid(""));
    assert_false(ids_is_uuid("01a1fe3e-2791-7c48-b227-8bf70010447"));   /* short */
    assert_false(ids_is_uuid("01a1fe3e-2791-7c48-b227-8bf7001044722")); /* long */
    assert_false(ids_is_uuid("01a1fe3e_2791-7c48-b227-8bf700104472"));  /* separator */
    assert_false(ids_is_uuid("01a1fe3e-2791-7c48-b227-8bf70010447g"));  /* not hex */
    assert_false(ids_is_uuid("../../../etc/passwd-aaaaaaaaaaaaaaaaaaa"));
}

static void request_ids(char out[64][IDS_REQUEST_ID_LEN])
{
    for (int i = 0; i < 64; i++)
        ids_request_id(out[i]);
}

static void *thread_ids(void *arg)
{
    request_ids(arg);
    return NULL;
}

static void test_request_ids_unique_hex(void **state)
{
    (void)state;
    static char mine[64][IDS_REQUEST_ID_LEN], theirs[64][IDS_REQUEST_ID_LEN];
    request_ids(mine);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, thread_ids, theirs), 0);
    pthread_join(t, NULL);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(strlen(mine[i]), 32);
        assert_int_equal(strspn(mine[i], "0123456789abcdef"), 32);
        for (int j = 0; j < 64; j++) {
            assert_string_not_equal(mine[i], theirs[j]); /* threads start apart */
            if (j != i)
                assert_string_not_equal(mine[i], mine[j]);
        }
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid7_shape_and_order),
        cmocka_unit_test(test_is_uuid),
        cmocka_unit_test(test_request_ids_unique_hex),
    };
    return HAAT_RUN_GROUP("ids", tests, NULL, NULL);
}
