/* test_main — how every test binary (tests/unit/test_*.c, tests/integration/test_*.c) runs its
 * cmocka groups, so they all honour the same environment.
 *
 *   return HAAT_RUN_GROUP("router", tests, setup, teardown);
 *
 * HAAT_RUN_GROUP(name, tests, setup, teardown) is cmocka_run_group_tests_name after
 * haat_test_filter(); it evaluates to the number of failed tests. A binary with several groups
 * uses it once per group and returns the sum.
 *
 * HAAT_TEST_FILTER (optional): a cmocka test-name pattern, '*' and '?' as wildcards, e.g.
 *   HAAT_TEST_FILTER='test_login_*' build/asan/itests/test_user_login_tokens
 * Only the matching tests of each group run (group setup and teardown still do). Unset or
 * empty: every test runs. */
#ifndef HAAT_TESTS_TEST_MAIN_H
#define HAAT_TESTS_TEST_MAIN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

/* Applies HAAT_TEST_FILTER (see above) to the groups run after it. */
static inline void haat_test_filter(void)
{
    const char *filter = getenv("HAAT_TEST_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
}

#define HAAT_RUN_GROUP(name, tests, setup, teardown) \
    (haat_test_filter(), cmocka_run_group_tests_name((name), tests, (setup), (teardown)))

#endif
